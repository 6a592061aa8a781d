"""The application-events SNS topic."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..services.ports import EventPublisher


class SnsEventPublisher(EventPublisher):
    def __init__(self, sns: Any, topic_arn: str):
        self.sns = sns
        self.topic_arn = topic_arn

    def publish(self, message: Mapping[str, Any], attributes: Mapping[str, str]) -> None:
        """String message attributes let subscriptions filter (e.g. the address-check queue)."""
        self.sns.publish(
            TopicArn=self.topic_arn,
            Message=json.dumps(message),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )

    #: SNS PublishBatch takes at most ten entries.
    BATCH = 10

    def publish_batch(self, entries: Sequence[tuple[Mapping[str, Any], Mapping[str, str]]]) -> list[int]:
        """One PublishBatch call per ten messages instead of one Publish each; failed entries by index.

        A whole call that fails (throttling after the SDK's retries) fails all its entries, and
        so does an entry the answer does not name as successful: only an acknowledged message is
        published (moto leaves out an entry whose delivery raised, in neither list).
        """
        failed: list[int] = []
        for start in range(0, len(entries), self.BATCH):
            chunk = entries[start : start + self.BATCH]
            request = [
                {
                    "Id": str(start + i),
                    "Message": json.dumps(message),
                    "MessageAttributes": {
                        name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
                    },
                }
                for i, (message, attributes) in enumerate(chunk)
            ]
            try:
                answer = self.sns.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=request)
            except Exception:  # noqa: BLE001 - the caller retries exactly these entries
                failed.extend(range(start, start + len(chunk)))
                continue
            succeeded = {entry["Id"] for entry in answer.get("Successful", [])}
            failed.extend(start + i for i in range(len(chunk)) if str(start + i) not in succeeded)
        return sorted(failed)

"""A work queue of JSON messages on SQS (the customers' re-screening segments), ten to a SendMessageBatch."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from ..services.ports import WorkQueue

BATCH = 10  # SQS's most per SendMessageBatch


class SqsWorkQueue(WorkQueue):
    def __init__(self, sqs: Any, queue_name: str):
        self.sqs = sqs
        self.queue_name = queue_name
        self._url: Optional[str] = None

    def url(self) -> str:
        if self._url is None:
            self._url = self.sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        return self._url

    def send(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(messages), BATCH):
            batch = messages[start : start + BATCH]
            entries = [
                {"Id": str(number), "MessageBody": json.dumps(dict(m), separators=(",", ":"))}
                for number, m in enumerate(batch)
            ]
            for _ in range(3):  # a partial failure is retried for the failed entries only
                failed = self.sqs.send_message_batch(QueueUrl=self.url(), Entries=entries).get("Failed") or []
                if not failed:
                    break
                ids = {f["Id"] for f in failed}
                entries = [e for e in entries if e["Id"] in ids]
            else:
                raise RuntimeError(f"{len(entries)} messages could not be sent to {self.queue_name}")

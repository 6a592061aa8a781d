"""The application-events SNS topic."""

from __future__ import annotations

import json
from collections.abc import Mapping
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

"""Which pump each of the app's event sources gets (``PumpFactory``), against the local AWS: the app's own
registrations (``app.event_sources``) read as Lambda's event source mappings and notifications would be,
and a ``WiringError`` naming any resource the local stack does not have. The pumps themselves, and the
delivery semantics they keep: devstack/pumps.py.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from chalice.app import (
    DynamoDBEventConfig,
    S3EventConfig,
    ScheduledEventConfig,
    SNSEventConfig,
    SQSEventConfig,
)

from .pumps import DynamoDBStreamPump, Pump, S3Pump, SnsPump, SqsPump
from .runtime import Invoker

log = logging.getLogger("devstack")


class WiringError(Exception):
    """The app listens to a resource that the local stack does not have."""


class PumpFactory:
    """Builds the pumps for an app's event sources against the local AWS."""

    def __init__(self, app: Any, session: Any, endpoint_url: str | None, stage: str,
                 region: str = "us-east-1", memory_limit_in_mb: int = 128,
                 timeout_seconds: float = 30.0, concurrency: int = 1) -> None:
        self.app = app
        # Pollers per queue; for streams, concurrent sub-batches per shard (per-key order kept).
        self.concurrency = concurrency
        self.stage = stage
        self.region = region
        self._invoker_options = {"region": region, "memory_limit_in_mb": memory_limit_in_mb,
                                 "timeout_seconds": timeout_seconds}
        self.sqs = session.client("sqs", endpoint_url=endpoint_url)
        self.s3 = session.client("s3", endpoint_url=endpoint_url)
        self.sns = session.client("sns", endpoint_url=endpoint_url)
        self.streams = session.client("dynamodbstreams", endpoint_url=endpoint_url)
        self.account_id = session.client("sts", endpoint_url=endpoint_url) \
            .get_caller_identity()["Account"]
        self._dead_letter_url: str | None = None

    def invoker(self, name: str) -> Invoker:
        return Invoker(self.app, name, self.stage, **self._invoker_options)

    def build(self) -> list[Pump]:
        """One pump per event source; S3 notifications are configured per bucket."""
        pumps: list[Pump] = []
        s3_configs: dict[str, list[S3EventConfig]] = {}
        for config in self.app.event_sources:
            if isinstance(config, S3EventConfig):
                s3_configs.setdefault(config.bucket, []).append(config)
            elif isinstance(config, SQSEventConfig):
                pumps.append(self._sqs(config))
            elif isinstance(config, SNSEventConfig):
                pumps.append(self._sns(config))
            elif isinstance(config, DynamoDBEventConfig):
                pumps.append(self._dynamodb(config))
            elif not isinstance(config, ScheduledEventConfig):  # the scheduler's
                log.warning("devstack: WARNING: %s (%s) is not delivered locally",
                            config.name, type(config).__name__)
        for bucket, configs in s3_configs.items():
            pumps.extend(self._s3(bucket, configs))
        return pumps

    @property
    def dead_letter_url(self) -> str:
        """Where the internal queues' undecodable messages go (one queue per stage)."""
        if self._dead_letter_url is None:
            self._dead_letter_url = self.sqs.create_queue(
                QueueName=f"devstack-{self.stage}-dead-letters"[:80])["QueueUrl"]
        return self._dead_letter_url

    def _internal_queue(self, kind: str, handler_name: str) -> tuple[str, str]:
        name = f"devstack-{self.stage}-{kind}-{handler_name}"[:80]
        # Long enough that a batch of events with retries never reappears mid-way.
        url = self.sqs.create_queue(QueueName=name,
                                    Attributes={"VisibilityTimeout": "900"})["QueueUrl"]
        return url, f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"

    def _queue_url(self, name: str, handler_name: str) -> str:
        try:
            return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except self.sqs.exceptions.QueueDoesNotExist:
            raise WiringError(f"handler {handler_name} listens to SQS queue {name!r}, which "
                              "the local stack does not have (is it in resources.yaml?)")

    def _sqs(self, config: SQSEventConfig) -> SqsPump:
        name = config.queue or (config.queue_arn or "").rsplit(":", 1)[-1]
        url = self._queue_url(name, config.name)
        arn = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return SqsPump(self.invoker(config.name), self.sqs, url, arn, self.region,
                       config.batch_size, self.concurrency)

    def _s3(self, bucket: str, configs: list[S3EventConfig]) -> list[Pump]:
        try:
            self.s3.head_bucket(Bucket=bucket)
        except Exception:
            names = ", ".join(config.name for config in configs)
            raise WiringError(f"handler(s) {names} listen to S3 bucket {bucket!r}, which the "
                              "local stack does not have (is it in resources.yaml?)")
        pumps: list[Pump] = []
        queue_configurations = []
        for config in configs:
            url, arn = self._internal_queue("s3", config.name)
            rules = [{"Name": kind, "Value": value} for kind, value
                     in (("prefix", config.prefix), ("suffix", config.suffix)) if value]
            entry: dict[str, Any] = {"Id": f"devstack-{config.name}", "QueueArn": arn,
                                     "Events": list(config.events)}
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": rules}}
            queue_configurations.append(entry)
            pumps.append(S3Pump(self.invoker(config.name), f"s3:{bucket}", self.sqs, url,
                                self.dead_letter_url, self.concurrency))
        # One configuration per bucket holds every handler, as in a deployment.
        self.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queue_configurations})
        return pumps

    def _sns(self, config: SNSEventConfig) -> SnsPump:
        topic_arn = config.topic if config.topic.startswith("arn:") else \
            f"arn:aws:sns:{self.region}:{self.account_id}:{config.topic}"
        try:
            self.sns.get_topic_attributes(TopicArn=topic_arn)
        except self.sns.exceptions.NotFoundException:
            raise WiringError(f"handler {config.name} listens to SNS topic {config.topic!r}, "
                              "which the local stack does not have (is it in resources.yaml?)")
        url, arn = self._internal_queue("sns", config.name)
        subscription_arn = self.sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
            ReturnSubscriptionArn=True)["SubscriptionArn"]
        return SnsPump(self.invoker(config.name), f"sns:{topic_arn.rsplit(':', 1)[-1]}",
                       self.sqs, url, subscription_arn, self.dead_letter_url, self.concurrency)

    def _dynamodb(self, config: DynamoDBEventConfig) -> DynamoDBStreamPump:
        try:
            self.streams.describe_stream(StreamArn=config.stream_arn)
        except Exception:
            raise WiringError(f"handler {config.name} reads DynamoDB stream "
                              f"{config.stream_arn!r}, which the local stack does not have")
        return DynamoDBStreamPump(self.invoker(config.name), self.streams, config.stream_arn,
                                  self.region, config.batch_size, self.concurrency)


def start_pumps(pumps: list[Pump]) -> None:
    for pump in pumps:
        pump.start()


def stop_pumps(pumps: list[Pump], timeout: float | None = None) -> None:
    """Signal every pump, then let a delivery under way finish (many seconds on a busy machine),
    within 30 s x $DEADLINE_FACTOR; a pump still delivering then is logged and left behind."""
    from .deadlines import scaled
    timeout = scaled(30.0) if timeout is None else timeout
    for pump in pumps:
        pump.stop()
    deadline = time.monotonic() + timeout
    for pump in pumps:
        pump.join(max(0.0, deadline - time.monotonic()))
        if pump.is_alive():
            log.error("devstack: pump %s (%s) was still delivering after %.0f s; stopping without it",
                      pump.name, pump.source, timeout)

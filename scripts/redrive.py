"""Move messages from the address-check DLQ back to its queue, after the cause is fixed.

    ./dev redrive                 # against the running local stack
    python -m scripts.redrive     # against AWS, with names from the environment
                                  # (ADDRESS_CHECK_QUEUE_NAME, ADDRESS_CHECK_DLQ_NAME)

Each message is sent to the source queue before it is deleted from the DLQ,
so a crash half-way duplicates at worst (the handlers are idempotent) and
never loses one.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3


def load_local_env(state_file: Path) -> None:
    """Use the running local stack's endpoint and names when its state file exists."""
    if state_file.exists():
        state = json.loads(state_file.read_text())
        os.environ.update({k: str(v) for k, v in state.get("env", {}).items()})


def redrive(sqs: Any, queue: str, dlq: str, limit: int) -> int:
    source_url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=min(10, limit - moved),
                                    WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        for message in batch:
            kwargs: dict[str, Any] = {"QueueUrl": source_url, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                kwargs["MessageAttributes"] = message["MessageAttributes"]
            sqs.send_message(**kwargs)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", default=None, help="source queue name (default: $ADDRESS_CHECK_QUEUE_NAME)")
    parser.add_argument("--dlq", default=None, help="DLQ name (default: $ADDRESS_CHECK_DLQ_NAME)")
    parser.add_argument("--max", type=int, default=1000, help="move at most this many messages")
    parser.add_argument("--state-file", type=Path, default=Path(".devstack/state.json"),
                        help="the local stack's state file (ignored when absent)")
    args = parser.parse_args(argv)
    load_local_env(args.state_file)
    queue = args.queue or os.environ.get("ADDRESS_CHECK_QUEUE_NAME")
    dlq = args.dlq or os.environ.get("ADDRESS_CHECK_DLQ_NAME")
    if not queue or not dlq:
        parser.error("no queue names: start the local stack, or set ADDRESS_CHECK_QUEUE_NAME/_DLQ_NAME")
    moved = redrive(boto3.client("sqs"), queue, dlq, args.max)
    print(json.dumps({"moved": moved, "from": dlq, "to": queue}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

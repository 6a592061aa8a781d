"""Move messages from each queue's dead-letter queue back to the queue, after the cause is fixed.

    ./dev redrive                          # every queue with a DLQ, on the running local stack
    ./dev redrive --queue <name>           # one (a name, or an env prefix such as SANCTIONS_SCREENING)
    python -m scripts.redrive              # against AWS, with names from the environment

Which queues: every ``<X>_QUEUE_NAME`` in the environment (the template's outputs,
e.g. ``ADDRESS_CHECK_QUEUE_NAME``, ``SANCTIONS_SCREENING_QUEUE_NAME``) whose queue has
a ``RedrivePolicy``; its DLQ is the one that policy names, so a new queue with a DLQ
in ``resources.yaml`` is redriven with no change here. The on-failure queues of the
S3-invoked verifier and of the history stream (``DocumentEventsDLQ``,
``HistoryStreamDLQ``) are not sources of a queue: see docs/operations.md.

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


def queues_with_dlq(sqs: Any, env: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, queue, dlq) for every ``<X>_QUEUE_NAME`` whose queue has a RedrivePolicy."""
    found = []
    for key in sorted(env):
        if not key.endswith("_QUEUE_NAME") or not env[key]:
            continue
        queue = env[key]
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        policy = attributes.get("Attributes", {}).get("RedrivePolicy")
        if not policy:
            continue
        dlq = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1]
        found.append((key.removesuffix("_QUEUE_NAME"), queue, dlq))
    return found


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
    parser.add_argument("--queue", default=None,
                        help="only this queue: its name or its env prefix (ADDRESS_CHECK, "
                             "SANCTIONS_SCREENING, ...); default: every queue with a DLQ")
    parser.add_argument("--dlq", default=None, help="with --queue NAME: its DLQ's name (default: "
                                                    "the one its RedrivePolicy names)")
    parser.add_argument("--max", type=int, default=1000, help="move at most this many messages per queue")
    state_dir = os.environ.get("DEVSTACK_STATE_DIR")
    parser.add_argument("--state-file", type=Path,
                        default=Path(state_dir) / "state.json" if state_dir else Path(".devstack/state.json"),
                        help="the local stack's state file (ignored when absent)")
    args = parser.parse_args(argv)
    load_local_env(args.state_file)
    sqs = boto3.client("sqs")
    if args.queue and args.dlq:
        targets = [(args.queue, args.queue, args.dlq)]
    else:
        targets = queues_with_dlq(sqs, dict(os.environ))
        if args.queue:
            wanted = args.queue.upper().replace("-", "_")
            targets = [target for target in targets
                       if args.queue == target[1] or wanted == target[0]]
            if not targets:
                parser.error(f"no queue with a DLQ named {args.queue!r}")
    if not targets:
        parser.error("no queue with a DLQ: start the local stack, or export the stage's "
                     "<X>_QUEUE_NAME variables")
    for label, queue, dlq in targets:
        moved = redrive(sqs, queue, dlq, args.max)
        print(json.dumps({"queue": label.lower().replace("_", "-"), "moved": moved, "from": dlq, "to": queue}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

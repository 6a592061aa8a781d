"""Issue 23 (L3): a kill -9 of the whole local stack started with ``--keep-state``, and what the next
``--keep-state`` start makes of it.

The project's own app on a state directory of its own, two starts:

1. ``--keep-state``: an applicant creates an application, takes the selfie and uploads the passport while the
   identity check's deliveries are held (``./dev pause``), so the document is in S3 and its check has not run;
   the local AWS's checkpoint (devstack/moto_checkpoints.py) catches up; then SIGKILL to the stack's whole
   process group, as a crash or ``kill -9 -PGID`` would: nothing gets to save anything or clean up.
2. ``--keep-state`` again: the local AWS comes back as of the checkpoint, with this run's endpoints: the token
   of the killed run is still accepted (a 401 was the bug), the held message is delivered, the page read, and
   the application reaches its decision with its history whole (hash chain intact, each step once); then
   Ctrl-C stops it cleanly and saves.

Each start of the app costs the suite seconds of CPU: this module is the suite's only kill -9 test, and its
second start is also the suite's proof that a restore brings this run's endpoints (the throwaway app's
sequence in tests/test_devstack_stack.py proves the clean stop's save). Waits are by deadline, never fixed
sleeps.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from devstack.processes import read_until_ready
from tests.support.deadlines import EVENT_S, OUTCOME_S, REPLY_S, START_S
from tests.test_devstack_stack import READY, ROOT, assert_stops_cleanly, aws_client, wait_until

pytestmark = pytest.mark.no_stack  # its own stacks, never the in-process moto

FINAL = ("APPROVED", "FLAGGED", "REJECTED")


def start(state_dir: Path) -> tuple[subprocess.Popen, dict[str, Any], list[str]]:
    """``python -m devstack up --keep-state`` of the project, in a process group of its own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MOTO"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "up", "--api-port", "0", "--ws-port", "0", "--keep-state",
         "--state-dir", str(state_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**env, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    lines: list[str] = []
    info = read_until_ready(process, READY, START_S, lines.append, "kill9-stack")
    if info is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail("devstack was not ready; its last output:\n" + "\n".join(lines[-60:]))
    return process, info, lines


def group_alive(pgid: int) -> list[int]:
    """Processes of the group still running (zombies waiting to be reaped do not count)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            alive.append(int(stat.parent.name))
    return alive


def test_a_kill_9_of_the_whole_stack_with_keep_state_loses_nothing_and_the_held_check_finishes(tmp_path: Path):
    from bench._common import Stack, call, diagnose, holder_passport, poll, take_selfie, upload
    from tests.support.documents import make_declared

    state_dir = tmp_path / "state"
    process, first, _ = start(state_dir)
    try:
        stack = Stack(process=None, info=first, output=[], spawned_at=0.0, ready_at=0.0, reported_ready_s=None)
        token = stack.token("applicant")
        body = make_declared()
        created = call(first["api_url"], "POST", "/applications", token, json=body)
        assert created.status_code == 201, created.text
        application_id = created.json()["id"]
        take_selfie(stack, token, application_id)
        paused = call(first["control_url"], "POST", "/pumps/verify_identity_document/pause")
        assert paused.status_code == 200, paused.text
        form = created.json()["uploads"]["image/jpeg"]
        assert upload(form, holder_passport(body), "image/jpeg").status_code in (200, 201, 204)
        sqs = aws_client(first, "sqs")
        queue = sqs.get_queue_url(QueueName=first["env"]["IDENTITY_CHECK_QUEUE_NAME"])["QueueUrl"]
        wait_until(lambda: sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
                   ["Attributes"]["ApproximateNumberOfMessages"] == "1")
        held = call(first["api_url"], "GET", f"/applications/{application_id}", token).json()
        assert held["state"] not in FINAL, held  # the document is in S3; its check has not run
        # The last change before the kill: once a checkpoint as of a later moment is on disk, it holds it and
        # everything before it (a checkpoint is taken while no change is under way; the file's time is its time).
        aws_client(first, "s3").put_object(Bucket=first["env"]["REPORTS_BUCKET_NAME"], Key="kill-9/last-write",
                                           Body=b"written just before the kill")
        written = time.time()
        state_file = state_dir / "aws-state.pickle"
        wait_until(lambda: state_file.exists() and state_file.stat().st_mtime > written, EVENT_S)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the whole stack: moto, the API, the OCR workers, everything
        process.wait()
    wait_until(lambda: not group_alive(process.pid), REPLY_S)

    process, second, lines = start(state_dir)
    try:
        assert any("restored the local AWS" in line for line in lines)
        assert not list(state_dir.glob(".aws-state.pickle.*"))  # a write the kill cut short is cleared, never read
        # This run's endpoints, not the killed run's (every token refused, no document readable).
        assert second["moto_url"] != first["moto_url"]
        assert second["env"]["COGNITO_JWKS_URL"].startswith(second["moto_url"] + "/")
        assert second["env"]["AWS_ENDPOINT_URL_TEXTRACT"] != first["env"]["AWS_ENDPOINT_URL_TEXTRACT"]
        kept = aws_client(second, "s3").get_object(Bucket=second["env"]["REPORTS_BUCKET_NAME"],
                                                   Key="kill-9/last-write")["Body"].read()
        assert kept == b"written just before the kill"
        again = call(second["api_url"], "GET", f"/applications/{application_id}", token)
        assert again.status_code == 200, again.text  # the killed run's token: 401 was the bug

        try:
            decision = poll(lambda: call(second["api_url"], "GET", f"/applications/{application_id}", token).json(),
                            lambda answer: answer.get("state") in FINAL, OUTCOME_S, 0.5)  # within the rate limit
        except TimeoutError as error:
            restored = Stack(process=None, info=second, output=[], spawned_at=0.0, ready_at=0.0, reported_ready_s=None)
            pytest.fail(f"{error}\n{diagnose(restored, token, application_id)}\nthe stack's output:\n"
                        + "\n".join([line for line in lines if "HTTP/1.1\" 200" not in line][-80:]))
        assert decision["state"] == "APPROVED", decision
        history = call(second["api_url"], "GET", f"/applications/{application_id}/history", token).json()
        types = [event["type"] for event in history["items"]]
        # Each step once (nothing replayed twice after the restore), the decision last, the chain whole.
        assert [types.count(step) for step in ("application.submitted", "document.received", "face.requested",
                                               "application.approved")] == [1, 1, 1, 1], types
        assert types[-1] == "application.approved", types
        assert history["chain_intact"] is True
        assert_stops_cleanly(process, second, state_dir)  # Ctrl-C: exit 0, nothing left behind, state saved
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert (state_dir / "aws-state.pickle").stat().st_mtime > written

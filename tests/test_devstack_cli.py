"""``./dev`` commands against the running stack tell a slow stack from a stopped one.

Under a load average of 40 an answer of the local stack can take tens of seconds; a command
that gives up says so (and how to wait longer), never that the stack is not running.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import threading
from pathlib import Path

import pytest

from devstack.__main__ import _control, _reply_s
from devstack.stack import NOT_RUNNING, STATE_FILE
from tests.support.deadlines import REPLY_S


def _args_for(tmp_path: Path, control_url: str) -> argparse.Namespace:
    (tmp_path / STATE_FILE).write_text(json.dumps({"pid": os.getpid(), "control_url": control_url}))
    return argparse.Namespace(state_dir=tmp_path, project_dir=tmp_path)


@pytest.mark.no_stack
def test_a_stack_that_does_not_answer_in_time_is_reported_as_slow_not_stopped(tmp_path):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    try:
        args = _args_for(tmp_path, f"http://127.0.0.1:{silent.getsockname()[1]}")
        with pytest.raises(SystemExit) as stopped:
            _control(args, "GET", "/jobs", timeout=1.0)
    finally:
        silent.close()
    message = str(stopped.value)
    assert "did not answer within 1 s" in message and "DEADLINE_FACTOR" in message
    assert message != NOT_RUNNING


@pytest.mark.no_stack
def test_a_stack_that_is_gone_is_reported_as_not_running(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again: nothing listens there
    args = _args_for(tmp_path, f"http://127.0.0.1:{port}")
    with pytest.raises(SystemExit) as stopped:
        _control(args, "GET", "/jobs", timeout=REPLY_S)
    assert str(stopped.value) == NOT_RUNNING


@pytest.mark.no_stack
def test_the_commands_wait_by_the_deadline_scale(monkeypatch):
    monkeypatch.setenv("DEADLINE_FACTOR", "3")
    assert _reply_s() == 180.0

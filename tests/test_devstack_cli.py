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


@pytest.mark.no_stack
@pytest.mark.parametrize("role, page", [("reviewer", "#/review"), ("operator", "#/operator")])
def test_a_staff_member_added_is_told_to_sign_in_at_the_organisations_provider(role, page):
    """Staff have no password at the bank (the staff pool's client has no password flow): ``./dev user add``
    tells them the provider's sign-in, not "with password" as if the console's form took it."""
    from devstack.users import ROLE_GROUPS, DemoUser, sign_in_steps

    user = DemoUser(role, "ana@bank.example", "Provider-Pass-1", ROLE_GROUPS[role], totp_secret="X").as_dict()
    printed = "\n".join(sign_in_steps(user, "Provider-Pass-1", "http://127.0.0.1:8202/console"))
    assert "staff pool" in printed and "with password" not in printed
    assert f"http://127.0.0.1:8202/console/{page}" in printed
    assert "Sign in with your organisation's account" in printed  # the console's button (signin.js)
    assert "provider password Provider-Pass-1" in printed and "./dev otp ana@bank.example" in printed
    assert "./dev token ana@bank.example" in printed


@pytest.mark.no_stack
def test_an_applicant_added_signs_in_with_the_printed_password():
    from devstack.users import DemoUser, sign_in_steps

    printed = "\n".join(sign_in_steps(DemoUser("applicant", "a@example.com", "Pass-12345678").as_dict(),
                                       "Pass-12345678", "http://c/console"))
    assert "customer pool" in printed and "with password Pass-12345678" in printed and "otp" not in printed

"""A newcomer's path through ``./dev``: upload from the shell, then see a job act as of later.

Runs ``python -m devstack`` (what ``./dev`` runs) against the session's stack.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import uuid
from pathlib import Path

import jwt
import pytest

from tests.e2e.face import HOLDER_LIVE, HOLDER_PHOTO
from tests.e2e.http import call, poll
from tests.support.deadlines import COMMAND_S
from tests.support.documents import make_declared, passport_bytes
from tests.support.faces import path

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def create(local_stack, token):
    created = call(local_stack, "POST", "/applications", token, json=make_declared())
    assert created.status_code == 201, created.text
    return created.json()["id"]


def state(local_stack, token, app_id):
    return call(local_stack, "GET", f"/applications/{app_id}", token).json()["state"]


def test_dev_upload_does_the_presigned_post_and_the_application_is_decided(local_stack, tmp_path):
    token = local_stack.token("applicant")
    app_id = create(local_stack, token)
    document = tmp_path / "passport.jpg"
    document.write_bytes(passport_bytes(photo=HOLDER_PHOTO))

    done = local_stack.cli("upload", app_id, str(document))
    assert done.returncode == 0, done.stderr
    assert f"applications/{app_id}/" in done.stdout
    selfie = local_stack.cli("selfie", app_id, *(str(path(name)) for name in HOLDER_LIVE))
    assert selfie.returncode == 0, selfie.stderr
    assert poll(lambda: state(local_stack, token, app_id),
                lambda s: s in ("APPROVED", "FLAGGED", "REJECTED")) == "APPROVED"


def test_dev_upload_reports_what_s3_refused(local_stack, tmp_path):
    token = local_stack.token("applicant")
    app_id = create(local_stack, token)
    tiny = tmp_path / "tiny.jpg"
    tiny.write_bytes(b"\xff\xd8\xff" + b"\0" * 100)  # a JPEG's magic, under the 1 KiB minimum

    done = local_stack.cli("upload", app_id, str(tiny))
    assert done.returncode == 1
    assert "EntityTooSmall" in done.stderr
    assert state(local_stack, token, app_id) == "AWAITING_DOCUMENTS"


def test_dev_fire_in_the_future_expires_an_abandoned_application(local_stack):
    token = local_stack.token("applicant")
    app_id = create(local_stack, token)

    today = local_stack.cli("fire", "expire_abandoned_applications")
    assert today.returncode == 0, today.stderr
    assert state(local_stack, token, app_id) == "AWAITING_DOCUMENTS"

    later = local_stack.cli("fire", "expire_abandoned_applications", "--in", "31d")
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["result"]["changed"] >= 1
    assert state(local_stack, token, app_id) == "EXPIRED"


def dev(local_stack, tmp_path, *arguments: str) -> subprocess.CompletedProcess:
    """``./dev ARGUMENTS`` as a reader runs it, pointed at the session's stack."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MOTO"))}
    env.update({"DEVSTACK_STATE_DIR": str(local_stack.state_dir), "TMPDIR": str(tmp_path)})
    return subprocess.run([str(ROOT / "dev"), *arguments], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=COMMAND_S)


def test_dev_token_takes_a_demo_users_email_as_its_help_says(local_stack, tmp_path):
    done = dev(local_stack, tmp_path, "token", "reviewer@example.com")
    assert done.returncode == 0, done.stderr
    claims = jwt.decode(done.stdout.strip(), options={"verify_signature": False})
    assert claims["email"] == "reviewer@example.com" and "reviewers" in claims["cognito:groups"]


def test_dev_upload_as_staff_is_refused_with_the_reason_before_anything_is_sent(local_stack, tmp_path):
    token = local_stack.token("applicant")
    app_id = create(local_stack, token)
    document = tmp_path / "passport.jpg"
    document.write_bytes(passport_bytes())

    done = dev(local_stack, tmp_path, "upload", app_id, str(document), "--as", "reviewer")
    assert done.returncode == 1
    assert "staff own no applications" in done.stderr and "--as applicant" in done.stderr
    assert state(local_stack, token, app_id) == "AWAITING_DOCUMENTS"


def test_dev_passport_writes_to_the_temp_folder_never_the_repository(local_stack, tmp_path):
    done = dev(local_stack, tmp_path, "passport")
    assert done.returncode == 0, done.stderr
    written = Path(done.stdout.split()[1])
    assert written.is_relative_to(tmp_path) and written.stat().st_size > 1024
    assert not (ROOT / "passport.jpg").exists()


def test_dev_settings_changes_a_setting_and_the_running_app_applies_it_at_once(local_stack, tmp_path):
    token = local_stack.token("applicant")
    twenty = make_declared(date_of_birth=(dt.date.today() - dt.timedelta(days=20 * 366)).isoformat())
    try:
        changed = dev(local_stack, tmp_path, "settings", "minimum_age", "21")
        assert changed.returncode == 0, changed.stderr
        assert "minimum_age = 21" in changed.stdout
        assert dev(local_stack, tmp_path, "settings", "minimum_age").stdout.strip() == "21"
        refused = call(local_stack, "POST", "/applications", token, json=twenty)  # no cache to wait out
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["details"]["fields"][0]["type"] == "APPLICANT_UNDERAGE"

        unreadable = dev(local_stack, tmp_path, "settings", "minimum_age", "twenty-one")
        assert unreadable.returncode == 2 and "would not be readable" in unreadable.stderr
        assert dev(local_stack, tmp_path, "settings", "minimum_age").stdout.strip() == "21"
    finally:
        reset = dev(local_stack, tmp_path, "settings", "minimum_age", "--reset")
    assert reset.returncode == 0, reset.stderr
    accepted = call(local_stack, "POST", "/applications", token, json=twenty)
    assert accepted.status_code == 201, accepted.text


def test_dev_user_add_makes_a_second_reviewer_who_can_sign_in_and_work_the_queue(local_stack, tmp_path):
    email = f"second.{uuid.uuid4().hex[:8]}@example.com"
    added = dev(local_stack, tmp_path, "user", "add", email, "--role", "reviewer")
    assert added.returncode == 0, added.stderr
    assert "staff pool" in added.stdout
    assert "./dev otp" in added.stdout and "with password" not in added.stdout  # staff sign in at the provider
    token = dev(local_stack, tmp_path, "token", email).stdout.strip()
    assert call(local_stack, "GET", "/review/queue", token).status_code == 200
    again = dev(local_stack, tmp_path, "user", "add", email, "--role", "reviewer")
    assert again.returncode == 1 and "already a user" in again.stderr

"""A newcomer's path through ``./dev``: upload from the shell, then see a job act as of later.

Runs ``python -m devstack`` (what ``./dev`` runs) against the session's stack.
"""
from __future__ import annotations

import json

import pytest

from tests.e2e.http import call, poll
from tests.support.documents import passport_bytes, make_declared

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
    document.write_bytes(passport_bytes())

    done = local_stack.cli("upload", app_id, str(document))
    assert done.returncode == 0, done.stderr
    assert f"applications/{app_id}/" in done.stdout
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

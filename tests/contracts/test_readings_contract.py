"""Readings: what OCR read, kept apart from the item, read back by reference, purged to the last version."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from chalicelib.adapters import memory
from tests.contracts.conftest import real_services


@pytest.fixture
def readings(kind: str) -> Any:
    return memory.InMemoryReadings() if kind == "fake" else real_services().readings


def versions_left(kind: str, application_id: str) -> int:
    """Every version and delete marker under the application's readings (the bucket is versioned)."""
    if kind == "fake":
        return 0
    svc = real_services()
    listed = svc.client("s3").list_object_versions(
        Bucket=svc.config.documents_bucket, Prefix=f"readings/{application_id}/"
    )
    return len(listed.get("Versions", [])) + len(listed.get("DeleteMarkers", []))


def test_a_reading_is_read_back_by_its_reference_and_purged_with_every_version(readings, kind):
    app_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    page = {"lines": ["P<UTOERIKSSON<<ANNA<MARIA"], "confidences": [97.5]}
    reference = readings.keep(app_id, "identity", page)
    assert readings.keep(app_id, "identity", page) == reference  # idempotent for one name
    readings.keep(app_id, "identity-2", {"lines": []})
    kept_elsewhere = readings.keep(other, "identity", page)
    assert readings.read(reference) == page
    assert readings.read(f"readings/{uuid.uuid4()}/identity.json") is None  # gone or never there
    assert readings.delete_all_for(app_id) >= 2
    assert readings.read(reference) is None
    assert versions_left(kind, app_id) == 0  # no older version keeps the OCR text
    assert readings.delete_all_for(app_id) == 0
    assert readings.read(kept_elsewhere) == page  # only that application's


@pytest.mark.parametrize("reference", ["applications/x/identity/y", "readings/../../secret.json", "", "readings/"])
def test_a_reference_that_is_not_a_reading_reads_nothing(readings, reference):
    assert readings.read(reference) is None

"""OCR: the in-memory fake and Textract (on the local stack, the local engine) read and refuse alike."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from chalicelib.adapters import memory
from chalicelib.domain import mrz
from chalicelib.services.ports import OcrRefused
from tests.contracts.conftest import real_services
from tests.support.documents import exe_bytes, make_declared, mrz_lines, page_bytes, passport_bytes


@pytest.fixture
def ocr(kind: str) -> Any:
    """The port, a way to store an object, and a page carrying the given declaration's document."""
    if kind == "fake":
        store = memory.InMemoryDocumentStore()
        return memory.InMemoryOcr(store), store, store.put, lambda body: page_bytes(mrz_lines(body))
    s3 = real_services().client("s3")
    bucket = real_services().config.documents_bucket

    def put(key: str, body: bytes, content_type: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    return real_services().ocr, real_services().documents, put, passport_bytes


def test_the_zone_on_the_page_is_read(ocr):
    port, store, put, page_of = ocr
    body = make_declared(full_name={"given_names": "Anna Maria", "surname": "Eriksson"})
    key = store.key_for_new_upload(str(uuid.uuid4()))
    put(key, page_of(body), "image/jpeg")

    page = port.read(key)

    reading = mrz.find(page.lines, [[c / 100] for c in page.confidences])
    assert reading is not None and list(reading.mrz.lines) == mrz_lines(body)
    assert len(page.confidences) == len(page.lines) and all(0 <= c <= 100 for c in page.confidences)


def test_what_is_not_a_document_is_refused_as_unsupported(ocr):
    port, store, put, _ = ocr
    key = store.key_for_new_upload(str(uuid.uuid4()))
    put(key, exe_bytes(), "image/jpeg")
    with pytest.raises(OcrRefused) as refused:
        port.read(key)
    assert refused.value.code == "UnsupportedDocumentException"


def test_a_missing_object_is_refused(ocr):
    port, store, _, _ = ocr
    with pytest.raises(OcrRefused) as refused:
        port.read(store.key_for_new_upload(str(uuid.uuid4())))
    assert refused.value.code == "InvalidS3ObjectException"

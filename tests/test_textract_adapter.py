"""The Textract adapter: the S3 object where it lies (pinned version), LINE blocks, refusals vs outages."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from chalicelib.adapters.textract_ocr import TextractOcr
from chalicelib.services.ports import OcrRefused, OcrThrottled


@pytest.fixture
def textract():
    client = boto3.client("textract", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                          config=Config(retries={"max_attempts": 1}))
    with Stubber(client) as stub:
        yield client, stub


def test_reads_the_pinned_version_in_place_and_keeps_lines_with_their_confidence(textract):
    client, stub = textract
    blocks = [
        {"BlockType": "PAGE", "Id": "p"},
        {"BlockType": "LINE", "Id": "1", "Text": "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "Confidence": 97.5},
        {"BlockType": "WORD", "Id": "w", "Text": "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "Confidence": 97.5},
        {"BlockType": "LINE", "Id": "2", "Text": "L898902C36UTO7408122F1204159ZE184226B<<<<<10", "Confidence": 88.0},
    ]
    stub.add_response(
        "detect_document_text", {"Blocks": blocks},
        {"Document": {"S3Object": {"Bucket": "docs", "Name": "applications/a/identity/b", "Version": "v7"}}},
    )
    page = TextractOcr(client, "docs").read("applications/a/identity/b", "v7")
    assert page.lines == ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
    assert page.confidences == (97.5, 88.0)


def test_the_bytes_already_read_are_given_to_textract_and_s3_is_not_named(textract):
    """The identity check read the object whole (one GET): Textract gets those very bytes (issue 22)."""
    client, stub = textract
    line = {"BlockType": "LINE", "Id": "1", "Text": "P<UTOERIKSSON", "Confidence": 90.0}
    stub.add_response("detect_document_text", {"Blocks": [line]}, {"Document": {"Bytes": b"\xff\xd8\xffpage"}})
    page = TextractOcr(client, "docs").read("applications/a/identity/b", "v7", b"\xff\xd8\xffpage")
    assert page.lines == ("P<UTOERIKSSON",)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "code",
    ["UnsupportedDocumentException", "BadDocumentException", "DocumentTooLargeException", "InvalidS3ObjectException"],
)
def test_a_document_the_service_refuses_is_a_refusal_not_an_outage(textract, code):
    client, stub = textract
    stub.add_client_error("detect_document_text", service_error_code=code, service_message="no", http_status_code=400)
    with pytest.raises(OcrRefused) as refused:
        TextractOcr(client, "docs").read("k")
    assert refused.value.code == code


@pytest.mark.parametrize(("code", "status", "raised"), [("ThrottlingException", 400, OcrThrottled),
                                                       ("InternalServerError", 500, ClientError)])
def test_throttling_and_server_errors_are_raised_after_the_clients_retries(textract, code, status, raised):
    """The composition root's client retries these with backoff; what is left must redeliver the event
    (throttling as ``OcrThrottled``, so the identity-check queue backs the message off; issue 23)."""
    client, stub = textract
    stub.add_client_error("detect_document_text", service_error_code=code, http_status_code=status)
    with pytest.raises(raised):
        TextractOcr(client, "docs").read("k")


def test_the_composition_root_retries_throttling_and_5xx_with_backoff():
    from chalicelib.bootstrap import RETRIES

    retries = RETRIES["retries"]  # botocore rewrites max_attempts as total_max_attempts once a client is built
    assert retries["mode"] == "standard" and retries.get("max_attempts", retries.get("total_max_attempts", 0) - 1) >= 3

"""The identity check's file rules, run before OCR: the file's type by its bytes, its size bounds, its
structure, an image's size where it can be read, and nothing after the image's end."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chalicelib.domain.checks import Outcome
from chalicelib.domain.document_file import (
    CONTENT_TYPE_MISMATCH,
    FILE_CORRUPT,
    FILE_TOO_LARGE,
    FILE_TOO_SMALL,
    FILE_TYPE_NOT_ALLOWED,
    IMAGE_TOO_LARGE,
    DocumentSample,
    check_file,
)
from chalicelib.domain.identity import (
    worth_reading,
)
from chalicelib.domain.policy import Policy
from tests.support.documents import (
    exe_bytes,
    jpeg_bytes,
    passport_bytes,
    pdf_bytes,
    png_bytes,
)
from tests.support.identity_cases import (
    POLICY,
    PROPERTY,
    codes,
    run,
    sample,
)

# --- file type, size and structure ------------------------------------------------


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "application/pdf", None])
def test_an_executable_is_refused_whatever_it_claims_to_be(content_type):
    result = run(document=DocumentSample("documents/app-1/passport.jpg", 4096, exe_bytes(), content_type), page=None)

    assert codes(result) == {FILE_TYPE_NOT_ALLOWED}
    assert result.outcome is Outcome.FAIL
    assert result.details["mime_type"] == "application/x-msdownload"


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a" + bytes(4000), b"PK\x03\x04" + bytes(4000), b"just some text " * 300],
    ids=["empty", "gif", "zip", "text"],
)
def test_other_file_types_are_refused(data):
    result = run(document=sample(data, content_type="image/jpeg", size=4096), page=None)

    assert FILE_TYPE_NOT_ALLOWED in codes(result)
    assert result.outcome is Outcome.FAIL


def test_an_allowed_file_with_the_wrong_label_goes_to_review():
    result = run(document=sample(png_bytes(), content_type="image/jpeg"))

    assert codes(result) == {CONTENT_TYPE_MISMATCH}
    assert result.outcome is Outcome.REVIEW


@pytest.mark.parametrize(
    "content_type",
    [None, "", "binary/octet-stream", "application/octet-stream", "image/jpg", "IMAGE/JPEG", "image/jpeg; q=1"],
)
def test_absent_generic_or_aliased_content_types_are_not_a_mismatch(content_type):
    assert run(document=sample(content_type=content_type)).reasons == ()


@pytest.mark.parametrize(
    "size, expected",
    [
        (POLICY.document_min_bytes - 1, {FILE_TOO_SMALL}),
        (POLICY.document_min_bytes, set()),
        (POLICY.document_max_bytes, set()),
        (POLICY.document_max_bytes + 1, {FILE_TOO_LARGE}),
    ],
)
def test_size_bounds_are_inclusive(size, expected):
    assert codes(run(document=sample(size=size))) == expected


def test_size_bounds_come_from_the_policy():
    policy = Policy(document_min_bytes=10, document_max_bytes=100)

    assert codes(run(document=sample(size=101), policy=policy)) == {FILE_TOO_LARGE}
    assert codes(run(document=sample(size=9), policy=policy)) == {FILE_TOO_SMALL}


def _png_header(width: int, height: int) -> bytes:
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))


def test_a_decompression_bomb_is_refused_from_its_header_alone():
    """65535 x 65535 pixels declared in 33 bytes, the stream truncated: nothing is decoded."""
    data = _png_header(65535, 65535) + bytes(4000)

    result = run(document=sample(data, "image/png"), page=None)

    assert IMAGE_TOO_LARGE in codes(result)
    assert result.outcome is Outcome.FAIL


def test_the_pixel_limit_comes_from_the_policy():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 200, 200)).save(buffer, "PNG")

    assert IMAGE_TOO_LARGE in codes(run(document=sample(buffer.getvalue(), "image/png", size=2048),
                                        policy=Policy(document_max_pixels=100_000)))
    assert IMAGE_TOO_LARGE not in codes(run(document=sample(buffer.getvalue(), "image/png", size=2048),
                                            policy=Policy(document_max_pixels=120_000)))


@pytest.mark.parametrize(
    "data, content_type",
    [
        (jpeg_bytes(8000)[:-500], "image/jpeg"),
        (png_bytes(8000)[:-500], "image/png"),
        (pdf_bytes(8000)[:-200], "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"then just text, no image at all " * 100, "image/jpeg"),
    ],
    ids=["jpeg", "png", "pdf", "jpeg-magic-then-text"],
)
def test_a_truncated_or_fake_stream_is_refused_before_ocr(data, content_type):
    result = run(document=sample(data, content_type), page=None)

    assert FILE_CORRUPT in codes(result)
    assert result.outcome is Outcome.FAIL


_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG", b"%PDF", b"\xef\xbb\xbf%PDF")


@PROPERTY
@given(
    data=st.binary(max_size=64),
    content_type=st.sampled_from(["image/jpeg", "image/png", "application/pdf", None]),
)
def test_property_bytes_that_are_not_jpeg_png_or_pdf_always_fail(data, content_type):
    assume(not data.startswith(_SIGNATURES))

    result = run(document=sample(data, content_type, size=4096), page=None)

    assert FILE_TYPE_NOT_ALLOWED in codes(result)
    assert result.outcome is Outcome.FAIL


# --- issue 18 item 8: an image's size where it can be read, and nothing after its end ------------------------


def _padded_before_the_frame_header(data: bytes, padding: int) -> bytes:
    """The same JPEG with APP15 segments (64 KiB each at most) inserted before its first segment."""
    segments = b""
    while padding > 0:
        body = b"\x00" * min(padding, 65533)
        segments += b"\xff\xef" + struct.pack(">H", len(body) + 2) + body
        padding -= len(body)
    return data[:2] + segments + data[2:]


def test_a_jpeg_whose_frame_header_lies_past_the_first_64_kib_is_refused_unread():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (9000, 9000), (200, 200, 200)).save(buffer, "JPEG", quality=20)  # 81 Mpx: over the limit
    huge = buffer.getvalue()
    assert IMAGE_TOO_LARGE in codes(run(document=sample(huge)))
    padded = _padded_before_the_frame_header(huge, 70_000)
    result = run(document=sample(padded))
    assert FILE_CORRUPT in codes(result) and result.outcome is Outcome.FAIL
    assert not worth_reading(check_file(sample(padded), POLICY)[1])  # never handed to OCR


@pytest.mark.parametrize("trailer", [b"<html><script>alert(1)</script></html>", b"PK\x03\x04" + b"x" * 200,
                                     b"\xff\xd8\xff" + b"\x00" * 10])
def test_data_after_the_end_of_the_image_is_refused(trailer):
    data = passport_bytes()
    assert FILE_CORRUPT not in codes(run(document=sample(data)))
    result = run(document=sample(data + trailer))
    assert FILE_CORRUPT in codes(result) and result.outcome is Outcome.FAIL
    assert FILE_CORRUPT not in codes(run(document=sample(data + b"\x00\x00\r\n")))  # an encoder's padding

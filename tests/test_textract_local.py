"""The local Textract: the app's own boto3 call, answered with real OCR, found by endpoint configuration only."""

from __future__ import annotations

import io
import os
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from chalicelib.domain import mrz
from tests.support.deadlines import REPLY_S
from tests.support.passports import Holder, Look, make_document, mrz_lines

pytestmark = pytest.mark.stack  # moto (the S3 the engine reads) and the local Textract, started by aws_stack


def bucket() -> str:
    return os.environ["DOCUMENTS_BUCKET_NAME"]


@pytest.fixture(scope="module")
def textract():
    """Exactly what the app builds: no endpoint_url, so AWS_ENDPOINT_URL_TEXTRACT decides."""
    return boto3.client("textract", region_name="us-east-1")


@pytest.fixture(scope="module")
def s3():
    return boto3.client("s3", region_name="us-east-1")


def _put(s3, data: bytes) -> dict:
    key = f"test-textract/{uuid.uuid4()}"
    s3.put_object(Bucket=bucket(), Key=key, Body=data)
    return {"Bucket": bucket(), "Name": key}


def _lines(response: dict) -> list[str]:
    return [block["Text"] for block in response["Blocks"] if block["BlockType"] == "LINE"]


def test_the_service_specific_endpoint_is_the_local_engine(textract):
    assert textract.meta.endpoint_url == os.environ["AWS_ENDPOINT_URL_TEXTRACT"]
    assert textract.meta.endpoint_url != os.environ["AWS_ENDPOINT_URL"]


def test_reads_the_mrz_of_an_s3_object_as_textract_blocks(textract, s3):
    holder = Holder(surname="Eriksson", given_names="Anna Maria", nationality="SWE", issuing_state="SWE")
    location = _put(s3, make_document(holder, Look(rotation=1.5, blur=0.6, quality=70)))
    response = textract.detect_document_text(Document={"S3Object": location})

    assert response["DocumentMetadata"] == {"Pages": 1}
    blocks = {block["Id"]: block for block in response["Blocks"]}
    (page,) = [b for b in blocks.values() if b["BlockType"] == "PAGE"]
    lines = [blocks[i] for i in page["Relationships"][0]["Ids"]]
    assert {line["BlockType"] for line in lines} == {"LINE"}
    for line in lines:
        assert 0 <= line["Confidence"] <= 100
        box = line["Geometry"]["BoundingBox"]
        assert 0 <= box["Left"] < box["Left"] + box["Width"] <= 1 and 0 <= box["Top"] < box["Top"] + box["Height"] <= 1
        assert len(line["Geometry"]["Polygon"]) == 4
        words = [blocks[i] for i in line["Relationships"][0]["Ids"]]
        assert all(w["BlockType"] == "WORD" and w["TextType"] == "PRINTED" and 0 <= w["Confidence"] <= 100
                   for w in words)
        assert " ".join(w["Text"] for w in words) == line["Text"]
    zone = lines[-2:]  # the MRZ at the bottom, after the page's other text, top to bottom
    assert all(line["Geometry"]["BoundingBox"]["Top"] > 0.6 for line in zone)
    assert [line["Text"] for line in zone] == list(mrz_lines(holder))
    printed = " ".join(line["Text"] for line in lines[:-2])
    assert "ERIKSSON" in printed and "SWE" in printed  # the data page's printed fields, read like Textract would
    reading = mrz.find([line["Text"] for line in lines])
    assert reading is not None and reading.mrz.lines == tuple(mrz_lines(holder))


def test_reads_a_pinned_version_and_document_bytes(textract, s3):
    first = make_document(Holder(surname="First"), Look(fmt="png"))
    location = _put(s3, first)
    version = s3.head_object(Bucket=location["Bucket"], Key=location["Name"]).get("VersionId")
    s3.put_object(Bucket=location["Bucket"], Key=location["Name"], Body=b"not a document at all" * 100)
    if version and version != "null":  # versioned bucket: the pinned version is the passport
        pinned = textract.detect_document_text(Document={"S3Object": {**location, "Version": version}})
        assert mrz.find(_lines(pinned)).mrz.surname == "FIRST"
    with pytest.raises(ClientError) as error:
        textract.detect_document_text(Document={"S3Object": location})
    assert error.value.response["Error"]["Code"] == "UnsupportedDocumentException"
    by_bytes = textract.detect_document_text(Document={"Bytes": make_document(Holder(surname="Bytes"), Look(fmt="pdf"))})
    assert mrz.find(_lines(by_bytes)).mrz.surname == "BYTES"


def test_a_page_without_an_mrz_reads_as_no_mrz(textract):
    response = textract.detect_document_text(Document={"Bytes": make_document(Holder(), Look(with_mrz=False))})
    assert response["Blocks"][0]["BlockType"] == "PAGE"
    assert mrz.find(_lines(response)) is None
    assert "CARTER" in " ".join(_lines(response))  # the page's printed text is still returned, for the reviewer


def _truncated_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 180, 160)).save(out, "PNG")
    return out.getvalue()[:2000]


def _bomb_png() -> bytes:
    """A PNG header claiming 65535 x 65535 pixels: refused before any decoding."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 65535, 65535, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    data[8:8 + 25] = struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return bytes(data)


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (b"MZ\x90\x00 an executable, not a page" * 64, "UnsupportedDocumentException"),
        (b"\xff\xd8\xff\xe0" + b"JPEG magic then text" * 100, "BadDocumentException"),
        (_truncated_png(), "BadDocumentException"),
        (_bomb_png(), "BadDocumentException"),
    ],
    ids=["executable", "jpeg-magic-then-text", "truncated-png", "65535x65535-png"],
)
def test_refuses_what_textract_refuses(textract, document, code):
    with pytest.raises(ClientError) as error:
        textract.detect_document_text(Document={"Bytes": document})
    assert error.value.response["Error"]["Code"] == code


def test_missing_object_and_too_large_object(textract, s3):
    with pytest.raises(ClientError) as error:
        textract.detect_document_text(Document={"S3Object": {"Bucket": bucket(), "Name": "no/such/key"}})
    assert error.value.response["Error"]["Code"] == "InvalidS3ObjectException"
    location = _put(s3, b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024 + 1))
    with pytest.raises(ClientError) as error:
        textract.detect_document_text(Document={"S3Object": location})
    assert error.value.response["Error"]["Code"] == "DocumentTooLargeException"


# --- generate -> render -> OCR -> repair (the local engine; a handful of pages) ---------


@pytest.mark.parametrize(
    ("holder", "look"),
    [
        (Holder(), Look(rotation=2.5, blur=0.6, quality=60, fmt="jpeg")),
        (Holder(kind="id_card", surname="Eriksson", given_names="Anna Maria", nationality="SWE",
                issuing_state="SWE", document_number="D23145890"), Look(rotation=-1.8, fmt="png", px_per_mm=12)),
        (Holder(surname="Müller", given_names="Jürgen", nationality="D", issuing_state="D",
                document_number="C01X00T47", sex="M"), Look(rotation=-3.0, blur=1.0, quality=75, fmt="pdf")),
    ],
    ids=["td3-jpeg-q60", "td1-png", "td3-pdf-blur"],
)
def test_round_trip_render_ocr_repair(holder, look):
    from devstack.textract import load_page, read_mrz_band

    reading = read_mrz_band(load_page(make_document(holder, look)))
    found = mrz.find([line.text for line in reading.lines], [[line.confidence / 100] for line in reading.lines])
    assert found is not None
    assert found.mrz.lines == tuple(mrz_lines(holder))
    assert found.mrz.valid


# Pages as phones deliver them (issue 19): held any way up (with or without the EXIF tag that says so), a
# security-printed background and a hologram over the zone, a photo in perspective on a table with glare and
# shadow, 600 px wide, JPEG quality 30. One page each: the bench measures the rates (bench/ocr_read_rate.py).
_ID_CARD = Holder(kind="id_card", surname="Eriksson", given_names="Anna Maria", nationality="SWE",
                  issuing_state="SWE", document_number="D23145890")


@pytest.mark.parametrize(
    ("holder", "look"),
    [
        (Holder(), Look(orientation=90, exif=True, rotation=1.5, seed=11)),
        (_ID_CARD, Look(orientation=180, fmt="png", rotation=-1.0, seed=12)),
        (Holder(surname="Liu", given_names="Yang"), Look(orientation=270, rotation=0.7, quality=80, seed=13)),
        (Holder(surname="Wang", given_names="Jing"), Look(background="security", rotation=-1.2, seed=14, quality=70)),
        (Holder(surname="Yeo", given_names="Jeong"),
         Look(perspective=0.8, rotation=-5, glare=0.5, shadow=0.3, seed=15, quality=80)),
        (Holder(surname="James", given_names="Zoe"), Look(width_px=600, rotation=2.0, seed=16)),
        (Holder(surname="Gregg", given_names="Boris"), Look(quality=30, rotation=-2.0, seed=17)),
    ],
    ids=["90-exif", "180-no-exif-td1", "270-no-exif", "security-background", "perspective-glare-shadow",
         "600px", "jpeg-q30"],
)
def test_reads_pages_as_phones_deliver_them(holder, look):
    from devstack.textract import load_page, read_page

    reading = read_page(load_page(make_document(holder, look)))
    found = mrz.find([line.text for line in reading.lines], [[line.confidence / 100] for line in reading.lines])
    assert found is not None and found.valid
    assert found.mrz.lines == tuple(mrz_lines(holder))


def test_the_exif_orientation_tag_and_the_pixels_agree():
    """The generator's EXIF pages are what a phone writes: shown upright, the page is the unturned one."""
    from tests.support import phone_camera
    from tests.support.passports import photograph, render_page

    look = Look(orientation=90, exif=True, seed=3)
    shown = phone_camera.upright(make_document(Holder(), look))
    plain = photograph(render_page(Holder(), Look(seed=3)), Look(seed=3))
    assert shown.size == plain.size
    from PIL import ImageChops, ImageStat

    difference = ImageStat.Stat(ImageChops.difference(shown.convert("L"), plain.convert("L"))).mean[0]
    assert difference < 8  # the same picture (JPEG noise only); turned the wrong way it differs by far more


def test_the_same_page_asked_for_while_it_is_being_read_is_read_once(monkeypatch):
    """An SDK retry after a read timeout must wait for the reading under way, not queue another."""
    import threading

    from devstack import textract as local

    started, release, readings = threading.Event(), threading.Event(), []
    real = local.read_page

    def slow_reading(page):
        readings.append(1)
        started.set()
        assert release.wait(REPLY_S)
        return real(page)

    monkeypatch.setattr(local, "read_page", slow_reading)
    data = make_document(Holder(document_number=f"S{uuid.uuid4().int % 10**8:08d}"), Look())  # bytes not cached yet
    answers = []
    callers = [threading.Thread(target=lambda: answers.append(local.detect_document_text(data))) for _ in range(4)]
    callers[0].start()
    assert started.wait(REPLY_S)
    for caller in callers[1:]:  # the retries arrive while the first reading runs
        caller.start()
    release.set()
    for caller in callers:
        caller.join(REPLY_S)
    assert len(answers) == 4 and len(readings) == 1
    lines = [[block["Text"] for block in answer["Blocks"] if block["BlockType"] == "LINE"] for answer in answers]
    assert lines[0] and all(line == lines[0] for line in lines)


def test_pages_are_read_in_worker_processes_one_page_per_core(tmp_path):
    """Issue 23 (T2): the stack's Textract reads each page in a worker process, so two pages are read at
    once by two processes, neither of them the stack's, with the same answer as a read here; the workers
    stop with it."""
    import concurrent.futures

    from devstack import textract as local
    from tests.support.ocr_workers import meet

    readers = local.PageReaders(workers=2)
    assert readers.pids() == []  # nothing started until the first read: ./dev up pays nothing
    try:
        with concurrent.futures.ThreadPoolExecutor(2) as callers:  # as two requests of the HTTP server
            met = list(callers.map(lambda _: readers.submit(meet, str(tmp_path), 2, REPLY_S), range(2)))
        assert len(set(met)) == 2 and os.getpid() not in met, met
        page = make_document(Holder(surname="Worker"), Look(fmt="png"))
        assert _lines(readers.read(page)) == _lines(local.read_response(page))
        pids = readers.pids()
        assert set(met) <= set(pids) and os.getpid() not in pids
    finally:
        readers.shutdown()
    assert all(not os.path.exists(f"/proc/{pid}") or _zombie(pid) for pid in pids), "a worker outlived shutdown"


def _zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"

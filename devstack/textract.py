"""A local Amazon Textract: ``DetectDocumentText`` answered with real OCR.

moto's Textract returns no blocks, so the local stack answers the call
itself: the same JSON protocol (``X-Amz-Target: Textract.DetectDocumentText``),
the document read from the local S3 (``Document.S3Object``) or the request
(``Document.Bytes``), and Textract-shaped ``PAGE``/``LINE``/``WORD`` blocks
with confidences and geometry, so the app's boto3 client reaches it purely
by endpoint configuration (``AWS_ENDPOINT_URL_TEXTRACT``) and cannot tell
it from the real service.

The engine is Tesseract 5 (Debian ``tesseract-ocr``) with OCR-B glyph
matching, reading like an MRZ reader (``devstack.mrz_reader``): any
orientation (EXIF applied first, then the text's own angle), security
printing, perspective, low resolution. It returns the zone's lines and the
page's other printed text above them, as LINE and WORD blocks, geometry in
the page as displayed (EXIF orientation applied).

Dev only: never imported by chalicelib.
"""

from __future__ import annotations

import base64
import collections
import copy
import hashlib
import io
import json
import logging
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

from .mrz_reader import PageReading, read_page, run_tesseract, tesseract_available

__all__ = ["TextractError", "detect_document_text", "load_page", "read_mrz_band", "read_page", "run_tesseract",
           "start_textract", "tesseract_available"]

log = logging.getLogger("devstack.textract")
read_mrz_band = read_page  # the name tests and tools used before the reader moved to devstack.mrz_reader

MAX_BYTES = 10 * 1024 * 1024  # Textract's synchronous limit for S3 objects and bytes
MAX_PIXELS_SIDE = 10000  # Textract refuses larger pages
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
_TESSERACT_SLOTS = threading.BoundedSemaphore(int(os.environ.get("DEVSTACK_OCR_WORKERS", "1")))


class TextractError(Exception):
    """An error Textract would return: its ``__type`` and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# --- decoding ---------------------------------------------------------------


def load_page(data: bytes) -> Any:
    """The document's single page as an RGB PIL image, upright as its EXIF tag says; Textract's errors for what it
    refuses."""
    from PIL import Image, ImageOps

    if len(data) > MAX_BYTES:
        raise TextractError("DocumentTooLargeException", "S3 object size is more than the maximum limit")
    if data[:5] == b"%PDF-":
        return _pdf_page(data)
    if not (data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n" or data[:4] in (b"II*\x00", b"MM\x00*")):
        raise TextractError("UnsupportedDocumentException", "Request has unsupported document format")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width > MAX_PIXELS_SIDE or height > MAX_PIXELS_SIDE or width * height > MAX_PIXELS:
                raise TextractError("BadDocumentException", "Request has invalid document: page too large")
            probe.load()
            return ImageOps.exif_transpose(probe).convert("RGB")  # as a viewer shows it: the EXIF tag applied
    except TextractError:
        raise
    except Exception as error:  # truncated, corrupt: Pillow raises many types
        raise TextractError("BadDocumentException", f"Request has invalid document: {error}") from None


def _pdf_page(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as error:
        raise TextractError("BadDocumentException", f"Request has invalid document: {error}") from None
    try:
        if len(pdf) != 1:
            raise TextractError("UnsupportedDocumentException",
                                "Request has unsupported document format: more than one page")
        page = pdf[0]
        width_pt, height_pt = page.get_size()
        scale = min(300 / 72, MAX_PIXELS_SIDE / max(width_pt, height_pt, 1))
        image = page.render(scale=scale).to_pil().convert("RGB")
        page.close()
        return image
    finally:
        pdf.close()


# --- Textract's response ------------------------------------------------------


def _geometry(polygon: tuple[tuple[float, float], ...], reading: PageReading) -> dict[str, Any]:
    """Normalised to the page as loaded (EXIF orientation applied): Textract's BoundingBox and Polygon."""
    points = [{"X": min(1.0, max(0.0, x / reading.width)), "Y": min(1.0, max(0.0, y / reading.height))}
              for x, y in polygon]
    xs, ys = [p["X"] for p in points], [p["Y"] for p in points]
    return {"BoundingBox": {"Width": max(xs) - min(xs), "Height": max(ys) - min(ys), "Left": min(xs), "Top": min(ys)},
            "Polygon": points}


def to_blocks(reading: PageReading) -> list[dict[str, Any]]:
    page_id = str(uuid.uuid4())
    whole = ((0.0, 0.0), (float(reading.width), 0.0), (float(reading.width), float(reading.height)),
             (0.0, float(reading.height)))
    page: dict[str, Any] = {"BlockType": "PAGE", "Id": page_id, "Page": 1, "Geometry": _geometry(whole, reading)}
    blocks: list[dict[str, Any]] = [page]
    line_ids = []
    for line in reading.lines:
        line_id = str(uuid.uuid4())
        line_ids.append(line_id)
        word_blocks = [
            {"BlockType": "WORD", "Id": str(uuid.uuid4()), "Page": 1, "Text": word.text, "TextType": "PRINTED",
             "Confidence": round(word.confidence, 3), "Geometry": _geometry(word.polygon, reading)}
            for word in line.words
        ]
        first, last = line.words[0].polygon, line.words[-1].polygon
        outline = (first[0], last[1], last[2], first[3])
        blocks.append({"BlockType": "LINE", "Id": line_id, "Page": 1, "Text": line.text,
                       "Confidence": round(line.confidence, 3), "Geometry": _geometry(outline, reading),
                       "Relationships": [{"Type": "CHILD", "Ids": [w["Id"] for w in word_blocks]}]})
        blocks.extend(word_blocks)
    if line_ids:
        page["Relationships"] = [{"Type": "CHILD", "Ids": line_ids}]
    return blocks


_CACHE: "collections.OrderedDict[str, dict[str, Any]]" = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()


_IN_FLIGHT: dict[str, threading.Event] = {}


def detect_document_text(data: bytes) -> dict[str, Any]:
    """What Textract answers for these bytes; the engine is deterministic, so the same bytes are read once.

    Once also while a reading is under way: a request for bytes being read waits for that reading
    instead of queueing another. On a loaded machine a page can take longer than the app's read
    timeout; the SDK then retries, and each retry used to queue one more full reading of the same
    page behind the first, so the answer came later with every retry and never in time.
    """
    digest = hashlib.sha256(data).hexdigest()
    while True:
        with _CACHE_LOCK:
            if digest in _CACHE:
                _CACHE.move_to_end(digest)
                return copy.deepcopy(_CACHE[digest])
            reading_now = _IN_FLIGHT.get(digest)
            if reading_now is None:
                _IN_FLIGHT[digest] = done = threading.Event()
                break
        reading_now.wait()  # then from the cache (or, if that reading failed, read it here)
    try:
        reading = read_page(load_page(data))
        response = {"DocumentMetadata": {"Pages": 1}, "Blocks": to_blocks(reading),
                    "DetectDocumentTextModelVersion": "1.0"}
        with _CACHE_LOCK:
            _CACHE[digest] = copy.deepcopy(response)
            while len(_CACHE) > 64:
                _CACHE.popitem(last=False)
        return response
    finally:
        with _CACHE_LOCK:
            _IN_FLIGHT.pop(digest, None)
        done.set()


# --- the HTTP endpoint ------------------------------------------------------------


class TextractServer:
    """``DetectDocumentText`` over HTTP; ``s3`` is a boto3 S3 client of the local AWS."""

    def __init__(self, s3_factory: Callable[[], Any], host: str = "127.0.0.1", port: int = 0) -> None:
        self._s3_factory = s3_factory
        self._s3: Any = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, payload, error_type = server.handle(self.headers.get("X-Amz-Target", ""), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("textract: " + format, *args)

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "TextractServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.1,), name="devstack-textract",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(2.0)

    def __enter__(self) -> "TextractServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _client(self) -> Any:
        with self._lock:
            if self._s3 is None:
                self._s3 = self._s3_factory()
            return self._s3

    def handle(self, target: str, body: bytes) -> tuple[int, dict[str, Any], Optional[str]]:
        """(status, JSON payload, error type) for one request."""
        if target != "Textract.DetectDocumentText":
            return _error(TextractError("UnknownOperationException", f"{target or 'no target'} is not supported here"))
        try:
            request = json.loads(body or b"{}")
            data = self._document_bytes(request.get("Document") or {})
            return 200, detect_document_text(data), None
        except TextractError as error:
            return _error(error)
        except (ValueError, KeyError) as error:
            return _error(TextractError("InvalidParameterException", f"Request has invalid parameters: {error}"))
        except Exception as error:  # the engine itself failed: a 5xx, as the service would
            log.exception("textract: internal error")
            return _error(TextractError("InternalServerError", str(error), status=500))

    def _document_bytes(self, document: dict[str, Any]) -> bytes:
        if "Bytes" in document:
            return base64.b64decode(document["Bytes"])
        location = document.get("S3Object")
        if not location or not location.get("Bucket") or not location.get("Name"):
            raise TextractError("InvalidParameterException", "Document needs Bytes or S3Object {Bucket, Name}")
        arguments = {"Bucket": location["Bucket"], "Key": location["Name"]}
        if location.get("Version"):
            arguments["VersionId"] = location["Version"]
        s3 = self._client()
        try:
            head = s3.head_object(**arguments)
            if head["ContentLength"] > MAX_BYTES:
                raise TextractError("DocumentTooLargeException", "S3 object size is more than the maximum limit")
            return s3.get_object(**arguments)["Body"].read()
        except TextractError:
            raise
        except Exception as error:
            raise TextractError("InvalidS3ObjectException", f"Unable to get object metadata from S3: {error}") from None


def _error(error: TextractError) -> tuple[int, dict[str, Any], Optional[str]]:
    return error.status, {"__type": error.code, "message": error.message, "Message": error.message}, error.code


def start_textract(endpoint_url: str, host: str = "127.0.0.1", port: int = 0) -> TextractServer:
    """The local Textract reading objects from the local S3 at ``endpoint_url``."""
    import boto3

    def s3() -> Any:
        return boto3.client("s3", endpoint_url=endpoint_url, region_name=os.environ.get("AWS_REGION", "us-east-1"),
                            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"))

    return TextractServer(s3, host, port).start()


def _main() -> None:  # python -m devstack.textract FILE...: what the local Textract reads
    import sys

    for path in sys.argv[1:]:
        with open(path, "rb") as handle:
            reading = read_page(load_page(handle.read()))
        print(f"{path}: turned {reading.angle:+.2f} deg")
        for line in reading.lines:
            print(f"  {line.confidence:5.1f}  {line.text}")


if __name__ == "__main__":
    _main()

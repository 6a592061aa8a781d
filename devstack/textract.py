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

Pages are read in worker processes (:class:`PageReaders`), so N pages are read
on N cores: the image work (decode, deskew, flatten, binarise, glyph matching)
is Python and numpy under one GIL per process, and only Tesseract ran beside
it before. ``DEVSTACK_OCR_WORKERS`` sets how many (default: the machine's
cores). The workers start at the first page read, not with the stack, and
stop with it.

Dev only: never imported by chalicelib.
"""

from __future__ import annotations

import base64
import collections
import concurrent.futures
import copy
import hashlib
import io
import json
import logging
import multiprocessing
import os
import threading
import time
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


class TextractError(Exception):
    """An error Textract would return: its ``__type`` and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def __reduce__(self) -> tuple[Any, ...]:  # raised in a worker process, re-raised here whole
        return (TextractError, (self.code, self.message, self.status))


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


def read_response(data: bytes) -> dict[str, Any]:
    """What Textract answers for these bytes, read here (a worker process runs this)."""
    reading = read_page(load_page(data))
    return {"DocumentMetadata": {"Pages": 1}, "Blocks": to_blocks(reading), "DetectDocumentTextModelVersion": "1.0"}


def reader_pid() -> int:
    return os.getpid()


def _exit_with_stack(stack_pid: int) -> None:
    """A worker's initializer: exit when the stack's process is gone (a kill -9 of it alone), so no worker is left
    behind. Its parent, the forkserver, cannot tell: it stays while any worker holds its pipe."""

    def gone() -> bool:
        try:
            os.kill(stack_pid, 0)
            with open(f"/proc/{stack_pid}/stat") as stat:  # killed but not yet reaped still answers kill(0)
                return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except (ProcessLookupError, FileNotFoundError):
            return True
        except OSError:
            return False

    def watch() -> None:
        while not gone():
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="devstack-ocr-stack-watch", daemon=True).start()


def ocr_workers() -> int:
    """``DEVSTACK_OCR_WORKERS`` if set, else the machine's cores (at least 1)."""
    configured = os.environ.get("DEVSTACK_OCR_WORKERS", "").strip()
    return max(1, int(configured) if configured else (os.cpu_count() or 1))


class PageReaders:
    """Worker processes reading pages (:func:`read_response`), started at the first read.

    forkserver: each worker is forked from a clean server process that has already imported the reader
    (numpy, Pillow, the OCR-B templates' code), never from the stack's process with its threads and sockets;
    the server starts with the first read (about half a second of CPU), so ``./dev up`` pays nothing for it.
    A worker that dies (killed, out of memory) breaks the pool: that read fails as Textract's 5xx (the SDK
    retries) and the next read starts a new pool. A worker whose parent is gone (kill -9 of the stack) sees
    its pipes close and exits.
    """

    _live = 0  # pools of this process with workers; the last one to stop stops the forkserver
    _live_lock = threading.Lock()

    def __init__(self, workers: Optional[int] = None) -> None:
        self.workers = workers or ocr_workers()
        self._pool: Optional[concurrent.futures.ProcessPoolExecutor] = None
        self._lock = threading.Lock()
        self._closed = False

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise TextractError("InternalServerError", "the local Textract is stopping", status=500)
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["devstack.textract"])
                with PageReaders._live_lock:
                    PageReaders._live += 1
                self._pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=context,
                                                                 initializer=_exit_with_stack,
                                                                 initargs=(os.getpid(),))
            return self._pool

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        pool = self._executor()
        try:
            return pool.submit(function, *args).result()
        except concurrent.futures.process.BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            self._stop(pool, wait=False)
            raise

    def read(self, data: bytes) -> dict[str, Any]:
        return self.submit(read_response, data)

    def pids(self) -> list[int]:
        """The workers' process ids (none before the first read)."""
        pool = self._pool
        return sorted(getattr(pool, "_processes", None) or {}) if pool is not None else []

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            self._stop(pool, wait=True)

    @staticmethod
    def _stop(pool: concurrent.futures.ProcessPoolExecutor, wait: bool) -> None:
        pool.shutdown(wait=wait, cancel_futures=True)
        with PageReaders._live_lock:
            PageReaders._live -= 1
            last = PageReaders._live == 0
        if last and wait:  # reaped here, not left to exit after the stack (its own children, none left behind)
            from multiprocessing import forkserver, resource_tracker

            forkserver._forkserver._stop()
            resource_tracker._resource_tracker._stop()


_CACHE: "collections.OrderedDict[str, dict[str, Any]]" = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()


_IN_FLIGHT: dict[str, threading.Event] = {}


def detect_document_text(data: bytes, read: Callable[[bytes], dict[str, Any]] = read_response) -> dict[str, Any]:
    """What Textract answers for these bytes (``read``: here, or :meth:`PageReaders.read` in a worker); the engine
    is deterministic, so the same bytes are read once.

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
        response = read(data)
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

    def __init__(self, s3_factory: Callable[[], Any], host: str = "127.0.0.1", port: int = 0,
                 workers: Optional[int] = None) -> None:
        self._s3_factory = s3_factory
        self.readers = PageReaders(workers)
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
        self.readers.shutdown()  # after the server: no read is queued any more

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
            return 200, detect_document_text(data, self.readers.read), None
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

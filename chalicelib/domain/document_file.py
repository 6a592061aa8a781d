"""The uploaded file, before anything reads it: its true type by its bytes (``filetype``) must be JPEG,
PNG or PDF whatever its label; its size within the policy bounds; its structure sound (an image's
dimensions within the pixel limit, read from its header, so a decompression bomb costs nothing; the stream
not truncated, nothing riding after its end). The first rules of the identity check (``identity.py``).

Pure domain code: no AWS, no I/O; the rules judge only the head and tail of the object (``DocumentSample``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Optional

import filetype

from .checks import Outcome, Reason
from .policy import Policy

HEAD_BYTES = 65536  # the leading bytes the handler reads: a JPEG's frame header can sit after a large EXIF block
TAIL_BYTES = 1024  # the trailing bytes it reads: where a whole file ends (IEND, EOI, %%EOF)
#: An object up to this size is read whole in one GET (head, tail and size from one call) and OCR is given those very
#: bytes (Textract's ``Bytes``; its synchronous limit is 10 MB, 5 MB in its older documents): one read of the
#: document instead of two ranged ones. The policy's default size cap (``document_max_bytes``) is the same 5 MiB,
#: so every acceptable document is read once; a larger one (a cap raised, or an object past it) costs a second
#: ranged GET for its tail, and OCR reads it in S3 (``S3Object``), as before (issue 22).
WHOLE_READ_BYTES = 5 * 1024 * 1024

FILE_TYPE_NOT_ALLOWED = "FILE_TYPE_NOT_ALLOWED"
CONTENT_TYPE_MISMATCH = "CONTENT_TYPE_MISMATCH"
FILE_TOO_SMALL = "FILE_TOO_SMALL"
FILE_TOO_LARGE = "FILE_TOO_LARGE"
FILE_CORRUPT = "FILE_CORRUPT"
IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"

ALLOWED_MIME_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})
# Names clients commonly send for the same types.
_CONTENT_TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
}
# What S3 and browsers report when the uploader said nothing: not a claim to contradict.
_UNSPECIFIED_CONTENT_TYPES = frozenset({"", "binary/octet-stream", "application/octet-stream"})


@dataclass(frozen=True)
class DocumentSample:
    """What the handler read of the uploaded object: its size, head and tail (what the rules judge) and, when it
    was at most ``WHOLE_READ_BYTES``, its whole ``body``: the bytes OCR is then given, so the page read is
    exactly the one sniffed and no second read of the object is needed."""

    key: str
    size: int
    head: bytes
    content_type: Optional[str]
    tail: bytes = b""
    version: Optional[str] = None  # the object version (or ETag) checked: OCR reads exactly this one
    body: Optional[bytes] = field(default=None, repr=False, compare=False)  # the whole object, if read whole


def check_file(sample: DocumentSample, policy: Policy) -> tuple[Optional[str], list[Reason]]:
    """The file's true type and the rules that must hold before OCR is worth running on it."""
    mime = sniff_mime_type(sample.head)
    reasons = [*_file_type_reasons(mime, sample.content_type), *_size_reasons(sample.size, policy)]
    if mime in ALLOWED_MIME_TYPES:
        reasons += _structure_reasons(mime, sample, policy)
    return mime, reasons


def sniff_mime_type(head: bytes) -> Optional[str]:
    """The type the bytes say, whatever the name or upload headers claim."""
    kind = filetype.guess(bytes(head)) if head else None
    return kind.mime if kind else None


def _file_type_reasons(mime: Optional[str], content_type: Optional[str]) -> list[Reason]:
    if mime not in ALLOWED_MIME_TYPES:
        found = mime or "of an unknown type"
        message = f"The file's content is {found}; only JPEG, PNG or PDF is accepted"
        return [Reason(FILE_TYPE_NOT_ALLOWED, Outcome.FAIL, message)]
    claimed = _normalise_content_type(content_type)
    if claimed is not None and claimed != mime:
        # An allowed file with a wrong label is odd (a renamed file, a tool
        # bug, or an attempt to slip past a filter): a human should look.
        message = f"Uploaded as {claimed} but the content is {mime}"
        return [Reason(CONTENT_TYPE_MISMATCH, Outcome.REVIEW, message)]
    return []


def _normalise_content_type(content_type: Optional[str]) -> Optional[str]:
    """'Image/JPG; foo=bar' -> 'image/jpeg'; None when the uploader claimed nothing."""
    value = (content_type or "").split(";", 1)[0].strip().lower()
    if value in _UNSPECIFIED_CONTENT_TYPES:
        return None
    return _CONTENT_TYPE_ALIASES.get(value, value)


def _size_reasons(size: int, policy: Policy) -> list[Reason]:
    if size < policy.document_min_bytes:
        message = f"The file has {size} bytes; at least {policy.document_min_bytes} are needed"
        return [Reason(FILE_TOO_SMALL, Outcome.FAIL, message)]
    if size > policy.document_max_bytes:
        message = f"The file has {size} bytes; at most {policy.document_max_bytes} are accepted"
        return [Reason(FILE_TOO_LARGE, Outcome.FAIL, message)]
    return []


def _structure_reasons(mime: str, sample: DocumentSample, policy: Policy) -> list[Reason]:
    """Decoded just enough to trust: dimensions from the header (no pixel decoded), the end of the stream."""
    size = _image_size(mime, sample.head)
    if mime != "application/pdf" and size is None:
        # Within the first HEAD_BYTES or not at all: an image whose size cannot be learnt without reading
        # further is refused unread, or the pixel limit would be skipped by padding before the header.
        where = "in its first 64 KiB" if len(sample.head) >= HEAD_BYTES else ""
        return [Reason(FILE_CORRUPT, Outcome.FAIL, f"The image has no readable header {where}".strip())]
    if size is not None:
        width, height = size
        if width == 0 or height == 0:
            return [Reason(FILE_CORRUPT, Outcome.FAIL, "The image declares no pixels")]
        if width * height > policy.document_max_pixels:
            message = f"The image is {width}x{height} pixels; at most {policy.document_max_pixels} are accepted"
            return [Reason(IMAGE_TOO_LARGE, Outcome.FAIL, message)]
    ends = {"image/png": b"IEND\xaeB`\x82", "image/jpeg": b"\xff\xd9", "application/pdf": b"%%EOF"}
    if sample.size <= len(sample.head):
        tail = sample.head[-TAIL_BYTES:]
    else:
        tail = sample.tail
    if ends[mime] not in tail:
        return [Reason(FILE_CORRUPT, Outcome.FAIL, "The file is truncated: its stream does not end")]
    if not tail.rstrip(TRAILING_PADDING).endswith(ends[mime]):
        # Something rides after the image (HTML, a script, a second file): what a reviewer's browser or
        # another tool might read is not what was checked. Refused, never stripped.
        return [Reason(FILE_CORRUPT, Outcome.FAIL, "The file has data after the end of its image or document")]
    return []


#: What may follow a file's end marker: padding some encoders and editors write, nothing else.
TRAILING_PADDING = b"\x00\r\n\t "


def _image_size(mime: str, head: bytes) -> Optional[tuple[int, int]]:
    """(width, height) from a PNG's IHDR or a JPEG's frame header; None when the head does not say."""
    if mime == "image/png":
        if len(head) >= 24 and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
            return int(width), int(height)
        return None
    if mime == "image/jpeg":
        position = 2
        while position + 4 <= len(head):
            if head[position] != 0xFF:
                return None  # not a marker where one must be: not a JPEG stream
            marker = head[position + 1]
            if marker == 0xFF:
                position += 1  # fill byte
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                position += 2
                continue
            if marker in (0xD9, 0xDA):
                return None  # the image data starts (or ends) before any frame header
            length = struct.unpack(">H", head[position + 2 : position + 4])[0]
            if marker in _JPEG_FRAMES and position + 9 <= len(head):
                height, width = struct.unpack(">HH", head[position + 5 : position + 9])
                return int(width), int(height)
            position += 2 + length
    return None


_JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})

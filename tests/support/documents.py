"""Test factories for applications and identity documents.

``make_declared()`` returns a valid ``POST /applications`` body (the
applicant declares; the MRZ is never typed). ``mrz_lines()`` gives the zone a
document matching a declaration would carry, with ``overrides`` to make it say
something else; ``page_bytes()`` prints lines on a small real JPEG for the
in-memory OCR (``InMemoryOcr`` reads them back), and ``passport_bytes()`` renders
a realistic data page (tests/support/passports.py) for the real OCR of the
local stack. The ``*_bytes`` helpers return real files (Pillow is a test-only
dependency) so that type sniffing is tested against what clients really upload.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import random
from typing import Any, Mapping, Optional

from chalicelib.adapters.memory.face import HOLDER  # who the documents show: the application's own holder
from chalicelib.domain.mrz import FILLER, check_digit, encode_name

DEFAULT_BIRTH_DATE = dt.date(1990, 5, 17)
_NAME_WIDTH = {"passport": 39, "id_card": 30}


def default_expiry(today: Optional[dt.date] = None) -> dt.date:
    """A document valid for about four more years."""
    return (today or dt.date.today()) + dt.timedelta(days=4 * 365)


def make_declared(*, doc_overrides: Optional[Mapping[str, Any]] = None, **overrides: Any) -> dict[str, Any]:
    """A valid application body, JSON-ready (dates as ISO strings).

    - ``**overrides`` replace top-level keys (``date_of_birth=...``,
      ``full_name={...}``, ``address={...}``); dates may be ``date`` objects.
    - ``doc_overrides`` replace keys of ``identity_document``:
      ``{"type": "id_card"}`` declares a TD1 identity card instead of a TD3 passport.
    """
    body: dict[str, Any] = {
        "full_name": {"given_names": "Emily Jane", "surname": "Carter"},
        "date_of_birth": DEFAULT_BIRTH_DATE,
        "nationality": "GBR",
        "email": "emily.carter@example.com",
        "phone": "+447700900123",
        "address": {
            "country": "GB",
            "street_address": ["10 Downing Street"],
            "city": "London",
            "postal_code": "SW1A 2AA",
        },
        "identity_document": {
            "type": "passport",
            "number": "533401372",
            "issuing_country": "GBR",
            "expiry_date": default_expiry(),
        },
    }
    body.update(copy.deepcopy(overrides))
    body["identity_document"] = {**body["identity_document"], **dict(doc_overrides or {})}
    return _jsonable(body)


def mrz_lines(declaration: Mapping[str, Any], **overrides: Any) -> list[str]:
    """The MRZ lines a document matching ``declaration`` carries; ``overrides`` make it say otherwise.

    Override names: ``document_type``, ``country_code``, ``surname``,
    ``given_names`` (MRZ form, e.g. ``"EMMA<JANE"``), ``document_number``,
    ``nationality``, ``birth_date``, ``expiry_date`` (dates or YYMMDD),
    ``sex``, ``optional_data``. Check digits are always right for what it says.
    """
    document = declaration["identity_document"]
    kind = document["type"]
    name = declaration["full_name"]
    values: dict[str, Any] = {
        "document_type": "P" if kind == "passport" else "I",
        "country_code": document["issuing_country"],
        "surname": mrz_name(name["surname"]),
        "given_names": mrz_name(name.get("given_names", "")),
        "document_number": document["number"],
        "nationality": declaration["nationality"],
        "birth_date": declaration["date_of_birth"],
        "sex": "F",
        "expiry_date": document["expiry_date"],
        "optional_data": "",
    }
    values.update(overrides)
    width = _NAME_WIDTH[kind]
    name_field = fit_name(values["surname"], values["given_names"], width)
    code = _pad(values["document_type"], 2)
    state, nationality = _pad(values["country_code"].rstrip(FILLER), 3), _pad(values["nationality"].rstrip(FILLER), 3)
    number = _pad(values["document_number"], 9)
    birth, expiry, sex = _yymmdd(values["birth_date"]), _yymmdd(values["expiry_date"]), values["sex"]
    if kind == "passport":
        optional = _pad(values["optional_data"], 14)
        body = number + check_digit(number) + nationality + birth + check_digit(birth) + sex
        body += expiry + check_digit(expiry) + optional + (check_digit(optional) if values["optional_data"] else FILLER)
        return [code + state + name_field, body + check_digit(body[0:10] + body[13:20] + body[21:43])]
    line1 = code + state + number + check_digit(number) + _pad(values["optional_data"], 15)
    head = birth + check_digit(birth) + sex + expiry + check_digit(expiry) + nationality + FILLER * 11
    return [line1, head + check_digit(line1[5:30] + head[0:7] + head[8:15] + head[18:29]), name_field]


def mrz_name(text: str) -> str:
    """A declared name as an MRZ prints it (ICAO 9303 part 3, the usual transliteration)."""
    return encode_name(text)


def _pad(text: str, width: int) -> str:
    return (text + FILLER * width)[:width]


def fit_name(surname: str, given_names: str, width: int) -> str:
    """The MRZ name field: SURNAME<<GIVEN<NAMES cut to ``width`` and padded with '<'.

    Simple truncation: ICAO's rules also allow abbreviating components, which
    this factory does not do. A cut that lands on a '<' leaves padding, which
    the identity check (rightly) treats as a different, not a truncated, name.
    """
    full = f"{surname}<<{given_names}" if given_names else surname
    return full[:width].rstrip("<").ljust(width, "<")


# --- what a page says -------------------------------------------------------------




def page_bytes(lines: list[str], min_size: int = 2048, faces: tuple[Any, ...] = (HOLDER,)) -> bytes:
    """A real JPEG with ``lines`` printed on it for the in-memory OCR (a comment segment it reads back),
    showing ``faces`` to the in-memory Rekognition (another comment segment; the holder by default)."""
    from chalicelib.adapters.memory import PAGE_TEXT_MARKER, with_faces

    image = jpeg_bytes(min_size)
    text = PAGE_TEXT_MARKER + "\n".join(lines).encode("ascii") + b"\n:END"
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    page = image[:2] + segment + image[2:]
    return with_faces(page, *faces) if faces else page


def document_bytes(declaration: Optional[Mapping[str, Any]] = None, **mrz_overrides: Any) -> bytes:
    """A JPEG whose page carries the zone of ``declaration`` (default: ``make_declared()``), for the fakes."""
    return page_bytes(mrz_lines(declaration or make_declared(), **mrz_overrides))


def passport_bytes(declaration: Optional[Mapping[str, Any]] = None, fmt: str = "jpeg", face: Optional[str] = HOLDER,
                   photo: Optional[str] = None, **look: Any) -> bytes:
    """A realistic data page for ``declaration`` (default: ``make_declared()``), read by the real local OCR.

    ``photo``: a photo of tests/data/faces for the page's photo area (the local stack's face engine finds it);
    without it the silhouette, which has no face."""
    import json

    from chalicelib.adapters.memory import with_faces

    page = _rendered(json.dumps(declaration or make_declared(), sort_keys=True), fmt, tuple(sorted(look.items())),
                     photo)
    # the holder's face, for the test stack's Rekognition stand-in (tests/support/rekognition.py): a JPEG
    # comment, which OCR never sees
    return with_faces(page, face) if fmt == "jpeg" and face else page


@functools.lru_cache(maxsize=16)
def _rendered(declaration_json: str, fmt: str, look: tuple[tuple[str, Any], ...], photo: Optional[str] = None) -> bytes:
    import json

    from tests.support.passports import Holder, Look, make_document

    body = json.loads(declaration_json)
    document = body["identity_document"]
    holder = Holder(
        surname=body["full_name"]["surname"], given_names=body["full_name"]["given_names"],
        nationality=body["nationality"], issuing_state=document["issuing_country"], document_number=document["number"],
        birth_date=dt.date.fromisoformat(body["date_of_birth"]), sex="F",
        expiry_date=dt.date.fromisoformat(document["expiry_date"]), kind=document["type"],
    )
    if photo:
        from tests.support import faces

        holder = dataclasses.replace(holder, photo=faces.portrait(faces.photo(photo)))
    return make_document(holder, Look(fmt=fmt, **dict(look)))


def _yymmdd(value: Any) -> str:
    if isinstance(value, str) and len(value) == 6:
        return value  # already YYMMDD, possibly deliberately invalid
    date = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{date.year % 100:02d}{date.month:02d}{date.day:02d}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


# --- files --------------------------------------------------------------------


def jpeg_bytes(min_size: int = 2048) -> bytes:
    """A real JPEG photo of noise (noise does not compress) of at least ``min_size`` bytes."""
    return _noise_image("JPEG", min_size)


def png_bytes(min_size: int = 2048) -> bytes:
    """A real PNG of at least ``min_size`` bytes."""
    return _noise_image("PNG", min_size)


@functools.lru_cache(maxsize=32)
def _noise_image(image_format: str, min_size: int) -> bytes:
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - a test-only dependency
        raise RuntimeError("Pillow is needed for test images: pip install Pillow") from error
    import io

    rng = random.Random(min_size)  # deterministic per size
    side = 16
    while True:
        image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        buffer = io.BytesIO()
        image.save(buffer, format=image_format)
        data = buffer.getvalue()
        if len(data) >= min_size:
            return data
        side = int(side * 1.5) + 1


@functools.lru_cache(maxsize=32)
def pdf_bytes(min_size: int = 2048) -> bytes:
    """A minimal but well-formed one-page PDF (correct xref), padded to ``min_size``."""
    filler = b""
    while True:
        data = _pdf(filler)
        if len(data) >= min_size:
            return data
        filler += b"% padding to reach the requested size\n" * (1 + (min_size - len(data)) // 38)


def _pdf(filler: bytes) -> bytes:
    content = b"0 0 m 100 100 l S\n" + filler
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def exe_bytes(min_size: int = 2048) -> bytes:
    """The start of a Windows PE executable: MZ header, e_lfanew -> 'PE\\0\\0'."""
    dos_header = bytearray(64)
    dos_header[0:2] = b"MZ"
    dos_header[0x3C:0x40] = (64).to_bytes(4, "little")
    pe_header = b"PE\x00\x00" + (0x14C).to_bytes(2, "little")  # i386 machine
    data = bytes(dos_header) + pe_header
    return data + bytes(max(0, min_size - len(data)))

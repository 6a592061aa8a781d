"""The identity check's test cases: a declaration and the zone OCR reads on its page, a document's sample, and
the check run on them (tests/unit/test_identity_*.py)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings

from chalicelib.domain.checks import CheckResult
from chalicelib.domain.declaration import ApplicationRequest
from chalicelib.domain.document_file import HEAD_BYTES, TAIL_BYTES, DocumentSample
from chalicelib.domain.identity import PageText, check_identity
from chalicelib.domain.policy import Policy
from tests.support.documents import jpeg_bytes, make_declared, mrz_lines

POLICY = Policy()
TODAY = dt.date.today()
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TD3_SPECIMEN = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
TD1_SPECIMEN = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]


@dataclass
class Case:
    """A declaration, and the lines OCR reads on the uploaded page."""

    request: ApplicationRequest
    lines: list[str]


def declared(body: dict[str, Any] | None = None, *, mrz: list[str] | None = None, mrz_overrides=None, **kwargs) -> Case:
    """By default the page carries the zone of the declared document itself."""
    body = body if body is not None else make_declared(**kwargs)
    lines = mrz if mrz is not None else mrz_lines(body, **dict(mrz_overrides or {}))
    return Case(ApplicationRequest.model_validate(body), lines)


def sample(
    data: bytes | None = None, content_type: str | None = "image/jpeg", size: int | None = None
) -> DocumentSample:
    data = jpeg_bytes() if data is None else data
    return DocumentSample(
        key="documents/app-1/passport",
        size=len(data) if size is None else size,
        head=data[:HEAD_BYTES],
        content_type=content_type,
        tail=data[-TAIL_BYTES:],
    )


def run(
    case: Case | None = None,
    document: DocumentSample | None = None,
    today: dt.date = TODAY,
    policy: Policy = POLICY,
    page: Any = "read",
) -> CheckResult:
    case = case or declared()
    if page == "read":
        page = PageText(tuple(case.lines), tuple(99.0 for _ in case.lines))
    return check_identity(case.request, document or sample(), policy, today, page)


def codes(result) -> set[str]:
    return {reason.code for reason in result.reasons}


def with_char(lines: list[str], line: int, column: int, char: str) -> list[str]:
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1 :]
    return changed


def specimen(kind: str) -> Case:
    """The ICAO 9303 specimen holder, Anna Maria Eriksson of Utopia, and her document's zone."""
    body = make_declared(
        full_name={"given_names": "Anna Maria", "surname": "Eriksson"},
        date_of_birth="1974-08-12",
        nationality="UTO",
        doc_overrides={
            "type": kind,
            "number": "L898902C3" if kind == "passport" else "D23145890",
            "issuing_country": "UTO",
            "expiry_date": "2012-04-15",
        },
    )
    return declared(body, mrz=TD3_SPECIMEN if kind == "passport" else TD1_SPECIMEN)

"""Reading requests: the JSON body into a model, paging parameters, the Idempotency-Key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Optional, TypeVar

from chalice.app import Request
from pydantic import BaseModel, ValidationError

from . import strict_json
from .errors import ApiError

JSON_TYPES = ("application/json",)
MAX_PAGE = 100
PAGE_PARAMS = frozenset({"limit", "cursor"})
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
#: ASCII digits only: ``str.isdigit`` also says yes to "²" and "٣", which ``int`` then refuses.
LIMIT = re.compile(r"^[0-9]{1,3}$")
#: What a cursor this API hands out looks like (URL-safe base64 of a small JSON object); anything else,
#: however deep or long, is refused before it is decoded.
CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,1024}$")
ModelT = TypeVar("ModelT", bound=BaseModel)


def enforce_body_limit(request: Request, limit: int) -> None:
    size = len(request.raw_body or b"")
    if size > limit:
        raise ApiError(
            413, "payload_too_large", f"body is {size} bytes; the limit is {limit}", {"limit": limit, "size": size}
        )


def parse_body(request: Request, model: type[ModelT], allow_empty: bool = False) -> ModelT:
    if allow_empty and not (request.raw_body or b"").strip():
        return model.model_validate({})
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise ApiError(
            415, "unsupported_media_type", "send the body as application/json", {"content_type": content_type or None}
        )
    raw = request.raw_body or b""
    try:
        data = strict_json.loads(raw)
    except strict_json.MalformedJson as error:  # its message quotes nothing of the body
        raise ApiError(400, "malformed_json", str(error)) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ApiError(
            422, "validation_failed", "the request has invalid fields", {"fields": field_errors(error)}
        ) from error


def field_errors(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"], "type": e["type"]}
        for e in error.errors(include_url=False, include_input=False)
    ]


def idempotency_key(request: Request) -> Optional[str]:
    value = request.headers.get("idempotency-key")
    if value is None:
        return None
    if not IDEMPOTENCY_KEY.match(value):
        raise ApiError(
            422,
            "validation_failed",
            "Idempotency-Key must be 1-128 of A-Z a-z 0-9 _ . : -",
            {"fields": [{"field": "Idempotency-Key", "message": "invalid format", "type": "header"}]},
        )
    return value


def page_params(request: Request, default: int = 20, extra: frozenset[str] = frozenset()) -> tuple[int, Optional[str]]:
    query: Mapping[str, str] = request.query_params or {}
    unknown = sorted(set(query) - PAGE_PARAMS - extra)
    if unknown:  # a typo ("limt") silently ignored would return the wrong page size
        raise ApiError(
            422,
            "validation_failed",
            "unknown query parameter",
            {
                "fields": [
                    {"field": name[:64], "message": "not a parameter of this route", "type": "query"}
                    for name in unknown[:5]
                ]
            },
        )
    raw = query.get("limit", str(default))
    if not LIMIT.match(raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise ApiError(
            422,
            "validation_failed",
            f"limit must be an integer from 1 to {MAX_PAGE}",
            {"fields": [{"field": "limit", "message": "out of range", "type": "query"}]},
        )
    cursor = query.get("cursor") or None
    if cursor is not None and not CURSOR.match(cursor):
        raise ApiError(400, "invalid_cursor", "cursor is not valid")
    return int(raw), cursor


#: The review queue's filters (``GET /review/queue``), beside limit and cursor.
QUEUE_PARAMS = frozenset({"status", "reason", "older_than_hours", "q", "order"})
_REASON = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_HOURS = re.compile(r"^[0-9]{1,5}$")


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422,
        "validation_failed",
        f"{field}: {message}",
        {"fields": [{"field": field, "message": message, "type": "query"}]},
    )


def queue_params(request: Request) -> tuple[int, Optional[str], Any]:
    """limit, cursor and the ``QueueFilter`` of a queue request; 422 naming the field for a bad value."""
    from ..services.review import QUEUE_STATUSES, QueueFilter

    limit, cursor = page_params(request, extra=QUEUE_PARAMS)
    query: Mapping[str, str] = request.query_params or {}
    status = query.get("status", "all")
    if status not in QUEUE_STATUSES:
        raise _invalid("status", "one of " + ", ".join(QUEUE_STATUSES))
    reason = query.get("reason")
    if reason is not None and not _REASON.fullmatch(reason):
        raise _invalid("reason", "a check name or reason code (letters, digits, _)")
    hours = query.get("older_than_hours")
    if hours is not None and not _HOURS.fullmatch(hours):
        raise _invalid("older_than_hours", "whole hours, 0 to 99999")
    search = query.get("q") or None  # any text: it is only ever compared, never shown or stored
    if search is not None and len(search) > 100:
        raise _invalid("q", "at most 100 characters")
    order = query.get("order", "oldest")
    if order not in ("oldest", "newest"):
        raise _invalid("order", "oldest or newest")
    filters = QueueFilter(status, reason, int(hours) if hours is not None else None, search, order == "newest")
    return limit, cursor, filters

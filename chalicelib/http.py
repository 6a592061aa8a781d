"""The HTTP edge: one error shape, body limits, JSON parsing and authentication.

Every failure leaves the API as ``{"error": {"code", "message", "details"}}``
with a request id, whether it came from validation, the domain, Chalice
itself (405, 415) or a bug (500, logged with its traceback as one JSON line).
"""
from __future__ import annotations

import functools
import json
import re
import threading
import uuid
from typing import Any, Callable, Optional, TypeVar

from chalice import ChaliceUnhandledError, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from .auth import Identity, InvalidToken, verifier
from .domain.workflow import DomainError, IllegalTransition, NotAllowed
from .observability import logger
from .domain.workflow import HistoryEvent, verify_chain
from .repository import ConcurrentChange, InvalidCursor
from .service import IdempotencyKeyReused, NotFound

PUBLIC_ROUTES = frozenset({"/health", "/openapi.json"})
JSON_TYPES = ("application/json",)
ModelT = TypeVar("ModelT", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class _Escaped(ChaliceUnhandledError):
    """Carries an exception out of a view so Chalice passes it to our middleware."""


def request_id(request: Optional[Request]) -> str:
    context = getattr(request, "context", None) or {}
    return str(context.get("requestId") or "unknown")


def error_response(status: int, code: str, message: str, details: Any = None,
                   request: Optional[Request] = None, headers: Optional[dict[str, str]] = None) -> Response:
    rid = request_id(request)
    body = {"error": {"code": code, "message": message, "details": details if details is not None else {}},
            "request_id": rid}
    return Response(body=body, status_code=status,
                    headers={"Content-Type": "application/json", "X-Request-Id": rid, **(headers or {})})


def response_for(exc: BaseException, request: Optional[Request]) -> Response:
    """Map any exception to the one error shape; unknown ones are 500s, logged once."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, request)
    if isinstance(exc, NotFound):
        return error_response(404, "not_found", "application not found", {"id": str(exc)}, request)
    if isinstance(exc, IdempotencyKeyReused):
        return error_response(422, "idempotency_key_reused",
                              "this Idempotency-Key was used with a different body", None, request)
    if isinstance(exc, ConcurrentChange):
        current = exc.current
        details = {"state": current.state.value, "version": current.version} if current else {}
        return error_response(409, "conflict", "the application was changed by someone else", details, request)
    if isinstance(exc, IllegalTransition):
        details = {"state": exc.state.value if exc.state else None, "event": exc.event_type.value}
        return error_response(409, "illegal_transition", str(exc), details, request)
    if isinstance(exc, NotAllowed):
        return error_response(403, "forbidden", str(exc), None, request)
    if isinstance(exc, DomainError):
        return error_response(409, exc.code, str(exc), None, request)
    if isinstance(exc, InvalidCursor):
        return error_response(400, "invalid_cursor", str(exc), None, request)
    logger.exception("unhandled error", extra={"request_id": request_id(request),
                                                "path": getattr(request, "path", None)})
    return error_response(500, "internal_error", "an unexpected error occurred; quote the request id",
                          None, request)


def handles_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let every exception of a view reach the error middleware instead of Chalice's 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Exception as exc:
            raise _Escaped(str(exc)) from exc

    return wrapper


def http_middleware(max_body_bytes: Callable[[], int]) -> Callable[[Request, Callable[[Request], Response]], Response]:
    """Build the one HTTP middleware: authentication, body limit, error shaping."""

    def middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
        _serving.request = request
        request.context.setdefault("requestId", str(uuid.uuid4()))  # chalice local/test client omit it
        logger.append_keys(request_id=request.context["requestId"])
        try:
            if request.context.get("resourcePath") not in PUBLIC_ROUTES:
                authenticate(request)
            if request.method in ("POST", "PUT", "PATCH"):
                enforce_body_limit(request, max_body_bytes())
            response = get_response(request)
        except _Escaped as escaped:
            response = response_for(escaped.__cause__ or escaped, request)
        except Exception as exc:  # failures of the middleware's own steps
            response = response_for(exc, request)
        finally:
            _serving.request = None
        response = _reshape_chalice_error(response, request)
        response.headers.setdefault("X-Request-Id", request_id(request))
        return response

    return middleware


_serving = threading.local()


def current_request() -> Request:
    """The request this thread is serving.

    ``app.current_request`` is one attribute shared by every thread: under a
    threaded server (``chalice local``, the test client driven from threads) a
    view can read another request's headers, body and identity. The middleware
    records its own request per thread; views that may run concurrently read it here.
    """
    request = getattr(_serving, "request", None)
    if request is None:
        raise RuntimeError("current_request() is only available inside the HTTP middleware")
    return request


def authenticate(request: Request) -> Identity:
    try:
        identity = verifier().verify_bearer(request.headers.get("authorization"))
    except InvalidToken as error:
        logger.info("token refused", extra={"reason": str(error), "request_id": request_id(request)})
        raise ApiError(401, "unauthorized", "a valid bearer token is required") from error
    request.context["authorizer"] = identity.to_context()
    return identity


def identity_of(request: Request) -> Identity:
    return Identity.from_context(request.context["authorizer"])


def require_reviewer(request: Request) -> Identity:
    identity = identity_of(request)
    if not identity.is_reviewer:
        raise ApiError(403, "forbidden", "only reviewers may do this")
    return identity


def enforce_body_limit(request: Request, limit: int) -> None:
    size = len(request.raw_body or b"")
    if size > limit:
        raise ApiError(413, "payload_too_large", f"body is {size} bytes; the limit is {limit}",
                       {"limit": limit, "size": size})


def parse_body(request: Request, model: type[ModelT], allow_empty: bool = False) -> ModelT:
    if allow_empty and not (request.raw_body or b"").strip():
        return model.model_validate({})
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json",
                       {"content_type": content_type or None})
    raw = request.raw_body or b""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "malformed_json", "the body is not valid JSON", {"error": str(error)}) from error
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ApiError(422, "validation_failed", "the request has invalid fields",
                       {"fields": field_errors(error)}) from error


def field_errors(error: ValidationError) -> list[dict[str, Any]]:
    return [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"], "type": e["type"]}
            for e in error.errors(include_url=False, include_input=False)]


_CHALICE_CODES = {405: "method_not_allowed", 415: "unsupported_media_type", 400: "bad_request",
                  404: "not_found", 500: "internal_error"}


def _reshape_chalice_error(response: Response, request: Request) -> Response:
    """Chalice answers some requests itself (405, 415) as {"Code", "Message"}: give them our shape."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(response.status_code, "error")
        extra = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
        return error_response(response.status_code, code, str(body["Message"]), None, request, extra)
    return response


MAX_PAGE = 100
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def idempotency_key(request: Request) -> Optional[str]:
    value = request.headers.get("idempotency-key")
    if value is None:
        return None
    if not IDEMPOTENCY_KEY.match(value):
        raise ApiError(422, "validation_failed", "Idempotency-Key must be 1-128 of A-Z a-z 0-9 _ . : -",
                       {"fields": [{"field": "Idempotency-Key", "message": "invalid format", "type": "header"}]})
    return value


def page_params(request: Request, default: int = 20) -> tuple[int, Optional[str]]:
    query = request.query_params or {}
    raw = query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ApiError(422, "validation_failed", f"limit must be an integer from 1 to {MAX_PAGE}",
                       {"fields": [{"field": "limit", "message": "out of range", "type": "query"}]})
    return int(raw), query.get("cursor") or None


def chain_intact(events: list[HistoryEvent]) -> bool:
    return verify_chain(events) is None

"""One error shape for every failure that leaves the API.

``{"error": {"code", "message", "details"}, "request_id"}``, whether it came
from validation, the domain, Chalice itself (405, 415) or a bug (500, logged
with its traceback as one JSON line).
"""

from __future__ import annotations

from typing import Any, Optional

from chalice import Response
from chalice.app import Request

from ..domain.workflow import DomainError, IllegalTransition, NoDocument, NotAllowed
from ..observability import logger
from ..services.errors import DocumentNotDisplayable, IdempotencyKeyReused, NotFound, UnknownQueue
from ..services.ports import ConcurrentChange, InvalidCursor


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def request_id(request: Optional[Request]) -> str:
    context = getattr(request, "context", None) or {}
    return str(context.get("requestId") or "unknown")


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    request: Optional[Request] = None,
    headers: Optional[dict[str, str]] = None,
) -> Response:
    rid = request_id(request)
    body = {
        "error": {"code": code, "message": message, "details": details if details is not None else {}},
        "request_id": rid,
    }
    return Response(
        body=body,
        status_code=status,
        headers={"Content-Type": "application/json", "X-Request-Id": rid, **(headers or {})},
    )


def response_for(exc: BaseException, request: Optional[Request]) -> Response:
    """Map any exception to the one error shape; unknown ones are 500s, logged once."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, request)
    if isinstance(exc, NotFound):
        return error_response(404, "not_found", "application not found", {"id": str(exc)}, request)
    if isinstance(exc, IdempotencyKeyReused):
        return error_response(
            422, "idempotency_key_reused", "this Idempotency-Key was used with a different body", None, request
        )
    if isinstance(exc, ConcurrentChange):
        current = exc.current
        details: dict[str, Any] = {"state": current.state.value, "version": current.version} if current else {}
        return error_response(409, "conflict", "the application was changed by someone else", details, request)
    if isinstance(exc, IllegalTransition):
        details = {"state": exc.state.value if exc.state else None, "event": exc.event_type.value}
        return error_response(409, "illegal_transition", str(exc), details, request)
    if isinstance(exc, UnknownQueue):
        return error_response(404, "not_found", "no such queue", {"queue": exc.args[0]}, request)
    if isinstance(exc, NoDocument):
        if exc.purged:
            return error_response(410, "document_purged", "the document was purged after retention", None, request)
        return error_response(404, "no_document", "no identity document was uploaded", None, request)
    if isinstance(exc, DocumentNotDisplayable):
        return error_response(
            422, "document_not_displayable", "the stored file is not a JPEG, PNG or PDF", {"type": str(exc)}, request
        )
    if isinstance(exc, NotAllowed):
        return error_response(403, "forbidden", str(exc), None, request)
    if isinstance(exc, DomainError):
        return error_response(409, exc.code, str(exc), None, request)
    if isinstance(exc, InvalidCursor):
        return error_response(400, "invalid_cursor", str(exc), None, request)
    logger.exception(
        "unhandled error", extra={"request_id": request_id(request), "path": getattr(request, "path", None)}
    )
    return error_response(500, "internal_error", "an unexpected error occurred; quote the request id", None, request)


_CHALICE_CODES = {
    405: "method_not_allowed",
    415: "unsupported_media_type",
    400: "bad_request",
    404: "not_found",
    500: "internal_error",
}


def reshape_chalice_error(response: Response, request: Request) -> Response:
    """Chalice answers some requests itself (405, 415) as {"Code", "Message"}: give them our shape."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(response.status_code, "error")
        extra = {k: str(v) for k, v in response.headers.items() if k.lower() == "allow"}
        return error_response(response.status_code, code, str(body["Message"]), None, request, extra)
    return response

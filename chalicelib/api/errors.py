"""One error shape for every failure that leaves the API.

``{"error": {"code", "message", "details"}, "request_id"}``, whether it came
from validation, the domain, Chalice itself (405, 415) or a bug (500, logged
with its traceback as one JSON line).
"""

from __future__ import annotations

from typing import Any, Optional

from chalice import Response
from chalice.app import Request

from ..domain import disclosure, face_workflow
from ..domain.workflow.errors import DomainError, IllegalTransition, NoDocument, NoSuchCandidate, NotAllowed
from ..observability import logger
from ..services.errors import (
    DeclarationRefused,
    DocumentNotDisplayable,
    IdempotencyKeyReused,
    NotFound,
    QuotaExceeded,
    RateLimited,
    UnknownQueue,
)
from ..services.ports import ConcurrentChange, InvalidCursor


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: Any = None, headers: Optional[dict[str, str]] = None
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


#: Error codes AWS answers when the caller should simply try again later (after the SDK's own retries).
TRANSIENT_AWS_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "InternalServerError",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
    }
)
#: Client-side failures to reach AWS at all (botocore's class names; no botocore import at the edge).
TRANSIENT_CONNECTION_ERRORS = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"}
)
RETRY_AFTER_SECONDS = 2


def is_transient(exc: BaseException) -> bool:
    """A throttling or 5xx answer from AWS, or no answer, anywhere in the exception's chain.

    pynamodb wraps botocore's errors (``cause_response_code``), Powertools wraps
    Parameter Store's; the chain is walked so every wrapper is seen through.
    """
    seen: set[int] = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in TRANSIENT_CONNECTION_ERRORS:
            return True
        code = getattr(current, "cause_response_code", None)
        response = getattr(current, "response", None)
        if code is None and isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
            status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            if isinstance(status, int) and status >= 500:
                return True
        if code in TRANSIENT_AWS_CODES:
            return True
        reasons = getattr(current, "cancellation_reasons", None) or []
        if any(getattr(r, "code", None) in ("ThrottlingError", "ProvisionedThroughputExceeded") for r in reasons if r):
            return True
        current = current.__cause__ or current.__context__
    return False


def request_id(request: Optional[Request]) -> str:
    context = getattr(request, "context", None) or {}
    return str(context.get("requestId") or "unknown")


def _applicants_route(request: Optional[Request]) -> bool:
    path = str((getattr(request, "context", None) or {}).get("resourcePath") or "") if request is not None else ""
    return path == "/applications" or path.startswith("/applications/")


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
        return error_response(exc.status, exc.code, exc.message, exc.details, request, exc.headers)
    if isinstance(exc, NotFound):  # never echoes the id: it may be 5,000 characters of anything
        return error_response(404, "not_found", "application not found", None, request)
    if isinstance(exc, QuotaExceeded):
        limit: dict[str, Any] = {"retry_after_seconds": exc.retry_after_seconds}
        if isinstance(exc, RateLimited):
            limit.update(limit=exc.limit, window_seconds=exc.window_seconds)
        return error_response(
            429,
            "too_many_requests",
            str(exc),
            limit,
            request,
            {"Retry-After": str(exc.retry_after_seconds)},
        )
    if isinstance(exc, DeclarationRefused):  # the shape of validation_failed, each entry typed by its rule
        return error_response(
            422,
            "application_refused",
            "the declaration breaks rules that no document can mend",
            {"fields": [broken.to_dict() for broken in exc.broken]},
            request,
        )
    if isinstance(exc, IdempotencyKeyReused):
        return error_response(
            422, "idempotency_key_reused", "this Idempotency-Key was used with a different body", None, request
        )
    if isinstance(exc, ConcurrentChange):
        current = exc.current
        # the applicant's routes answer their version (``disclosure.version``), staff routes the recorded one
        seen = disclosure.version if _applicants_route(request) else (lambda app: app.version)
        details: dict[str, Any] = {"state": current.state.value, "version": seen(current)} if current else {}
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
    if isinstance(exc, NotAllowed):  # "forbidden", or a more precise code (staff_email_unverified)
        return error_response(403, exc.code, str(exc), None, request)
    if isinstance(exc, NoSuchCandidate):
        return error_response(404, "no_such_candidate", str(exc), None, request)
    face = _face_error(exc, request)
    if face is not None:
        return face
    if isinstance(exc, DomainError):
        return error_response(409, exc.code, str(exc), None, request)
    if isinstance(exc, InvalidCursor):
        return error_response(400, "invalid_cursor", str(exc), None, request)
    if is_transient(exc):
        logger.warning("dependency unavailable", exc_info=True, extra={"request_id": request_id(request)})
        return error_response(
            503,
            "service_unavailable",
            "a dependency is briefly unavailable; retry after the delay in Retry-After",
            None,
            request,
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    logger.exception(
        "unhandled error", extra={"request_id": request_id(request), "path": getattr(request, "path", None)}
    )
    return error_response(500, "internal_error", "an unexpected error occurred; quote the request id", None, request)


def _face_error(exc: BaseException, request: Optional[Request]) -> Optional[Response]:
    """The face check's refusals (issue 17) that are not a plain 409 with their code."""
    if isinstance(exc, face_workflow.ConsentOutdated):
        return error_response(422, exc.code, str(exc), {"current_version": exc.current}, request)
    if isinstance(exc, face_workflow.ConsentRequired):
        return error_response(409, exc.code, str(exc), {"text_version": exc.current}, request)
    if isinstance(exc, face_workflow.LivenessSessionNotFound):
        return error_response(404, exc.code, str(exc), None, request)
    if isinstance(exc, face_workflow.LivenessSessionClosed):
        return error_response(409, exc.code, str(exc), {"state": exc.state}, request)
    if isinstance(exc, face_workflow.LivenessInProgress):
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return error_response(409, exc.code, str(exc), None, request, headers)
    if isinstance(exc, face_workflow.NoSelfie):
        if exc.purged:
            return error_response(410, "selfie_purged", "the selfie was deleted after its retention", None, request)
        return error_response(404, exc.code, "no selfie was taken", None, request)
    return None


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

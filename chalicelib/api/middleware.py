"""The HTTP edge: authentication, body limits and error shaping around every route."""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable
from typing import Any, Optional

from chalice import ChaliceUnhandledError, Response
from chalice.app import Request

from ..domain.users import CUSTOMER_POOL, OPERATORS_GROUP, REVIEWERS_GROUP, STAFF_POOL, Identity
from ..observability import logger
from ..services.ports import InvalidToken, TokenVerifier
from ..services.rate_limits import RequestRateLimiter
from ..services.staff import StaffAccess
from .errors import ApiError, request_id, reshape_chalice_error, response_for
from .requests import enforce_body_limit

PUBLIC_ROUTES = frozenset({"/health", "/openapi.json", "/asyncapi.json", "/console", "/console/{asset}"})
#: Routes whose request commits a change of the application (``ApplicationService.commit``): the rate limit's
#: use is taken in that commit's transaction, or after the view when nothing committed
#: (``services.rate_limits``); every other authenticated request takes it before its view.
COMMITTING_ROUTES = frozenset(
    {
        ("POST", "/applications"),
        ("POST", "/applications/{application_id}/withdraw"),
        ("POST", "/applications/{application_id}/biometric-consent"),
        ("POST", "/applications/{application_id}/liveness-sessions"),
        ("POST", "/applications/{application_id}/liveness-sessions/{session_id}/complete"),
        ("POST", "/review/applications/{application_id}/decision"),
    }
)

#: On every response. Personal data must never sit in a browser's or a proxy's
#: cache (a route that serves static files may set its own Cache-Control); the
#: API is only reached over TLS; a JSON body is never sniffed into something else.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class _Escaped(ChaliceUnhandledError):
    """Carries an exception out of a view so Chalice passes it to our middleware."""


def handles_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let every exception of a view reach the error middleware instead of Chalice's 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Exception as exc:
            raise _Escaped(str(exc)) from exc

    return wrapper


def http_middleware(
    verifier: Callable[[], TokenVerifier],
    max_body_bytes: Callable[[], int],
    rate_limiter: Optional[Callable[[], RequestRateLimiter]] = None,
) -> Callable[[Request, Callable[[Request], Response]], Response]:
    """Build the one HTTP middleware: authentication, the per-user rate limit, body limit, error shaping."""

    def middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
        _serving.request = request
        request.context.setdefault("requestId", str(uuid.uuid4()))  # chalice local/test client omit it
        # (its log key, per invocation and thread: observability.middleware, which runs first)
        limiter: Optional[RequestRateLimiter] = None
        try:
            route = request.context.get("resourcePath")
            if route not in PUBLIC_ROUTES:
                identity = authenticate(request, verifier())
                if rate_limiter is not None:
                    limiter = rate_limiter()
                    if (request.method, route) in COMMITTING_ROUTES:
                        limiter.defer(identity)  # taken by the request's commit, or settled below
                    else:
                        limiter.admit(identity)  # 429 with Retry-After past the user's limit
            if request.method in ("POST", "PUT", "PATCH"):
                enforce_body_limit(request, max_body_bytes())
            response = get_response(request)
        except _Escaped as escaped:
            response = response_for(escaped.__cause__ or escaped, request)
        except Exception as exc:  # noqa: BLE001 - failures of the middleware's own steps
            response = response_for(exc, request)
        finally:
            _serving.request = None
        if limiter is not None:
            try:
                limiter.settle()  # a request no commit counted (refused, replayed, nothing changed) counts now
            except Exception as exc:  # noqa: BLE001 - over the limit: 429, whatever the view answered
                response = response_for(exc, request)
        response = reshape_chalice_error(response, request)
        response.headers.setdefault("X-Request-Id", request_id(request))
        if isinstance(response.body, (dict, list)) and not any(h.lower() == "content-type" for h in response.headers):
            response.headers["Content-Type"] = "application/json"  # Chalice sends none; say what it is
        for name, value in SECURITY_HEADERS.items():
            if not any(existing.lower() == name.lower() for existing in response.headers):
                response.headers[name] = value
        return response

    return middleware


_serving = threading.local()


def current_request() -> Request:
    """The request this thread is serving.

    ``app.current_request`` is one attribute shared by every thread: under a
    threaded server (``chalice local``, the test client driven from threads) a
    view can read another request's headers, body and identity. The middleware
    records its own request per thread; views read it here.
    """
    request = getattr(_serving, "request", None)
    if request is None:
        raise RuntimeError("current_request() is only available inside the HTTP middleware")
    return request


def authenticate(request: Request, verifier: TokenVerifier) -> Identity:
    try:
        identity = verifier.verify_bearer(request.headers.get("authorization"))
    except InvalidToken as error:
        logger.info("token refused", extra={"reason": str(error), "request_id": request_id(request)})
        raise ApiError(401, "unauthorized", "a valid bearer token is required") from error
    request.context["authorizer"] = identity.to_context()
    return identity


def caller(request: Request) -> Identity:
    return Identity.from_context(request.context["authorizer"])


def wrong_pool(identity: Identity, required: str) -> ApiError:
    """403 for a valid token of the other user pool: staff routes take staff-pool tokens only,
    applicant routes customer-pool tokens only (a group claim never crosses pools)."""
    who = "staff (reviewers, operators)" if required == STAFF_POOL else "applicants"
    return ApiError(
        403,
        "wrong_user_pool",
        f"this route is for {who}: it accepts only tokens of the {required} user pool",
        {"token_pool": identity.pool, "required_pool": required},
    )


def applicant(request: Request) -> Identity:
    """The caller, if signed in to the customer pool (a staff token is refused, not treated as an applicant)."""
    identity = caller(request)
    if not identity.is_customer:
        raise wrong_pool(identity, CUSTOMER_POOL)
    return identity


def staff_member(request: Request) -> Identity:
    identity = caller(request)
    if not identity.is_staff:
        raise wrong_pool(identity, STAFF_POOL)
    return identity


def reviewer(request: Request, staff: StaffAccess) -> Identity:
    """The caller, if a staff-pool token says reviewer and the staff pool still agrees: the user exists,
    is enabled and is in the group (removal, deletion, disabling count within ``staff.ttl_seconds``)."""
    identity = staff_member(request)
    if not identity.is_reviewer or not staff.is_member(identity, REVIEWERS_GROUP):
        raise ApiError(403, "forbidden", "only reviewers may do this")
    return identity


def operator(request: Request, staff: StaffAccess) -> Identity:
    """The caller, if a staff-pool token says operator and the staff pool still agrees (as ``reviewer``)."""
    identity = staff_member(request)
    if not identity.is_operator or not staff.is_member(identity, OPERATORS_GROUP):
        raise ApiError(403, "forbidden", "only operators may do this")
    return identity


def not_found_route() -> ApiError:
    """What an unknown path or method answers (after authentication): the path is not echoed."""
    return ApiError(404, "not_found", "no such route")

"""The OpenAPI 3.1 document, generated from the routes Chalice has and the pydantic models.

There is no second list of routes: each view in app.py carries its own description, and
``document(app.routes)`` walks Chalice's RouteEntry objects (path, method, view function)::

    @app.route("/applications/{application_id}/withdraw", methods=["POST"])
    @documented(
        "Withdraw an open application",
        request=WithdrawRequest,
        request_required=False,
        responses={200: ApplicationOut},
        errors=(404, 409),
    )
    @handles_errors
    def withdraw_application(application_id): ...

- ``responses``: status -> a pydantic model from models.py (JSON), or a ``Reply`` for anything else
  (another media type, a raw schema, response headers).
- ``errors``: the error statuses the view itself can answer (403, 404, 409...), each with the ``Error``
  model. Those the edge adds are implied: 500 everywhere, 401 unless ``public=True``, 413 on
  POST/PUT/PATCH, 400/415/422 when there is a ``request`` body, 400/422 with ``PAGING``, 422 with
  ``IDEMPOTENCY_KEY`` (see ``_implied_errors``).
- ``params``: query or header parameters (``PAGING``, ``IDEMPOTENCY_KEY`` or your own ``Param``); path
  parameters come from the route itself (a string each, unless ``path_params`` says otherwise).
- ``tags``: groups on the docs page; by default the path's first segment (``applications``, ``review``).
- ``public=True``: no bearer token needed (the middleware's ``PUBLIC_ROUTES`` must agree: a test checks).
- ``@hidden("why")`` instead marks a route that is deliberately left out (e.g. a catch-all).

``undocumented(app.routes)`` lists the routes with neither; a test keeps it empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, TypeVar, Union

from pydantic import BaseModel

from .models import Error

OPENAPI_VERSION = "3.1.0"
TITLE = "Account Opening API"
API_VERSION = "1.0.0"
ATTRIBUTE = "__openapi__"
HIDDEN_ATTRIBUTE = "__openapi_hidden__"
JSON = "application/json"

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed JSON or cursor",
    401: "Missing or invalid bearer token",
    403: "Not allowed for this user",
    404: "Not found (or not yours)",
    405: "Method not allowed on this path",
    409: "Conflict with the application's current state",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Validation failed",
    429: "Too many requests for this user (see Retry-After)",
    500: "Unexpected error (quote the request id)",
    503: "A dependency is unavailable",
}

#: POST /applications: beside malformed fields, the rules the declaration alone settles (issue 9).
CREATE_REFUSED = (
    "validation_failed: a field is malformed (details.fields names each); application_refused: the declaration "
    "breaks rules no document can mend, each named in details.fields as {field, message, type} with type one of "
    "APPLICANT_UNDERAGE, DOCUMENT_EXPIRED, DOCUMENT_EXPIRY_IMPLAUSIBLE, NATIONALITY_NOT_SERVED, COUNTRY_NOT_SERVED; "
    "idempotency_key_reused"
)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Param:
    """A query or header parameter."""

    name: str
    location: str  # "query" | "header"
    schema: Mapping[str, Any]
    description: str = ""
    required: bool = False

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "in": self.location, "schema": dict(self.schema)}
        if self.description:
            out["description"] = self.description
        if self.required:
            out["required"] = True
        return out


PAGING = (
    Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size"),
    Param("cursor", "query", {"type": "string"}, "The next_cursor of the previous page"),
)
QUEUE_FILTERS = (
    Param(
        "status",
        "query",
        {
            "type": "string",
            "default": "all",
            "enum": ["all", "unclaimed", "claimed", "mine", "second_review", "overdue"],
        },
        "Every case, nobody's, someone's, yours, awaiting a second reviewer (four eyes), past the SLA",
    ),
    Param(
        "reason",
        "query",
        {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,63}$"},
        "A check (sanctions) or reason code the case was flagged for",
    ),
    Param(
        "older_than_hours",
        "query",
        {"type": "integer", "minimum": 0, "maximum": 99999},
        "Flagged at least this many hours ago",
    ),
    Param(
        "q",
        "query",
        {"type": "string", "maxLength": 100},
        "Part of the applicant's name (any case, any accents as typed), or the start of the id",
    ),
    Param(
        "order",
        "query",
        {"type": "string", "enum": ["oldest", "newest"], "default": "oldest"},
        "By flag time; a cursor continues in the order it was made with",
    ),
)
HISTORY_PAGING = (
    Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 100}, "Events per page"),
    Param("cursor", "query", {"type": "string"}, "The next_cursor of the previous page"),
)
IDEMPOTENCY_KEY = (
    Param(
        "Idempotency-Key",
        "header",
        {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"},
        "Makes a retry safe: the same key and body return the same application (200)",
    ),
)


@dataclass(frozen=True)
class Reply:
    """A response that is not simply a JSON model: another media type, a raw schema, headers."""

    model: Optional[type[BaseModel]] = None
    description: str = ""
    media_type: str = JSON
    schema: Optional[Mapping[str, Any]] = None
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description


ResponseSpec = Union[type[BaseModel], Reply]


@dataclass(frozen=True)
class Operation:
    """What ``@documented`` records on a view function."""

    summary: str
    responses: Mapping[int, ResponseSpec]
    request: Optional[type[BaseModel]] = None
    request_required: bool = True
    errors: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    path_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    public: bool = False
    description: str = ""
    tags: tuple[str, ...] = ()


def documented(
    summary: str,
    *,
    responses: Mapping[int, ResponseSpec],
    request: Optional[type[BaseModel]] = None,
    request_required: bool = True,
    errors: Iterable[int] = (),
    params: Iterable[Param] = (),
    path_params: Optional[Mapping[str, Mapping[str, Any]]] = None,
    public: bool = False,
    description: str = "",
    tags: Iterable[str] = (),
) -> Callable[[F], F]:
    """Record how a view is described in the OpenAPI document (see the module docstring)."""
    operation = Operation(
        summary=summary,
        responses=dict(responses),
        request=request,
        request_required=request_required,
        errors=tuple(errors),
        params=tuple(params),
        path_params=dict(path_params or {}),
        public=public,
        description=description,
        tags=tuple(tags),
    )

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, operation)
        return view

    return mark


def hidden(reason: str) -> Callable[[F], F]:
    """Leave a route out of the document on purpose (say why)."""

    def mark(view: F) -> F:
        setattr(view, HIDDEN_ATTRIBUTE, reason)
        return view

    return mark


def operation_of(view: Callable[..., Any]) -> Optional[Operation]:
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None


def undocumented(routes: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(method, path) of every route with neither ``@documented`` nor ``@hidden``."""
    return sorted(
        (method, path)
        for path, methods in routes.items()
        for method, entry in methods.items()
        if operation_of(entry.view_function) is None and not hasattr(entry.view_function, HIDDEN_ATTRIBUTE)
    )


def public_paths(routes: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Paths whose every documented operation is public."""
    found: dict[str, bool] = {}
    for path, methods in routes.items():
        for entry in methods.values():
            op = operation_of(entry.view_function)
            if op is not None:
                found[path] = found.get(path, True) and op.public
    return {path for path, public in found.items() if public}


def document(routes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The whole document, from ``app.routes`` (path -> method -> RouteEntry)."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    views = Counter(entry.view_name for methods in routes.values() for entry in methods.values())
    for path in sorted(routes):
        for method in sorted(routes[path]):
            entry = routes[path][method]
            op = operation_of(entry.view_function)
            if op is None:
                continue
            operation_id = entry.view_name if views[entry.view_name] == 1 else f"{entry.view_name}_{method.lower()}"
            paths.setdefault(path, {})[method.lower()] = _operation(op, method, path, entry, operation_id, schemas)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": API_VERSION,
            "description": "Every error has the Error shape. The WebSocket protocol is described in /asyncapi.json.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "cognito": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Cognito ID or access token of the user pool",
                }
            },
        },
    }


def _operation(
    op: Operation, method: str, path: str, entry: Any, operation_id: str, schemas: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    out["tags"] = list(op.tags) or [_default_tag(path)]
    params = [
        {"name": name, "in": "path", "required": True, "schema": dict(op.path_params.get(name, {"type": "string"}))}
        for name in entry.view_args
    ]
    params += [p.render() for p in op.params]
    if params:
        out["parameters"] = params
    if op.request is not None:
        out["requestBody"] = {
            "required": op.request_required,
            "content": {JSON: {"schema": _ref(op.request, schemas)}},
        }
    responses: dict[str, Any] = {}
    for status, spec in sorted(op.responses.items()):
        responses[str(status)] = _response(status, spec, schemas)
    for status in sorted(set(op.errors) | _implied_errors(op, method)):
        responses.setdefault(str(status), _response(status, Error, schemas))
    out["responses"] = responses
    out["security"] = [] if op.public else [{"cognito": []}]
    return out


def _default_tag(path: str) -> str:
    """Group by the first path segment (applications, review, ...); the service's own routes together."""
    first = path.strip("/").split("/")[0]
    return "service" if not first or "." in first or first == "health" else first


def _implied_errors(op: Operation, method: str) -> set[int]:
    """The error statuses the edge (middleware, body and parameter parsing) can answer for this route.

    503 (with Retry-After) everywhere: any route that reaches AWS answers it when AWS throttles or fails.
    429 (with Retry-After) on every authenticated route: the per-user request rate limit.
    """
    statuses = {500, 503}
    if not op.public:
        statuses |= {401, 429}
    if method in ("POST", "PUT", "PATCH"):
        statuses.add(413)
    if op.request is not None:
        statuses |= {400, 415, 422}
    if any(p in PAGING for p in op.params):
        statuses |= {400, 422}
    if any(p in IDEMPOTENCY_KEY for p in op.params):
        statuses.add(422)
    return statuses


def _response(status: int, spec: ResponseSpec, schemas: dict[str, Any]) -> dict[str, Any]:
    reply = spec if isinstance(spec, Reply) else Reply(model=spec)
    description = reply.description or (
        reply.model.__doc__.strip().splitlines()[0]
        if reply.model is not None and reply.model.__doc__ and status < 400
        else ERROR_DESCRIPTIONS.get(status, "Success")
    )
    out: dict[str, Any] = {"description": description}
    if reply.model is not None:
        out["content"] = {reply.media_type: {"schema": _ref(reply.model, schemas)}}
    elif reply.schema is not None:
        out["content"] = {reply.media_type: {"schema": dict(reply.schema)}}
    if reply.headers:
        out["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in reply.headers.items()
        }
    return out


def _ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    """Add the model (and the models it uses) to the components; a $ref to it."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    for name, definition in {**defs, model.__name__: schema}.items():
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are called {name!r}: rename one of the models")
    return {"$ref": f"#/components/schemas/{model.__name__}"}

"""The OpenAPI document: generated from the routes, valid OpenAPI 3.1, and true to real responses.

Every request below goes through the Chalice test client and its response is checked against the
document served at /openapi.json: the status must be documented for that operation, and the body must
validate against that status's schema (and media type).
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from tests.support.documents import make_declared


@pytest.fixture(scope="module")
def doc(client) -> dict[str, Any]:
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    return json.loads(response.body)


def _operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    bare = path.split("?")[0]
    for template, operations in doc["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/}]+\}", "[^/]+", template), bare) and method.lower() in operations:
            return operations[method.lower()]
    raise AssertionError(f"{method} {bare} is not in the document")


def conforms(doc: dict[str, Any], method: str, path: str, reply: Any) -> None:
    """The reply's status is documented for the operation and its body validates against the schema."""
    operation = _operation(doc, method, path)
    documented = operation["responses"]
    assert str(reply.status) in documented, f"{method} {path}: {reply.status} not documented ({sorted(documented)})"
    response = documented[str(reply.status)]
    content = response.get("content")
    if content is None:
        assert not reply.body, f"{method} {path} {reply.status}: a body where none is documented"
        return
    # API Gateway (and chalice local) answer application/json when a view sets no Content-Type.
    media_type = (reply.headers.get("Content-Type") or "application/json").split(";")[0].strip()
    assert media_type in content, f"{method} {path} {reply.status}: {media_type} not in {sorted(content)}"
    schema = {**content[media_type]["schema"], "components": doc["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(reply.body), key=str)
    assert not errors, f"{method} {path} {reply.status}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )
    for header in response.get("headers", {}):
        assert header in reply.headers, f"{method} {path} {reply.status}: documented header {header} missing"


class Checked:
    """The conftest Api, checking every reply against the document."""

    def __init__(self, api: Any, doc: dict[str, Any]):
        self.api = api
        self.doc = doc
        self.seen: set[tuple[str, str, int]] = set()

    def call(self, method: str, path: str, **kw: Any) -> Any:
        reply = self.api.call(method, path, **kw)
        conforms(self.doc, method, path, reply)
        template = next(
            t for t in self.doc["paths"] if re.fullmatch(re.sub(r"\{[^/}]+\}", "[^/]+", t), path.split("?")[0])
        )
        self.seen.add((method, template, reply.status))
        return reply

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body=body, **kw)


@pytest.fixture
def checked(api, doc) -> Checked:
    return Checked(api, doc)


# --- the document itself -------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1")
    validate_spec(doc)


def test_every_registered_route_is_documented_or_hidden_on_purpose(chalice_app, doc):
    from chalicelib.api import openapi

    missing = openapi.undocumented(chalice_app.routes)
    assert not missing, (
        f"put @documented(...) (see chalicelib/api/openapi.py's docstring), or @hidden('why'), on: {missing}"
    )
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    described = {
        (m, p)
        for p, methods in chalice_app.routes.items()
        for m, entry in methods.items()
        if openapi.operation_of(entry.view_function) is not None
    }
    assert documented == described


def test_public_operations_are_exactly_the_middlewares_public_routes(chalice_app):
    from chalicelib.api import openapi
    from chalicelib.api.middleware import PUBLIC_ROUTES

    assert openapi.public_paths(chalice_app.routes) == PUBLIC_ROUTES & set(chalice_app.routes)


def test_every_operation_documents_its_errors_with_the_error_shape(doc):
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "500" in responses, (method, path)
            if operation["security"]:
                assert "401" in responses, (method, path)
            if method in ("post", "put", "patch"):
                assert "413" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "415", "422"} <= set(responses), (method, path)
            for status, response in responses.items():
                if int(status) >= 400 and not (path == "/health" and status == "503"):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"
                    }, (method, path, status)


def test_request_bodies_use_the_validation_models(doc):
    from chalicelib.domain.declaration import ApplicationRequest

    schema = doc["components"]["schemas"]["ApplicationRequest"]
    assert set(schema["required"]) == set(ApplicationRequest.model_json_schema()["required"])
    create = doc["paths"]["/applications"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ApplicationRequest")
    assert {p["name"] for p in create["parameters"]} == {"Idempotency-Key"}
    assert {p["name"] for p in doc["paths"]["/applications"]["get"]["parameters"]} == {"limit", "cursor"}


def test_response_models_forbid_keys_the_presenters_do_not_send(doc):
    for name in ("ApplicationOut", "ApplicationSummary", "HistoryEventOut", "QueueItem", "ReviewDetail", "Error"):
        assert doc["components"]["schemas"][name]["additionalProperties"] is False, name


def test_an_undecorated_route_is_reported():
    from chalice import Chalice

    from chalicelib.api import openapi

    app = Chalice("probe")

    @app.route("/documented")
    @openapi.documented("ok", responses={200: openapi.Reply(schema={"type": "object"})}, public=True)
    def documented_view():
        return {}

    @app.route("/forgotten", methods=["GET", "POST"])
    def forgotten():
        return {}

    @app.route("/{proxy+}")
    @openapi.hidden("catch-all")
    def catch_all():
        return {}

    @app.route("/both", methods=["GET", "POST"])
    @openapi.documented("one view, two methods", responses={200: openapi.Reply(schema={"type": "object"})})
    def both():
        return {}

    assert openapi.undocumented(app.routes) == [("GET", "/forgotten"), ("POST", "/forgotten")]
    document = openapi.document(app.routes)
    assert set(document["paths"]) == {"/documented", "/both"}
    assert {op["operationId"] for op in document["paths"]["/both"].values()} == {"both_get", "both_post"}
    validate_spec(document)


# --- real responses validate -------------------------------------------------------------


def test_applicant_routes_answer_as_documented(checked, applicant, other_applicant):
    created = checked.post("/applications", make_declared(), user=applicant, headers={"Idempotency-Key": "doc-1"})
    assert created.status == 201
    app_id = created.body["id"]
    assert checked.post("/applications", make_declared(), user=applicant, headers={"Idempotency-Key": "doc-1"}).status == 200
    assert checked.post("/applications", make_declared(), user=applicant, headers={"Idempotency-Key": "bad key!"}).status == 422
    assert checked.post("/applications", {"full_name": 1}, user=applicant).status == 422
    assert checked.post("/applications", raw=b"{not json", user=applicant).status == 400
    assert checked.post("/applications", raw=b"x" * 70_000, user=applicant).status == 413
    assert checked.post("/applications", make_declared(), user=applicant,
                        headers={"Content-Type": "text/plain"}).status == 415
    assert checked.post("/applications", make_declared()).status == 401

    assert checked.get("/applications?limit=1", user=applicant).status == 200
    assert checked.get("/applications?limit=0", user=applicant).status == 422
    assert checked.get("/applications?cursor=forged", user=applicant).status == 400
    assert checked.get(f"/applications/{app_id}", user=applicant).status == 200
    assert checked.get(f"/applications/{app_id}", user=other_applicant).status == 404
    assert checked.get(f"/applications/{uuid.uuid4()}/history", user=applicant).status == 404
    assert checked.get(f"/applications/{app_id}/history", user=applicant).status == 200

    upload = checked.post(f"/applications/{app_id}/documents", {"content_type": "image/png"}, user=applicant)
    assert upload.status == 201
    assert checked.post(f"/applications/{app_id}/documents", {"content_type": "text/html"}, user=applicant).status == 422
    assert checked.post(f"/applications/{app_id}/withdraw", None, user=applicant).status == 200
    assert checked.post(f"/applications/{app_id}/withdraw", {"reason": "again"}, user=applicant).status == 409
    assert checked.post(f"/applications/{app_id}/documents", {"content_type": "image/png"}, user=applicant).status == 409


def test_reviewer_routes_answer_as_documented(checked, applicant, reviewer):
    from tests.test_review_api import flagged_via_api

    app_id = flagged_via_api(checked.api, applicant)
    assert checked.get("/review/queue?limit=100", user=reviewer).status == 200
    assert checked.get("/review/queue", user=applicant).status == 403
    assert checked.get(f"/review/applications/{app_id}", user=reviewer).status == 200
    assert checked.get(f"/review/applications/{uuid.uuid4()}", user=reviewer).status == 404
    decide = f"/review/applications/{app_id}/decision"
    assert checked.post(decide, {"decision": "maybe", "reason": "x"}, user=reviewer).status == 422
    assert checked.post(decide, {"decision": "approve", "reason": "documents look right"}, user=reviewer).status == 200
    assert checked.post(decide, {"decision": "reject", "reason": "too late"}, user=reviewer).status == 409
    assert checked.get(f"/applications/{app_id}", user=applicant).body["state"] == "APPROVED"
    assert checked.get(f"/review/applications/{app_id}", user=reviewer).status == 200


def test_a_reviewer_deciding_their_own_application_gets_a_documented_403(checked, reviewer):
    from tests.support.documents import make_declared
    from tests.test_review_api import Clock, create_at, drive

    # A staff token is refused on the applicant routes (403 wrong_user_pool, documented there too) ...
    assert checked.post("/applications", make_declared(), user=reviewer).status == 403
    app_id = create_at(Clock(), reviewer.sub)  # ... so the application of the same subject is made in the service
    assert drive(app_id).state.value == "FLAGGED"
    reply = checked.post(f"/review/applications/{app_id}/decision", {"decision": "approve", "reason": "mine"},
                         user=reviewer)
    assert reply.status == 403


def test_public_routes_and_failures_answer_as_documented(checked, applicant, monkeypatch):
    from chalicelib.bootstrap import services

    assert checked.get("/health").status == 200
    assert checked.get("/openapi.json").status == 200
    served = checked.get("/asyncapi.json")
    assert served.status == 200 and served.body["asyncapi"].startswith("2.6")

    def broken() -> None:
        raise ConnectionError("down")

    monkeypatch.setitem(services().health.probes, "dynamodb", broken)
    degraded = checked.get("/health")
    assert degraded.status == 503 and degraded.body["checks"]["dynamodb"]["status"] == "error"
    monkeypatch.undo()

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services().applications, "list_own", boom)
    assert checked.get("/applications", user=applicant).status == 500


def test_purged_applications_still_match_the_schema(checked, applicant):
    import datetime as dt

    from chalicelib.domain.workflow import lifecycle
    from chalicelib.domain.policy import Policy
    from tests.test_review_api import create_via_api, service

    app_id = create_via_api(checked.api, applicant)
    assert checked.post(f"/applications/{app_id}/withdraw", None, user=applicant).status == 200
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3650)
    svc = service()
    svc.apply_with_retry(app_id, lambda a: lifecycle.purge(a, Policy(), later))
    reply = checked.get(f"/applications/{app_id}", user=applicant)
    assert reply.body["purged_at"] and "email" not in reply.body["declared"]

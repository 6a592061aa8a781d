"""The applications API through the Chalice test client, against moto."""
from __future__ import annotations

import concurrent.futures
import threading

import pytest

from tests.support.deadlines import REPLY_S
from tests.support.documents import make_declared


def create(api, user, body=None, key=None):
    headers = {"Idempotency-Key": key} if key else None
    return api.post("/applications", body or make_declared(), user=user, headers=headers)


def test_create_returns_the_new_application_awaiting_documents(api, applicant):
    reply = create(api, applicant)
    assert reply.status == 201
    assert reply.body["state"] == "AWAITING_DOCUMENTS"
    assert reply.body["version"] == 1
    assert reply.headers["Location"] == f"/applications/{reply.body['id']}"
    fetched = api.get(f"/applications/{reply.body['id']}", user=applicant)
    assert fetched.status == 200 and fetched.body["declared"]["email"] == make_declared()["email"]


def test_the_create_answers_with_upload_forms_so_the_document_needs_no_second_call(api, applicant):
    import requests

    from tests.support.documents import passport_bytes

    reply = create(api, applicant)
    uploads = reply.body["uploads"]
    assert set(uploads) == {"image/jpeg", "image/png", "application/pdf"}
    assert len({form["key"] for form in uploads.values()}) == 1  # one slot, whatever the type
    assert all(form["key"].startswith(f"applications/{reply.body['id']}/identity/") for form in uploads.values())
    form = uploads["image/jpeg"]
    assert form["fields"]["Content-Type"] == "image/jpeg"
    posted = requests.post(form["url"], data=form["fields"],
                           files={"file": ("p.jpg", passport_bytes(make_declared()), "image/jpeg")}, timeout=REPLY_S)
    assert posted.status_code in (200, 201, 204), posted.text
    replayed = create(api, applicant, key=None)  # another application: its own key
    assert replayed.body["uploads"]["image/jpeg"]["key"] != form["key"]


def test_history_starts_with_the_submission_event_chained_to_genesis(api, applicant):
    app_id = create(api, applicant).body["id"]
    history = api.get(f"/applications/{app_id}/history", user=applicant)
    assert history.status == 200
    [event] = history.body["items"]
    assert event["type"] == "application.submitted"
    assert event["from_state"] is None and event["to_state"] == "AWAITING_DOCUMENTS"
    assert event["actor"] == f"applicant:{applicant.sub}"
    # the applicant's numbering: the events shown to them, 1..n; no prev_hash (it could name a hidden event)
    assert event["seq"] == 1 and "prev_hash" not in event and len(event["hash"]) == 64
    assert history.body["chain_intact"] is True


def test_idempotency_key_returns_the_same_application(api, applicant):
    first = create(api, applicant, key="retry-1")
    second = create(api, applicant, key="retry-1")
    assert first.status == 201 and second.status == 200
    assert first.body["id"] == second.body["id"]
    listed = api.get("/applications", user=applicant)
    assert [i["id"] for i in listed.body["items"]] == [first.body["id"]]


def test_concurrent_retries_with_one_idempotency_key_create_one_application(api, applicant):
    barrier = threading.Barrier(5)

    def attempt(_):
        barrier.wait()
        return create(api, applicant, key="storm")

    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        replies = list(pool.map(attempt, range(5)))
    assert {r.status for r in replies} <= {200, 201}
    assert len({r.body["id"] for r in replies}) == 1
    assert len(api.get("/applications", user=applicant).body["items"]) == 1


def test_idempotency_key_with_a_different_body_is_refused(api, applicant):
    create(api, applicant, key="k2")
    reply = create(api, applicant, body=make_declared(email="other@example.com"), key="k2")
    assert reply.status == 422 and reply.error_code == "idempotency_key_reused"


def test_same_idempotency_key_from_two_applicants_are_independent(api, applicant, other_applicant):
    a = create(api, applicant, key="shared")
    b = create(api, other_applicant, key="shared")
    assert a.status == b.status == 201 and a.body["id"] != b.body["id"]


def test_someone_elses_application_is_404_not_403(api, applicant, other_applicant):
    app_id = create(api, applicant).body["id"]
    for path in (f"/applications/{app_id}", f"/applications/{app_id}/history"):
        reply = api.get(path, user=other_applicant)
        assert reply.status == 404 and reply.error_code == "not_found"
    reply = api.post(f"/applications/{app_id}/withdraw", {}, user=other_applicant)
    assert reply.status == 404
    assert api.get(f"/applications/{app_id}", user=applicant).body["state"] == "AWAITING_DOCUMENTS"


@pytest.mark.parametrize("app_id", ["nope", "00000000-0000-0000-0000-000000000000", "%27%20OR%201=1"])
def test_unknown_ids_are_404(api, applicant, app_id):
    assert api.get(f"/applications/{app_id}", user=applicant).status == 404


def test_list_is_own_only_newest_first_with_cursor_pagination(api, applicant, other_applicant):
    ids = [create(api, applicant).body["id"] for _ in range(5)]
    create(api, other_applicant)
    seen, cursor = [], None
    while True:
        path = "/applications?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path, user=applicant)
        assert page.status == 200 and len(page.body["items"]) <= 2
        seen += [i["id"] for i in page.body["items"]]
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))


def test_a_cursor_cannot_be_used_to_read_another_partition(api, applicant, other_applicant):
    for _ in range(3):
        create(api, applicant)
    cursor = api.get("/applications?limit=1", user=applicant).body["next_cursor"]
    reply = api.get(f"/applications?limit=1&cursor={cursor}", user=other_applicant)
    assert reply.status == 400 and reply.error_code == "invalid_cursor"
    assert api.get("/applications?cursor=not-base64!!", user=applicant).status == 400


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1"])
def test_bad_limits_are_422(api, applicant, limit):
    assert api.get(f"/applications?limit={limit}", user=applicant).status == 422


def test_withdraw_moves_to_withdrawn_and_records_the_reason(api, applicant):
    app_id = create(api, applicant).body["id"]
    reply = api.post(f"/applications/{app_id}/withdraw", {"reason": "changed my mind"}, user=applicant)
    assert reply.status == 200 and reply.body["state"] == "WITHDRAWN"
    events = api.get(f"/applications/{app_id}/history", user=applicant).body["items"]
    assert [e["type"] for e in events] == ["application.submitted", "application.withdrawn"]
    assert events[-1]["reason"] == "changed my mind" and [e["seq"] for e in events] == [1, 2]
    again = api.post(f"/applications/{app_id}/withdraw", {}, user=applicant)
    assert again.status == 409 and again.body["error"]["details"]["state"] == "WITHDRAWN"


def test_two_concurrent_withdrawals_one_wins_the_other_gets_409(api, applicant):
    app_id = create(api, applicant).body["id"]
    barrier = threading.Barrier(2)

    def withdraw(_):
        barrier.wait()
        return api.post(f"/applications/{app_id}/withdraw", {}, user=applicant)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(withdraw, range(2)))
    assert sorted(r.status for r in replies) == [200, 409]
    loser = next(r for r in replies if r.status == 409)
    assert loser.body["error"]["details"]["state"] == "WITHDRAWN"
    events = api.get(f"/applications/{app_id}/history", user=applicant).body["items"]
    assert [e["type"] for e in events].count("application.withdrawn") == 1


# --- one error shape -----------------------------------------------------------

def assert_error(reply, status, code):
    assert reply.status == status, reply.body
    assert set(reply.body) == {"error", "request_id"}
    assert reply.body["error"]["code"] == code
    assert set(reply.body["error"]) == {"code", "message", "details"}


def test_malformed_json_is_400(api, applicant):
    assert_error(api.post("/applications", raw=b'{"full_name": ', user=applicant), 400, "malformed_json")


def test_wrong_content_type_is_415(api, applicant):
    reply = api.post("/applications", raw=b"full_name=x", user=applicant,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(reply, 415, "unsupported_media_type")


def test_oversized_body_is_413(api, applicant):
    body = make_declared()
    body["full_name"]["surname"] = "X" * 20000
    assert_error(api.post("/applications", body, user=applicant), 413, "payload_too_large")


def test_validation_errors_name_each_field(api, applicant):
    body = make_declared()
    body["email"] = "not-an-email"
    body["date_of_birth"] = "yesterday"
    body["address"]["country"] = "gbr"
    body["unexpected"] = 1
    del body["phone"]
    reply = api.post("/applications", body, user=applicant)
    assert_error(reply, 422, "validation_failed")
    fields = {f["field"] for f in reply.body["error"]["details"]["fields"]}
    assert {"email", "date_of_birth", "address.country", "unexpected", "phone"} <= fields


@pytest.mark.parametrize("payload", [[], "text", 42, None])
def test_wrong_json_types_are_422(api, applicant, payload):
    import json

    reply = api.post("/applications", raw=json.dumps(payload).encode(), user=applicant)
    assert_error(reply, 422, "validation_failed")


def test_wrong_method_is_405_in_the_same_shape(api, applicant):
    assert_error(api.call("DELETE", "/applications", user=applicant), 405, "method_not_allowed")


def test_an_unexpected_error_is_a_500_with_request_id_and_no_trace(api, applicant, monkeypatch):
    from chalicelib.bootstrap import services

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(services().applications, "list_own", boom)
    reply = api.get("/applications", user=applicant)
    assert_error(reply, 500, "internal_error")
    assert "secret" not in str(reply.body) and reply.body["request_id"]
    assert reply.headers["X-Request-Id"] == reply.body["request_id"]


def test_nothing_is_half_written_when_the_transaction_fails(api, applicant, monkeypatch):
    from pynamodb.transactions import TransactWrite

    from chalicelib.adapters.dynamodb_models import ApplicationModel, HistoryModel

    before_apps = ApplicationModel.count()
    before_events = HistoryModel.count()
    original = TransactWrite.save

    def poison(self, model, *args, **kwargs):
        if isinstance(model, HistoryModel):
            model.hash = None  # a required attribute missing: the transaction as a whole must fail
        return original(self, model, *args, **kwargs)

    monkeypatch.setattr(TransactWrite, "save", poison)
    reply = create(api, applicant)
    assert reply.status == 500
    assert ApplicationModel.count() == before_apps and HistoryModel.count() == before_events


# --- public routes ------------------------------------------------------------

def test_health_checks_dependencies_without_a_token(api):
    reply = api.get("/health")
    assert reply.status == 200
    assert reply.body["status"] == "ok"
    assert {"dynamodb", "parameters"} <= set(reply.body["checks"])


def test_openapi_documents_every_route_and_uses_the_validation_schemas(api, chalice_app):
    from chalicelib.domain.declaration import ApplicationRequest

    doc = api.get("/openapi.json").body
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    catch_all = {"/", "/{proxy+}"}  # unknown paths: answered 401/404, deliberately undocumented
    registered = {(m, p) for p, methods in chalice_app.routes.items() for m in methods if p not in catch_all}
    assert documented == registered
    schema = doc["components"]["schemas"]["ApplicationRequest"]
    assert set(schema["required"]) == set(ApplicationRequest.model_json_schema()["required"])

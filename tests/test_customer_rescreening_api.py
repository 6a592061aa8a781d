"""Customers re-screened when the lists change, through the real entry points (Chalice's test client, moto):
the projection and re-screening queues' handlers, the reviewers' case routes, the applicant's view."""
from __future__ import annotations

import json
import os
import uuid

import pytest

from tests.support.documents import make_declared
from tests.test_review_api import drive


@pytest.fixture
def list_version_naming():
    """Publish an index version that adds an entry naming a customer; the version in use is restored after."""
    from chalicelib.bootstrap import services
    from chalicelib.domain.sanctions import ListEntry, ScreeningIndex

    store = services().sanctions_index_store
    pointer = store.current()
    current = ScreeningIndex.loads(store.load(pointer["version"]))

    def publish(full_name: dict, born: str) -> dict:
        from chalicelib.domain.sanctions import BirthDate

        year, month, day = (int(p) for p in born.split("-"))
        entry = ListEntry("OFAC-SDN", f"99{uuid.uuid4().int % 10**6:06d}",
                          f"{full_name['surname'].upper()}, {full_name['given_names']}",
                          programmes=("SDNTK",), birth_dates=(BirthDate(year, year, month, day),))
        changed = ScreeningIndex((*current.entries, entry), current.lists, "test")
        store.publish(changed.version, changed.dumps(), {"built_at": "test"})
        return {"version": changed.version, "from_version": pointer["version"], "entry_id": entry.entry_id}

    yield publish
    store.publish(pointer["version"], None, pointer)


def applicant_sees(api, user, app_id: str) -> list[str]:
    """The event types the applicant's own history shows, every page."""
    types, cursor = [], None
    while True:
        reply = api.get(f"/applications/{app_id}/history" + (f"?cursor={cursor}" if cursor else ""), user=user)
        assert reply.status == 200, reply.body
        assert reply.body["chain_intact"]  # hidden events still chain
        types += [e["type"] for e in reply.body["items"]]
        cursor = reply.body["next_cursor"]
        if not cursor:
            return types


def queue_event(client, queue_variable: str, *bodies: str):
    return client.events.generate_sqs_event(queue_name=os.environ[queue_variable], message_bodies=list(bodies))


def approved_customer(api, client, user) -> tuple[str, dict]:
    letters = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:7])  # a surname no list holds
    name = {"given_names": "Ximena Dolores", "surname": f"Quintanar {letters.capitalize()}"}
    created = api.post("/applications", make_declared(full_name=name, date_of_birth="1969-02-11"), user=user)
    assert created.status == 201, created.body
    app_id = created.body["id"]
    assert drive(app_id, identity="PASS").state.value == "APPROVED"
    body = json.dumps({"application_id": app_id, "type": "application.approved"})
    reply = client.lambda_.invoke("project_customers", queue_event(client, "CUSTOMER_PROJECTION_QUEUE_NAME", body))
    assert reply.payload == {"batchItemFailures": []}
    return app_id, name


def rescreen(client, version: dict, segments: int = 2):
    for segment in range(segments):
        task = {"version": version["version"], "from_version": version["from_version"], "segment": segment,
                "segments": segments}
        reply = client.lambda_.invoke("rescreen_customers",
                                      queue_event(client, "CUSTOMER_RESCREENING_QUEUE_NAME", json.dumps(task)))
        assert reply.payload == {"batchItemFailures": []}


def open_case_of(api, reviewer, app_id: str) -> dict:
    items, cursor = [], None
    while True:
        reply = api.get("/review/screening-cases?limit=50" + (f"&cursor={cursor}" if cursor else ""), user=reviewer)
        assert reply.status == 200, reply.body
        items += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if not cursor:
            break
    mine = [c for c in items if c["application_id"] == app_id]
    assert len(mine) <= 1
    return mine[0] if mine else {}


def test_a_list_change_naming_an_approved_customer_opens_a_case_reviewers_resolve(
        api, client, applicant, reviewer, list_version_naming):
    app_id, name = approved_customer(api, client, applicant)
    version = list_version_naming(name, "1969-02-11")
    rescreen(client, version)
    rescreen(client, version)  # every segment delivered twice: still one case
    case = open_case_of(api, reviewer, app_id)
    assert case["candidate"]["entry_id"] == version["entry_id"] and case["status"] == "OPEN"
    assert case["customer"]["names"] == [f"{name['given_names']} {name['surname']}"] and "applicant_id" not in case
    assert applicant_sees(api, applicant, app_id).count("customer.screening_hit") == 0  # never told: tipping off
    from chalicelib.bootstrap import services

    assert [e.type.value for e in services().repository.history(app_id)].count("customer.screening_hit") == 1
    assert api.get("/review/screening-cases", user=applicant).status == 403
    detail = api.get(f"/review/screening-cases/{case['case_id']}", user=reviewer)
    assert detail.status == 200 and detail.body["application"]["state"] == "APPROVED"
    assert services().repository.history(app_id)[-1].type.value == "review.viewed"  # the read is audited
    path = f"/review/screening-cases/{case['case_id']}/resolution"
    for bad in ({"decision": "maybe", "reason": "x"}, {"decision": "false_positive"}, {"decision": "confirmed",
                                                                                      "reason": "x" * 5000}):
        refused = api.post(path, bad, user=reviewer)
        assert refused.status == 422 and refused.body["error"]["code"] == "validation_failed", refused.body
    first = api.post(path, {"decision": "false_positive", "reason": "another person: born in Leon"}, user=reviewer)
    # four eyes on sanctions (issue 18): the first word is a recommendation; the case stays in the queue
    assert first.status == 200 and first.body["status"] == "OPEN", first.body
    assert first.body["recommendation"]["decision"] == "false_positive" and "reviewer" not in first.body["recommendation"]
    assert open_case_of(api, reviewer, app_id)["recommendation"]["reason"] == "another person: born in Leon"
    same = api.post(path, {"decision": "false_positive", "reason": "really"}, user=reviewer)
    assert same.status == 409 and same.body["error"]["code"] == "second_reviewer_required"
    from tests.support.identities import make_user

    second = make_user(("reviewers",))
    resolved = api.post(path, {"decision": "false_positive", "reason": "agreed: born in Leon in 1990"}, user=second)
    assert resolved.status == 200 and resolved.body["status"] == "CLEARED", resolved.body
    assert resolved.body["resolution"]["reason"] == "agreed: born in Leon in 1990"
    again = api.post(path, {"decision": "confirmed", "reason": "second look"}, user=make_user(("reviewers",)))
    assert again.status == 409 and again.body["error"]["code"] == "case_already_resolved"
    assert open_case_of(api, reviewer, app_id) == {}
    assert "customer.screening_resolved" not in applicant_sees(api, applicant, app_id)
    assert api.get("/review/screening-cases/no-such-case", user=reviewer).status == 404


def test_a_customer_the_change_does_not_name_raises_nothing(api, client, applicant, reviewer, list_version_naming):
    app_id, _ = approved_customer(api, client, applicant)
    version = list_version_naming({"given_names": "Wenceslao", "surname": "Orbegozo Tellechea"}, "1950-01-01")
    rescreen(client, version)
    assert open_case_of(api, reviewer, app_id) == {}


def test_malformed_messages_fail_alone(api, client, applicant):
    from chalicelib.bootstrap import services

    version = services().sanctions_index_store.current()["version"]
    nothing_changed = {"version": version, "from_version": version, "segment": 0, "segments": 1}
    bad_tasks = ("not json", json.dumps({**nothing_changed, "segment": 3}), json.dumps({"version": version}))
    event = queue_event(client, "CUSTOMER_RESCREENING_QUEUE_NAME", json.dumps(nothing_changed), *bad_tasks)
    reply = client.lambda_.invoke("rescreen_customers", event)
    assert len(reply.payload["batchItemFailures"]) == len(bad_tasks)
    app_id, _ = approved_customer(api, client, applicant)
    event = queue_event(client, "CUSTOMER_PROJECTION_QUEUE_NAME", json.dumps({"application_id": str(uuid.uuid4())}),
                        json.dumps({"application_id": app_id, "type": "application.approved"}), "{not json")
    reply = client.lambda_.invoke("project_customers", event)
    assert len(reply.payload["batchItemFailures"]) == 2
    assert services().customer_profiles.get(app_id) is not None


def test_the_backfill_projects_customers_approved_before_the_projection_once_however_often_it_runs(api, applicant):
    """Issue 20: customers approved before re-screening shipped reach the customers table through
    ``scripts/backfill_customers.py`` (the real DynamoDB adapters on moto; the state index, no Scan)."""
    import datetime as dt

    from chalicelib.bootstrap import services
    from scripts import backfill_customers
    from tests.test_review_api import Clock

    def approved_unprojected(clock=None) -> str:
        created = api.post("/applications", make_declared(date_of_birth="1971-05-04"), user=applicant)
        assert created.status == 201, created.body
        assert drive(created.body["id"], identity="PASS", clock=clock).state.value == "APPROVED"
        return created.body["id"]

    recent = approved_unprojected()
    long_ago = approved_unprojected(Clock(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=6 * 365)))
    flagged = api.post("/applications", make_declared(), user=applicant).body["id"]
    assert drive(flagged).state.value == "FLAGGED"
    profiles = services().customer_profiles
    assert profiles.get(recent) is None  # approved without the projection (as before it shipped)

    first = backfill_customers.backfill()
    profile = profiles.get(recent)
    assert profile is not None and profile.date_of_birth == "1971-05-04" and profile.applicant_id == applicant.sub
    assert profiles.get(long_ago) is None and profiles.get(flagged) is None  # past retention; not a customer
    assert first["approved"] >= 1 and first["projected"] >= 1

    again = backfill_customers.backfill()  # idempotent: the same item, nothing else
    assert profiles.get(recent) == profile and again["projected"] >= first["projected"]
    assert profiles.get(long_ago) is None


def test_the_backfill_script_refuses_to_run_without_a_customers_table(monkeypatch, capsys):
    from scripts import backfill_customers

    monkeypatch.delenv("CUSTOMERS_TABLE_NAME", raising=False)
    with pytest.raises(SystemExit) as refused:
        backfill_customers.main(["--from-env"])
    assert "CUSTOMERS_TABLE_NAME" in str(refused.value)

"""Every frame the app sends validates against the AsyncAPI document (on the fakes, no stack).

Client frames go through ``websocket_protocol.message`` (the $default handler's code) and the replies are
captured by the fake sender; events go from real history through the outbox relay and the SNS fan-out.
Each captured frame must match exactly one of the document's server messages, and every server message
and every error code must have been seen.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from chalicelib.api import asyncapi, websocket_protocol
from chalicelib.domain.workflow import consolidation, intake
from chalicelib.domain.checks import IDENTITY, REQUIRED_CHECKS, CheckResult, Outcome, Reason
from chalicelib.services.live_updates import REVIEW_QUEUE
from chalicelib.services.ports import MAX_SUBSCRIPTIONS
from tests.support.fakes import identity, submit

DOC = asyncapi.document()


def matching(frame: Any, operation: str = "subscribe") -> list[str]:
    """The names of the document's messages (of that operation) the frame validates against."""
    names = []
    for ref in DOC["channels"]["/"][operation]["message"]["oneOf"]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        schema = {**DOC["components"]["messages"][name]["payload"], "components": DOC["components"]}
        if Draft202012Validator(schema).is_valid(frame):
            names.append(name)
    return names


def test_the_document_describes_the_protocols_actions_codes_and_limits():
    assert DOC["asyncapi"] == "2.6.0"
    client = DOC["channels"]["/"]["publish"]["message"]["oneOf"]
    actions = {DOC["components"]["schemas"][r["$ref"].rsplit("/", 1)[-1]]["properties"]["action"]["const"] for r in client}
    assert actions == set(websocket_protocol.ACTIONS)
    assert DOC["components"]["schemas"]["ErrorFrame"]["properties"]["code"]["enum"] == list(websocket_protocol.ERROR_CODES)
    assert str(websocket_protocol.MAX_FRAME_BYTES) in DOC["info"]["description"]
    for ref in client + DOC["channels"]["/"]["subscribe"]["message"]["oneOf"]:
        assert ref["$ref"].rsplit("/", 1)[-1] in DOC["components"]["messages"]
    Draft202012Validator.check_schema({"components": DOC["components"]})


def test_client_frames_the_protocol_accepts_match_exactly_one_client_message():
    app_id = "8c6f3c1e-3d1b-4f7e-9a59-0d6b8f0c2b11"
    for frame, expected in (
        ({"action": "subscribe", "application_id": app_id}, "SubscribeApplication"),
        ({"action": "subscribe", "topic": REVIEW_QUEUE}, "SubscribeReviewQueue"),
        ({"action": "unsubscribe", "application_id": app_id}, "UnsubscribeApplication"),
        ({"action": "unsubscribe", "topic": REVIEW_QUEUE}, "UnsubscribeReviewQueue"),
        ({"action": "ping"}, "Ping"),
    ):
        assert matching(frame, "publish") == [expected]
    for refused in ({"action": "dance"}, {"action": "subscribe"}, {"action": "subscribe", "topic": "other"}):
        assert matching(refused, "publish") == []


def test_every_frame_the_app_sends_validates_against_the_document(svc, monkeypatch):
    live = svc.live_updates
    applicant, other, reviewer = identity(), identity(), identity(None, "reviewers")
    svc.settings.update(max_applications_per_day=100)  # one applicant fills a connection's subscriptions

    def connect(who: Any) -> str:
        cid = f"conn-{who.sub}"
        assert live.connect(cid, {"token": svc.verifier.issue(who)}) == 200
        return cid

    def send(cid: str, frame: Any) -> None:
        websocket_protocol.message(live, cid, frame if isinstance(frame, str) else json.dumps(frame))

    a, r = connect(applicant), connect(reviewer)
    app_id = submit(svc, applicant).application_id
    theirs = submit(svc, other).application_id

    send(a, {"action": "ping"})
    send(a, {"action": "subscribe", "application_id": app_id})
    send(r, {"action": "subscribe", "application_id": app_id})
    send(r, {"action": "subscribe", "topic": REVIEW_QUEUE})
    send(a, {"action": "subscribe", "topic": "my-applications"})
    send(r, {"action": "subscribe", "topic": "my-applications"})  # wrong_user_pool (a staff token)
    # every error code
    send(a, "x" * (websocket_protocol.MAX_FRAME_BYTES + 1))  # payload_too_large
    send(a, "{not json")  # malformed_json
    send(a, "[]")  # validation_failed
    send(a, {"action": "subscribe", "application_id": app_id, "topic": REVIEW_QUEUE})  # validation_failed
    send(a, {"action": "dance"})  # unknown_action
    send(a, {"action": "subscribe", "application_id": theirs})  # not_found
    send(a, {"action": "subscribe", "application_id": "not-a-uuid"})  # not_found, never stored
    send(a, {"action": "subscribe", "topic": REVIEW_QUEUE})  # wrong_user_pool (a customer-pool token)
    send(connect(identity(None, "operators")), {"action": "subscribe", "topic": REVIEW_QUEUE})  # forbidden
    send("conn-never-registered", {"action": "subscribe", "topic": REVIEW_QUEUE})  # unauthorized
    watcher = identity()
    many = connect(watcher)
    for _ in range(MAX_SUBSCRIPTIONS + 1):  # the last one: too_many_subscriptions (own applications)
        send(many, {"action": "subscribe", "application_id": submit(svc, watcher).application_id})
    with monkeypatch.context() as patch:
        patch.setattr(live, "command", lambda *args: 1 / 0)
        send(a, {"action": "subscribe", "application_id": app_id})  # internal_error

    # events: the application's real history, through the outbox and the SNS fan-out, to both watchers
    key = svc.documents.key_for_new_upload(app_id)
    apply = svc.applications.apply_with_retry
    apply(app_id, lambda app: intake.receive_document(app, key, 4096, svc.clock()))
    doubt = Reason("MRZ_NAME_MISMATCH", Outcome.REVIEW, "needs a look")
    for check in REQUIRED_CHECKS:  # identity needs a look, the others pass: FLAGGED
        result = CheckResult(check, (doubt,) if check == IDENTITY else ())
        apply(app_id, lambda app, result=result: consolidation.record_check(app, result, svc.clock()))
    assert svc.repository.get(app_id).state.value == "FLAGGED"
    svc.review.decide(reviewer, app_id, True, "documents look right")
    svc.outbox.relay(svc.repository.history(app_id))
    for message in svc.publisher.messages:
        live.fan_out(json.dumps(message))

    send(a, {"action": "unsubscribe", "application_id": app_id})
    send(a, {"action": "unsubscribe", "topic": "my-applications"})
    send(r, {"action": "unsubscribe", "topic": REVIEW_QUEUE})

    frames = svc.sender.frames()
    seen: set[str] = set()
    for frame in frames:
        names = matching(frame)
        assert len(names) == 1, f"{frame} matches {names or 'no message'}"
        seen |= set(names)
    assert seen == {ref["$ref"].rsplit("/", 1)[-1] for ref in DOC["channels"]["/"]["subscribe"]["message"]["oneOf"]}
    codes = {f["code"] for f in frames if f["type"] == "error"}
    assert codes == set(websocket_protocol.ERROR_CODES)
    from chalicelib.domain import disclosure
    from chalicelib.services.outbox import NOT_PUSHED

    def seqs(cid: str) -> set[int]:
        return {e["seq"] for f in svc.sender.frames(cid) if f["type"] == "events" for e in f["events"]}

    recorded = svc.repository.history(app_id)
    pushed = {e.seq for e in recorded if e.type.value not in NOT_PUSHED}
    staff = {e.seq for e in recorded if e.type.value in ("application.flagged", "application.approved")}
    assert seqs(r) == staff and staff <= pushed  # staff watch it in review: the recorded seq
    # the applicant: each event's place among those shown to them (the sanctions check's result is not)
    shown = {e.shown_seq for e in disclosure.shown_history(recorded) if e.type.value not in NOT_PUSHED}
    assert seqs(a) == shown and shown != pushed

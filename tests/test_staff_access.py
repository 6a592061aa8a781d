"""What staff may see, what every look leaves behind, and what applicants never see of staff.

A reviewer reads an applicant's personal data only while the application is
in review (FLAGGED) or when they decided it themselves; every such read is a
history event that changes no state (the audit trace). Applicants see that a
reviewer acted, never the reviewer's Cognito sub or internal free-text reason.
"""
from __future__ import annotations

import json

import pytest

from tests.test_review_api import create_via_api, decide, drive, flagged_via_api, history, receive_document

SECRET_REASON = "internal: applicant looked nervous on the call, ref CASE-4411"


def types(app_id: str) -> list[str]:
    return [e.type.value for e in history(app_id)]


# --- reviewer reads ----------------------------------------------------------------------

def test_a_reviewer_cannot_read_an_application_that_is_not_in_review(api, applicant, reviewer):
    awaiting = create_via_api(api, applicant)
    verifying = create_via_api(api, applicant)
    receive_document(verifying)
    approved = create_via_api(api, applicant)
    drive(approved, identity="PASS")
    for app_id in (awaiting, verifying, approved):
        before = types(app_id)
        reply = api.get(f"/review/applications/{app_id}", user=reviewer)
        assert reply.status == 404 and reply.body["error"]["code"] == "not_found", (app_id, reply.body)
        assert "declared" not in json.dumps(reply.body)
        assert types(app_id) == before


def test_reading_a_flagged_application_leaves_an_audit_event_that_changes_nothing(api, applicant, reviewer):
    app_id = flagged_via_api(api, applicant)
    before = history(app_id)
    reply = api.get(f"/review/applications/{app_id}", user=reviewer)
    assert reply.status == 200 and reply.body["declared"]["full_name"]["surname"] == "Carter"
    after = history(app_id)
    assert len(after) == len(before) + 1
    viewed = after[-1]
    assert viewed.type.value == "review.viewed"
    assert viewed.from_state.value == viewed.to_state.value == "FLAGGED"
    assert reviewer.sub in viewed.actor
    assert api.get(f"/applications/{app_id}", user=applicant).body["state"] == "FLAGGED"
    assert api.get(f"/applications/{app_id}/history", user=applicant).body["chain_intact"] is True
    # Two reads, two traces.
    api.get(f"/review/applications/{app_id}", user=reviewer)
    assert types(app_id).count("review.viewed") == 2


def test_the_deciding_reviewer_can_read_it_afterwards_and_another_reviewer_cannot(api, applicant, reviewer):
    from tests.support.identities import make_user

    other_reviewer = make_user(("reviewers",))
    app_id = flagged_via_api(api, applicant)
    assert decide(api, reviewer, app_id, "reject", SECRET_REASON).status == 200
    assert api.get(f"/review/applications/{app_id}", user=reviewer).status == 200
    assert types(app_id)[-1] == "review.viewed"
    reply = api.get(f"/review/applications/{app_id}", user=other_reviewer)
    assert reply.status == 404


def test_a_reviewer_cannot_decide_what_they_could_not_read(api, applicant, reviewer):
    app_id = create_via_api(api, applicant)
    reply = decide(api, reviewer, app_id)
    assert reply.status in (404, 409), reply.body
    assert "declared" not in json.dumps(reply.body)


# --- what applicants see of staff -------------------------------------------------------

@pytest.fixture
def rejected_by_reviewer(api, applicant, reviewer):
    app_id = flagged_via_api(api, applicant)
    api.get(f"/review/applications/{app_id}", user=reviewer)
    assert decide(api, reviewer, app_id, "reject", SECRET_REASON).status == 200
    return app_id


def test_applicants_never_see_reviewer_subs_or_internal_reasons_in_their_history(api, applicant, reviewer,
                                                                                 rejected_by_reviewer):
    app_id = rejected_by_reviewer
    for path in (f"/applications/{app_id}/history", f"/applications/{app_id}", "/applications"):
        reply = api.get(path, user=applicant)
        assert reply.status == 200
        text = json.dumps(reply.body)
        assert reviewer.sub not in text, path
        assert "CASE-4411" not in text, path
    events = api.get(f"/applications/{app_id}/history", user=applicant).body["items"]
    decided = [e for e in events if e["type"] == "application.rejected"]
    assert decided and decided[0]["actor"] == "reviewer"
    # The reviewer still sees who did what and why.
    detail = api.get(f"/review/applications/{app_id}", user=reviewer).body
    assert any(SECRET_REASON == e["reason"] for e in detail["history"])


def test_published_events_carry_no_personal_data_and_applicants_frames_no_reviewer(
    api, applicant, reviewer, rejected_by_reviewer
):
    """The outbox message is the staff view (who decided, why); applicants' frames are its redaction."""
    from chalicelib.domain.workflow.review import for_applicant
    from tests.support.flows import stream_records

    app_id = rejected_by_reviewer
    published = _published_messages(app_id, stream_records(app_id))
    assert {m["type"] for m in published} >= {"application.rejected", "review.viewed"}
    declared = api.get(f"/applications/{app_id}", user=applicant).body["declared"]
    text = json.dumps(published)
    for value in (declared["full_name"]["surname"], declared["email"], declared["date_of_birth"]):
        assert value not in text  # never the applicant's personal data
    decision = next(m for m in published if m["type"] == "application.rejected")
    assert decision["actor"] == f"reviewer:{reviewer.sub}" and decision["details"]["reviewer_email"] == reviewer.email
    shown = json.dumps([for_applicant(m) for m in published])  # what the applicant's connections are sent
    assert reviewer.sub not in shown and "CASE-4411" not in shown and reviewer.email not in shown


def _published_messages(app_id: str, records: list[dict]) -> list[dict]:
    """Relay the application's real stream records through the outbox handler, capturing SNS publishes."""
    import botocore.client

    captured: list[dict] = []
    original = botocore.client.BaseClient._make_api_call

    def spy(self, operation, params):
        if operation == "Publish":
            captured.extend(json.loads(params["Message"])["events"])
        elif operation == "PublishBatch":  # one message per application, its events in it
            captured.extend(event for e in params["PublishBatchRequestEntries"]
                            for event in json.loads(e["Message"])["events"])
        return original(self, operation, params)

    import app as app_module

    botocore.client.BaseClient._make_api_call = spy
    try:
        handler = app_module.app.handler_map["publish_history"]
        handler({"Records": records}, None)
    finally:
        botocore.client.BaseClient._make_api_call = original
    return [m for m in captured if m["application_id"] == app_id]


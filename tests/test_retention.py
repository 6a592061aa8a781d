"""The retention purge removes personal data everywhere, the history included, and the chain still
verifies (issue 18, item 6); APPROVED applications are kept for the AML record-keeping period.

Each history event that holds personal data (a check's details: what was read from the document, the
normalised address, candidate matches) carries a random salt, and its MAC covers a salted commitment
to that data rather than the data itself. The purge replaces the data by the commitment and deletes
the salt: the hash does not change, so ``chain_intact`` stays true, and the data cannot be recovered or
guessed from what is left.
"""
from __future__ import annotations

import datetime as dt
import json

from tests.support.documents import make_declared, passport_bytes
from tests.support.flows import address_message, s3_event, sqs_event, upload_document
from tests.test_review_api import decide, history, record


def read_application(api, client, applicant, sanctions: str = "REVIEW") -> tuple[str, dict]:
    """The identity and address checks as the handlers run them (OCR reads the passport, the address is
    normalised); the sanctions outcome as the test needs it (REVIEW: to a reviewer; PASS: approved)."""
    declared = make_declared()
    app_id = api.post("/applications", declared, user=applicant).body["id"]
    key = upload_document(api, applicant, app_id, passport_bytes(declared))
    client.lambda_.invoke("verify_identity_document", s3_event(client, key))
    client.lambda_.invoke("check_address", sqs_event(client, address_message(app_id)))
    record(app_id, "sanctions", sanctions)
    record(app_id, "face", "PASS")  # issue 17: the fourth check (the selfie matched)
    return app_id, declared


def personal_values(declared: dict) -> list[str]:
    return [declared["identity_document"]["number"], declared["full_name"]["surname"].upper(),
            declared["address"]["street_address"][0], declared["address"]["postal_code"]]


def purge(days_from_now: float) -> dict:
    from chalicelib.bootstrap import services

    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days_from_now)
    return services().maintenance.purge_past_retention(now=later)


def test_the_purge_removes_personal_data_from_the_history_and_the_chain_still_verifies(api, client, applicant,
                                                                                      reviewer):
    from tests.support.identities import make_user

    app_id, declared = read_application(api, client, applicant)
    # a sanctions REVIEW: four eyes, the first reviewer recommends and a second confirms
    assert decide(api, reviewer, app_id, "reject", "the document is not the applicant's").status == 200
    confirmed = decide(api, make_user(("reviewers",)), app_id, "reject", "agreed")
    assert confirmed.status == 200 and confirmed.body["state"] == "REJECTED", confirmed.body
    before = json.dumps([e.to_dict() for e in history(app_id)])
    assert all(value in before for value in personal_values(declared)), "the test must start with the data"
    summary = purge(91)
    assert summary["events_redacted"] >= 2, summary  # the identity and address checks' details
    events = history(app_id)
    after = json.dumps([e.to_dict() for e in events])
    for value in personal_values(declared):
        assert value not in after, value
    assert all(e.salt is None for e in events)
    assert events[-1].type.value == "documents.purged"
    shown = api.get(f"/applications/{app_id}/history", user=applicant).body
    assert shown["chain_intact"] is True
    detail = api.get(f"/review/applications/{app_id}", user=reviewer).body  # the decider may still look
    assert detail["chain_intact"] is True and not any(v in json.dumps(detail) for v in personal_values(declared))
    assert purge(92)["events_redacted"] == 0  # a second run finds nothing


def test_approved_applications_are_kept_for_the_aml_period_then_purged(api, client, applicant):
    from chalicelib.bootstrap import services

    app_id, declared = read_application(api, client, applicant, sanctions="PASS")
    assert api.get(f"/applications/{app_id}", user=applicant).body["state"] == "APPROVED"
    days = services().settings.policy().approved_document_retention_days
    assert days == 1827  # five years (with their leap days) unless Parameter Store says otherwise
    purge(91)
    purge(days - 1)
    assert history(app_id)[-1].type.value != "documents.purged"
    assert declared["identity_document"]["number"] in json.dumps([e.to_dict() for e in history(app_id)])
    purge(days + 1)
    assert history(app_id)[-1].type.value == "documents.purged"
    assert declared["identity_document"]["number"] not in json.dumps([e.to_dict() for e in history(app_id)])
    assert api.get(f"/applications/{app_id}/history", user=applicant).body["chain_intact"] is True

"""No tipping off, through the real entry points: an applicant whose application is in a sanctions review, or
in review because their face is on another application, fetches everything they can -- the list, the
application, every page of its history, the biometric consent, refused requests' error bodies, the withdrawal's
answer -- and nothing they receive names the sanctions check, a list entry, a match score, the other
application or a reason that tells; they read a neutral "We need to check a few details". Staff read it all.
(The WebSocket frames: tests/unit/test_live_updates.py; the words: chalicelib/domain/disclosure.py.)"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.flows import address_message, create_application, sanctions_event
from tests.support.identities import make_user
from tests.test_review_api import receive_document, record

# near the real "FAWAZ, Mustapha Reda Darwish" (OFAC-SDN 16452, SDGT, DOB 25 Jun 1964, Lebanon) of the OFAC
# snapshot in tests/data/sanctions: a possible match (REVIEW), not an exact one
NEAR = {"full_name": {"given_names": "Moustafa Rida", "surname": "Fawwaz"}, "date_of_birth": "1964-03-01",
        "nationality": "LBN"}
OTHER_APPLICATION = str(uuid.uuid4())
#: What the face check records when the same face is indexed for another application (domain/face.py).
DUPLICATE = {
    "check": "face",
    "reasons": [
        {"code": "DUPLICATE_FACE", "outcome": "REVIEW", "message": "The same face appears on another application"}
    ],
    "details": {"similarity": 99.2, "duplicates": [{"application_id": OTHER_APPLICATION, "similarity": 99.7}]},
}
#: Anything of these in an applicant's response tells them of a screening (compared lower-case).
TELLING = ("sanction", "screening", "ofac", "sdn", "sdgt", "16452", "fawaz, mustapha", "candidate", "compliance",
           "duplicate", "same face", "another application", "similarity", "score", OTHER_APPLICATION,
           "second reviewer", "recommend", "review.recommended", "false_positive", "look-alike",
           "review.viewed", "review.claimed", "review.released", "document.viewed", "review.escalated")
NEUTRAL = {"code": "IN_REVIEW", "outcome": "REVIEW", "message": "We need to check a few details"}


def record_face(app_id: str, found: dict) -> None:
    from chalicelib.bootstrap import services
    from chalicelib.domain.workflow import consolidation
    from chalicelib.domain.checks import CheckResult

    svc = services().applications
    result = CheckResult.from_dict(found)
    svc.apply_with_retry(app_id, lambda a: consolidation.record_check(a, result, svc.clock()))


@pytest.fixture
def in_review(api, client, applicant, reviewer, request):
    """An application FLAGGED for ``request.param``: "sanctions" (a possible list match, screened for real,
    a reviewer's four-eyes recommendation, a false-positive mark, and a second reviewer's claim and reads in its
    history) or "face" (the same face on another application)."""
    kind = request.param
    app_id = create_application(api, applicant, **(NEAR if kind == "sanctions" else {}))
    if kind == "sanctions":
        reply = client.lambda_.invoke("screen_sanctions", sanctions_event(client, address_message(app_id)))
        assert reply.payload == {"batchItemFailures": []}
    else:
        record(app_id, "sanctions", "PASS")
    receive_document(app_id)
    record(app_id, "address", "PASS")
    if kind == "face":
        record_face(app_id, DUPLICATE)
    else:
        record(app_id, "face", "PASS")
    assert record(app_id, "identity", "PASS").state.value == "FLAGGED"
    if kind == "sanctions":
        before = what_the_applicant_reads(api, applicant, app_id)
        mark = {"list": "OFAC-SDN", "entry_id": "16452", "reason": "born elsewhere; listed man born 1964"}
        assert api.post(f"/review/applications/{app_id}/sanctions/false-positives", mark, user=reviewer).status == 200
        decided = api.post(f"/review/applications/{app_id}/decision",
                           {"decision": "approve", "reason": "not the listed man: other town"}, user=reviewer)
        assert decided.status == 200 and decided.body["state"] == "FLAGGED", decided.body  # a recommendation
        # a second reviewer takes the case and reads it, twice: staff work, recorded for staff, never told
        second = make_user(("reviewers",))
        assert api.post(f"/review/applications/{app_id}/claim", {}, user=second).status == 200
        for _ in range(2):
            assert api.get(f"/review/applications/{app_id}", user=second).status == 200
        # no trace either: what the applicant reads is what they read before the mark and the recommendation
        assert what_the_applicant_reads(api, applicant, app_id) == before
    return kind, app_id


def what_the_applicant_reads(api, applicant, app_id: str) -> dict:
    """Their application, its summary in their list, and every page of its history at a few page sizes."""
    pages = {}
    for limit in (1, 2, 3, 100):
        pages[limit], cursor = [], None
        while True:
            page = api.get(f"/applications/{app_id}/history?limit={limit}" + (f"&cursor={cursor}" if cursor else ""),
                           user=applicant)
            assert page.status == 200, page.body
            pages[limit].append(page.body)
            cursor = page.body["next_cursor"]
            if not cursor:
                break
    whole = pages[100][0]["items"]
    assert [e["seq"] for e in whole] == list(range(1, len(whole) + 1)) and not any("prev_hash" in e for e in whole)
    listed = [a for a in api.get("/applications?limit=50", user=applicant).body["items"] if a["id"] == app_id]
    return {"application": api.get(f"/applications/{app_id}", user=applicant).body, "listed": listed, "pages": pages}


def everything_the_applicant_can_fetch(api, applicant, app_id: str) -> list:
    bodies = [api.get("/applications?limit=50", user=applicant).body,
              api.get(f"/applications/{app_id}", user=applicant).body]
    cursor = None
    while True:  # every page of the history, two events a page
        page = api.get(f"/applications/{app_id}/history?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                       user=applicant)
        assert page.status == 200, page.body
        bodies.append(page.body)
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    consent = api.get(f"/applications/{app_id}/biometric-consent", user=applicant).body
    # the privacy notice is everyone's (it says that faces are compared across applications, for all): not a tell
    bodies.append({k: v for k, v in consent.items() if k != "text"})
    refused = [  # not while in review: their error bodies too
        api.post(f"/applications/{app_id}/documents", {"content_type": "image/jpeg"}, user=applicant),
        api.post(f"/applications/{app_id}/liveness-sessions", {}, user=applicant),
        api.get(f"/review/applications/{app_id}", user=applicant),
    ]
    assert all(r.status >= 400 for r in refused), [r.body for r in refused]
    bodies += [r.body for r in refused]
    withdrawn = api.post(f"/applications/{app_id}/withdraw", {"reason": "changed my mind"}, user=applicant)
    assert withdrawn.status == 200, withdrawn.body
    return [*bodies, withdrawn.body, api.get(f"/applications/{app_id}/history?limit=100", user=applicant).body]


@pytest.mark.parametrize("in_review", ["sanctions", "face"], indirect=True)
def test_an_applicant_in_a_sanctions_or_duplicate_face_review_learns_nothing_of_it(api, applicant, reviewer, in_review):
    kind, app_id = in_review
    # staff keep every detail
    detail = api.get(f"/review/applications/{app_id}", user=reviewer).body
    staff_text = json.dumps(detail)
    if kind == "sanctions":
        assert "SANCTIONS_POSSIBLE_MATCH" in staff_text and "16452" in staff_text
        assert {"review.recommended", "screening.false_positive", "review.claimed"} <= {
            e["type"] for e in detail["history"]}
    else:
        assert "DUPLICATE_FACE" in staff_text and detail["face"]["duplicates"][0]["application_id"] == OTHER_APPLICATION

    mine = api.get(f"/applications/{app_id}", user=applicant).body
    assert mine["state"] == "FLAGGED"
    assert "sanctions" not in mine["checks"]  # never shown, whatever its outcome: its absence cannot tell
    # a sanctions hit and a duplicate face read the same: every check shown passed, one neutral reason
    assert mine["decision_reasons"] == [{"check": "review", **NEUTRAL}]
    assert {name: (c["outcome"], c["reasons"]) for name, c in mine["checks"].items()} == {
        "address": ("PASS", []), "face": ("PASS", []), "identity": ("PASS", [])}
    history = api.get(f"/applications/{app_id}/history?limit=100", user=applicant).body
    assert history["chain_intact"]
    assert all(e["actor"] != "system:sanctions-check" for e in history["items"])
    flagged = next(e for e in history["items"] if e["type"] == "application.flagged")
    assert flagged["reason"] == "review:IN_REVIEW" and flagged["details"]["reasons"] == [{"check": "review", **NEUTRAL}]
    face_done = next(e for e in history["items"] if e["type"] == "check.completed" and e["details"]["check"] == "face")
    assert face_done["reason"] == "face check: PASS" and face_done["details"]["outcome"] == "PASS"

    seen = everything_the_applicant_can_fetch(api, applicant, app_id)
    text = json.dumps(seen).lower()
    leaked = [word for word in TELLING if word.lower() in text]
    assert not leaked, f"the applicant can read {leaked}"


def test_a_clean_applicant_sees_the_same_checks_as_one_in_a_sanctions_review(api, applicant):
    """The sanctions check is absent for everyone, so its absence says nothing; the other checks are shown."""
    app_id = create_application(api, applicant)
    receive_document(app_id)
    for check in ("sanctions", "address", "face"):
        record(app_id, check, "PASS")
    assert record(app_id, "identity", "PASS").state.value == "APPROVED"
    mine = api.get(f"/applications/{app_id}", user=applicant).body
    assert sorted(mine["checks"]) == ["address", "face", "identity"]
    items = api.get(f"/applications/{app_id}/history", user=applicant).body["items"]
    checked = sorted(e["details"]["check"] for e in items if e["type"] == "check.completed")
    assert checked == ["address", "face", "identity"]

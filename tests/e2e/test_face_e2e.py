"""The face check against the running local stack: real OCR, real face engine, liveness from photos.

Five outcomes of issue 17, each through the public API only (create, presigned upload,
consent, liveness session, the stand-in's frames, complete), decided by the app's
FACE check calling the local Rekognition. Kept few: each application costs an OCR
read and 3-4 face-engine images (about 10-20 s on 2 busy cores). Order matters for
the collection: the genuine Obama application runs first, so no earlier Obama face
makes it a duplicate (the collection lives as long as the session's stack).
"""
from __future__ import annotations

from tests.e2e.face import apply, decided, face_check, reason_codes


def test_a_genuine_pair_is_approved(local_stack):
    token = local_stack.token("applicant")
    app_id = apply(local_stack, token, "Carter", "Emily Jane", "F10000001", "obama-3.jpg",
                   ["obama-1.jpg", "obama-4.jpg", "obama-2.jpg"])
    app = decided(local_stack, token, app_id)
    assert app["state"] == "APPROVED", app["checks"]
    assert face_check(app)["outcome"] == "PASS"


def test_an_impostor_is_flagged_as_a_face_mismatch(local_stack):
    token = local_stack.token("applicant")
    app_id = apply(local_stack, token, "Carter", "Emily Jane", "F10000002", "biden-2.jpg",
                   ["harington-1.jpg", "harington-2.jpg", "harington-3.jpg"])
    app = decided(local_stack, token, app_id)
    assert app["state"] == "FLAGGED"
    assert "FACE_MISMATCH" in reason_codes(app)


def test_a_passport_without_a_photo_is_flagged(local_stack):
    token = local_stack.token("applicant")
    app_id = apply(local_stack, token, "Carter", "Emily Jane", "F10000003", None,
                   ["harington-1.jpg", "harington-2.jpg", "harington-3.jpg"])
    app = decided(local_stack, token, app_id)
    assert app["state"] == "FLAGGED"
    assert "DOCUMENT_PHOTO_NOT_FOUND" in reason_codes(app)


def test_a_group_photo_as_the_selfie_goes_to_review(local_stack):
    token = local_stack.token("applicant")
    # The burst starts with the group photo (Obama the largest face, facing the camera), then Obama turns.
    app_id = apply(local_stack, token, "Carter", "Emily Jane", "F10000004", "obama-3.jpg",
                   ["group-obama-biden.jpg", "obama-4.jpg", "obama-2.jpg"])
    app = decided(local_stack, token, app_id)
    assert app["state"] == "FLAGGED"
    assert face_check(app)["outcome"] != "PASS"
    assert "SELFIE_MULTIPLE_FACES" in reason_codes(app)


def test_the_same_face_under_two_names_is_a_duplicate(local_stack):
    token = local_stack.token("applicant")
    first = apply(local_stack, token, "Carter", "Emily Jane", "F10000005", "harington-3.jpg",
                  ["harington-1.jpg", "harington-2.jpg", "harington-3.jpg"])
    decided(local_stack, token, first)
    second = apply(local_stack, token, "Eriksson", "Anna Maria", "F10000006", "harington-3.jpg",
                   ["harington-1.jpg", "harington-2.jpg", "harington-3.jpg"])
    app = decided(local_stack, token, second)
    assert app["state"] == "FLAGGED"
    assert "DUPLICATE_FACE" in reason_codes(app)
    reviewer = local_stack.token("reviewer")
    from tests.e2e.http import call

    detail = call(local_stack, "GET", f"/review/applications/{second}", reviewer).json()
    assert first in str(detail.get("face") or detail), "the reviewer sees the other application's id"

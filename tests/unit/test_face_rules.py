"""The face check's decision rules (chalicelib/domain/face.py): examples, and properties over every input."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from chalicelib.domain import face
from chalicelib.domain.checks import Outcome
from chalicelib.domain.face import Box, DocumentFace, Duplicate, FaceEvidence, SelfieFace, decide
from chalicelib.domain.policy import Policy

POLICY = Policy()
APP = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"
GOOD_SELFIE = SelfieFace(
    sharpness=90,
    brightness=80,
    yaw=2,
    pitch=-3,
    roll=1,
    eyes_open=True,
    eyes_open_confidence=99,
    sunglasses=False,
    sunglasses_confidence=99,
    box=Box(0.3, 0.2, 0.4, 0.5),
)


def genuine(**changes) -> FaceEvidence:
    """A live applicant whose selfie matches the one face on a JPEG document."""
    base = FaceEvidence(
        liveness_status="SUCCEEDED",
        liveness_confidence=99.0,
        document_type="image/jpeg",
        document_faces=(DocumentFace(99.2, Box(0.05, 0.3, 0.25, 0.35)),),
        selfie_faces=1,
        selfie_face=GOOD_SELFIE,
    )
    return dataclasses.replace(base, **changes)


def codes(evidence: FaceEvidence, policy: Policy = POLICY) -> set[str]:
    return {r.code for r in decide(evidence, policy, APP).reasons}


def test_a_live_matching_selfie_passes_and_says_where_the_document_face_is():
    result = decide(genuine(), POLICY, APP)
    assert result.outcome is Outcome.PASS and result.check == "face"
    assert result.details["similarity"] == 99.2
    assert result.details["document"]["face"]["bounding_box"] == {
        "left": 0.05,
        "top": 0.3,
        "width": 0.25,
        "height": 0.35,
    }
    assert result.details["liveness"] == {"status": "SUCCEEDED", "confidence": 99.0, "passed": True, "attempts": 1}


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"liveness_status": "FAILED"}, face.LIVENESS_FAILED),
        ({"liveness_status": "EXPIRED", "liveness_confidence": None}, face.LIVENESS_FAILED),
        ({"liveness_confidence": 89.9}, face.LIVENESS_FAILED),  # SUCCEEDED means it ran, not that it passed
        ({"document_faces": (DocumentFace(42.0),)}, face.FACE_MISMATCH),
        ({"document_faces": (DocumentFace(88.0),)}, face.FACE_SIMILARITY_LOW),
        ({"document_faces": ()}, face.DOCUMENT_PHOTO_NOT_FOUND),
        ({"document_type": "application/pdf", "document_faces": None}, face.DOCUMENT_NOT_COMPARABLE),
        ({"document_faces": (DocumentFace(99.0), DocumentFace(12.0))}, face.DOCUMENT_MULTIPLE_FACES),
        ({"selfie_faces": 2}, face.SELFIE_MULTIPLE_FACES),
        ({"selfie_faces": 0, "selfie_face": None, "document_faces": None}, face.SELFIE_FACE_NOT_FOUND),
        ({"selfie_face": dataclasses.replace(GOOD_SELFIE, sharpness=5)}, face.FACE_QUALITY_LOW),
        ({"selfie_face": dataclasses.replace(GOOD_SELFIE, brightness=5)}, face.FACE_QUALITY_LOW),
        ({"selfie_face": dataclasses.replace(GOOD_SELFIE, yaw=50)}, face.FACE_QUALITY_LOW),
        ({"selfie_face": dataclasses.replace(GOOD_SELFIE, eyes_open=False)}, face.FACE_QUALITY_LOW),
        ({"selfie_face": dataclasses.replace(GOOD_SELFIE, sunglasses=True)}, face.FACE_QUALITY_LOW),
        ({"duplicates": (Duplicate(OTHER, 99.5),)}, face.DUPLICATE_FACE),
    ],
)
def test_each_doubt_is_a_review_with_its_own_reason(changes, code):
    result = decide(genuine(**changes), POLICY, APP)
    assert result.outcome is Outcome.REVIEW
    assert code in {r.code for r in result.reasons}


def test_a_passport_ghost_image_of_the_same_face_is_no_second_face():
    assert codes(genuine(document_faces=(DocumentFace(99.0, Box(0, 0, 0.3, 0.4)), DocumentFace(97.0)))) == set()


def test_the_quality_reason_names_each_finding_in_words():
    poor = dataclasses.replace(GOOD_SELFIE, sharpness=3, brightness=4, sunglasses=True)
    [reason] = decide(genuine(selfie_face=poor), POLICY, APP).reasons
    assert reason.message.endswith("blurred, too dark, sunglasses")


def test_a_duplicate_names_both_applications_for_the_reviewer_but_not_in_the_message():
    result = decide(genuine(duplicates=(Duplicate(OTHER, 99.1), Duplicate(APP, 100.0))), POLICY, APP)
    assert result.details["application_id"] == APP
    assert result.details["duplicates"] == [{"application_id": OTHER, "similarity": 99.1}]  # never itself
    assert all(OTHER not in r.message for r in result.reasons)


def test_the_same_applicant_applying_again_as_themselves_is_shown_but_not_flagged():
    result = decide(genuine(duplicates=(Duplicate(OTHER, 99.6, reapplication=True),)), POLICY, APP)
    assert result.outcome is Outcome.PASS and result.details["duplicates"] == []
    assert result.details["earlier_applications"] == [{"application_id": OTHER, "similarity": 99.6}]


def test_a_duplicate_below_its_threshold_is_no_duplicate():
    assert face.DUPLICATE_FACE not in codes(genuine(duplicates=(Duplicate(OTHER, 80.0),)))


def test_thresholds_come_from_the_policy():
    strict = dataclasses.replace(POLICY, face_match_threshold=99.5)
    assert codes(genuine(), strict) == {face.FACE_SIMILARITY_LOW}
    lenient = dataclasses.replace(POLICY, face_liveness_threshold=50.0)
    assert codes(genuine(liveness_confidence=60.0), lenient) == set()


def test_a_mismatch_shows_the_largest_document_face_for_the_crop():
    faces = (DocumentFace(10.0, Box(0, 0, 0.1, 0.1)), DocumentFace(20.0, Box(0.1, 0.2, 0.3, 0.4)))
    shown = decide(genuine(document_faces=faces), POLICY, APP).details["document"]["face"]
    assert shown["bounding_box"]["width"] == 0.3 and shown["similarity"] == 20.0


# --- properties ---------------------------------------------------------------------------------

scores = st.floats(min_value=0, max_value=100, allow_nan=False)
maybe_scores = st.none() | scores
statuses = st.sampled_from(["SUCCEEDED", "FAILED", "EXPIRED", "CREATED", "IN_PROGRESS", "NOT_STARTED", ""])
boxes = st.builds(
    Box,
    scores.map(lambda v: v / 100),
    scores.map(lambda v: v / 100),
    scores.map(lambda v: v / 100),
    scores.map(lambda v: v / 100),
)
selfies = st.builds(
    SelfieFace,
    sharpness=maybe_scores,
    brightness=maybe_scores,
    yaw=st.none() | st.floats(-180, 180),
    pitch=st.none() | st.floats(-180, 180),
    roll=st.none() | st.floats(-180, 180),
    eyes_open=st.none() | st.booleans(),
    eyes_open_confidence=scores,
    sunglasses=st.none() | st.booleans(),
    sunglasses_confidence=scores,
    box=st.none() | boxes,
)
evidence = st.builds(
    FaceEvidence,
    liveness_status=statuses,
    liveness_confidence=maybe_scores,
    document_type=st.sampled_from(["image/jpeg", "image/png", "application/pdf", None]),
    document_faces=st.none() | st.lists(st.builds(DocumentFace, scores, st.none() | boxes), max_size=4).map(tuple),
    selfie_faces=st.none() | st.integers(0, 4),
    selfie_face=st.none() | selfies,
    duplicates=st.lists(
        st.builds(Duplicate, st.sampled_from([APP, OTHER, "x"]), scores, st.booleans()), max_size=3
    ).map(tuple),
    attempts=st.integers(1, 3),
)
policies = st.builds(
    lambda match, review, live, dup: dataclasses.replace(
        POLICY,
        face_match_threshold=match,
        face_review_threshold=review,
        face_liveness_threshold=live,
        face_duplicate_threshold=dup,
    ),
    scores,
    scores,
    scores,
    scores,
)


@given(evidence, policies)
@example(genuine(), POLICY)
def test_nothing_passes_without_a_live_person_and_a_match(found, policy):
    """No input without liveness SUCCEEDED at its threshold and a document face at the match threshold passes;
    nor one with a duplicate, a second selfie face, a PDF, or an unexamined selfie."""
    result = decide(found, policy, APP)
    assert result.outcome in (Outcome.PASS, Outcome.REVIEW)  # the face check never rejects on its own
    if result.outcome is Outcome.PASS:
        assert found.liveness_status == "SUCCEEDED"
        assert found.liveness_confidence is not None and found.liveness_confidence >= policy.face_liveness_threshold
        assert found.document_faces and max(f.similarity for f in found.document_faces) >= policy.face_match_threshold
        assert found.document_type in ("image/jpeg", "image/png")
        assert found.selfie_faces == 1 and found.selfie_face is not None
        assert not [
            d
            for d in found.duplicates
            if d.application_id != APP and not d.reapplication and d.similarity >= policy.face_duplicate_threshold
        ]
        assert result.reasons == ()
    else:
        assert result.reasons and all(r.message and r.outcome is Outcome.REVIEW for r in result.reasons)


@given(evidence, policies, scores)
def test_a_higher_similarity_never_makes_the_result_worse(found, policy, raise_by):
    assume(found.document_faces)
    better = dataclasses.replace(
        found,
        document_faces=tuple(
            dataclasses.replace(f, similarity=min(100.0, f.similarity + raise_by)) for f in found.document_faces
        ),
    )
    before, after = decide(found, policy, APP), decide(better, policy, APP)
    assert after.outcome.severity <= before.outcome.severity
    rank = {face.FACE_MISMATCH: 2, face.FACE_SIMILARITY_LOW: 1}  # a mismatch may become a near match, not back

    def how_far(result):
        return max((rank.get(r.code, 0) for r in result.reasons), default=0)

    assert how_far(after) <= how_far(before)
    others = {r.code for r in after.reasons} - set(rank)
    assert others <= {r.code for r in before.reasons}


@given(evidence, policies, scores)
def test_a_higher_liveness_confidence_never_makes_the_result_worse(found, policy, raise_by):
    assume(found.liveness_confidence is not None)
    better = dataclasses.replace(found, liveness_confidence=min(100.0, found.liveness_confidence + raise_by))
    before, after = decide(found, policy, APP), decide(better, policy, APP)
    assert after.outcome.severity <= before.outcome.severity
    if face.LIVENESS_FAILED not in {r.code for r in before.reasons}:
        assert after.reasons == before.reasons  # once live, more confidence changes nothing


@given(evidence, policies)
def test_details_are_json_and_carry_this_application_and_the_thresholds(found, policy):
    import json

    details = decide(found, policy, APP).details
    assert json.loads(json.dumps(details)) == details
    assert details["application_id"] == APP and details["thresholds"]["match"] == policy.face_match_threshold
    assert all(d["application_id"] != APP for d in details["duplicates"])


@pytest.mark.parametrize(
    ("similarity", "band"),
    [
        (None, None),
        (99.0, "match"),
        (95.0, "match"),
        (94.9, "review"),
        (80.0, "review"),
        (79.9, "mismatch"),
        (0.0, "mismatch"),
    ],
)
def test_a_similarity_falls_in_the_band_its_thresholds_say(similarity, band):
    assert face.similarity_band(similarity, 80.0, 95.0) == band
    assert face.similarity_band(similarity, 99.0, 95.0) in (None, "match", "mismatch")  # review above match: no band

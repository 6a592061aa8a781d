"""The face check end to end: passports carrying real faces, liveness from photos (issue 17).

Shared by the face check's end-to-end and browser tests (tests/e2e/face_pending/ until
face-core lands). A liveness check is taken exactly as ``./dev selfie`` takes it
(devstack/selfie.py: consent, session, frames chosen for the challenge, complete), against the
running local stack.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
from typing import Any, Optional

import boto3

from tests.e2e.http import call, poll, upload
from tests.support.deadlines import OUTCOME_S
from tests.support.documents import make_declared
from tests.support.faces import photo, portrait

DECIDED = ("APPROVED", "REJECTED", "FLAGGED")
#: The demo applicant's face in the e2e tests (and the docs): the passport photo, then a live burst -- facing
#: the camera, then turned each way. Only the demo applicant, under make_declared()'s name, shows Obama's face,
#: so it is never another identity's duplicate (re-applying as oneself is shown, not flagged).
HOLDER_PHOTO = "obama-3.jpg"
HOLDER_LIVE = ["obama-1.jpg", "obama-4.jpg", "obama-2.jpg"]
#: Someone else's live face, for applications that only need the face check done (they are flagged for
#: another reason, often under other names): never Obama's, which would make the holder's later applications
#: duplicates of another identity.
BYSTANDER_LIVE = ["harington-1.jpg", "harington-2.jpg", "harington-3.jpg"]
FACE_CHECK_S = OUTCOME_S  # OCR, then the face engine on 2 busy cores: generous


@functools.lru_cache(maxsize=16)
def passport_with_photo(surname: str, given_names: str, number: str, photo_name: Optional[str]) -> bytes:
    """The data page for ``make_declared(...)`` with these names and number; the face from ``photo_name``
    (None: the silhouette, no face)."""
    from tests.support.passports import Holder, make_document

    body = declaration(surname, given_names, number)
    document = body["identity_document"]
    holder = Holder(surname=surname, given_names=given_names, nationality=body["nationality"],
                    issuing_state=document["issuing_country"], document_number=number,
                    birth_date=dt.date.fromisoformat(body["date_of_birth"]), sex="F",
                    expiry_date=dt.date.fromisoformat(document["expiry_date"]),
                    photo=portrait(photo(photo_name)) if photo_name else None)
    return make_document(holder)


def declaration(surname: str, given_names: str, number: str) -> dict[str, Any]:
    return make_declared(full_name={"given_names": given_names, "surname": surname},
                         doc_overrides={"number": number})


def rekognition(stack: Any) -> Any:
    return boto3.client("rekognition", endpoint_url=stack.env["AWS_ENDPOINT_URL_REKOGNITION"],
                        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def take_selfie(stack: Any, token: str, application_id: str, photos: list[Any]) -> dict[str, Any]:
    """Consent, session, frames, complete: what ./dev selfie does. ``photos``: names in tests/data/faces, or
    ``(name, bytes)`` for a made-up picture."""
    from devstack.selfie import Api, run

    frames = [item if isinstance(item, tuple) else (item, photo(item)) for item in photos]
    return run(Api(stack.api_url, token), stack.env["LIVENESS_ENDPOINT"], rekognition(stack), application_id,
               frames, say=lambda line: None)


def live_selfie(stack: Any, token: str, application_id: str, photos: Optional[list[Any]] = None) -> dict[str, Any]:
    """The holder's liveness check (HOLDER_LIVE, or ``photos``), as ./dev selfie takes it."""
    return take_selfie(stack, token, application_id, photos or HOLDER_LIVE)


@functools.lru_cache(maxsize=8)
def mirrored(name: str) -> tuple[str, bytes]:
    """``name`` flipped left to right: the same person turned the other way (a turn each way from one photo)."""
    import io

    from PIL import Image, ImageOps

    out = io.BytesIO()
    ImageOps.mirror(Image.open(io.BytesIO(photo(name))).convert("RGB")).save(out, "JPEG", quality=92)
    return f"{name} (mirrored)", out.getvalue()


@functools.lru_cache(maxsize=4)
def someone_behind(name: str) -> tuple[str, bytes]:
    """``name``'s photo with a second person (Leslie, cropped from group-harington-leslie.jpg) in the bottom
    right corner, a quarter of the width: a selfie with someone in the background. The photo's own face stays
    the largest and faces the camera, so the liveness check passes and the FACE check sees two faces."""
    import io

    from PIL import Image

    base = Image.open(io.BytesIO(photo(name))).convert("RGB")
    other = Image.open(io.BytesIO(photo("group-harington-leslie.jpg"))).convert("RGB").crop((45, 83, 197, 255))
    width = base.width // 4
    other = other.resize((width, other.height * width // other.width))
    base.paste(other, (base.width - width - 5, base.height - other.height - 5))
    out = io.BytesIO()
    base.save(out, "JPEG", quality=92)
    return f"{name} + leslie", out.getvalue()


def fail_liveness(stack: Any, token: str, application_id: str, photo_name: str) -> list[dict[str, Any]]:
    """Consent, then every attempt the app allows spent on a picture held still to the camera (the same frame
    twice: the stand-in finds copies and no turn); the complete calls' answers."""
    from devstack.selfie import post_json

    consented = call(stack, "POST", f"/applications/{application_id}/biometric-consent", token,
                     json={"text_version": "v1", "accepted": True})
    assert consented.status_code in (200, 201), consented.text
    frame = base64.b64encode(photo(photo_name)).decode()
    answers: list[dict[str, Any]] = []
    while not answers or answers[-1]["retry_allowed"]:
        session = call(stack, "POST", f"/applications/{application_id}/liveness-sessions", token, json={})
        assert session.status_code == 201, session.text
        session_id = session.json()["session_id"]
        status, judged = post_json(f"{stack.env['LIVENESS_ENDPOINT']}/sessions/{session_id}/frames",
                                   {"Frames": [frame, frame]})
        assert status == 200, judged
        completed = call(stack, "POST", f"/applications/{application_id}/liveness-sessions/{session_id}/complete",
                         token, json={})
        assert completed.status_code == 202, completed.text
        answers.append(completed.json())
        assert len(answers) <= 5, answers  # the policy allows three
    return answers


def upload_passport(stack: Any, token: str, surname: str, given_names: str, number: str,
                    document_photo: Optional[str]) -> str:
    """Create an application and upload its passport (a real face, or None: the silhouette); its id."""
    created = call(stack, "POST", "/applications", token, json=declaration(surname, given_names, number))
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    presigned = call(stack, "POST", f"/applications/{app_id}/documents", token, json={"content_type": "image/jpeg"})
    assert presigned.status_code == 201, presigned.text
    page = passport_with_photo(surname, given_names, number, document_photo)
    assert upload(presigned.json(), page, "image/jpeg").status_code in (200, 201, 204)
    return app_id


_SHARED: dict[tuple[str, str], str] = {}


def impostor(stack: Any) -> str:
    """One impostor application per stack (Biden's passport, Harington's live selfie), shared by the API and the
    browser tests: the face engine is slow."""
    key = (stack.api_url, "impostor")
    if key not in _SHARED:
        _SHARED[key] = apply(stack, stack.token("applicant"), "Carter", "Emily Jane", "F10000002", "biden-2.jpg",
                             ["harington-1.jpg", "harington-2.jpg", "harington-3.jpg"])
    return _SHARED[key]


def apply(stack: Any, token: str, surname: str, given_names: str, number: str, document_photo: Optional[str],
          selfie_photos: list[str]) -> str:
    """Create an application, upload its passport, take its selfie; the application's id."""
    app_id = upload_passport(stack, token, surname, given_names, number, document_photo)
    take_selfie(stack, token, app_id, selfie_photos)
    return app_id


def decided(stack: Any, token: str, app_id: str) -> dict[str, Any]:
    return poll(lambda: call(stack, "GET", f"/applications/{app_id}", token).json(),
                lambda a: a["state"] in DECIDED and "face" in {k.lower() for k in a.get("checks", {})},
                timeout=FACE_CHECK_S)


def face_check(app: dict[str, Any]) -> dict[str, Any]:
    return next(value for key, value in app["checks"].items() if key.lower() == "face")


def reason_codes(app: dict[str, Any]) -> set[str]:
    return {reason["code"] for reason in face_check(app)["reasons"]}

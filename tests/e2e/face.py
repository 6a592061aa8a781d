"""The face check end to end: passports carrying real faces, liveness from photos (issue 17).

Shared by the face check's end-to-end and browser tests (tests/e2e/face_pending/ until
face-core lands). A liveness check is taken exactly as ``./dev selfie`` takes it
(devstack/selfie.py: consent, session, frames chosen for the challenge, complete), against the
running local stack.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Optional

import boto3

from tests.e2e.http import call, poll, upload
from tests.support.documents import make_declared
from tests.support.faces import photo, portrait

DECIDED = ("APPROVED", "REJECTED", "FLAGGED")
FACE_CHECK_S = 180.0  # OCR, then the face engine on 2 busy cores: generous


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


def take_selfie(stack: Any, token: str, application_id: str, photos: list[str]) -> dict[str, Any]:
    """Consent, session, frames, complete: what ./dev selfie does."""
    from devstack.selfie import Api, run

    return run(Api(stack.api_url, token), stack.env["LIVENESS_ENDPOINT"], rekognition(stack), application_id,
               [(name, photo(name)) for name in photos], say=lambda line: None)


def apply(stack: Any, token: str, surname: str, given_names: str, number: str, document_photo: Optional[str],
          selfie_photos: list[str]) -> str:
    """Create an application, upload its passport, take its selfie; the application's id."""
    created = call(stack, "POST", "/applications", token, json=declaration(surname, given_names, number))
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    presigned = call(stack, "POST", f"/applications/{app_id}/documents", token, json={"content_type": "image/jpeg"})
    assert presigned.status_code == 201, presigned.text
    page = passport_with_photo(surname, given_names, number, document_photo)
    assert upload(presigned.json(), page, "image/jpeg").status_code in (200, 201, 204)
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

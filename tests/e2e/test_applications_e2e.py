"""The walking skeleton and data verification, over real HTTP against `python -m devstack up`."""
from __future__ import annotations

import pytest

from tests.e2e.face import HOLDER_PHOTO, live_selfie
from tests.e2e.http import call, poll, upload
from tests.support.documents import exe_bytes, passport_bytes, make_declared

pytestmark = pytest.mark.e2e


def test_health_and_openapi_are_public(local_stack):
    assert call(local_stack, "GET", "/health").json()["status"] == "ok"
    assert "/applications" in call(local_stack, "GET", "/openapi.json").json()["paths"]


def test_a_forged_or_missing_token_is_refused_by_chalice_local_too(local_stack):
    assert call(local_stack, "GET", "/applications").status_code == 401
    token = local_stack.token("applicant")
    header, payload, _ = token.split(".")
    reply = call(local_stack, "GET", "/applications", f"{header}.{payload}.c2lnbmF0dXJl")
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "unauthorized"


def test_sign_in_create_read_list_history_withdraw(local_stack):
    token = local_stack.token("applicant")
    created = call(local_stack, "POST", "/applications", token, json=make_declared(),
                   headers={"Idempotency-Key": "e2e-skeleton"})
    assert created.status_code in (200, 201), created.text
    app = created.json()
    again = call(local_stack, "POST", "/applications", token, json=make_declared(),
                 headers={"Idempotency-Key": "e2e-skeleton"})
    assert again.json()["id"] == app["id"]
    assert call(local_stack, "GET", f"/applications/{app['id']}", token).json()["state"] == "AWAITING_DOCUMENTS"
    listed = call(local_stack, "GET", "/applications?limit=100", token).json()["items"]
    assert app["id"] in [i["id"] for i in listed]
    reviewer = local_stack.token("reviewer")  # a staff-pool token: refused on applicant routes
    refused = call(local_stack, "GET", f"/applications/{app['id']}", reviewer)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "wrong_user_pool")
    # The address check runs meanwhile and may commit first: a 409 conflict is the documented answer to
    # a concurrent change, and the client retries.
    withdrawn = poll(lambda: call(local_stack, "POST", f"/applications/{app['id']}/withdraw", token,
                                  json={"reason": "e2e"}),
                     lambda reply: reply.status_code != 409 or reply.json()["error"]["code"] != "conflict")
    assert withdrawn.json()["state"] == "WITHDRAWN", withdrawn.text
    history = call(local_stack, "GET", f"/applications/{app['id']}/history", token).json()
    assert [e["type"] for e in history["items"] if not e["type"].startswith("check.")] == [
        "application.submitted", "application.withdrawn"]
    assert history["chain_intact"] is True


def submit_with_document(stack, token, body, data, content_type):
    app = call(stack, "POST", "/applications", token, json=body).json()
    presigned = call(stack, "POST", f"/applications/{app['id']}/documents", token,
                     json={"content_type": content_type})
    assert presigned.status_code == 201, presigned.text
    assert upload(presigned.json(), data, content_type).status_code in (200, 201, 204)
    return app["id"]


def final_state(stack, token, app_id):
    return poll(lambda: call(stack, "GET", f"/applications/{app_id}", token).json(),
                lambda a: a["state"] in ("APPROVED", "REJECTED", "FLAGGED"))


def test_a_clean_application_is_approved_end_to_end(local_stack):
    token = local_stack.token("applicant")
    app_id = submit_with_document(local_stack, token, make_declared(), passport_bytes(photo=HOLDER_PHOTO),
                                  "image/jpeg")
    live_selfie(local_stack, token, app_id)  # nothing is approved without the face check (issue 17)
    app = final_state(local_stack, token, app_id)
    assert app["state"] == "APPROVED"
    assert app["checks"]["identity"]["outcome"] == app["checks"]["address"]["outcome"] == "PASS"
    types = [e["type"] for e in call(local_stack, "GET", f"/applications/{app_id}/history", token).json()["items"]]
    # The address check starts at submission, so it may land before or after the document.
    assert types[0] == "application.submitted" and "document.received" in types
    assert types[-1] == "application.approved"
    # identity, address and the face; the sanctions screening is never shown to the applicant (tipping off)
    assert types.count("check.completed") == 3


def test_an_executable_renamed_to_jpeg_is_rejected_end_to_end(local_stack):
    token = local_stack.token("applicant")
    app_id = submit_with_document(local_stack, token, make_declared(), exe_bytes(), "image/jpeg")
    app = final_state(local_stack, token, app_id)
    assert app["state"] == "REJECTED"
    assert "FILE_TYPE_NOT_ALLOWED" in {r["code"] for r in app["decision_reasons"]}


def test_a_po_box_is_flagged_for_review_end_to_end(local_stack):
    token = local_stack.token("applicant")
    body = make_declared(address={"country": "GB", "street_address": ["PO Box 42"], "city": "London",
                                  "postal_code": "SW1A 2AA"})
    app_id = submit_with_document(local_stack, token, body, passport_bytes(body, photo=HOLDER_PHOTO), "image/jpeg")
    live_selfie(local_stack, token, app_id)  # the decision waits for the face check
    app = final_state(local_stack, token, app_id)
    assert app["state"] == "FLAGGED"
    assert "PO_BOX" in {r["code"] for r in app["decision_reasons"]}


def test_another_persons_passport_under_my_declaration_is_never_approved_end_to_end(local_stack):
    """Read by the local Textract (real OCR) from the uploaded image, not taken from the request."""
    token = local_stack.token("applicant")
    someone_else = make_declared(full_name={"given_names": "Oliver James", "surname": "Nguyen"},
                                 date_of_birth="1985-02-03", doc_overrides={"number": "X12345678"})
    page = passport_bytes(someone_else, rotation=1.5, blur=0.6, quality=70)
    app_id = submit_with_document(local_stack, token, make_declared(), page, "image/jpeg")
    app = final_state(local_stack, token, app_id)
    assert app["state"] == "REJECTED"
    codes = {r["code"] for r in app["checks"]["identity"]["reasons"]}
    assert {"MRZ_MISMATCH_NAME", "MRZ_MISMATCH_BIRTH_DATE", "MRZ_MISMATCH_DOCUMENT_NUMBER"} <= codes


def test_a_page_with_no_mrz_is_flagged_end_to_end(local_stack):
    token = local_stack.token("applicant")
    app_id = submit_with_document(local_stack, token, make_declared(),
                                  passport_bytes(fmt="png", with_mrz=False, photo=HOLDER_PHOTO), "image/png")
    live_selfie(local_stack, token, app_id)  # the decision waits for the face check
    app = final_state(local_stack, token, app_id)
    assert app["state"] == "FLAGGED"
    assert "DOCUMENT_UNREADABLE" in {r["code"] for r in app["decision_reasons"]}


def test_a_pdf_passport_is_read_and_its_photo_compared_by_a_person_end_to_end(local_stack):
    token = local_stack.token("applicant")
    app_id = submit_with_document(local_stack, token, make_declared(),
                                  passport_bytes(fmt="pdf", rotation=-2.0, photo=HOLDER_PHOTO), "application/pdf")
    live_selfie(local_stack, token, app_id)
    app = final_state(local_stack, token, app_id)
    assert app["checks"]["identity"]["outcome"] == "PASS", app["checks"]["identity"]
    assert app["checks"]["identity"]["details"]["mrz"]["surname"] == "CARTER"
    # Rekognition compares JPEG and PNG only: a PDF's photo goes to a person (issue 17)
    assert app["state"] == "FLAGGED" and "DOCUMENT_NOT_COMPARABLE" in {r["code"] for r in app["decision_reasons"]}


@pytest.mark.parametrize("path", ["/nothing", "/review/nothing-here", "/applications/x/y/z"])
def test_an_unknown_path_of_any_depth_answers_the_documented_404_and_never_echoes_the_token(local_stack, path):
    """As API Gateway routes it: to the app's greedy catch-all, whatever the depth (issue 12)."""
    token = local_stack.token("applicant")
    reply = call(local_stack, "GET", path, token)
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"]["code"] == "not_found"
    assert token.split(".")[1] not in reply.text

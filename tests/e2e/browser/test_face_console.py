"""The face check in the console (issue 17), in headless Chromium against the local stack.

The applicant's liveness step: the consent text, the challenge, the camera (Chromium's
fake camera plays a still photo: a picture held to the camera, which the stand-in
refuses as copies without the turn) and the photo fallback (which passes); the
reviewer's face panel with the selfie on request beside the document's photo crop.
Harington's photos only: the genuine Obama application of tests/e2e/test_face_e2e.py
must find no earlier Obama face in the stage's collection.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser.conftest import screenshot
from tests.e2e.browser.support import click, sign_in_as, text, visible, wait
from tests.e2e.face import decided, declaration, impostor
from tests.e2e.http import call
from tests.support.deadlines import EVENT_S, REPLY_S
from tests.support.faces import path

pytestmark = pytest.mark.e2e
PHOTOS = {"turn_left": ["harington-1.jpg", "harington-3.jpg"], "turn_right": ["harington-1.jpg", "harington-2.jpg"]}


def new_application(stack: Any, number: str) -> str:
    created = call(stack, "POST", "/applications", stack.token("applicant"),
                   json=declaration("Carter", "Emily Jane", number))
    assert created.status_code == 201, created.text
    return created.json()["id"]


def consent(driver: Any) -> str:
    visible(driver, "#consent-text")
    assert "biometric" in text(driver, "#consent-text").lower()
    click(driver, "#consent-accept")
    click(driver, "#consent-submit")
    challenge = visible(driver, "#liveness-challenge")
    return challenge.get_attribute("data-challenge")


def verdict_of(driver: Any) -> Any:
    """The stand-in's verdict as the page shows it; on a timeout, what the page said instead."""
    from selenium.common.exceptions import TimeoutException

    try:
        return visible(driver, "#liveness-verdict", timeout=REPLY_S * 4)
    except TimeoutException:
        shown = driver.execute_script(
            "const s = document.querySelector('#liveness-status'); return s ? s.textContent : document.body.innerText")
        screenshot(driver, "face-applicant-no-verdict")
        raise AssertionError(f"no liveness verdict; the page says: {shown!r}") from None


def test_the_applicant_takes_the_liveness_check_with_photos(local_stack, browser, page_errors):
    app_id = new_application(local_stack, "F20000001")
    sign_in_as(browser, local_stack, "applicant", f"applicant/{app_id}")
    challenge = consent(browser)
    assert challenge in PHOTOS
    click(browser, "#liveness-fallback summary")
    browser.find_element("css selector", "#liveness-files").send_keys(
        "\n".join(str(path(name)) for name in PHOTOS[challenge]))
    click(browser, "#liveness-send-files")
    verdict = verdict_of(browser)
    assert verdict.get_attribute("data-status") == "SUCCEEDED", verdict.text
    assert verdict.get_attribute("data-passed") == "yes", verdict.text
    visible(browser, "#liveness-done", timeout=EVENT_S)
    screenshot(browser, "face-applicant-liveness-done")
    history = call(local_stack, "GET", f"/applications/{app_id}/history", local_stack.token("applicant")).json()
    types = [event["type"] for event in history["items"]]
    assert "biometric.consent_given" in types and "liveness.completed" in types


def test_a_picture_held_to_the_camera_does_not_pass(local_stack, browser, page_errors):
    app_id = new_application(local_stack, "F20000002")
    sign_in_as(browser, local_stack, "applicant", f"applicant/{app_id}")
    consent(browser)
    wait(browser, REPLY_S).until(lambda d: d.execute_script(
        "const v = document.querySelector('#liveness-video'); return v && v.readyState >= 2 && v.videoWidth > 0"))
    screenshot(browser, "face-applicant-camera")
    click(browser, "#liveness-start")
    verdict = verdict_of(browser)
    # the stand-in's reasons in words; its codes are not the applicant's to read (issue 18 follow-up)
    assert "copies of each other" in verdict.text and "challenge was not followed" in verdict.text, verdict.text
    assert "FRAMES_COPIED" not in verdict.text and "CHALLENGE_NOT_MET" not in verdict.text, verdict.text
    # The session ran (the stand-in's Status is SUCCEEDED, as in AWS), but the page must not call it a pass.
    assert verdict.get_attribute("data-passed") == "no" and "Liveness check not passed." in verdict.text, verdict.text
    # and the history says so: not "liveness check 1: SUCCEEDED, another attempt allowed" (issue 18 follow-up)
    wait(browser, EVENT_S).until(lambda d: "Liveness check 1: not passed" in text(d, "#application-history"))
    assert "SUCCEEDED" not in text(browser, "#application-history")
    screenshot(browser, "face-applicant-camera-refused")
    # The page's status line says so, and it belongs to this page: it went on showing "did not succeed" on
    # every page after (issue 18 follow-up). Leaving mid-capture also turns the camera off.
    wait(browser, EVENT_S).until(lambda d: "did not succeed" in text(d, "#status"))
    click(browser, "#liveness-again")
    wait(browser, REPLY_S).until(lambda d: d.execute_script(
        "const v = document.querySelector('#liveness-video');"
        "if (!v || !v.srcObject || v.readyState < 2) return false; window.__camera = v.srcObject; return true"))
    click(browser, "#view a[href='#/applicant']")  # "← My applications"
    visible(browser, "#my-applications")
    assert text(browser, "#status") == "", text(browser, "#status")
    assert browser.execute_script("return window.__camera.getTracks().every((t) => t.readyState === 'ended')")


def test_the_reviewer_sees_the_selfie_beside_the_document_photo(local_stack, browser, page_errors):
    token = local_stack.token("applicant")
    app_id = impostor(local_stack)  # the one tests/e2e/test_face_e2e.py also uses: the face engine is slow
    assert decided(local_stack, token, app_id)["state"] == "FLAGGED"
    sign_in_as(browser, local_stack, "reviewer", f"review/{app_id}")
    visible(browser, "#face-facts")
    similarity = text(browser, "#face-similarity")
    assert similarity.endswith("%") and float(similarity.split()[0]) < 80
    assert visible(browser, "#face-similarity-band").get_attribute("data-band") == "mismatch"
    assert "SUCCEEDED" in text(browser, "#face-liveness")
    wait(browser, REPLY_S).until(lambda d: d.execute_script(
        "const i = document.querySelector('#face-document-crop img'); return i && i.complete && i.naturalWidth > 0"))
    click(browser, "#face-selfie-show")
    wait(browser, REPLY_S).until(lambda d: d.execute_script(
        "const i = document.querySelector('#face-selfie'); return i && i.complete && i.naturalWidth > 0"))
    screenshot(browser, "face-reviewer-panel")
    reviewer = local_stack.token("reviewer")
    history = call(local_stack, "GET", f"/review/applications/{app_id}", reviewer).json()["history"]
    assert any("selfie" in event["type"] for event in history), [event["type"] for event in history]


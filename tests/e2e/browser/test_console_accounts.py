"""Who gets into the console and what each person's own pages do, in headless Chromium against the running
local stack: staff sign in only through their organisation (its MFA), take their rights from its groups and
lose them there; applicants are refused the staff pages and the staff sign-in; an operator watches the counts
of the generated state diagram follow an application; an applicant signs up, applies, uploads, watches and
withdraws. The browser's own error log is checked after every test (``page_errors``).
"""

from __future__ import annotations

import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from chalicelib.domain.workflow.states import TRANSITIONS, State
from tests.e2e.browser.conftest import DESKTOP, screenshot
from tests.e2e.browser.support import (
    application_state,
    at_phone_width,
    click,
    css,
    fill,
    jwt_claims,
    new_staff_member,
    open_console,
    sign_in_as,
    staff_sign_in,
    staff_signed_in,
    state_count,
    text,
    token_claims,
    visible,
    wait,
)
from tests.e2e.http import call
from tests.support.deadlines import OUTCOME_S
from tests.support.documents import jpeg_bytes, make_declared
from tests.support.faces import path as face_photo

pytestmark = pytest.mark.e2e


def test_an_applicant_is_refused_the_review_queue(local_stack, browser, page_errors):
    page_errors.allow("403")
    sign_in_as(browser, local_stack, "applicant", "applicant")
    visible(browser, "#mine-title")
    assert not browser.find_elements(By.CSS_SELECTOR, 'a[href="#/review"]'), "non-reviewers get no queue link"
    browser.execute_script("location.hash = '#/review'")
    visible(browser, "#wrong-pool")  # the API refused the customer pool's token; the page says it in words
    assert "This page is for the bank's staff" in text(browser, "#wrong-pool")
    assert not browser.find_elements(By.CSS_SELECTOR, "#queue tr.queue-row")


def test_staff_sign_in_only_through_their_organisation_with_its_mfa(local_stack, browser, page_errors):
    """Issue 21: a staff page offers the organisation's sign-in alone -- no password field, no sign-up -- and
    the provider asks for the authenticator's code (MFA at the provider); a wrong code gets nobody in."""
    page_errors.allow("401")  # the provider's answer to the wrong code
    reviewer = local_stack.user("reviewer")
    open_console(browser, local_stack, "review")
    visible(browser, "#signin-staff")
    assert css(browser, "#signin-as-staff").is_selected(), "a staff page preselects the staff sign-in"
    assert not css(browser, "#signup-section").is_displayed(), "staff are invited: no sign-up"
    assert not css(browser, "#signin-password").is_displayed(), "no staff password is typed into the console"
    click(browser, "#signin-staff")
    visible(browser, "#provider-username")
    css(browser, "#provider-username").send_keys(reviewer["email"])
    css(browser, "#provider-password").send_keys(reviewer["password"])
    css(browser, "#provider-otp").send_keys("000000")
    css(browser, "#provider-submit").click()
    wait(browser).until(lambda d: text(d, "#provider-error") == "That code is not right.")
    screenshot(browser, "staff-provider-sign-in")
    css(browser, "#provider-otp").clear()
    from devstack.oidc_provider import totp

    css(browser, "#provider-password").send_keys(reviewer["password"])
    css(browser, "#provider-otp").send_keys(totp(reviewer["totp_secret"]))
    css(browser, "#provider-submit").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#who .who-email"), reviewer["email"]))
    visible(browser, "#queue")
    assert browser.current_url == f"{local_stack.console_url}#/review", "back on the page asked for, no code left"
    assert not browser.find_elements(By.CSS_SELECTOR, 'a[href="#/applicant"]'), "staff have no applications"


def test_a_person_the_provider_puts_in_kyc_reviewers_is_a_reviewer_at_first_sign_in(local_stack, browser, page_errors):
    """No invitation in the staff pool: the provider's group (kyc-reviewers) becomes the pool's reviewers."""
    person = new_staff_member(local_stack)
    open_console(browser, local_stack, "review")
    staff_signed_in(browser, person["email"], person["password"], person["totp_secret"])
    visible(browser, "#queue")
    username = "Corporate_" + jwt_claims(browser)["identities"][0]["userId"]
    groups = local_stack.client("cognito-idp").admin_list_groups_for_user(
        UserPoolId=local_stack.env["STAFF_USER_POOL_ID"], Username=username)["Groups"]
    assert [group["GroupName"] for group in groups] == ["reviewers"]



def test_a_reviewer_removed_at_the_provider_loses_access(local_stack, browser, page_errors):
    """Removal at the provider: at the next sign-in through it the pool's groups follow (so every token of
    that person is refused at once -- the app checks the pool on each request), and a leaver the provider
    deleted cannot sign in at all."""
    page_errors.allow("403", "401")  # the API's refusal; the provider's refusal of the leaver
    person = new_staff_member(local_stack)
    old = local_stack.staff_token(person["email"], person["password"], person["totp_secret"])["IdToken"]
    # A reviewer's token (its claims say so), not shown to the API before the removal: the API would then trust
    # the pool's answer for STAFF_STATUS_CACHE_SECONDS (30 s), and the test would wait that out (issue 22). That
    # bound is tests/test_staff_removal.py's, shown by moving the cache's clock.
    assert token_claims(old)["cognito:groups"] == ["reviewers"]
    local_stack.provider("PUT", person["email"], {"groups": ["all-staff"]})  # moved out of KYC at the provider
    open_console(browser, local_stack, "review")
    staff_sign_in(browser, person["email"], person["password"], person["totp_secret"])
    visible(browser, ".refused")
    assert "reviewers" in text(browser, ".refused")
    assert not browser.find_elements(By.CSS_SELECTOR, "#queue tr.queue-row")
    # The token from before, too, at once: the API asks the pool, whatever the token still claims.
    refused = call(local_stack, "GET", "/review/queue", old)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", refused.text
    click(browser, "#sign-out")
    local_stack.provider("DELETE", person["email"])  # a leaver
    staff_sign_in(browser, person["email"], person["password"], person["totp_secret"])
    wait(browser).until(lambda d: text(d, "#provider-error") == "Wrong e-mail or password.")


def test_an_applicant_cannot_sign_in_as_staff(local_stack, browser, page_errors):
    """Applicants are not people of the bank's provider: it refuses them, as any stranger."""
    page_errors.allow("401")  # the provider's refusal
    applicant = local_stack.user("applicant")
    open_console(browser, local_stack, "review")
    staff_sign_in(browser, applicant["email"], applicant["password"])
    wait(browser).until(lambda d: text(d, "#provider-error") == "Wrong e-mail or password.")
    open_console(browser, local_stack, "review")
    assert browser.execute_script("return sessionStorage.getItem('account-opening.session')") is None



# --- operator -------------------------------------------------------------------


def test_operator_sees_the_generated_workflow_and_counts_follow_an_application(local_stack, browser, page_errors):
    sign_in_as(browser, local_stack, "operator", "operator")
    visible(browser, ".diagram-svg")
    for state in State:
        assert browser.find_elements(By.ID, f"diagram-{state.value}"), f"{state.value} missing from the diagram"
    moves = sum(1 for table in TRANSITIONS.values() for src, dst in table.items() if src is not None and src != dst)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".diagram-svg path.edge")) >= moves

    applicant = local_stack.token("applicant")
    awaiting = state_count(browser, "AWAITING_DOCUMENTS")
    created = call(local_stack, "POST", "/applications", applicant, json=make_declared()).json()
    wait(browser).until(lambda d: state_count(d, "AWAITING_DOCUMENTS") == awaiting + 1)
    withdrawn = state_count(browser, "WITHDRAWN")
    assert (
        call(
            local_stack,
            "POST",
            f"/applications/{created['id']}/withdraw",
            applicant,
            json={"reason": "changed my mind"},
        ).status_code
        == 200
    )
    wait(browser).until(
        lambda d: state_count(d, "WITHDRAWN") == withdrawn + 1 and state_count(d, "AWAITING_DOCUMENTS") == awaiting
    )
    assert text(browser, "#queue-table") and text(browser, "#job-table")
    # every queue the stack has, as the API lists them from the stack's outputs (issue 20's customer queues
    # were missing from a hand list); the functions' on-failure dead-letter queues without a redrive button
    shown = browser.execute_script(
        "return [...document.querySelectorAll('#queue-table tr[data-queue]')].map((row) => row.dataset.queue)")
    listed = [q["name"] for q in call(local_stack, "GET", "/operations/queues", local_stack.token("operator")).json()["queues"]]
    assert shown == listed and {"customer-projection", "customer-rescreening", "history-stream"} <= set(shown), shown
    assert not browser.find_elements(By.ID, "redrive-history-stream")
    screenshot(browser, "operator")
    at_phone_width(browser, "operator")
    browser.set_window_size(1366, 768)  # a common laptop: the page must not scroll sideways (issue 18)
    try:
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 1366, f"the operator page is {width} px wide at 1366 px"
        cut = browser.execute_script(
            "const t = document.getElementById('job-table'); return t.scrollWidth - t.parentElement.clientWidth")
        assert cut <= 1, f"the jobs table is cut off by {cut} px inside its panel"
    finally:
        browser.set_window_size(*DESKTOP)


# --- applicant ------------------------------------------------------------------

def test_a_refused_declaration_marks_each_refused_field(local_stack, browser, page_errors):
    """The API's 422 names fields; the form ties each message to its input (aria-invalid, aria-describedby)
    and moves focus to the first, so a screen reader hears which field is wrong (issue 18)."""
    import datetime as dt

    page_errors.allow("422")
    sign_in_as(browser, local_stack, "applicant", "applicant")
    visible(browser, "#application-form")
    body = make_declared()
    child = (dt.date.today() - dt.timedelta(days=365 * 10)).isoformat()
    fill(browser, {"given-names": "Young", "surname": "Person", "date-of-birth": child, "nationality": "GBR",
                   "email": body["email"], "phone": body["phone"], "country": "GB",
                   "street": body["address"]["street_address"][0], "document-number": body["identity_document"]["number"],
                   "issuing-country": "GBR", "expiry-date": body["identity_document"]["expiry_date"]})
    css(browser, "#create-application").click()
    wait(browser).until(lambda d: css(d, "#date-of-birth").get_attribute("aria-invalid") == "true")
    described = css(browser, "#date-of-birth").get_attribute("aria-describedby")
    assert described == "date-of-birth-error" and text(browser, f"#{described}")
    assert browser.execute_script("return document.activeElement.id") == "date-of-birth"
    assert css(browser, "#surname").get_attribute("aria-invalid") is None
    screenshot(browser, "applicant-field-errors")


def test_applicant_signs_up_applies_uploads_watches_live_and_withdraws(local_stack, browser, page_errors, tmp_path):
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    password = "Applicant-New-2024"
    open_console(browser, local_stack)
    visible(browser, "#signup-email")
    assert not css(browser, "#confirm-form").is_displayed(), "the confirm-code form shows before sign-up"
    css(browser, "#signup-email").send_keys(email)
    css(browser, "#signup-password").send_keys(password)
    css(browser, "#signup-submit").click()
    visible(browser, "#confirm-code").send_keys("123456")  # the local Cognito takes any code
    css(browser, "#confirm-submit").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#who .who-email"), email))
    visible(browser, "#application-form")

    body = make_declared()
    document = body["identity_document"]
    fill(
        browser,
        {
            "given-names": body["full_name"]["given_names"],
            "surname": body["full_name"]["surname"],
            "date-of-birth": body["date_of_birth"],
            "nationality": body["nationality"],
            "email": body["email"],
            "phone": body["phone"],
            "country": body["address"]["country"],
            "street": body["address"]["street_address"][0],
            "city": body["address"]["city"],
            "postal-code": body["address"]["postal_code"],
            "document-number": document["number"],
            "issuing-country": document["issuing_country"],
            "expiry-date": document["expiry_date"],
        },
    )
    screenshot(browser, "applicant-form")
    css(browser, "#create-application").click()
    wait(browser).until(lambda d: application_state(d) == "AWAITING_DOCUMENTS")
    app_id = browser.execute_script("return location.hash").rsplit("/", 1)[-1]

    picture = tmp_path / "passport.jpg"
    picture.write_bytes(jpeg_bytes())
    css(browser, "#document-file").send_keys(str(picture))
    css(browser, "#upload-submit").click()
    # the liveness step (issue 17), with the photo fallback: consent, the challenge, photos in order
    visible(browser, "#consent-text")
    click(browser, "#consent-accept")
    click(browser, "#consent-submit")
    challenge = visible(browser, "#liveness-challenge").get_attribute("data-challenge")
    photos = {"turn_left": ["harington-1.jpg", "harington-3.jpg"], "turn_right": ["harington-1.jpg", "harington-2.jpg"]}
    click(browser, "#liveness-fallback summary")
    css(browser, "#liveness-files").send_keys("\n".join(str(face_photo(name)) for name in photos[challenge]))
    click(browser, "#liveness-send-files")
    visible(browser, "#liveness-done", timeout=OUTCOME_S)
    final = ("APPROVED", "REJECTED", "FLAGGED")
    wait(browser, OUTCOME_S).until(lambda d: application_state(d) in final)
    assert "Identity document received" in text(browser, "#application-history"), "the history shows the document arriving"
    screenshot(browser, "applicant-application")
    at_phone_width(browser, "applicant-application")

    token = local_stack.client("cognito-idp").initiate_auth(
        ClientId=local_stack.env["USER_POOL_CLIENT_ID"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]["IdToken"]
    assert call(local_stack, "GET", f"/applications/{app_id}", token).json()["state"] in final
    second = call(local_stack, "POST", "/applications", token, json=make_declared()).json()["id"]
    browser.execute_script("location.hash = arguments[0]", f"#/applicant/{second}")
    visible(browser, "#withdraw-reason").send_keys("found another bank")
    click(browser, "#withdraw-submit")
    wait(browser).until(lambda d: application_state(d) == "WITHDRAWN")
    assert "found another bank" in text(browser, "#application-history")

    click(browser, "#sign-out")
    visible(browser, "#signin-email")
    assert browser.execute_script("return sessionStorage.length") == 0, "signing out must forget the tokens"

"""A person at the wrong sign-in, or signed in to the wrong kind of account (issue 18).

Two user pools: applicants (the customer pool, e-mail and password on this page) and the bank's staff
(the staff pool, through their organisation's sign-in -- managed login -- never a password here). Someone
at the wrong one is told so and where the other is, in words that are the same whoever typed what: the
page never asks one pool about another's users, so nothing shows whether an account exists elsewhere.
"""
from __future__ import annotations

import json
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.e2e.browser.conftest import screenshot
from tests.e2e.browser.support import (
    click,
    css,
    fill_sign_in,
    open_console,
    sign_in_as,
    text,
    visible,
    wait,
)

pytestmark = pytest.mark.e2e


def refused_sign_in(driver, stack, email: str, password: str) -> tuple[str, str]:
    """Sign in on the applicant form; what the page says (the error, and the hint under it)."""
    open_console(driver, stack)
    fill_sign_in(driver, email, password)
    visible(driver, "#signin-wrong-pool")
    return text(driver, "#signin-error"), text(driver, "#signin-wrong-pool")


def test_staff_on_the_applicant_sign_in_are_sent_to_theirs_and_nothing_says_who_exists(local_stack, browser,
                                                                                         page_errors):
    page_errors.allow("400")  # Cognito's answer to the refused password
    reviewer = local_stack.user("reviewer")  # a real staff member: their password is their organisation's
    error, hint = refused_sign_in(browser, local_stack, reviewer["email"], reviewer["password"])
    assert error == "Wrong e-mail or password for an applicant account."
    assert "Reviewers and operators do not sign in with a password here" in hint and "Staff sign-in" in hint
    screenshot(browser, "wrong-pool-staff-on-applicant-form")
    # Someone no pool knows reads exactly the same: the page does not say who has a staff account.
    assert refused_sign_in(browser, local_stack, f"nobody-{uuid.uuid4().hex[:8]}@example.com",
                           "Not-A-Password-2024") == (error, hint)
    # A wrong password of a real applicant, too.
    applicant = local_stack.user("applicant")
    assert refused_sign_in(browser, local_stack, applicant["email"], "Wrong-Password-2024") == (error, hint)

    click(browser, "#signin-switch-staff")  # the hint's way to the staff sign-in
    assert css(browser, "#signin-as-staff").is_selected()
    assert visible(browser, "#signin-staff") == browser.switch_to.active_element
    assert not css(browser, "#signin-password").is_displayed(), "no staff password is typed into the console"
    assert not css(browser, "#signin-error").text, "the applicant form's error is gone with it"


def test_the_staff_sign_in_tells_applicants_where_theirs_is(local_stack, browser, page_errors):
    open_console(browser, local_stack, "review")  # a staff page: the staff sign-in is preselected
    visible(browser, "#signin-staff")
    assert text(browser, "#signin-title") == "Staff sign-in"
    assert "Applying for an account, or already a customer?" in text(browser, "#staff-hint")
    click(browser, "#signin-switch-applicant")
    assert css(browser, "#signin-as-customer").is_selected()
    assert visible(browser, "#signin-email") == browser.switch_to.active_element
    assert css(browser, "#signin-password").is_displayed() and css(browser, "#signup-section").is_displayed()
    assert text(browser, "#signin-title") == "Sign in"


def test_a_refused_organisation_sign_in_points_applicants_to_theirs(local_stack, browser, page_errors):
    """Managed login came back refused (e.g. someone the bank's provider or the pool turned away): the error,
    and -- since it was the staff sign-in -- where applicants sign in."""
    open_console(browser, local_stack, "review")
    visible(browser, "#signin-staff")
    pending = {"state": "s-" + uuid.uuid4().hex, "verifier": "v" * 43, "pool": "staff",
               "redirectUri": local_stack.console_url, "hash": "#/review"}
    browser.execute_script("sessionStorage.setItem('account-opening.sign-in', arguments[0])", json.dumps(pending))
    browser.get(f"{local_stack.console_url}?error=access_denied&error_description=not+a+member+of+staff"
                f"&state={pending['state']}")
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "signin-error"), "The sign-in was refused"))
    assert "Applicants have their own" in text(browser, "#signin-wrong-pool")
    assert css(browser, "#signin-as-staff").is_selected()
    assert "error=" not in browser.current_url, "the refusal leaves the address bar"


def test_signed_in_to_the_other_kind_of_account_a_page_says_so_and_where_to_go(local_stack, browser, page_errors):
    page_errors.allow("403")  # the API's refusal, which the page puts in words
    sign_in_as(browser, local_stack, "applicant", "applicant")
    visible(browser, "#mine-title")
    browser.execute_script("location.hash = '#/review'")  # a staff page's address, e.g. from a link
    visible(browser, "#wrong-pool")
    said = text(browser, "#wrong-pool")
    assert "This page is for the bank's staff" in said and "You are signed in as an applicant" in said
    assert "user pool" not in said and "token" not in said, "no jargon"
    screenshot(browser, "wrong-pool-applicant-on-review")
    click(browser, "#wrong-pool-home")
    visible(browser, "#mine-title")

    sign_in_as(browser, local_stack, "reviewer", "review")
    visible(browser, "#queue-title")
    browser.execute_script("location.hash = '#/applicant'")
    visible(browser, "#wrong-pool")
    said = text(browser, "#wrong-pool")
    assert "This page is for applicants" in said and "signed in as staff" in said
    click(browser, "#wrong-pool-home")
    visible(browser, "#queue-title")

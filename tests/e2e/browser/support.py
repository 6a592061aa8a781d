"""What the console's browser tests share: waits that look again soon, reading and clicking a live page,
signing in (applicants with a password, staff through their organisation's managed login), and the
applications the reviewer's pages need. Plain helpers, imported by each test file (no test imports another).
Waits are WebDriverWait deadlines, never sleeps.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.support.wait import POLL_FREQUENCY

from tests.e2e.browser.conftest import DESKTOP, PHONE, WAIT_S, screenshot
from tests.e2e.face import BYSTANDER_LIVE, live_selfie
from tests.e2e.http import call, poll, upload
from tests.support.deadlines import OUTCOME_S
from tests.support.documents import jpeg_bytes, make_declared, pdf_bytes

PO_BOX = {"country": "GB", "street_address": ["PO Box 42"], "city": "London", "postal_code": "SW1A 2AA"}
XSS = "<img src=x onerror=alert(1)>"

class LookingSoonWait(WebDriverWait):
    """selenium's wait, looking again after 0.05 s, then twice as long each time up to its 0.5 s: most of what a
    test awaits (a redraw after a click, a page after sign-in) comes within a few hundred milliseconds, and a
    fixed half-second look added about a quarter of a second to each of them (issue 22). Still a deadline."""

    FIRST_S = 0.05

    def until(self, method: Any, message: str = "") -> Any:
        self._poll = self.FIRST_S

        def looking(driver: Any) -> Any:
            try:
                return method(driver)
            finally:  # the pause before the next look, if there is one
                self._poll = min(self._poll * 2, POLL_FREQUENCY) if looking.looked else self.FIRST_S
                looking.looked = True

        looking.looked = False  # type: ignore[attr-defined]
        return super().until(looking, message)


def wait(driver: Any, timeout: float = WAIT_S) -> WebDriverWait:
    """Live pages redraw under the test's feet: a stale element just means look again."""
    return LookingSoonWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def css(driver: Any, selector: str):
    return driver.find_element(By.CSS_SELECTOR, selector)


def visible(driver: Any, selector: str, timeout: float = WAIT_S):
    return wait(driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))


def text(driver: Any, selector: str) -> str:
    """An element's visible text, read in one go (a live page may redraw it at any moment)."""
    found = driver.execute_script(
        "const el = document.querySelector(arguments[0]); return el && el.innerText", selector
    )
    assert found is not None, f"nothing matches {selector}"
    return found


def click(driver: Any, selector: str) -> None:
    """Click, finding the element again if a redraw replaced it."""

    def attempt(d: Any) -> bool:
        d.find_element(By.CSS_SELECTOR, selector).click()
        return True

    wait(driver).until(attempt)


def open_console(driver: Any, stack: Any, route: str = "") -> None:
    """A freshly loaded page with no session: every test signs in itself. The console as CloudFront serves
    it (issue 21: the local stand-in of the distribution -- its files from the console bucket, its headers
    policy, the API and config.json on the same origin)."""
    if driver.current_url.startswith(stack.console_url.removesuffix("/console")):
        driver.execute_script("sessionStorage.clear()")
    driver.get("about:blank")
    driver.get(f"{stack.console_url}#/{route}")


def fill_sign_in(driver: Any, email: str, password: str, staff: bool = False) -> None:
    """The sign-in form, as whom: applicants sign in to the customer pool, staff to the staff pool."""
    visible(driver, "#signin-email")
    click(driver, "#signin-as-staff" if staff else "#signin-as-customer")
    css(driver, "#signin-email").send_keys(email)
    css(driver, "#signin-password").send_keys(password)
    css(driver, "#signin-submit").click()


def sign_in(driver: Any, stack: Any, email: str, password: str, staff: bool = False) -> None:
    fill_sign_in(driver, email, password, staff)
    wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#who .who-email"), email))


def provider_sign_in(driver: Any, email: str, password: str, totp_secret: str | None = None) -> None:
    """The corporate provider's own sign-in page (the local stand-in): e-mail, password, authenticator code."""
    from devstack.oidc_provider import totp

    visible(driver, "#provider-username")
    css(driver, "#provider-username").send_keys(email)
    css(driver, "#provider-password").send_keys(password)
    if totp_secret:
        css(driver, "#provider-otp").send_keys(totp(totp_secret))
    css(driver, "#provider-submit").click()


def staff_sign_in(driver: Any, email: str, password: str, totp_secret: str | None = None) -> None:
    """Staff: the organisation's sign-in (managed login, code + PKCE) -- no password typed into the console."""
    visible(driver, "#signin-as-staff")
    click(driver, "#signin-as-staff")
    click(driver, "#signin-staff")
    provider_sign_in(driver, email, password, totp_secret)


def sign_in_as(driver: Any, stack: Any, role: str, route: str = "") -> None:
    open_console(driver, stack, route)
    user = stack.user(role)
    if user.get("pool") == "staff":
        staff_signed_in(driver, user["email"], user["password"], user.get("totp_secret"))
    else:
        sign_in(driver, stack, user["email"], user["password"])
        wait_live(driver)


def staff_signed_in(driver: Any, email: str, password: str, totp_secret: str | None = None) -> None:
    """Staff sign in through managed login, and the page has settled: signed in as them, live updates on."""
    staff_sign_in(driver, email, password, totp_secret)
    wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#who .who-email"), email))
    wait_live(driver)


def wait_live(driver: Any) -> None:
    wait(driver).until(lambda d: d.execute_script("return document.getElementById('live-state').textContent") == "live")


def flagged_application(stack: Any, token: str, pdf: bool = False, **overrides: Any) -> str:
    """An application that lands in the review queue (a PO box needs a human)."""
    return await_flagged(stack, token, start_flagged(stack, token, pdf, **overrides))


def start_flagged(stack: Any, token: str, pdf: bool = False, **overrides: Any) -> str:
    """An application on its way to the review queue: created (a PO box needs a human), its document and selfie
    in; its checks still running (``await_flagged``). Two started before either is awaited check side by side."""
    body = make_declared(address=PO_BOX, **overrides)
    created = call(stack, "POST", "/applications", token, json=body)
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    kind, data = ("application/pdf", pdf_bytes()) if pdf else ("image/jpeg", jpeg_bytes())
    presigned = call(stack, "POST", f"/applications/{app_id}/documents", token, json={"content_type": kind})
    assert upload(presigned.json(), data, kind).status_code in (200, 201, 204)
    live_selfie(stack, token, app_id, BYSTANDER_LIVE)  # the decision waits for the face check (issue 17)
    return app_id


def await_flagged(stack: Any, token: str, app_id: str) -> str:
    state = lambda: call(stack, "GET", f"/applications/{app_id}", token).json()["state"]  # noqa: E731
    poll(state, lambda now: now == "FLAGGED", timeout=OUTCOME_S)  # OCR takes seconds on a loaded machine
    return app_id


def queue_ids(driver: Any) -> list[str]:
    """The queue's rows, read in one go (the table may be redrawn at any moment)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#queue tr.queue-row'), (row) => row.dataset.id)"
    )


def state_count(driver: Any, state: str) -> int:
    found = driver.execute_script(
        "const cell = document.querySelector(`#state-table tr[data-state='${arguments[0]}'] td.count`);"
        "return cell ? cell.textContent : null",
        state,
    )
    return int(found) if found is not None else -1


def application_state(driver: Any) -> str | None:
    return driver.execute_script(
        "const el = document.getElementById('application-state'); return el && el.dataset.state"
    )


def no_alert(driver: Any) -> bool:
    try:
        _ = driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def at_phone_width(driver: Any, name: str) -> Path:
    driver.set_window_size(*PHONE)
    try:
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE[0] + 1, f"{name}: the page scrolls sideways at phone width ({width}px)"
        # each cell's column name, shown before it on a phone, reads as written: no stray ": " after a "?"
        labels = driver.execute_script(
            "return [...document.querySelectorAll('td[data-label]')].map((td) => getComputedStyle(td, '::before').content)")
        stray = sorted({label for label in labels if re.search(r"[?!.:]\s*:", label)})
        assert not stray, f"{name}: column names with a stray colon at phone width: {stray}"
        return screenshot(driver, f"{name}-phone")
    finally:
        driver.set_window_size(*DESKTOP)


def new_staff_member(stack: Any, provider_group: str = "kyc-reviewers") -> dict[str, str]:
    """Someone the bank's provider puts in a staff group (MFA enrolled there): a staff user at first sign-in."""
    from devstack.oidc_provider import new_totp_secret

    person = {"email": f"staff-{uuid.uuid4().hex[:8]}@example.com", "password": "Staff-Member-Pass-2024!",
              "groups": [provider_group], "totp_secret": new_totp_secret()}
    stack.provider("POST", body=person)
    return person


def second_reviewer(stack: Any) -> dict[str, Any]:
    person = new_staff_member(stack)
    token = stack.staff_token(person["email"], person["password"], person["totp_secret"])["IdToken"]
    return {**person, "token": token}


def jwt_claims(driver: Any) -> dict[str, Any]:
    """The claims of the console's ID token (read from the tab's session)."""
    return token_claims(driver.execute_script("return JSON.parse(sessionStorage.getItem('account-opening.session')).idToken"))


def token_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, read (not verified: the API verifies)."""
    import base64
    import json

    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def fill(driver: Any, values: dict[str, str]) -> None:
    for element_id, value in values.items():
        field = css(driver, f"#{element_id}")
        if field.get_attribute("type") == "date":
            driver.execute_script("arguments[0].value = arguments[1]", field, value)
        else:
            field.clear()
            field.send_keys(value)


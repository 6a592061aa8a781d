"""Issue 20 in a real browser, on the local stack end to end: an approved customer, a list change naming
them (a refresh of the list the stack loads), the case in the reviewers' "Customer screening" page
(chalicelib/console/screening.js), a first reviewer's word as a recommendation (four eyes, issue 18), a
second reviewer's that resolves it."""

from __future__ import annotations

import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.e2e.browser.conftest import screenshot
from tests.e2e.browser.support import click, css, flagged_application, second_reviewer, sign_in_as, text, visible, wait
from tests.e2e.http import call, poll
from tests.support.deadlines import OUTCOME_S


def approved_customer(stack, applicant: str, reviewer: str) -> tuple[str, dict]:
    letters = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:7])  # a surname no list holds
    name = {"given_names": "Ximena Dolores", "surname": f"Quintanar {letters.capitalize()}"}
    app_id = flagged_application(stack, applicant, full_name=name, date_of_birth="1969-02-11")  # a PO box
    decided = call(stack, "POST", f"/review/applications/{app_id}/decision", reviewer,
                   json={"decision": "approve", "reason": "PO box checked with the customer"})
    assert decided.status_code == 200 and decided.json()["state"] == "APPROVED", decided.text
    dynamodb, table = stack.client("dynamodb"), stack.env["CUSTOMERS_TABLE_NAME"]
    poll(lambda: dynamodb.get_item(TableName=table, Key={"application_id": {"S": app_id}}).get("Item"),
         lambda item: item is not None)  # projected through the approval subscription
    return app_id, name


def refresh_with_an_entry_naming(stack, name: dict) -> None:
    """The OFAC list as the stack loads it, plus one entry naming the customer; the refresh run on it."""
    s3, ssm = stack.client("s3"), stack.client("ssm")
    bucket = stack.env["SANCTIONS_BUCKET_NAME"]
    parameter = f"{stack.env['SETTINGS_PATH']}sanctions_ofac_sdn_url"
    listed = s3.get_object(Bucket=bucket, Key="sources/sdn.csv")["Body"].read().replace(b"\x1a", b"").rstrip(b"\r\n")
    entry = (f'{990000 + uuid.uuid4().int % 9999},"{name["surname"].upper()}, {name["given_names"]}","individual",'
             f'"SDNTK","-0-","-0-","-0-","-0-","-0-","-0-","-0-","DOB 11 Feb 1969."').encode()
    key = f"sources/test-{uuid.uuid4().hex[:8]}-sdn.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=listed + b"\r\n" + entry + b"\r\n\x1a")
    good = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    ssm.put_parameter(Name=parameter, Value=f"s3://{bucket}/{key}", Type="String", Overwrite=True)
    try:
        fired = stack.cli("fire", "refresh_sanctions_lists")
        assert fired.returncode == 0, fired.stderr
    finally:
        ssm.put_parameter(Name=parameter, Value=good, Type="String", Overwrite=True)


def open_case(stack, reviewer: str, app_id: str) -> dict:
    def cases() -> list[dict]:
        items, cursor = [], None
        while True:
            reply = call(stack, "GET", "/review/screening-cases?limit=50" + (f"&cursor={cursor}" if cursor else ""), reviewer)
            assert reply.status_code == 200, reply.text
            items += reply.json()["items"]
            cursor = reply.json()["next_cursor"]
            if not cursor:
                return [c for c in items if c["application_id"] == app_id]

    return poll(cases, lambda found: len(found) == 1, timeout=OUTCOME_S)[0]  # the re-screening workers' time


def test_a_reviewer_works_a_customer_screening_case_in_the_console(local_stack, browser, page_errors):
    applicant, reviewer = local_stack.token("applicant"), local_stack.token("reviewer")
    app_id, name = approved_customer(local_stack, applicant, reviewer)
    refresh_with_an_entry_naming(local_stack, name)
    case = open_case(local_stack, reviewer, app_id)

    sign_in_as(browser, local_stack, "reviewer", "screening")
    row = f'#cases tr.case-row[data-id="{case["case_id"]}"]'
    visible(browser, row)
    shown = text(browser, row)
    assert f"{name['given_names']} {name['surname']}" in shown and "1969-02-11" in shown and "OFAC-SDN" in shown
    screenshot(browser, "reviewer-screening-cases")

    click(browser, f"{row} a.customer-name")
    visible(browser, "#case-compare")
    assert "11 Feb 1969" in text(browser, "#case-compare") or "1969-02-11" in text(browser, "#case-compare")
    click(browser, "#case-false_positive")
    css(browser, "#case-reason").send_keys("Another person: our customer was born in Leon, the listed woman in Sinaloa")
    click(browser, "#case-submit")
    wait(browser).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#case-recommendation"), "You recommended: not this customer"))
    assert "second, different reviewer" in text(browser, "#case-recommendation")  # still open: four eyes
    assert not browser.find_elements(By.CSS_SELECTOR, "#case-form")  # and not theirs to decide
    screenshot(browser, "reviewer-screening-case-recommended")

    other = second_reviewer(local_stack)
    path = f"/review/screening-cases/{case['case_id']}/resolution"
    resolved = call(local_stack, "POST", path, other["token"],
                    json={"decision": "false_positive", "reason": "agreed: other birthplace and family"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "CLEARED", resolved.text
    browser.refresh()
    wait(browser).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#case-resolved"), "Cleared: not this customer"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#case-form")
    history = call(local_stack, "GET", f"/applications/{app_id}/history", applicant).json()
    assert not {"customer.screening_hit", "customer.screening_recommended", "customer.screening_resolved"} & {
        e["type"] for e in history["items"]}  # the customer is never told

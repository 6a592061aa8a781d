"""Issue 9: what the declaration alone settles is answered by the create request itself (422), through
the Chalice test client against the provisioned local AWS, in the one error shape.
"""
from __future__ import annotations

import datetime as dt
import os

import boto3
import pytest

from tests.support.documents import make_declared

JAPAN = {"country": "JP", "street_address": ["1-1 Chiyoda"], "city": "Chiyoda-ku", "country_area": "Tokyo",
         "postal_code": "100-0001"}
TODAY = dt.date.today()


def refused(reply) -> dict[str, str]:
    """The rules named by a refusal, by field; asserts the shape first."""
    assert reply.status == 422, (reply.status, reply.body)
    assert set(reply.body) == {"error", "request_id"}
    error = reply.body["error"]
    assert error["code"] == "application_refused" and set(error) == {"code", "message", "details"}
    fields = error["details"]["fields"]
    assert all(set(f) == {"field", "message", "type"} and f["message"] for f in fields), fields
    return {f["type"]: f["field"] for f in fields}


def nothing_stored(api, user) -> bool:
    return api.get("/applications", user=user).body["items"] == []


def test_the_issues_newcomer_is_told_every_rule_at_once_and_nothing_is_created(api, other_applicant):
    """Born in 2015, living in an unserved country, with an expired passport: 422, not 201 and an upload."""
    body = make_declared(date_of_birth="2015-05-17", address=JAPAN, doc_overrides={"expiry_date": "2020-01-01"})
    assert refused(api.post("/applications", body, user=other_applicant)) == {
        "APPLICANT_UNDERAGE": "date_of_birth",
        "DOCUMENT_EXPIRED": "identity_document.expiry_date",
        "COUNTRY_NOT_SERVED": "address.country",
    }
    assert nothing_stored(api, other_applicant)


@pytest.mark.parametrize(
    "overrides, rule, field",
    [
        ({"date_of_birth": (TODAY - dt.timedelta(days=17 * 365)).isoformat()}, "APPLICANT_UNDERAGE", "date_of_birth"),
        ({"doc_overrides": {"expiry_date": (TODAY - dt.timedelta(days=1)).isoformat()}}, "DOCUMENT_EXPIRED",
         "identity_document.expiry_date"),
        ({"doc_overrides": {"expiry_date": TODAY.replace(year=TODAY.year + 40).isoformat()}},
         "DOCUMENT_EXPIRY_IMPLAUSIBLE", "identity_document.expiry_date"),
        ({"nationality": "PRK"}, "NATIONALITY_NOT_SERVED", "nationality"),
        ({"address": JAPAN}, "COUNTRY_NOT_SERVED", "address.country"),
    ],
    ids=["underage", "expired", "expiry-not-real", "nationality", "country"],
)
def test_each_rule_is_a_422_naming_its_field(api, other_applicant, overrides, rule, field):
    assert refused(api.post("/applications", make_declared(**overrides), user=other_applicant)) == {rule: field}
    assert nothing_stored(api, other_applicant)


def test_a_malformed_field_is_still_validation_failed_before_any_rule(api, other_applicant):
    body = make_declared(date_of_birth="2015-02-30", address=JAPAN)
    reply = api.post("/applications", body, user=other_applicant)
    assert reply.status == 422 and reply.error_code == "validation_failed"
    assert [f["field"] for f in reply.body["error"]["details"]["fields"]] == ["date_of_birth"]


def test_the_served_nationalities_come_from_parameter_store(api, other_applicant):
    from chalicelib.bootstrap import services

    ssm = boto3.client("ssm")
    name = os.environ["SETTINGS_PATH"] + "served_nationalities"
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "*"  # provisioned from resources.yaml
    ssm.put_parameter(Name=name, Value="FRA,D", Type="StringList", Overwrite=True)
    services().settings.clear_cache()
    try:
        assert refused(api.post("/applications", make_declared(), user=other_applicant)) == {
            "NATIONALITY_NOT_SERVED": "nationality"
        }
        reply = api.post("/applications", make_declared(nationality="D<<", doc_overrides={"issuing_country": "D<<"}),
                         user=other_applicant)
        assert reply.status == 201, reply.body
    finally:
        ssm.put_parameter(Name=name, Value="*", Type="StringList", Overwrite=True)
        services().settings.clear_cache()


def test_a_refusal_is_documented_in_the_openapi_document(api):
    document = api.get("/openapi.json").body
    create = document["paths"]["/applications"]["post"]
    assert "422" in create["responses"]
    assert "application_refused" in create["responses"]["422"]["description"]

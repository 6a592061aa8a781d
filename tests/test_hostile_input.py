"""Hostile input at the HTTP edge: what an attacker sends first, answered in the documented shape.

Each case here was a defect found by probing the landed API from outside
(issue 12): a 500 with a traceback, something wrong accepted, or a value
echoed back unbounded. Written against the public routes only.
"""
from __future__ import annotations

import json
import uuid

import pytest

from tests.support import greedy_routes
from tests.support.documents import make_declared

greedy_routes.install()

UNKNOWN = "00000000-0000-4000-8000-000000000000"
POST_ROUTES = ["/applications", f"/applications/{UNKNOWN}/withdraw", f"/applications/{UNKNOWN}/documents",
               f"/review/applications/{UNKNOWN}/decision"]


def assert_error_shape(reply, status: int, code: str | None = None) -> None:
    assert reply.status == status, (reply.status, reply.body)
    assert isinstance(reply.body, dict) and set(reply.body) == {"error", "request_id"}, reply.body
    assert set(reply.body["error"]) == {"code", "message", "details"}
    if code is not None:
        assert reply.body["error"]["code"] == code, reply.body


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# --- nesting and size ----------------------------------------------------------

@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("depth", [1_000, 5_000])
def test_deeply_nested_json_is_400_not_500_on_every_post_route(api, applicant, reviewer, path, depth):
    user = reviewer if path.startswith("/review") else applicant
    reply = api.post(path, user=user, raw=nested(depth))
    assert_error_shape(reply, 400, "malformed_json")
    assert "Traceback" not in json.dumps(reply.body)


def test_deeply_nested_object_inside_a_valid_field_is_400(api, applicant):
    body = json.dumps(make_declared())[:-1] + ', "x": ' + '{"a":' * 900 + "1" + "}" * 900 + "}"
    assert_error_shape(api.post("/applications", user=applicant, raw=body.encode()), 400, "malformed_json")


def test_moderate_nesting_is_judged_by_the_schema_not_the_parser(api, applicant):
    """Depth within the limit parses; the unknown field is then refused as a validation error."""
    body = make_declared()
    body["extra"] = json.loads(nested(20).decode())
    assert_error_shape(api.post("/applications", body, user=applicant), 422, "validation_failed")


# --- duplicate keys -------------------------------------------------------------

def test_duplicate_keys_are_refused(api, applicant):
    body = json.dumps(make_declared())
    doubled = body[:-1] + ', "nationality": "FRA"}'
    reply = api.post("/applications", user=applicant, raw=doubled.encode())
    assert_error_shape(reply, 400, "malformed_json")


def test_duplicate_keys_in_a_nested_object_are_refused(api, applicant):
    body = json.dumps(make_declared()).replace('"surname": "Carter"', '"surname": "Carter", "surname": "Smith"')
    assert '"surname": "Smith"' in body
    assert_error_shape(api.post("/applications", user=applicant, raw=body.encode()), 400, "malformed_json")


# --- what is echoed back ------------------------------------------------------

def test_the_parsers_message_is_not_echoed(api, applicant):
    secret = "s3cr3t-" + "x" * 3000
    reply = api.post("/applications", user=applicant, raw=('{"a": "' + secret).encode())
    assert_error_shape(reply, 400, "malformed_json")
    text = json.dumps(reply.body)
    assert "s3cr3t" not in text and len(text) < 1000


@pytest.mark.parametrize("method,template", [("GET", "/applications/{}"), ("GET", "/applications/{}/history"),
                                             ("POST", "/applications/{}/withdraw")])
def test_a_huge_id_is_not_echoed_back(api, applicant, method, template):
    huge = "A" * 5000
    reply = api.call(method, template.format(huge), user=applicant, raw=b"{}" if method == "POST" else b"")
    assert_error_shape(reply, 404, "not_found")
    assert len(json.dumps(reply.body)) < 1000


def test_a_huge_id_is_not_echoed_to_reviewers_either(api, reviewer):
    reply = api.get("/review/applications/" + "B" * 5000, user=reviewer)
    assert_error_shape(reply, 404, "not_found")
    assert len(json.dumps(reply.body)) < 1000


# --- names: control, bidi and invisible characters -------------------------------

BAD_NAME_CHARACTERS = {
    "nul": "\x00", "bell": "\x07", "escape": "\x1b", "del": "\x7f",
    "right-to-left-override": "\u202e", "left-to-right-embedding": "\u202a", "pop-directional": "\u202c",
    "right-to-left-isolate": "\u2067", "zero-width-space": "\u200b", "zero-width-joiner": "\u200d",
    "zero-width-non-joiner": "\u200c", "byte-order-mark": "\ufeff", "line-separator": "\u2028",
    "soft-hyphen": "\u00ad", "newline": "\n", "tab": "\t",
}


@pytest.mark.parametrize("character", BAD_NAME_CHARACTERS.values(), ids=BAD_NAME_CHARACTERS.keys())
@pytest.mark.parametrize("field", ["given_names", "surname"])
def test_control_bidi_and_invisible_characters_in_names_are_refused(api, applicant, character, field):
    body = make_declared()
    body["full_name"][field] = f"Car{character}ter"
    reply = api.post("/applications", body, user=applicant)
    assert_error_shape(reply, 422, "validation_failed")
    assert any(f["field"] == f"full_name.{field}" for f in reply.body["error"]["details"]["fields"])


@pytest.mark.parametrize("character", ["\x00", "\u202e", "\u200b"])
def test_the_same_characters_are_refused_in_address_lines(api, applicant, character):
    body = make_declared()
    body["address"]["street_address"] = [f"10 Downing{character} Street"]
    assert_error_shape(api.post("/applications", body, user=applicant), 422, "validation_failed")


@pytest.mark.parametrize("name", ["Zoë", "Ó Briain", "Jean-Luc", "D'Arcy", "Łukasz", "Müller-Lüdenscheidt",
                                  "Nguyễn", "Άλκηστις"])
def test_real_names_with_accents_hyphens_and_apostrophes_are_accepted(api, applicant, name):
    body = make_declared(full_name={"given_names": name, "surname": "Carter"})
    reply = api.post("/applications", body, user=applicant)
    assert reply.status == 201, reply.body
    assert reply.body["declared"]["full_name"]["given_names"] == name


# --- codes and dates ---------------------------------------------------------------

@pytest.mark.parametrize("country", ["ZZ", "XK", "AA", "QM", "UK", "EU"])
def test_unassigned_or_user_assigned_country_codes_are_refused(api, applicant, country):
    body = make_declared()
    body["address"]["country"] = country
    reply = api.post("/applications", body, user=applicant)
    assert_error_shape(reply, 422, "validation_failed")
    assert any(f["field"] == "address.country" for f in reply.body["error"]["details"]["fields"])


@pytest.mark.parametrize("field", ["nationality", "identity_document.issuing_country"])
@pytest.mark.parametrize("code", ["ZZZ", "AAA", "XKX", "QQQ", "GB"])
def test_unknown_icao_codes_are_refused(api, applicant, field, code):
    body = make_declared()
    if field == "nationality":
        body["nationality"] = code
    else:
        body["identity_document"]["issuing_country"] = code
    reply = api.post("/applications", body, user=applicant)
    assert_error_shape(reply, 422, "validation_failed")
    assert any(f["field"] == field for f in reply.body["error"]["details"]["fields"])


@pytest.mark.parametrize("code", ["GBR", "DEU", "D<<", "FRA", "UNO", "XXA", "XXB", "XXC", "XXX", "IRL", "USA"])
def test_icao_codes_including_germany_and_the_special_ones_are_accepted_as_nationality(api, applicant, code):
    from chalicelib.domain import codes

    assert codes.is_icao_nationality(code)


@pytest.mark.parametrize("expiry", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_absurd_expiry_dates_are_refused(api, applicant, expiry):
    body = make_declared()
    body["identity_document"]["expiry_date"] = expiry
    reply = api.post("/applications", body, user=applicant)
    assert_error_shape(reply, 422, "validation_failed")
    assert any(f["field"] == "identity_document.expiry_date" for f in reply.body["error"]["details"]["fields"])


@pytest.mark.parametrize("birth", ["0001-01-01", "1899-12-31", "9999-12-31"])
def test_absurd_birth_dates_are_refused(api, applicant, birth):
    body = make_declared()
    body["date_of_birth"] = birth
    assert_error_shape(api.post("/applications", body, user=applicant), 422, "validation_failed")


def test_an_expired_document_is_a_rule_not_a_malformed_field(api, applicant):
    """Expired-but-plausible is well formed; the declaration alone settles it (issue 9), so the create
    answers 422 ``application_refused`` naming the rule, not ``validation_failed``."""
    import datetime as dt

    body = make_declared(doc_overrides={"expiry_date": dt.date.today() - dt.timedelta(days=30)})
    reply = api.post("/applications", body, user=applicant)
    assert_error_shape(reply, 422, "application_refused")
    assert reply.body["error"]["details"]["fields"][0]["type"] == "DOCUMENT_EXPIRED"


# --- headers --------------------------------------------------------------------------

def header(reply, name: str) -> str | None:
    return {k.lower(): v for k, v in reply.headers.items()}.get(name.lower())


def test_personal_data_is_never_cached_and_security_headers_are_set(api, applicant):
    created = api.post("/applications", make_declared(), user=applicant)
    assert created.status == 201
    app_id = created.body["id"]
    for reply in (created, api.get(f"/applications/{app_id}", user=applicant),
                  api.get(f"/applications/{app_id}/history", user=applicant),
                  api.get("/applications", user=applicant),
                  api.get(f"/applications/{uuid.uuid4()}", user=applicant),
                  api.get("/applications")):
        assert "no-store" in (header(reply, "Cache-Control") or ""), (reply.status, reply.headers)
        assert header(reply, "X-Content-Type-Options") == "nosniff"
        assert "max-age=" in (header(reply, "Strict-Transport-Security") or "")


def test_public_documents_carry_the_security_headers_too(api):
    reply = api.get("/openapi.json")
    assert reply.status == 200
    assert header(reply, "X-Content-Type-Options") == "nosniff"
    assert "max-age=" in (header(reply, "Strict-Transport-Security") or "")


# --- unknown routes -------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [("GET", "/nope"), ("POST", "/applications/x/y/z"), ("DELETE", "/"),
                                         ("GET", "/review"), ("PUT", "/admin")])
def test_unknown_routes_answer_the_documented_shape_and_never_echo_the_token(api, applicant, method, path):
    for user in (None, applicant):
        reply = api.call(method, path, user=user, raw=b"")
        assert reply.status in (401, 403, 404), (reply.status, reply.body)
        assert_error_shape(reply, reply.status)
        assert applicant.token not in json.dumps(reply.body)
        assert applicant.token.split(".")[1] not in json.dumps(reply.body)


# --- issue 18 item 8 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["limit=²", "limit=٣", "limit=1e3", "cursor=" + "W3s" * 700,
                                   "cursor=" + __import__("base64").urlsafe_b64encode(b"[" * 5000 + b"]" * 5000)
                                   .decode().rstrip("="), "cursor=%00%01", "cursor=a.b"])
def test_odd_paging_parameters_are_4xx_not_500_on_every_list(api, applicant, reviewer, query):
    for path, user in (("/applications", applicant), ("/review/queue", reviewer)):
        reply = api.get(f"{path}?{query}", user=user)
        assert reply.status in (400, 422), (path, query, reply.status, reply.body)
        assert_error_shape(reply, reply.status)


@pytest.mark.parametrize("name", ["\u3164", "\uffa0", "\u2800", "\u034f", "\u17b4", "\u115f\u1160",
                                  "\U000e0100", "\u0378", "\U0003ffff", "Ann\u3164", "A" + "\u0301" * 4,
                                  "Zalgo" + "\u0336\u0337\u0338\u0339\u033a" * 3])
def test_invisible_unassigned_and_stacked_characters_are_refused_as_names(api, applicant, name):
    body = make_declared()
    body["full_name"]["surname"] = name
    reply = api.post("/applications", body, user=applicant)
    assert_error_shape(reply, 422, "validation_failed")
    assert name not in json.dumps(reply.body)


@pytest.mark.parametrize("name", ["Nguy\u1ec5n", "Nguye\u0302\u0303n", "Ælfrið", "Ōsaka", "Müller-Lüdenscheidt"])
def test_real_names_with_marks_still_pass(api, applicant, name):
    body = make_declared()
    body["full_name"]["surname"] = name
    reply = api.post("/applications", body, user=applicant)
    assert reply.status in (201, 422), reply.body
    if reply.status == 422:  # refused by a rule of the declaration, never for its characters
        assert reply.error_code == "application_refused", reply.body


def test_a_valid_passport_with_html_appended_is_rejected_not_approved(api, client, applicant):
    from tests.support.documents import passport_bytes
    from tests.support.flows import address_message, s3_event, screen_sanctions, sqs_event, upload_document

    declared = make_declared()
    app_id = api.post("/applications", declared, user=applicant).body["id"]
    key = upload_document(api, applicant, app_id, passport_bytes(declared) + b"<html><script>x()</script></html>")
    client.lambda_.invoke("verify_identity_document", s3_event(client, key))
    client.lambda_.invoke("check_address", sqs_event(client, address_message(app_id)))
    screen_sanctions(client, app_id)
    detail = api.get(f"/applications/{app_id}", user=applicant).body
    assert detail["state"] == "REJECTED", detail
    assert any(r["code"] == "FILE_CORRUPT" for r in detail["decision_reasons"]), detail["decision_reasons"]


def test_the_history_is_paginated_like_the_other_lists_and_each_page_verifies(api, applicant, reviewer):
    from tests.test_review_api import drive

    app_id = api.post("/applications", make_declared(), user=applicant).body["id"]
    drive(app_id)  # FLAGGED: submitted, the document, the four checks' results
    driven = len(api.get(f"/applications/{app_id}/history", user=applicant).body["items"])
    for _ in range(3):
        assert api.get(f"/review/applications/{app_id}", user=reviewer).status == 200  # + three audited reads
    whole = api.get(f"/applications/{app_id}/history", user=applicant).body
    # staff reads are recorded, never shown to the applicant (disclosure.STAFF_WORK)
    assert len(whole["items"]) == driven and whole["next_cursor"] is None and whole["chain_intact"] is True
    seen, cursor = [], None
    while True:
        reply = api.get(f"/applications/{app_id}/history?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                        user=applicant)
        assert reply.status == 200 and len(reply.body["items"]) <= 2 and reply.body["chain_intact"] is True
        seen += reply.body["items"]
        cursor = reply.body["next_cursor"]
        if not cursor:
            break
    from chalicelib.bootstrap import services
    from chalicelib.domain import disclosure

    # every event but those never shown to the applicant (the sanctions check's result, staff reads: tipping off),
    # numbered 1..n among those shown, each with its recorded hash; pages of two, full but the last
    shown = [e.hash for e in services().repository.history(app_id) if disclosure.shown(e.to_dict())]
    assert [e["hash"] for e in seen] == shown and len(shown) == driven and seen == whole["items"]
    assert [e["seq"] for e in seen] == list(range(1, len(shown) + 1))
    b64 = __import__("base64").urlsafe_b64encode
    forged = b64(b'{"n":3,"h":"' + b"0" * 64 + b'"}').decode().rstrip("=")  # not MACed by the server: refused
    recorded_seq = b64(b'{"s":3,"h":"' + b"0" * 64 + b'"}').decode().rstrip("=")  # the cursor before: refused
    for query in ("limit=0", "limit=101", "cursor=bm90LWpzb24", "limit=²", f"cursor={recorded_seq}",
                  f"cursor={forged}"):
        reply = api.get(f"/applications/{app_id}/history?{query}", user=applicant)
        assert reply.status in (400, 422), (query, reply.body)

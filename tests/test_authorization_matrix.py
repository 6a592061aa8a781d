"""The authorisation matrix: every documented route x every kind of caller, each cell its documented status.

Generated from the served OpenAPI document (so a new route joins the matrix
without anyone remembering to add it): an operation without ``security`` is
public; one under ``/review/`` is for reviewers, under ``/operations/`` for
operators; the rest belong to the applicant whose application the path
names. Staff sign in to a user pool of their own: a token of one pool is
refused on the other pool's routes (403 ``wrong_user_pool``), whatever groups
it claims. Every refused cell answers in the one error shape, and the bodies of
"not yours" and "does not exist" are byte-identical apart from the request id:
no existence oracle.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, Callable

import boto3
import pytest

from tests.support.deadlines import REPLY_S
from tests.support.documents import make_declared
from tests.support.identities import PASSWORD, forge, moto_signing_key, random_rsa_key

UNKNOWN = "00000000-0000-4000-8000-000000000000"
STAFF_PREFIXES = {"/review/": "reviewers", "/operations/": "operators"}


# --- the token kinds ---------------------------------------------------------------

def _pool_kid() -> str:
    url = os.environ["COGNITO_JWKS_URL"]
    import urllib.request

    with urllib.request.urlopen(url, timeout=REPLY_S) as r:
        return json.loads(r.read())["keys"][0]["kid"]


def _other_pool_token() -> str:
    """A real token of a real user of another pool of the same Cognito (same signing key in moto)."""
    idp = boto3.client("cognito-idp")
    pool = idp.create_user_pool(PoolName=f"other-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool, ClientName="other",
                                            ExplicitAuthFlows=["USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="someone@example.com", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="someone@example.com", Password=PASSWORD, Permanent=True)
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": "someone@example.com", "PASSWORD": PASSWORD}
                             )["AuthenticationResult"]["IdToken"]


def _hs256_with_public_key() -> str:
    public_pem = moto_signing_key().public_key().public_bytes(
        encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["x"]).Encoding.PEM,
        format=__import__("cryptography.hazmat.primitives.serialization", fromlist=["x"]).PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    payload = {"iss": os.environ["COGNITO_ISSUER"], "sub": str(uuid.uuid4()), "aud": os.environ["USER_POOL_CLIENT_ID"],
               "token_use": "id", "iat": now, "exp": now + 600}
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": _pool_kid()}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def _refresh_token(user) -> str:
    return boto3.client("cognito-idp").initiate_auth(
        ClientId=os.environ["USER_POOL_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.email, "PASSWORD": PASSWORD})["AuthenticationResult"]["RefreshToken"]


def _now() -> int:
    return int(time.time())


BAD_TOKENS: dict[str, Callable[[Any], str | None]] = {
    "anonymous": lambda user: None,
    "malformed": lambda user: "not.a.jwt",
    "expired": lambda user: forge({"sub": user.sub, "iat": _now() - 7200, "exp": _now() - 3600}, kid=_pool_kid()),
    "not-yet-valid-nbf": lambda user: forge({"sub": user.sub, "nbf": _now() + 3600}, kid=_pool_kid()),
    "not-yet-valid-iat": lambda user: forge({"sub": user.sub, "iat": _now() + 3600, "exp": _now() + 7200},
                                            kid=_pool_kid()),
    "forged-key-pool-kid": lambda user: forge({"sub": user.sub}, key=random_rsa_key(), kid=_pool_kid()),
    "alg-none": lambda user: forge({"sub": user.sub}, algorithm="none", kid=_pool_kid()),
    "hs256-public-key": lambda user: _hs256_with_public_key(),
    "wrong-audience": lambda user: forge({"sub": user.sub, "aud": "another-client"}, kid=_pool_kid()),
    "wrong-issuer": lambda user: forge({"sub": user.sub, "iss": "https://cognito-idp.us-east-1.amazonaws.com/"
                                                               "us-east-1_other"}, kid=_pool_kid()),
    "no-token-use": lambda user: forge({"sub": user.sub, "token_use": None}, kid=_pool_kid()),
    "refresh-token-use": lambda user: forge({"sub": user.sub, "token_use": "refresh"}, kid=_pool_kid()),
    "refresh-token": _refresh_token,
    "other-pool": lambda user: _other_pool_token(),
    # the two pools' issuers and app clients crossed: each pool's tokens name its own client
    "staff-issuer-customer-client": lambda user: forge({"sub": user.sub, "aud": os.environ["USER_POOL_CLIENT_ID"]},
                                                       kid=_pool_kid(), pool="staff"),
    "customer-issuer-staff-client": lambda user: forge({"sub": user.sub,
                                                        "aud": os.environ["STAFF_USER_POOL_CLIENT_ID"]},
                                                       kid=_pool_kid()),
}


# --- the routes, from the served document -------------------------------------------------

def documented_operations(api) -> list[tuple[str, str, bool]]:
    document = api.get("/openapi.json").body
    operations = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                operations.append((method.upper(), path, bool(operation.get("security"))))
    return sorted(operations)


def audience(path: str) -> str:
    for prefix, group in STAFF_PREFIXES.items():
        if path.startswith(prefix):
            return group
    return "applicant"


def concrete(path: str, application_id: str) -> str:
    return path.replace("{application_id}", application_id)


#: Valid bodies, so a refusal is about who asks, not what they sent.
BODIES = {"/documents": {"content_type": "image/jpeg"}, "/decision": {"decision": "approve", "reason": "fine"},
          "/biometric-consent": {"text_version": "v1", "accepted": True},
          # issue 20: a sanctions candidate cleared as a false positive; a customer screening case resolved
          "/sanctions/false-positives": {"list": "OFAC-SDN", "entry_id": "16452", "reason": "another person"},
          "/resolution": {"decision": "false_positive", "reason": "another person"}}


def call(api, method: str, path: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = next((b for suffix, b in BODIES.items() if path.endswith(suffix)), {})
    return api.call(method, path, headers=headers, raw=json.dumps(body).encode() if method == "POST" else b"")


def without_request_id(body: Any) -> Any:
    return {k: v for k, v in body.items() if k != "request_id"} if isinstance(body, dict) else body


@pytest.fixture
def victims(api):
    """Applicant B with an application, for the cells where someone else reaches for it."""
    from tests.support.identities import make_user

    owner = make_user()
    reply = api.post("/applications", make_declared(), user=owner)
    assert reply.status == 201, reply.body
    return owner, reply.body["id"]


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_every_protected_operation_refuses_every_bad_token_with_the_same_401(api, applicant, victims, kind):
    _, application_id = victims
    token = BAD_TOKENS[kind](applicant)
    bodies = set()
    protected = [(m, p) for m, p, secured in documented_operations(api) if secured]
    assert protected
    for method, path in protected:
        for target in (application_id, UNKNOWN):
            reply = call(api, method, concrete(path, target), token)
            assert reply.status == 401, (kind, method, path, reply.status, reply.body)
            assert reply.body["error"]["code"] == "unauthorized"
            if token:
                assert token not in json.dumps(reply.body)
            bodies.add(json.dumps(without_request_id(reply.body), sort_keys=True))
    assert len(bodies) == 1, bodies


def test_public_operations_answer_everyone(api):
    public = [(m, p) for m, p, secured in documented_operations(api) if not secured]
    assert ("GET", "/health") in public and ("GET", "/openapi.json") in public
    for method, path in public:
        for token in (None, "garbage", BAD_TOKENS["expired"](type("U", (), {"sub": "x"}))):
            reply = call(api, method, path, token)  # a templated public path ({asset}) may answer 404
            assert reply.status in ((200, 503) if "{" not in path else (200, 404, 503)), (method, path, reply.status)
            assert reply.status != 401


def test_applicant_a_on_bs_resources_gets_what_an_unknown_id_gets(api, applicant, victims):
    _, application_id = victims
    for method, path, secured in documented_operations(api):
        if not secured or "{application_id}" not in path or audience(path) != "applicant":
            continue
        theirs = call(api, method, concrete(path, application_id), applicant.token)
        unknown = call(api, method, concrete(path, UNKNOWN), applicant.token)
        assert theirs.status == unknown.status == 404, (method, path, theirs.status, theirs.body)
        assert without_request_id(theirs.body) != {} and json.dumps(without_request_id(theirs.body)).replace(
            application_id, "ID") == json.dumps(without_request_id(unknown.body)).replace(UNKNOWN, "ID")


def test_applicants_get_403_on_every_staff_operation(api, applicant, victims):
    _, application_id = victims
    for method, path, secured in documented_operations(api):
        if secured and audience(path) != "applicant":
            for target in (application_id, UNKNOWN):
                reply = call(api, method, concrete(path, target), applicant.token)
                assert reply.status == 403 and reply.body["error"]["code"] == "wrong_user_pool", (method, path, reply)
                assert reply.body["error"]["details"] == {"token_pool": "customer", "required_pool": "staff"}


# --- tokens across the two pools ------------------------------------------------------------------


def _token_of(groups: tuple[str, ...], pool: str) -> str:
    """A real user of ``pool`` in ``groups`` (a customer-pool ``reviewers`` group made for the test)."""
    from tests.support.identities import make_user

    return make_user(groups, pool=pool).token


CROSS_POOL_CALLERS: dict[str, tuple[str, Callable[[], str]]] = {
    # kind: (the pool of its token, how to get one)
    "customer-in-a-reviewers-group": ("customer", lambda: _token_of(("reviewers",), "customer")),
    "customer-forged-staff-claims": ("customer", lambda: forge({"cognito:groups": ["operators", "reviewers"],
                                                                "cognito:username": "nobody"}, kid=_pool_kid())),
    "staff-reviewer": ("staff", lambda: _token_of(("reviewers",), "staff")),
    "staff-operator": ("staff", lambda: _token_of(("operators",), "staff")),
    "staff-without-group": ("staff", lambda: _token_of((), "staff")),
}


@pytest.mark.parametrize("kind", CROSS_POOL_CALLERS)
def test_each_pools_tokens_only_on_its_own_routes(api, victims, kind):
    """Every secured operation: the other pool's token gets 403 wrong_user_pool, for any id, before anything is read."""
    pool, token_for = CROSS_POOL_CALLERS[kind]
    token = token_for()
    _, application_id = victims
    crossed = 0
    for method, path, secured in documented_operations(api):
        if not secured:
            continue
        required = "customer" if audience(path) == "applicant" else "staff"
        for target in (application_id, UNKNOWN):
            reply = call(api, method, concrete(path, target), token)
            if required != pool:
                crossed += 1
                assert reply.status == 403, (kind, method, path, reply.status, reply.body)
                assert reply.body["error"]["code"] == "wrong_user_pool", (kind, method, path, reply.body)
                assert reply.body["error"]["details"] == {"token_pool": pool, "required_pool": required}
            elif kind == "staff-without-group":
                assert reply.status == 403 and reply.body["error"]["code"] == "forbidden", (method, path, reply)
    assert crossed > 0


def test_reviewers_get_403_on_operator_operations(api, reviewer, victims):
    _, application_id = victims
    for method, path, secured in documented_operations(api):
        if secured and audience(path) == "operators":
            reply = call(api, method, concrete(path, application_id), reviewer.token)
            assert reply.status == 403, (method, path, reply.status)


def test_operators_cannot_decide_applications(api, victims):
    from tests.support.identities import make_user

    operator = make_user(("operators",))
    _, application_id = victims
    reply = api.post(f"/review/applications/{application_id}/decision", {"decision": "approve", "reason": "x"},
                     user=operator)
    assert reply.status == 403 and reply.body["error"]["code"] == "forbidden"


def test_a_reviewer_removed_from_the_group_loses_staff_rights_with_the_same_token(api, victims):
    from tests.support.identities import make_user

    reviewer = make_user(("reviewers",))
    assert api.get("/review/queue", user=reviewer).status == 200
    boto3.client("cognito-idp").admin_remove_user_from_group(
        UserPoolId=os.environ["STAFF_USER_POOL_ID"], Username=reviewer.email, GroupName="reviewers")
    _, application_id = victims
    from tests.support.identities import staff_bound_passed

    with staff_bound_passed():  # within the removal bound (docs/security.md)
        for method, path, secured in documented_operations(api):
            if secured and audience(path) == "reviewers":
                reply = call(api, method, concrete(path, application_id), reviewer.token)
                assert reply.status == 403, (method, path, reply.status, reply.body)


# --- staff routes x application states x who decided it ------------------------------------------------
# A reviewer sees an application only while it is in review (FLAGGED) or when they decided it; every
# reviewer route applies that one rule (the detail, the document, the decision), and anything else is
# the 404 of an unknown id: same status, same body, no state, no "no document" -- no oracle. Operators
# get 403 on every reviewer route; reviewers 403 on every operator route.

def _with_document(api, owner) -> tuple[str, str]:
    """An application whose document is really in the bucket (a presigned POST), recorded as received, with
    the applicant's selfie (so the reviewer's selfie route has one to link, issue 17)."""
    from chalicelib.domain.workflow import intake
    from tests.support.flows import create_application, selfie_at, upload_document
    from tests.test_review_api import service

    app_id = create_application(api, owner)
    key = upload_document(api, owner, app_id)
    svc = service()
    assert svc.apply_with_retry(app_id, lambda a: intake.receive_document(a, key, 4096, svc.clock()))
    selfie_at(app_id)
    return app_id, key


def _checked(app_id: str, identity: str) -> str:
    from tests.test_review_api import record

    record(app_id, "address", "PASS")
    record(app_id, "sanctions", "PASS")
    record(app_id, "face", "PASS")
    return record(app_id, "identity", identity).state.value


@pytest.fixture(scope="module")
def staff_world(client):
    """One application in every state (two decided by reviewer R1), R1, R2 who decided nothing, an operator."""
    import datetime as dt

    from chalicelib.domain.workflow import lifecycle
    from chalicelib.domain.policy import Policy
    from tests.conftest import Api
    from tests.support.identities import make_user
    from tests.test_review_api import decide, service

    api = Api(client)
    owner = make_user()
    r1, r2, operator = make_user(("reviewers",)), make_user(("reviewers",)), make_user(("operators",))
    apps: dict[str, str] = {}
    apps["AWAITING_DOCUMENTS"] = api.post("/applications", make_declared(), user=owner).body["id"]
    apps["VERIFYING"], _ = _with_document(api, owner)
    for label, identity, want in (("FLAGGED", "REVIEW", "FLAGGED"), ("APPROVED-auto", "PASS", "APPROVED"),
                                  ("REJECTED-auto", "FAIL", "REJECTED"), ("APPROVED-by-R1", "REVIEW", "FLAGGED"),
                                  ("REJECTED-by-R1", "REVIEW", "FLAGGED")):
        apps[label], _ = _with_document(api, owner)
        assert _checked(apps[label], identity) == want
    assert decide(api, r1, apps["APPROVED-by-R1"], "approve").status == 200
    assert decide(api, r1, apps["REJECTED-by-R1"], "reject").status == 200
    other = make_user()  # an applicant may create only so many applications a day
    apps["WITHDRAWN"] = api.post("/applications", make_declared(), user=other).body["id"]
    assert api.post(f"/applications/{apps['WITHDRAWN']}/withdraw", {}, user=other).status == 200
    apps["EXPIRED"] = api.post("/applications", make_declared(), user=other).body["id"]
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    assert service().apply_with_retry(apps["EXPIRED"], lambda a: lifecycle.expire(a, Policy(), later))
    return {"api": api, "owner": owner, "apps": apps, "R1": r1, "R2": r2, "operator": operator}


def _visible(label: str, who: str) -> bool:
    return label == "FLAGGED" or (label.endswith("-by-R1") and who == "R1")


def _expected(method: str, path: str, label: str, who: str) -> int:
    if who == "operator":
        return 403
    if not _visible(label, who):
        return 404
    if path.endswith("/sanctions/false-positives"):
        return 404  # one it may read, whose screening names no such entry: no_such_candidate (below)
    if path.endswith("/decision") or (path.endswith("/claim") and method == "POST"):
        return 409 if label != "FLAGGED" else 200  # a decided case cannot be claimed (its decider learns why)
    return 200  # releasing a claim one does not hold on a case one may see: nothing to do


STATE_LABELS = ("AWAITING_DOCUMENTS", "VERIFYING", "FLAGGED", "APPROVED-auto", "REJECTED-auto", "APPROVED-by-R1",
                "REJECTED-by-R1", "WITHDRAWN", "EXPIRED")


@pytest.mark.parametrize("who", ["R1", "R2", "operator"])
def test_every_reviewer_route_applies_the_detail_routes_rule_in_every_state(staff_world, who):
    api, apps = staff_world["api"], staff_world["apps"]
    user = staff_world[who]
    routes = [(m, p) for m, p, secured in documented_operations(api)
              if secured and audience(p) == "reviewers" and "{application_id}" in p]
    assert {p.rsplit("/", 1)[-1] for _, p in routes} >= {"{application_id}", "document", "decision"}
    # the decision last: on FLAGGED it decides (a fresh FLAGGED application per caller, below)
    routes.sort(key=lambda route: route[1].endswith("/decision"))
    for method, path in routes:
        unknown = call(api, method, concrete(path, UNKNOWN), user.token)
        assert unknown.status == (403 if who == "operator" else 404), (method, path, unknown.body)
        for label in STATE_LABELS:
            app_id = apps[label]
            if label == "FLAGGED" and path.endswith(("/decision", "/claim")) and who != "operator":
                from tests.support.identities import make_user

                app_id, _ = _with_document(api, make_user())
                assert _checked(app_id, "REVIEW") == "FLAGGED"
            reply = call(api, method, concrete(path, app_id), user.token)
            want = _expected(method, path, label, who)
            assert reply.status == want, (who, method, path, label, reply.status, reply.body)
            if want == 404 and path.endswith("/sanctions/false-positives") and _visible(label, who):
                assert reply.body["error"]["code"] == "no_such_candidate", (label, reply.body)  # may read it
            elif want == 404:  # exactly what an unknown id gets: no state, no "no document", no id
                assert without_request_id(reply.body) == without_request_id(unknown.body), (method, path, label)
            if want == 409:  # the decider may learn the state of what they decided
                assert reply.body["error"]["code"] == "illegal_transition"
            if want == 200 and path.endswith("/document"):
                assert reply.body["url"] and reply.body["content_type"] == "image/jpeg"


@pytest.mark.parametrize("who", ["R1", "R2", "operator"])
def test_every_staff_route_without_an_application_is_for_its_own_group(staff_world, who):
    api, user = staff_world["api"], staff_world[who]
    routes = [(m, p) for m, p, secured in documented_operations(api)
              if secured and audience(p) != "applicant" and "{application_id}" not in p]
    assert ("GET", "/review/queue") in routes and ("GET", "/operations/workflow") in routes
    for method, path in routes:
        concrete_path = path.replace("{name}", "address-check")
        reply = call(api, method, concrete_path, user.token)
        group = "operators" if who == "operator" else "reviewers"
        want = 200 if audience(path) == group else 403
        if want == 200 and "{case_id}" in path:  # a customer screening case (issue 20): none of that id
            want = 404
        assert reply.status == want, (who, method, path, reply.status, reply.body)
        if want == 403:
            assert reply.body["error"]["code"] == "forbidden"


# --- four eyes: sanctions hits need two different reviewers ----------------------------------------

def _sanctions_flagged(api, applicant) -> str:
    from tests.test_review_api import create_via_api, drive

    app_id = create_via_api(api, applicant)
    assert drive(app_id, identity="PASS", sanctions="REVIEW").state.value == "FLAGGED"
    return app_id


def _decide(api, user, app_id: str, decision: str, reason: str = "looked at the match"):
    return api.post(f"/review/applications/{app_id}/decision", {"decision": decision, "reason": reason}, user=user)


def _events(app_id: str):
    from tests.test_review_api import history

    return [e for e in history(app_id) if e.type.value in ("review.recommended", "application.approved",
                                                             "application.rejected")]


def test_a_sanctions_hit_needs_two_different_reviewers_to_approve(api, applicant):
    from tests.support.identities import make_user

    first, second = make_user(("reviewers",)), make_user(("reviewers",))
    app_id = _sanctions_flagged(api, applicant)
    recommended = _decide(api, first, app_id, "approve", "a namesake: other birth date")
    assert recommended.status == 200, recommended.body
    assert recommended.body["state"] == "FLAGGED"  # a recommendation, not a decision
    review = recommended.body["review"]
    assert review["needs_second_review"] and review["awaiting_second_review"]
    assert review["recommendation"]["decision"] == "approve" and review["recommendation"]["by"] == first.email
    # The first cannot also be the second, however they try.
    for decision in ("approve", "reject"):
        again = _decide(api, first, app_id, decision)
        assert again.status == 409 and again.error_code == "second_reviewer_required", again.body
    # Other reviewers see it awaiting a second reviewer: in the detail and in the queue's view of those.
    detail = api.get(f"/review/applications/{app_id}", user=second).body
    assert detail["review"]["awaiting_second_review"] and detail["review"]["recommendation"]["mine"] is False
    waiting = api.get("/review/queue?status=second_review&limit=100&q=" + app_id[:8], user=second)
    assert [row["id"] for row in waiting.body["items"]] == [app_id]
    confirmed = _decide(api, second, app_id, "approve", "agree: not the listed person")
    assert confirmed.status == 200 and confirmed.body["state"] == "APPROVED", confirmed.body
    # Both are in the history, the second naming the first.
    recommendation, approval = _events(app_id)
    assert recommendation.type.value == "review.recommended" and recommendation.actor == f"reviewer:{first.sub}"
    assert recommendation.details["reviewer_email"] == first.email
    assert approval.type.value == "application.approved" and approval.actor == f"reviewer:{second.sub}"
    assert approval.details["recommended_by"] == first.email and approval.details["confirms"] is True
    # The applicant sees the decision, never the recommendation (four eyes are for sanctions cases: that the
    # case awaited a second reviewer would tell them of the screening; domain/disclosure.py).
    seen = api.get(f"/applications/{app_id}/history", user=applicant).body["items"]
    assert "review.recommended" not in [e["type"] for e in seen]
    shown = next(e for e in seen if e["type"] == "application.approved")
    assert shown["actor"] == "reviewer" and shown["details"] == {"decision": "approve"}
    # The recommender took part in deciding: they may read it afterwards; an uninvolved reviewer may not.
    assert api.get(f"/review/applications/{app_id}", user=first).status == 200
    assert api.get(f"/review/applications/{app_id}", user=make_user(("reviewers",))).status == 404


def test_a_second_reviewer_overturns_a_recommendation(api, applicant):
    from tests.support.identities import make_user

    first, second = make_user(("reviewers",)), make_user(("reviewers",))
    # Recommended approval, overturned: rejected at once (a rejection by the second reviewer is final).
    rejected = _sanctions_flagged(api, applicant)
    assert _decide(api, first, rejected, "approve").body["state"] == "FLAGGED"
    overturned = _decide(api, second, rejected, "reject", "it is the listed person")
    assert overturned.status == 200 and overturned.body["state"] == "REJECTED"
    assert _events(rejected)[-1].details["confirms"] is False
    # Recommended rejection, overturned to approve: that becomes the standing recommendation, for another
    # reviewer to confirm (an approval always has two reviewers who approved).
    approved = _sanctions_flagged(api, applicant)
    assert _decide(api, first, approved, "reject").body["state"] == "FLAGGED"
    turned = _decide(api, second, approved, "approve", "a namesake")
    assert turned.status == 200 and turned.body["state"] == "FLAGGED"
    assert turned.body["review"]["recommendation"]["by"] == second.email
    assert _events(approved)[-1].details["overturns"]["reviewer_email"] == first.email
    assert _decide(api, second, approved, "approve").error_code == "second_reviewer_required"
    final = _decide(api, first, approved, "approve", "on reflection, agreed")
    assert final.status == 200 and final.body["state"] == "APPROVED"


def test_a_case_without_a_sanctions_hit_is_decided_by_one_reviewer(api, applicant, reviewer):
    from tests.test_review_api import flagged_via_api

    app_id = flagged_via_api(api, applicant)  # flagged for the identity check only
    detail = api.get(f"/review/applications/{app_id}", user=reviewer).body
    assert detail["review"]["needs_second_review"] is False
    decided = _decide(api, reviewer, app_id, "approve")
    assert decided.status == 200 and decided.body["state"] == "APPROVED" and decided.body["review"] is None


@pytest.mark.parametrize("second_email", ["ana+second@bank.example", "ANA@bank.example", "аna@bank.example"])
def test_the_second_reviewer_cannot_be_the_first_under_another_mailbox_spelling(second_email):
    """Four eyes compares mailboxes as the self-decision rule does (a +tag, case, a Cyrillic а)."""
    import datetime as dt

    from chalicelib.domain.workflow.review import decide
    from chalicelib.domain.workflow.application import Application
    from chalicelib.domain.workflow.states import State
    from chalicelib.domain.workflow.errors import SecondReviewerRequired

    def flagged_application(reasons):
        return Application("a-1", "applicant-sub", State.FLAGGED, 3, "2026-12-01T00:00:00Z",
                           "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z",
                           {"email": "applicant@example.com"}, decision_reasons=reasons)

    app = flagged_application(reasons=({"check": "sanctions", "code": "SANCTIONS_POSSIBLE_MATCH"},))
    now = dt.datetime(2026, 12, 6, tzinfo=dt.timezone.utc)
    first = decide(app, True, "sub-1", "namesake", now, "ana@bank.example", second_review_for={"SANCTIONS"})
    assert first.after.state is State.FLAGGED
    with pytest.raises(SecondReviewerRequired):
        decide(first.after, True, "sub-2", "agree", now, second_email, second_review_for={"SANCTIONS"})
    # Another check named in the setting needs four eyes too; none named: one reviewer decides.
    identity_case = flagged_application(reasons=({"check": "identity", "code": "MRZ_DOUBT"},))
    assert decide(identity_case, True, "sub-1", "ok", now, "ana@bank.example",
                  second_review_for={"IDENTITY"}).after.state is State.FLAGGED
    assert decide(app, True, "sub-1", "ok", now, "ana@bank.example",
                  second_review_for=()).after.state is State.APPROVED

"""A reviewer never decides their own application, judged on facts the applicant cannot type.

Through the API, against the test Cognito: the applicant's own customer-pool account (found by the
sub that applied) and the staff member's verified e-mail in the staff pool (looked up: an access token
carries no e-mail claim) are compared as mailboxes (domain/emails.py). A staff member whose e-mail the
staff pool has not verified may not decide at all.
"""
from __future__ import annotations

import os
import uuid

import boto3
import jwt

from tests.support.identities import PASSWORD, User, signed_in_tokens
from tests.test_review_api import decide, drive, history

def _user(pool: str, email: str, groups: tuple[str, ...] = (), verified: bool = True) -> User:
    idp = boto3.client("cognito-idp")
    prefix = "STAFF_" if pool == "staff" else ""
    pool_id, client_id = os.environ[f"{prefix}USER_POOL_ID"], os.environ[f"{prefix}USER_POOL_CLIENT_ID"]
    attributes = [{"Name": "email", "Value": email}] + (
        [{"Name": "email_verified", "Value": "true"}] if verified else [])
    idp.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS", UserAttributes=attributes)
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    tokens = signed_in_tokens(pool, pool_id, client_id, email)
    sub = jwt.decode(tokens["IdToken"], options={"verify_signature": False})["sub"]
    return User(email, sub, tokens["IdToken"], tokens["AccessToken"], groups, pool)


def _with_access_token(user: User) -> User:
    """The same user calling with their access token (no e-mail claim)."""
    return User(user.email, user.sub, user.access_token, user.access_token, user.groups, user.pool)


def _flagged_by(api, applicant: User, declared_email: str) -> str:
    from tests.support.documents import make_declared

    reply = api.post("/applications", make_declared(email=declared_email), user=applicant)
    assert reply.status == 201, reply.body
    assert drive(reply.body["id"]).state.value == "FLAGGED"
    return reply.body["id"]


def test_with_an_access_token_a_reviewer_cannot_decide_their_own_application_under_any_disguise(api):
    name = f"reviewer{uuid.uuid4().hex[:8]}"
    applicant = _user("customer", f"{name.upper()}+private@Bank.Example")  # their own account, as a customer
    staff = _user("staff", f"{name}@bank.example", ("reviewers",))
    app_id = _flagged_by(api, applicant, declared_email="someone.else@other.example")  # the form is no clue
    before = len(history(app_id))
    reply = decide(api, _with_access_token(staff), app_id)
    assert reply.status == 403 and reply.error_code == "forbidden", reply.body
    assert "own application" in reply.body["error"]["message"]
    assert len(history(app_id)) == before
    colleague = _user("staff", f"colleague-{uuid.uuid4().hex[:8]}@bank.example", ("reviewers",))
    reply = decide(api, _with_access_token(colleague), app_id)
    assert reply.status == 200, reply.body
    decided = history(app_id)[-1]
    assert decided.details["reviewer_email"] == colleague.email  # from the staff pool, not a token claim


def test_the_declared_email_disguised_with_a_look_alike_is_recognised_too(api, applicant):
    name = f"reviewer{uuid.uuid4().hex[:8]}"
    staff = _user("staff", f"{name}@bank.example", ("reviewers",))
    disguised = name.replace("e", "\u0435", 1) + "+x@bank.example"  # a Cyrillic e, a tag
    app_id = _flagged_by(api, applicant, declared_email=disguised)
    reply = decide(api, _with_access_token(staff), app_id)
    assert reply.status == 403 and reply.error_code == "forbidden", reply.body


def test_a_staff_member_whose_email_is_not_verified_may_not_decide(api, applicant):
    unverified = _user("staff", f"new-{uuid.uuid4().hex[:8]}@bank.example", ("reviewers",), verified=False)
    app_id = _flagged_by(api, applicant, declared_email="applicant@example.com")
    for user in (unverified, _with_access_token(unverified)):
        reply = decide(api, user, app_id)
        assert reply.status == 403 and reply.error_code == "staff_email_unverified", reply.body
    assert api.get(f"/review/applications/{app_id}", user=unverified).status == 200  # reading is not deciding
    assert history(app_id)[-1].type.value == "review.viewed"

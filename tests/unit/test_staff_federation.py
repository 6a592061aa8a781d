"""Corporate sign-in for staff (issue 21): the provider's groups become the staff pool's, on the fakes."""

from __future__ import annotations

import pytest

from chalicelib.adapters.memory import InMemoryGroupMembership, StaticProviderTokens
from chalicelib.domain.federation import (
    REFRESH,
    SIGN_IN,
    FederationPolicy,
    FederationRefused,
    GroupMapping,
    InvalidGroupMapping,
    TokenGeneration,
    claim_values,
)
from chalicelib.services.federation import StaffFederation

MAPPING = "reviewers=kyc-reviewers|0f3a-guid;operators=kyc-operations"


def federation(require_mfa: bool = True, members: dict | None = None):
    tokens, membership = StaticProviderTokens(), InMemoryGroupMembership(members or {})
    policy = FederationPolicy("Corporate", GroupMapping.parse(MAPPING), require_mfa)
    return StaffFederation(policy, tokens, membership), tokens, membership


def sign_in(token: str | None, username: str = "Corporate_rita", kind: str = SIGN_IN, provider: str | None = "Corporate",
            current: frozenset[str] = frozenset()) -> TokenGeneration:
    return TokenGeneration(username, kind, provider, token, current)


def test_the_providers_groups_become_the_pools_added_and_removed_and_the_tokens():
    service, tokens, membership = federation(members={"Corporate_rita": {"operators", "someone-elses-group"}})
    token = tokens.issue("rita", ("0f3a-guid", "all-staff"))
    assert service.on_token_generation(sign_in(token)) == {"reviewers"}
    assert membership.groups_of("Corporate_rita") == {"reviewers", "someone-elses-group"}  # non-staff groups kept
    assert membership.changes == [("add", "Corporate_rita", "reviewers"), ("remove", "Corporate_rita", "operators")]
    assert service.on_token_generation(sign_in(tokens.issue("rita", ("0f3a-guid",)))) == {"reviewers"}
    assert len(membership.changes) == 2  # signing in again changes nothing


def test_someone_the_provider_put_in_no_staff_group_gets_none_and_loses_what_they_had():
    service, tokens, membership = federation(members={"Corporate_rita": {"reviewers"}})
    assert service.on_token_generation(sign_in(tokens.issue("rita", ("all-staff",)))) == frozenset()
    assert membership.groups_of("Corporate_rita") == frozenset()


def test_a_refresh_keeps_the_pool_as_it_is_now_and_the_pools_own_users_are_left_alone():
    service, tokens, membership = federation(members={"Corporate_rita": {"reviewers"}})
    token = tokens.issue("rita", ())
    assert service.on_token_generation(sign_in(token, kind=REFRESH)) is None  # an operator's change is not undone
    assert service.on_token_generation(sign_in(None, username="1b2c", provider=None)) is None
    assert service.on_token_generation(sign_in(token, provider="Google")) is None
    assert membership.groups_of("Corporate_rita") == {"reviewers"} and membership.changes == []


@pytest.mark.parametrize("why, request_for", [
    ("MFA", lambda tokens: sign_in(tokens.issue("rita", ("kyc-reviewers",), ("pwd",)))),
    ("not this user's", lambda tokens: sign_in(tokens.issue("mallory", ("kyc-reviewers",)))),
    ("refused", lambda tokens: sign_in("forged-token")),
    ("not mapped", lambda tokens: sign_in(None)),
])
def test_a_sign_in_that_must_not_become_a_staff_session_is_refused_and_changes_nothing(why, request_for):
    service, tokens, membership = federation(members={"Corporate_rita": {"operators"}})
    with pytest.raises(FederationRefused, match=why):
        service.on_token_generation(request_for(tokens))
    assert membership.groups_of("Corporate_rita") == {"operators"} and membership.changes == []


def test_mfa_at_the_provider_can_be_left_to_it_when_the_stage_says_so():
    service, tokens, _ = federation(require_mfa=False)
    assert service.on_token_generation(sign_in(tokens.issue("rita", ("kyc-operations",), ("pwd",)))) == {"operators"}


@pytest.mark.parametrize("value, expected", [
    (["a", "b"], {"a", "b"}),
    ('["a", "b"]', {"a", "b"}),
    ("[a, b]", {"a", "b"}),  # Cognito's rendering of a list claim in an attribute
    ("a,b", {"a", "b"}),
    ("a", {"a"}),
    ("", set()),
    (None, set()),
    ("[]", set()),
])
def test_claim_values_whatever_shape_the_provider_sent(value, expected):
    assert claim_values(value) == expected


@pytest.mark.parametrize("text", ["admins=kyc", "reviewers=", "reviewers"])
def test_a_mapping_naming_no_staff_group_or_no_provider_group_is_refused(text):
    with pytest.raises(InvalidGroupMapping):
        GroupMapping.parse(text)

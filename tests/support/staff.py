"""The staff pool's pre-token-generation trigger event, as Cognito sends it (issue 21): what the staff sign-in
and IAM tests invoke ``staff_token_groups`` with (it was tests/test_staff_sign_in.py's)."""
from __future__ import annotations

import json
from typing import Any


def trigger_event(username: str, token: str | None, source: str = "TokenGeneration_HostedAuth",
                  provider: str | None = "Corporate") -> dict[str, Any]:
    attributes = {"sub": "5b1f", "email": "rita@bank.example", "cognito:user_status": "EXTERNAL_PROVIDER"}
    if provider:
        attributes["identities"] = json.dumps([{"userId": username.split("_", 1)[-1], "providerName": provider,
                                                "providerType": "OIDC", "primary": "true"}])
    if token:
        attributes["custom:idp_id_token"] = token
    return {"version": "1", "triggerSource": source, "region": "us-east-1", "userPoolId": "us-east-1_x",
            "userName": username, "callerContext": {"clientId": "c"},
            "request": {"userAttributes": attributes, "groupConfiguration": {"groupsToOverride": []}},
            "response": {"claimsOverrideDetails": None}}

"""Give someone a staff role on a stage: reviewer or operator.

    python -m scripts.invite_staff --stage dev --email ana@bank.example --group reviewers

With a corporate identity provider (the stage's ``StaffOidcIssuer``; issue 21)
nobody is created in the staff pool: the bank's provider decides who is staff.
The script says which provider group grants the role (the stage's
``StaffProviderGroups``) -- the provider's administrator adds the person there;
at their first sign-in through the console the staff pool makes them a user in
that role. Without a provider, the person is invited into the staff pool:
Cognito e-mails a temporary password, the first sign-in (the pool's managed
login) sets a password and enrols an authenticator app. Either way the address
is subscribed to the topic that role is alerted on (reviewers: review-SLA
escalations; operators: alarms); SNS asks the person to confirm. Names come
from the stage's recorded outputs (.chalice/stages/<stage>.json, written by
scripts/deploy.py).
"""
from __future__ import annotations

import argparse
from typing import Any

from scripts.chalice_stage import load_overlay
from scripts.deploy import ROOT

TOPIC_OF_GROUP = {"reviewers": "ESCALATIONS_TOPIC_ARN", "operators": "ALARMS_TOPIC_ARN"}


def invite(env: dict[str, str], email: str, group: str, cognito: Any, sns: Any) -> dict[str, str]:
    """Create the staff user (Cognito sends the invitation), add it to ``group``, subscribe its e-mail."""
    if group not in TOPIC_OF_GROUP:
        raise ValueError(f"group must be one of {sorted(TOPIC_OF_GROUP)}")
    subscription = sns.subscribe(TopicArn=env[TOPIC_OF_GROUP[group]], Protocol="email", Endpoint=email,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
    if env.get("STAFF_IDENTITY_PROVIDER"):  # the bank's provider decides: nothing to create in the pool
        from chalicelib.domain.federation import GroupMapping

        granting = sorted(GroupMapping.parse(env.get("STAFF_PROVIDER_GROUPS", "")).grants.get(group, ()))
        return {"username": "", "subscription": subscription, "provider": env["STAFF_IDENTITY_PROVIDER"],
                "provider_groups": ", ".join(granting)}
    pool = env["STAFF_USER_POOL_ID"]
    user = cognito.admin_create_user(UserPoolId=pool, Username=email, DesiredDeliveryMediums=["EMAIL"],
                                     UserAttributes=[{"Name": "email", "Value": email},
                                                     {"Name": "email_verified", "Value": "true"}])["User"]
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=user["Username"], GroupName=group)
    return {"username": user["Username"], "subscription": subscription}


def main(argv: list[str] | None = None) -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--email", required=True)
    parser.add_argument("--group", required=True, choices=sorted(TOPIC_OF_GROUP))
    args = parser.parse_args(argv)
    env = load_overlay(ROOT, args.stage).get("environment_variables")
    if not env:
        raise SystemExit(f"stage {args.stage} has no recorded outputs: run scripts/deploy.py --stage {args.stage}")
    session = boto3.session.Session()
    invited = invite(env, args.email, args.group, session.client("cognito-idp"), session.client("sns"))
    if invited.get("provider"):
        print(f"{args.email}: ask the administrator of the corporate identity provider to add them to "
              f"{invited['provider_groups']} (the provider group that makes a {args.group[:-1]}); they become one at "
              "their first sign-in through the console. E-mail alerts pending their confirmation.")
    else:
        print(f"invited {args.email} to {args.group} ({invited['username']}); e-mail alerts pending confirmation")


if __name__ == "__main__":
    main()

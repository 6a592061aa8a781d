"""Provisioners for the template's identities: Cognito user pools, clients and groups, identity pools
and their roles, and IAM roles (issue 17: the liveness check's streaming credentials).

Registered into :data:`devstack.provision_registry.PROVISIONERS` (devstack/provision.py imports this module
for that): each creates its resource in moto with the call CloudFormation would make, and refuses a
property it does not know.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from .provision_registry import Context, Created, UnsupportedResource, provisioner, tags_list, updater

log = logging.getLogger("devstack")

# --- Cognito ------------------------------------------------------------------------

_USER_POOL_PROPERTIES = {
    "Policies", "UsernameAttributes", "AliasAttributes", "AutoVerifiedAttributes", "Schema",
    "MfaConfiguration", "AdminCreateUserConfig", "AccountRecoverySetting",
    "UsernameConfiguration", "EmailConfiguration", "VerificationMessageTemplate",
    "DeletionProtection", "UserPoolTags", "UserAttributeUpdateSettings", "LambdaConfig", "UserPoolTier"}


@provisioner("AWS::Cognito::UserPool", _USER_POOL_PROPERTIES | {"UserPoolName", "EnabledMfas"})
def _cognito_user_pool(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in _USER_POOL_PROPERTIES & set(props)}
    request["PoolName"] = props.get("UserPoolName") or context.physical_name(logical_id)
    cognito = context.client("cognito-idp")
    pool = cognito.create_user_pool(**request)["UserPool"]
    mfas = set(props.get("EnabledMfas", []))
    if props.get("MfaConfiguration", "OFF") != "OFF":
        unknown = mfas - {"SOFTWARE_TOKEN_MFA"}
        if unknown or not mfas:
            raise UnsupportedResource(f"{logical_id}: devstack supports EnabledMfas [SOFTWARE_TOKEN_MFA] only")
        cognito.set_user_pool_mfa_config(UserPoolId=pool["Id"], MfaConfiguration=props["MfaConfiguration"],
                                         SoftwareTokenMfaConfiguration={"Enabled": True})
    provider = f"cognito-idp.{context.region}.amazonaws.com/{pool['Id']}"
    return Created(ref=pool["Id"], attributes={
        "Arn": pool["Arn"], "UserPoolId": pool["Id"],
        "ProviderName": provider, "ProviderURL": f"https://{provider}"})


@updater("AWS::Cognito::UserPool")
def _update_user_pool(context: Context, logical_id: str, props: dict[str, Any], created: Created) -> Created:
    """UpdateUserPool with every property, as CloudFormation sends it (what is left out is reset)."""
    cognito = context.client("cognito-idp")
    before = cognito.describe_user_pool(UserPoolId=created.ref)["UserPool"]
    known = {attribute["Name"].removeprefix("custom:") for attribute in before.get("SchemaAttributes", [])}
    added = [attribute for attribute in props.get("Schema", []) if attribute["Name"] not in known]
    if added:
        cognito.add_custom_attributes(UserPoolId=created.ref, CustomAttributes=added)
    request = {key: props[key] for key in _USER_POOL_PROPERTIES & set(props)
               if key not in ("Schema", "UsernameAttributes", "AliasAttributes", "UsernameConfiguration")}
    request["LambdaConfig"] = props.get("LambdaConfig", {})
    cognito.update_user_pool(UserPoolId=created.ref, **request)
    return created


_CLIENT_PROPERTIES = {
    "UserPoolId", "GenerateSecret", "ExplicitAuthFlows", "AccessTokenValidity",
    "IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits", "AllowedOAuthFlows",
    "AllowedOAuthScopes", "AllowedOAuthFlowsUserPoolClient", "CallbackURLs", "LogoutURLs",
    "DefaultRedirectURI", "SupportedIdentityProviders", "PreventUserExistenceErrors",
    "ReadAttributes", "WriteAttributes", "EnableTokenRevocation", "AuthSessionValidity",
    "EnablePropagateAdditionalUserContextData"}


@provisioner("AWS::Cognito::UserPoolClient", _CLIENT_PROPERTIES | {"ClientName"})
def _cognito_client(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = _client_request(props)
    request["ClientName"] = props.get("ClientName") or context.physical_name(logical_id)
    client = context.client("cognito-idp").create_user_pool_client(**request)["UserPoolClient"]
    attributes = {"ClientId": client["ClientId"], "Name": client["ClientName"], "UserPoolId": props["UserPoolId"]}
    if client.get("ClientSecret"):
        attributes["ClientSecret"] = client["ClientSecret"]
    return Created(ref=client["ClientId"], attributes=attributes)


def _client_request(props: dict[str, Any]) -> dict[str, Any]:
    request = {key: props[key] for key in _CLIENT_PROPERTIES & set(props)}
    for key in ("AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity", "AuthSessionValidity"):
        if key in request:
            request[key] = int(request[key])
    for key in ("GenerateSecret", "AllowedOAuthFlowsUserPoolClient", "EnableTokenRevocation",
                "EnablePropagateAdditionalUserContextData"):
        if key in request and not isinstance(request[key], bool):
            request[key] = str(request[key]).lower() == "true"
    return request


@updater("AWS::Cognito::UserPoolClient")
def _update_client(context: Context, logical_id: str, props: dict[str, Any], created: Created) -> Created:
    request = {key: value for key, value in _client_request(props).items() if key not in ("UserPoolId",
                                                                                         "GenerateSecret")}
    context.client("cognito-idp").update_user_pool_client(
        UserPoolId=props["UserPoolId"], ClientId=created.ref,
        ClientName=props.get("ClientName") or context.physical_name(logical_id), **request)
    return created


@provisioner("AWS::Cognito::UserPoolGroup",
             {"GroupName", "UserPoolId", "Description", "Precedence", "RoleArn"})
def _cognito_group(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = dict(props)
    request.setdefault("GroupName", context.physical_name(logical_id))
    context.client("cognito-idp").create_group(**request)
    return Created(ref=request["GroupName"], attributes={"UserPoolId": request["UserPoolId"]})


# --- Cognito identity pools and IAM roles (issue 17: the liveness check's streaming credentials) -------

_IDENTITY_POOL_PROPERTIES = {
    "AllowUnauthenticatedIdentities", "AllowClassicFlow", "SupportedLoginProviders",
    "DeveloperProviderName", "OpenIdConnectProviderARNs", "CognitoIdentityProviders",
    "SamlProviderARNs", "IdentityPoolTags"}


@provisioner("AWS::Cognito::IdentityPool", _IDENTITY_POOL_PROPERTIES | {"IdentityPoolName"})
def _cognito_identity_pool(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in _IDENTITY_POOL_PROPERTIES & set(props)}
    request["AllowUnauthenticatedIdentities"] = bool(props.get("AllowUnauthenticatedIdentities", False))
    request["IdentityPoolName"] = props.get("IdentityPoolName") or context.physical_name(logical_id).replace("-", "_")
    pool = context.client("cognito-identity").create_identity_pool(**request)
    return Created(ref=pool["IdentityPoolId"], attributes={"Name": pool["IdentityPoolName"]})


@provisioner("AWS::Cognito::IdentityPoolRoleAttachment", {"IdentityPoolId", "Roles", "RoleMappings"})
def _cognito_identity_pool_roles(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    """moto's Cognito Identity has no SetIdentityPoolRoles. Nothing local asks the pool for credentials (the
    local liveness stand-in takes the frames over plain HTTP), so the attachment is recorded, not made."""
    log.info("devstack: %s: identity pool roles not attached locally (moto has no SetIdentityPoolRoles; "
             "only AWS's Rekognition streaming uses them)", logical_id)
    return Created(ref=f"{props['IdentityPoolId']}-roles")


@provisioner("AWS::IAM::Role", {"RoleName", "AssumeRolePolicyDocument", "Policies", "Description",
                                "MaxSessionDuration", "Path", "ManagedPolicyArns", "Tags"})
def _iam_role(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    iam = context.client("iam")
    name = props.get("RoleName") or context.physical_name(logical_id)[:64]
    request: dict[str, Any] = {"RoleName": name,
                               "AssumeRolePolicyDocument": json.dumps(props["AssumeRolePolicyDocument"])}
    for key in ("Description", "Path"):
        if key in props:
            request[key] = props[key]
    if "MaxSessionDuration" in props:
        request["MaxSessionDuration"] = int(props["MaxSessionDuration"])
    if props.get("Tags"):
        request["Tags"] = tags_list(props["Tags"])
    role = iam.create_role(**request)["Role"]
    for policy in props.get("Policies", []):
        iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                            PolicyDocument=json.dumps(policy["PolicyDocument"]))
    for arn in props.get("ManagedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return Created(ref=name, attributes={"Arn": role["Arn"], "RoleId": role["RoleId"]})

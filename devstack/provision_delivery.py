"""Provisioners for the delivery resources of the template (issue 21): WAF, code signing, edge, domains.

Registered into :data:`devstack.provision.PROVISIONERS` like the others: each
creates its resource in moto with the call CloudFormation would make, and
refuses a property it does not know. Where moto has no such service the
provisioner says so in its docstring and what the local stack does instead
(docs/deployment.md, "What the local stack cannot exercise").
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .provision import Context, Created, provisioner


def _camel_to_api(value: Any) -> Any:
    return value


# --- AWS WAF --------------------------------------------------------------------------------------

@provisioner("AWS::WAFv2::WebACL", {"Name", "Scope", "DefaultAction", "VisibilityConfig", "Rules", "Description",
                                    "Tags", "CustomResponseBodies", "CaptchaConfig", "TokenDomains"})
def _web_acl(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in ("Name", "Scope", "DefaultAction", "VisibilityConfig", "Rules",
                                            "Description") if key in props}
    request.setdefault("Name", context.physical_name(logical_id))
    for rule in request.get("Rules", []):
        rate = rule.get("Statement", {}).get("RateBasedStatement")
        if rate:
            rate["Limit"] = int(rate["Limit"])
        rule["Priority"] = int(rule["Priority"])
    summary = context.client("wafv2").create_web_acl(**request)["Summary"]
    return Created(ref=f"{summary['Name']}|{summary['Id']}|{request['Scope']}",
                   attributes={"Arn": summary["ARN"], "Id": summary["Id"], "LabelNamespace": ""})


@provisioner("AWS::WAFv2::WebACLAssociation", {"ResourceArn", "WebACLArn"})
def _web_acl_association(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    context.client("wafv2").associate_web_acl(WebACLArn=props["WebACLArn"], ResourceArn=props["ResourceArn"])
    return Created(ref=f"{props['WebACLArn']}|{props['ResourceArn']}")


# --- Lambda code signing -------------------------------------------------------------------------

@provisioner("AWS::Signer::SigningProfile", {"PlatformId", "SignatureValidityPeriod", "ProfileName", "Tags"})
def _signing_profile(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("ProfileName") or "".join(ch for ch in context.physical_name(logical_id) if ch.isalnum())[:64]
    request: dict[str, Any] = {"profileName": name, "platformId": props["PlatformId"]}
    if "SignatureValidityPeriod" in props:
        period = props["SignatureValidityPeriod"]
        request["signatureValidityPeriod"] = {"value": int(period["Value"]), "type": period["Type"]}
    profile = context.client("signer").put_signing_profile(**request)
    return Created(ref=name, attributes={"Arn": profile["arn"], "ProfileName": name,
                                         "ProfileVersion": profile.get("profileVersion", ""),
                                         "ProfileVersionArn": profile.get("profileVersionArn", profile["arn"])})


@provisioner("AWS::Lambda::CodeSigningConfig", {"AllowedPublishers", "CodeSigningPolicies", "Description", "Tags"})
def _code_signing_config(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in ("AllowedPublishers", "CodeSigningPolicies", "Description") if key in props}
    config = context.client("lambda").create_code_signing_config(**request)["CodeSigningConfig"]
    return Created(ref=config["CodeSigningConfigArn"], attributes={
        "CodeSigningConfigArn": config["CodeSigningConfigArn"], "CodeSigningConfigId": config["CodeSigningConfigId"]})


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

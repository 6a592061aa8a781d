"""Provisioners for the delivery resources of the template (issue 21): WAF, code signing, edge, domains.

Registered into :data:`devstack.provision_registry.PROVISIONERS` like the others: each
creates its resource in moto with the call CloudFormation would make, and
refuses a property it does not know. Where moto has no such service the
provisioner says so in its docstring and what the local stack does instead
(docs/deployment.md, "What the local stack cannot exercise").
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .provision_registry import Context, Created, UnsupportedResource, provisioner, updater

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


# --- CloudFront -----------------------------------------------------------------------------------

def _items(values: list[Any] | None) -> dict[str, Any]:
    """CloudFormation's list -> the CloudFront API's ``{Quantity, Items}``."""
    values = list(values or [])
    return {"Quantity": len(values), "Items": values} if values else {"Quantity": 0}


_BEHAVIOUR_KEYS = {"TargetOriginId", "ViewerProtocolPolicy", "AllowedMethods", "CachedMethods", "CachePolicyId",
                   "OriginRequestPolicyId", "ResponseHeadersPolicyId", "Compress", "PathPattern",
                   "FunctionAssociations"}


def _behaviour(behaviour: dict[str, Any], logical_id: str) -> dict[str, Any]:
    unknown = set(behaviour) - _BEHAVIOUR_KEYS
    if unknown:
        raise UnsupportedResource(f"{logical_id}: cache behaviour properties {sorted(unknown)} not supported")
    result = {key: value for key, value in behaviour.items()
              if key not in ("AllowedMethods", "CachedMethods", "FunctionAssociations")}
    methods = behaviour.get("AllowedMethods") or ["GET", "HEAD"]
    result["AllowedMethods"] = {**_items(methods), "CachedMethods": _items(behaviour.get("CachedMethods")
                                                                           or ["GET", "HEAD"])}
    if "FunctionAssociations" in behaviour:
        result["FunctionAssociations"] = _items(behaviour["FunctionAssociations"])
    if "Compress" in result:
        result["Compress"] = _bool(result["Compress"])
    return result


def _origin(origin: dict[str, Any], logical_id: str) -> dict[str, Any]:
    unknown = set(origin) - {"Id", "DomainName", "OriginPath", "S3OriginConfig", "OriginAccessControlId",
                             "CustomOriginConfig"}
    if unknown:
        raise UnsupportedResource(f"{logical_id}: origin properties {sorted(unknown)} not supported")
    result = {key: origin[key] for key in ("Id", "DomainName", "OriginPath", "OriginAccessControlId") if key in origin}
    if "S3OriginConfig" in origin:
        result["S3OriginConfig"] = {"OriginAccessIdentity": origin["S3OriginConfig"].get("OriginAccessIdentity", "")}
    if "CustomOriginConfig" in origin:
        custom = origin["CustomOriginConfig"]
        result["CustomOriginConfig"] = {
            "HTTPPort": int(custom.get("HTTPPort", 80)), "HTTPSPort": int(custom.get("HTTPSPort", 443)),
            "OriginProtocolPolicy": custom["OriginProtocolPolicy"],
            "OriginSslProtocols": _items(custom.get("OriginSSLProtocols") or ["TLSv1.2"])}
    return result


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


_DISTRIBUTION_KEYS = {"Comment", "Enabled", "HttpVersion", "IPV6Enabled", "PriceClass", "Aliases", "ViewerCertificate",
                      "WebACLId", "Origins", "DefaultCacheBehavior", "CacheBehaviors", "DefaultRootObject"}


def distribution_config(config: dict[str, Any], logical_id: str, caller_reference: str) -> dict[str, Any]:
    """CloudFormation's ``DistributionConfig`` as the CloudFront API takes it."""
    unknown = set(config) - _DISTRIBUTION_KEYS
    if unknown:
        raise UnsupportedResource(f"{logical_id}: distribution properties {sorted(unknown)} not supported")
    request: dict[str, Any] = {
        "CallerReference": caller_reference, "Comment": config.get("Comment", ""),
        "Enabled": _bool(config.get("Enabled", True)),
        "Origins": _items([_origin(o, logical_id) for o in config["Origins"]]),
        "DefaultCacheBehavior": _behaviour(config["DefaultCacheBehavior"], logical_id),
        "CacheBehaviors": _items([_behaviour(b, logical_id) for b in config.get("CacheBehaviors", [])]),
        "Aliases": _items(config.get("Aliases")),
    }
    for key in ("HttpVersion", "PriceClass", "WebACLId", "DefaultRootObject"):
        if key in config:
            request[key] = config[key]
    if "IPV6Enabled" in config:
        request["IsIPV6Enabled"] = _bool(config["IPV6Enabled"])
    certificate = config.get("ViewerCertificate") or {"CloudFrontDefaultCertificate": True}
    renamed = {"AcmCertificateArn": "ACMCertificateArn", "SslSupportMethod": "SSLSupportMethod"}
    request["ViewerCertificate"] = {renamed.get(k, k): (_bool(v) if k == "CloudFrontDefaultCertificate" else v)
                                    for k, v in certificate.items()}
    return request


@provisioner("AWS::CloudFront::OriginAccessControl", {"OriginAccessControlConfig"})
def _origin_access_control(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    control = context.client("cloudfront").create_origin_access_control(
        OriginAccessControlConfig=props["OriginAccessControlConfig"])["OriginAccessControl"]
    return Created(ref=control["Id"], attributes={"Id": control["Id"]})


def _headers_policy_config(config: dict[str, Any]) -> dict[str, Any]:
    request = dict(config)
    custom = config.get("CustomHeadersConfig")
    if custom is not None:
        items = [{**item, "Override": _bool(item.get("Override", False))} for item in custom.get("Items", [])]
        request["CustomHeadersConfig"] = _items(items)
    security = config.get("SecurityHeadersConfig")
    if security is not None:
        request["SecurityHeadersConfig"] = {
            name: {key: (_bool(value) if key in ("Override", "IncludeSubdomains", "Preload", "ModeBlock", "Protection")
                         else int(value) if key == "AccessControlMaxAgeSec" else value)
                   for key, value in header.items()}
            for name, header in security.items()}
    return request


@provisioner("AWS::CloudFront::ResponseHeadersPolicy", {"ResponseHeadersPolicyConfig"})
def _response_headers_policy(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    policy = context.client("cloudfront").create_response_headers_policy(
        ResponseHeadersPolicyConfig=_headers_policy_config(props["ResponseHeadersPolicyConfig"]))
    policy_id = policy["ResponseHeadersPolicy"]["Id"]
    return Created(ref=policy_id, attributes={"Id": policy_id})


@updater("AWS::CloudFront::ResponseHeadersPolicy")
def _update_response_headers_policy(context: Context, logical_id: str, props: dict[str, Any],
                                    created: Created) -> Created:
    cloudfront = context.client("cloudfront")
    etag = cloudfront.get_response_headers_policy(Id=created.ref)["ETag"]
    cloudfront.update_response_headers_policy(
        Id=created.ref, IfMatch=etag, ResponseHeadersPolicyConfig=_headers_policy_config(
            props["ResponseHeadersPolicyConfig"]))
    return created


@provisioner("AWS::CloudFront::Distribution", {"DistributionConfig", "Tags"})
def _distribution(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    caller = f"{context.physical_name(logical_id)}-{_digest(props)[:12]}"
    distribution = context.client("cloudfront").create_distribution(
        DistributionConfig=distribution_config(props["DistributionConfig"], logical_id, caller))["Distribution"]
    return Created(ref=distribution["Id"], attributes={"Id": distribution["Id"],
                                                        "DomainName": distribution["DomainName"]})


@updater("AWS::CloudFront::Distribution")
def _update_distribution(context: Context, logical_id: str, props: dict[str, Any], created: Created) -> Created:
    cloudfront = context.client("cloudfront")
    current = cloudfront.get_distribution_config(Id=created.ref)
    caller = current["DistributionConfig"]["CallerReference"]
    cloudfront.update_distribution(Id=created.ref, IfMatch=current["ETag"],
                                   DistributionConfig=distribution_config(props["DistributionConfig"], logical_id,
                                                                          caller))
    return created


# --- certificates, DNS, custom domains ----------------------------------------------------------

@provisioner("AWS::CertificateManager::Certificate", {"DomainName", "ValidationMethod", "DomainValidationOptions",
                                                       "SubjectAlternativeNames", "Tags"})
def _certificate(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    """Requested as CloudFormation does, and -- with a hosted zone per domain -- its DNS validation records
    written there. (moto issues it after its validation wait; CloudFormation would wait for ISSUED.)"""
    acm = context.client("acm")
    request: dict[str, Any] = {"DomainName": props["DomainName"],
                               "ValidationMethod": props.get("ValidationMethod", "DNS")}
    if props.get("SubjectAlternativeNames"):
        request["SubjectAlternativeNames"] = props["SubjectAlternativeNames"]
    arn = acm.request_certificate(**request)["CertificateArn"]
    zones = {option["DomainName"]: option["HostedZoneId"] for option in props.get("DomainValidationOptions", [])
             if option.get("HostedZoneId")}
    for option in acm.describe_certificate(CertificateArn=arn)["Certificate"].get("DomainValidationOptions", []):
        zone, record = zones.get(option["DomainName"]), option.get("ResourceRecord")
        if zone and record:
            context.client("route53").change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
                "Action": "UPSERT", "ResourceRecordSet": {
                    "Name": record["Name"], "Type": record["Type"], "TTL": 300,
                    "ResourceRecords": [{"Value": record["Value"]}]}}]})
    return Created(ref=arn, attributes={"Id": arn})


@provisioner("AWS::Route53::RecordSet", {"HostedZoneId", "Name", "Type", "AliasTarget", "TTL", "ResourceRecords",
                                         "Comment"})
def _record_set(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    record: dict[str, Any] = {"Name": props["Name"], "Type": props["Type"]}
    if "AliasTarget" in props:
        alias = props["AliasTarget"]
        record["AliasTarget"] = {"DNSName": alias["DNSName"], "HostedZoneId": alias["HostedZoneId"],
                                 "EvaluateTargetHealth": _bool(alias.get("EvaluateTargetHealth", False))}
    else:
        record["TTL"] = int(props.get("TTL", 300))
        record["ResourceRecords"] = [{"Value": value} for value in props.get("ResourceRecords", [])]
    context.client("route53").change_resource_record_sets(HostedZoneId=props["HostedZoneId"], ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]})
    return Created(ref=props["Name"], attributes={"HostedZoneId": props["HostedZoneId"], "Type": props["Type"]})


@provisioner("AWS::ApiGateway::DomainName", {"DomainName", "RegionalCertificateArn", "EndpointConfiguration",
                                             "SecurityPolicy", "Tags"})
def _rest_domain(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    domain = context.client("apigateway").create_domain_name(
        domainName=props["DomainName"], regionalCertificateArn=props["RegionalCertificateArn"],
        endpointConfiguration={"types": props.get("EndpointConfiguration", {}).get("Types", ["REGIONAL"])},
        securityPolicy=props.get("SecurityPolicy", "TLS_1_2"))
    return Created(ref=props["DomainName"], attributes={
        "RegionalDomainName": domain["regionalDomainName"], "RegionalHostedZoneId": domain["regionalHostedZoneId"],
        "DistributionDomainName": domain.get("distributionDomainName", "")})


@provisioner("AWS::ApiGateway::BasePathMapping", {"DomainName", "RestApiId", "Stage", "BasePath"})
def _base_path_mapping(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {"domainName": props["DomainName"], "restApiId": props["RestApiId"], "stage": props["Stage"],
               "basePath": props.get("BasePath") or "(none)"}
    context.client("apigateway").create_base_path_mapping(**request)
    return Created(ref=f"{props['DomainName']}/{request['basePath']}")


@provisioner("AWS::ApiGatewayV2::DomainName", {"DomainName", "DomainNameConfigurations", "Tags"})
def _websocket_domain(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    domain = context.client("apigatewayv2").create_domain_name(
        DomainName=props["DomainName"], DomainNameConfigurations=props["DomainNameConfigurations"])
    configuration = domain["DomainNameConfigurations"][0]
    return Created(ref=props["DomainName"], attributes={
        "RegionalDomainName": configuration.get("ApiGatewayDomainName") or f"d-{_digest(props)[:10]}.execute-api."
                                                                           f"{context.region}.amazonaws.com",
        "RegionalHostedZoneId": configuration.get("HostedZoneId") or "Z1UJRXOUMOOFQ8"})


@provisioner("AWS::ApiGatewayV2::ApiMapping", {"DomainName", "ApiId", "Stage", "ApiMappingKey"})
def _api_mapping(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in ("DomainName", "ApiId", "Stage", "ApiMappingKey") if key in props}
    mapping = context.client("apigatewayv2").create_api_mapping(**request)
    return Created(ref=mapping["ApiMappingId"], attributes={"DomainName": props["DomainName"]})


# --- Cognito: managed login, identity providers ---------------------------------------------------

@provisioner("AWS::Cognito::UserPoolDomain", {"Domain", "UserPoolId", "CustomDomainConfig", "ManagedLoginVersion"})
def _user_pool_domain(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request: dict[str, Any] = {"Domain": props["Domain"], "UserPoolId": props["UserPoolId"]}
    if props.get("CustomDomainConfig"):
        request["CustomDomainConfig"] = props["CustomDomainConfig"]
    if props.get("ManagedLoginVersion"):
        request["ManagedLoginVersion"] = int(props["ManagedLoginVersion"])
    answer = context.client("cognito-idp").create_user_pool_domain(**request)
    return Created(ref=props["Domain"], attributes={"CloudFrontDistribution": answer.get("CloudFrontDomain", ""),
                                                    "UserPoolId": props["UserPoolId"]})


@provisioner("AWS::Cognito::ManagedLoginBranding", {"UserPoolId", "ClientId", "UseCognitoProvidedValues", "Settings",
                                                     "Assets", "ReturnMergedResources"})
def _managed_login_branding(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in ("UserPoolId", "ClientId", "Settings", "Assets") if key in props}
    if "UseCognitoProvidedValues" in props:
        request["UseCognitoProvidedValues"] = _bool(props["UseCognitoProvidedValues"])
    branding = context.client("cognito-idp").create_managed_login_branding(**request)["ManagedLoginBranding"]
    return Created(ref=branding["ManagedLoginBrandingId"],
                   attributes={"ManagedLoginBrandingId": branding["ManagedLoginBrandingId"],
                               "UserPoolId": props["UserPoolId"]})


@provisioner("AWS::Cognito::UserPoolIdentityProvider", {"UserPoolId", "ProviderName", "ProviderType",
                                                         "ProviderDetails", "AttributeMapping", "IdpIdentifiers"})
def _identity_provider(context: Context, logical_id: str, props: dict[str, Any]) -> Created:
    request = {key: props[key] for key in ("UserPoolId", "ProviderName", "ProviderType", "ProviderDetails",
                                           "AttributeMapping", "IdpIdentifiers") if key in props}
    context.client("cognito-idp").create_identity_provider(**request)
    return Created(ref=props["ProviderName"], attributes={"UserPoolId": props["UserPoolId"]})

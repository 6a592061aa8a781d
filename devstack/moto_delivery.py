"""What moto lacks for the delivery pieces of the template and the deploy (issue 21), answered in moto.

- Lambda code signing configurations: ``CreateCodeSigningConfig``,
  ``GetCodeSigningConfig``, ``PutFunctionCodeSigningConfig`` (moto keeps a
  function's ``CodeSigningConfigArn`` and answers ``GetFunctionCodeSigningConfig``
  but cannot create a configuration nor attach one).
- AWS Signer signing jobs: ``StartSigningJob`` / ``DescribeSigningJob``. The
  local job copies the source object to the destination prefix unchanged:
  no signature is made (there is no AWS Signer here, and Lambda here verifies
  nothing). What the rehearsal proves is the flow: the package is uploaded,
  a job is started with the stage's profile, the job's output is what ships.
- CloudFront response headers policies (``CreateResponseHeadersPolicy``, ``Get...``,
  ``GetResponseHeadersPolicyConfig``, ``Update...``, ``Delete...``): kept as given;
  the local edge (devstack/edge.py) applies them to what it serves.
- A distribution origin's ``OriginAccessControlId`` (moto drops it): kept, so the
  local edge can check the console bucket is read through origin access control.
- Cognito app clients' ``ExplicitAuthFlows``: moto signs anyone in with any flow;
  here ``InitiateAuth`` and ``AdminInitiateAuth`` refuse a flow the client does not
  allow, with AWS's error (the staff client has no password flow: issue 21).
- Cognito managed login branding (``CreateManagedLoginBranding``,
  ``DescribeManagedLoginBranding``, ``DeleteManagedLoginBranding``): recorded; the
  local stand-in of managed login (devstack/hosted_ui.py) shows no branded page.

Installed by :func:`devstack.motofix.patch_moto` (idempotent), so the local
stack and the rehearsal provision and deploy through the same calls as AWS.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from typing import Any
from urllib.parse import unquote

_PATCHED = False
_CONFIGS: dict[str, dict[str, Any]] = {}
_JOBS: dict[str, dict[str, Any]] = {}


def patch() -> None:
    global _PATCHED
    if _PATCHED:
        return
    _lambda_code_signing()
    _signer_jobs()
    _cloudfront_response_headers_policies()
    _cloudfront_origin_access_control_ids()
    _cognito_managed_login_branding()
    _cognito_explicit_auth_flows()
    _PATCHED = True


def _lambda_code_signing() -> None:
    from moto.awslambda import urls
    from moto.awslambda.models import lambda_backends
    from moto.awslambda.responses import LambdaResponse

    urls.url_paths.setdefault(r"{0}/(?P<api_version>[^/]+)/code-signing-configs/?$", LambdaResponse.dispatch)
    urls.url_paths.setdefault(r"{0}/(?P<api_version>[^/]+)/code-signing-configs/(?P<csc_arn>.+)$",
                              LambdaResponse.dispatch)

    def create_code_signing_config(self: Any) -> Any:
        body = json.loads(self.body or "{}")
        csc_id = "csc-" + uuid.uuid4().hex[:17]
        arn = f"arn:aws:lambda:{self.region}:{self.current_account}:code-signing-config:{csc_id}"
        config = {"CodeSigningConfigId": csc_id, "CodeSigningConfigArn": arn,
                  "Description": body.get("Description", ""), "AllowedPublishers": body["AllowedPublishers"],
                  "CodeSigningPolicies": body.get("CodeSigningPolicies", {"UntrustedArtifactOnDeployment": "Warn"}),
                  "LastModified": datetime.datetime.now(datetime.UTC).isoformat()}
        _CONFIGS[arn] = config
        return 201, {}, json.dumps({"CodeSigningConfig": config})

    def get_code_signing_config(self: Any) -> Any:
        arn = unquote(self.path.split("/code-signing-configs/", 1)[-1])
        if arn not in _CONFIGS:
            return 404, {"x-amzn-errortype": "ResourceNotFoundException"}, json.dumps(
                {"Type": "User", "message": f"{arn} not found"})
        return 200, {}, json.dumps({"CodeSigningConfig": _CONFIGS[arn]})

    def put_function_code_signing_config(self: Any) -> Any:
        name = unquote(self.path.rstrip("/").split("/")[-2])
        arn = json.loads(self.body or "{}")["CodeSigningConfigArn"]
        if arn not in _CONFIGS:
            return 404, {"x-amzn-errortype": "CodeSigningConfigNotFoundException"}, json.dumps(
                {"Type": "User", "message": f"{arn} not found"})
        function = lambda_backends[self.current_account][self.region].get_function(name)
        function.code_signing_config_arn = arn
        return 200, {}, json.dumps({"CodeSigningConfigArn": arn, "FunctionName": function.function_name})

    LambdaResponse.create_code_signing_config = create_code_signing_config  # type: ignore[attr-defined]
    LambdaResponse.get_code_signing_config = get_code_signing_config  # type: ignore[attr-defined]
    LambdaResponse.put_function_code_signing_config = put_function_code_signing_config  # type: ignore[attr-defined]


def _signer_jobs() -> None:
    from moto.signer import urls
    from moto.signer.responses import SignerResponse

    urls.url_paths.setdefault("{0}/signing-jobs$", SignerResponse.dispatch)
    urls.url_paths.setdefault("{0}/signing-jobs/(?P<job_id>[^/]+)$", SignerResponse.dispatch)

    def start_signing_job(self: Any) -> str:
        body = json.loads(self.body or "{}")
        source = body["source"]["s3"]
        destination = body["destination"]["s3"]
        profile = self.signer_backend.signing_profiles.get(body["profileName"])
        if profile is None:
            return json.dumps({"message": f"no signing profile {body['profileName']}"})
        from moto.s3.models import s3_backends

        s3 = s3_backends[self.current_account]["aws"]
        item = s3.get_object(source["bucketName"], source["key"], version_id=source.get("version"))
        job_id = str(uuid.uuid4())
        key = f"{destination.get('prefix', '')}{job_id}.zip"
        s3.put_object(destination["bucketName"], key, item.value)
        _JOBS[job_id] = {
            "jobId": job_id, "source": body["source"], "profileName": body["profileName"],
            "platformId": profile.platform_id, "status": "Succeeded",
            "signedObject": {"s3": {"bucketName": destination["bucketName"], "key": key}},
            "statusReason": "local stand-in: copied unsigned (no AWS Signer here)",
            "createdAt": int(datetime.datetime.now(datetime.UTC).timestamp()),
            "jobOwner": self.current_account, "jobInvoker": self.current_account,
            "signingMaterial": {"certificateArn": ""},
            "profileVersion": getattr(profile, "profile_version", ""),
            "platformDisplayName": "AWS Lambda", "completedAt": int(datetime.datetime.now(datetime.UTC).timestamp()),
            "signatureExpiresAt": 0, "signingParameters": {},
            "sha256": hashlib.sha256(item.value).hexdigest(),
        }
        return json.dumps({"jobId": job_id, "jobOwner": self.current_account})

    def describe_signing_job(self: Any) -> str:
        job_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        job = dict(_JOBS[job_id])
        job.pop("sha256", None)
        return json.dumps(job)

    SignerResponse.start_signing_job = start_signing_job  # type: ignore[attr-defined]
    SignerResponse.describe_signing_job = describe_signing_job  # type: ignore[attr-defined]


def _cloudfront_response_headers_policies() -> None:
    from moto.cloudfront import urls
    from moto.cloudfront.responses import CloudFrontResponse
    from moto.core.responses import ActionResult, EmptyResult

    base = "{0}/2020-05-31/response-headers-policy"
    urls.url_paths.setdefault(base + "$", CloudFrontResponse.dispatch)
    urls.url_paths.setdefault(base + "/(?P<policy_id>[^/]+)$", CloudFrontResponse.dispatch)
    urls.url_paths.setdefault(base + "/(?P<policy_id>[^/]+)/config$", CloudFrontResponse.dispatch)

    def policies(self: Any) -> dict[str, dict[str, Any]]:
        backend = self.backend
        if not hasattr(backend, "response_headers_policies"):
            backend.response_headers_policies = {}
        return backend.response_headers_policies  # type: ignore[no-any-return]

    def not_found(policy_id: str) -> Any:
        from moto.core.exceptions import RESTError

        class NoSuchResponseHeadersPolicy(RESTError):
            code = 404

            def __init__(self) -> None:
                super().__init__("NoSuchResponseHeadersPolicy", f"no response headers policy {policy_id}")

        return NoSuchResponseHeadersPolicy()

    def described(policy: dict[str, Any]) -> dict[str, Any]:
        return {"ResponseHeadersPolicy": {"Id": policy["Id"], "LastModifiedTime": policy["LastModifiedTime"],
                                          "ResponseHeadersPolicyConfig": policy["Config"]},
                "ETag": policy["ETag"]}

    def create_response_headers_policy(self: Any) -> Any:
        config = self._get_param("ResponseHeadersPolicyConfig", {})
        if any(p["Config"].get("Name") == config.get("Name") for p in policies(self).values()):
            from moto.core.exceptions import RESTError

            raise RESTError("ResponseHeadersPolicyAlreadyExists", f"a policy named {config.get('Name')} exists")
        policy_id = str(uuid.uuid4())
        policies(self)[policy_id] = {"Id": policy_id, "Config": config, "ETag": uuid.uuid4().hex[:13].upper(),
                                     "LastModifiedTime": datetime.datetime.now(datetime.UTC)}
        return ActionResult({**described(policies(self)[policy_id]),
                             "Location": f"https://cloudfront.amazonaws.com/2020-05-31/response-headers-policy/{policy_id}"})

    def get_response_headers_policy(self: Any) -> Any:
        policy_id = self._get_param("Id")
        if policy_id not in policies(self):
            raise not_found(policy_id)
        return ActionResult(described(policies(self)[policy_id]))

    def get_response_headers_policy_config(self: Any) -> Any:
        policy_id = self._get_param("Id")
        if policy_id not in policies(self):
            raise not_found(policy_id)
        policy = policies(self)[policy_id]
        return ActionResult({"ResponseHeadersPolicyConfig": policy["Config"], "ETag": policy["ETag"]})

    def update_response_headers_policy(self: Any) -> Any:
        policy_id = self._get_param("Id")
        if policy_id not in policies(self):
            raise not_found(policy_id)
        policy = policies(self)[policy_id]
        policy.update(Config=self._get_param("ResponseHeadersPolicyConfig", {}), ETag=uuid.uuid4().hex[:13].upper(),
                      LastModifiedTime=datetime.datetime.now(datetime.UTC))
        return ActionResult(described(policy))

    def delete_response_headers_policy(self: Any) -> Any:
        policies(self).pop(self._get_param("Id"), None)
        return EmptyResult()

    for function in (create_response_headers_policy, get_response_headers_policy, get_response_headers_policy_config,
                     update_response_headers_policy, delete_response_headers_policy):
        setattr(CloudFrontResponse, function.__name__, function)


def _cloudfront_origin_access_control_ids() -> None:
    from moto.cloudfront.models import Origin

    original = Origin.__init__

    def init(self: Any, origin: dict[str, Any]) -> None:
        original(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""

    Origin.__init__ = init  # type: ignore[method-assign]


def _cognito_managed_login_branding() -> None:
    from moto.cognitoidp.responses import CognitoIdpResponse

    brandings: dict[str, dict[str, Any]] = {}

    def create_managed_login_branding(self: Any) -> str:
        body = json.loads(self.body or "{}")
        self.backend.describe_user_pool(body["UserPoolId"])  # ResourceNotFound for an unknown pool
        branding_id = str(uuid.uuid4())
        now = datetime.datetime.now(datetime.UTC).timestamp()
        brandings[branding_id] = {"ManagedLoginBrandingId": branding_id, "UserPoolId": body["UserPoolId"],
                                  "ClientId": body.get("ClientId"),
                                  "UseCognitoProvidedValues": bool(body.get("UseCognitoProvidedValues")),
                                  "Settings": body.get("Settings") or {}, "Assets": body.get("Assets") or [],
                                  "CreationDate": now, "LastModifiedDate": now}
        return json.dumps({"ManagedLoginBranding": brandings[branding_id]})

    def describe_managed_login_branding(self: Any) -> str:
        body = json.loads(self.body or "{}")
        branding = brandings.get(body.get("ManagedLoginBrandingId", ""))
        if branding is None:
            from moto.cognitoidp.exceptions import ResourceNotFoundError

            raise ResourceNotFoundError(body.get("ManagedLoginBrandingId"))
        return json.dumps({"ManagedLoginBranding": branding})

    def describe_managed_login_branding_by_client(self: Any) -> str:
        body = json.loads(self.body or "{}")
        for branding in brandings.values():
            if branding["UserPoolId"] == body.get("UserPoolId") and branding["ClientId"] == body.get("ClientId"):
                return json.dumps({"ManagedLoginBranding": branding})
        from moto.cognitoidp.exceptions import ResourceNotFoundError

        raise ResourceNotFoundError(body.get("ClientId"))

    def delete_managed_login_branding(self: Any) -> str:
        body = json.loads(self.body or "{}")
        brandings.pop(body.get("ManagedLoginBrandingId", ""), None)
        return "{}"

    for function in (create_managed_login_branding, describe_managed_login_branding,
                     describe_managed_login_branding_by_client, delete_managed_login_branding):
        setattr(CognitoIdpResponse, function.__name__, function)


#: The client setting (new and legacy names) each authentication flow needs; a client without
#: ExplicitAuthFlows gets AWS's default: refresh, SRP and custom authentication.
_FLOW_SETTINGS = {
    "USER_PASSWORD_AUTH": {"ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"},
    "ADMIN_USER_PASSWORD_AUTH": {"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"},
    "ADMIN_NO_SRP_AUTH": {"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"},
    "USER_SRP_AUTH": {"ALLOW_USER_SRP_AUTH"},
    "REFRESH_TOKEN_AUTH": {"ALLOW_REFRESH_TOKEN_AUTH"},
    "REFRESH_TOKEN": {"ALLOW_REFRESH_TOKEN_AUTH"},
    "CUSTOM_AUTH": {"ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"},
}
_DEFAULT_FLOWS = {"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"}
_LEGACY_ALWAYS = {"USER_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"}  # with legacy-only settings


def _flow_allowed(client: Any, flow: str) -> bool:
    configured = client.extended_config.get("ExplicitAuthFlows")
    settings = set(configured) if configured else _DEFAULT_FLOWS
    if configured and not any(s.startswith("ALLOW_") for s in settings) and flow in _LEGACY_ALWAYS:
        return True
    return bool(_FLOW_SETTINGS.get(flow, {flow}) & settings)


def _cognito_explicit_auth_flows() -> None:
    from moto.cognitoidp.exceptions import InvalidParameterException
    from moto.cognitoidp.models import CognitoIdpBackend

    def guarded(original: Any) -> Any:
        def check(self: Any, client_id: str, auth_flow: str) -> None:
            for pool in self.user_pools.values():
                client = pool.clients.get(client_id)
                if client is not None and not _flow_allowed(client, auth_flow):
                    raise InvalidParameterException(f"{auth_flow} flow not enabled for this client")

        if original.__name__ == "initiate_auth":
            def initiate_auth(self: Any, client_id: str, auth_flow: str, auth_parameters: Any) -> Any:
                check(self, client_id, auth_flow)
                return original(self, client_id, auth_flow, auth_parameters)

            return initiate_auth

        def admin_initiate_auth(self: Any, user_pool_id: str, client_id: str, auth_flow: str,
                                auth_parameters: Any, *args: Any, **kwargs: Any) -> Any:
            check(self, client_id, auth_flow)
            return original(self, user_pool_id, client_id, auth_flow, auth_parameters, *args, **kwargs)

        return admin_initiate_auth

    CognitoIdpBackend.initiate_auth = guarded(CognitoIdpBackend.initiate_auth)  # type: ignore[method-assign]
    CognitoIdpBackend.admin_initiate_auth = guarded(  # type: ignore[method-assign]
        CognitoIdpBackend.admin_initiate_auth)

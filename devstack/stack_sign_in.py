"""The local stack's sign-in and console (issue 21): the stand-in of the bank's identity provider (and of
Google and Apple) registered with both user pools, the resources stack's delivery parameters, the user pool
domains' endpoints, the console published to its bucket and served by the local edge (a stand-in of
CloudFront) with its headers policy, and what ties sign-in to this run's ports.

A part of ``LocalStack`` (devstack/stack.py), which mixes it in: the methods use the stack's ``env``,
``options``, its exit stack and its hosted UI's URL.
"""
from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("devstack")

STAFF_TOKEN_FUNCTION = "staff_token_groups"  # the staff pool's pre-token-generation function (app.py)


class SignInAndConsole:
    """LocalStack's sign-in and console steps (see the module's docstring)."""

    env: dict[str, str]
    options: Any
    _exit: Any
    _hosted_ui_url: str
    _staff_trigger: bool

    def _start_identity_provider(self, session: Any, moto_url: str) -> Any:
        """The stand-in of the bank's identity provider (and of Google and Apple), with the demo staff;
        registered as the staff pool's and the customer pool's provider (secrets in the local AWS)."""
        from .oidc_provider import StandInProvider
        from .users import DEMO_USERS, seed_demo_users

        provider = self._provider = StandInProvider(name="corporate").start()
        self._exit.callback(provider.stop)
        seed_demo_users(None, "", tuple(user for user in DEMO_USERS if user.pool == "staff"), provider=provider)
        idpresponse = [f"{self._hosted_ui_url}/oauth2/idpresponse"]
        self._providers = {name: provider.register_client(idpresponse) for name in ("corporate", "google", "apple")}
        secrets = session.client("secretsmanager", endpoint_url=moto_url)
        stage = self.options.stage
        for name, value in ((f"account-opening/{stage}/staff-oidc", {"client_secret": self._providers[
                                "corporate"].client_secret}),
                            (f"account-opening/{stage}/social-sign-in", {
                                "google_client_secret": self._providers["google"].client_secret,
                                "apple_private_key": "(local: the stand-in provider takes the registered secret)"})):
            try:
                secrets.create_secret(Name=name, SecretString=json.dumps(value))
            except secrets.exceptions.ResourceExistsException:  # a kept local AWS
                secrets.put_secret_value(SecretId=name, SecretString=json.dumps(value))
        log.info("devstack: identity provider stand-in at %s", provider.issuer)
        return provider

    def _delivery_parameters(self, app_name: str) -> dict[str, Any]:
        """The resources stack's parameters for the local stack's sign-in and console (what the deploy
        passes in AWS): the stand-in provider as the corporate one and as Google and Apple, the app's
        pre-token-generation function, the local REST API behind the distribution."""
        from .provision import REGION
        from .runtime import ACCOUNT_ID
        from .users import local_group_mapping

        stage = self.options.stage
        return {
            "StaffOidcIssuer": self._provider.issuer, "StaffOidcClientId": self._providers["corporate"].client_id,
            "StaffOidcSecretName": f"account-opening/{stage}/staff-oidc", "StaffProviderGroups": local_group_mapping(),
            "GoogleClientId": self._providers["google"].client_id,
            "AppleServicesId": self._providers["apple"].client_id, "AppleTeamId": "LOCALTEAM1",
            "AppleKeyId": "LOCALKEY01", "SocialSignInSecretName": f"account-opening/{stage}/social-sign-in",
            # As scripts/deploy.py: only a function the app defines (a trigger naming none fails every sign-in).
            "StaffTokenFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{app_name}-{stage}-"
                                     f"{STAFF_TOKEN_FUNCTION}" if self._staff_trigger else "",
            "RestApiId": "local",  # the local REST API (the local edge sends execute-api origins to it)
            "ApiStageName": stage,
        }

    def _auth_domain_environ(self) -> dict[str, str]:
        """The user pool domains' endpoints are the local stack's (devstack/hosted_ui.py)."""
        environ = {"STAFF_AUTH_DOMAIN_URL": self._hosted_ui_url}
        if self.env.get("CUSTOMER_IDENTITY_PROVIDERS"):
            environ["CUSTOMER_AUTH_DOMAIN_URL"] = self._hosted_ui_url
        return environ

    def _start_console(self, session: Any, moto_url: str, api_url: str) -> str:
        """The console's distribution served by the local edge (devstack/edge.py): its files published to
        its bucket and its headers policy made from this stack's endpoints -- as the deploy does."""
        from scripts import console_site

        from .edge import LocalEdge

        distribution = self.env["DEPLOY_CONSOLE_DISTRIBUTION_ID"]
        cloudfront = session.client("cloudfront", endpoint_url=moto_url)
        self._apply_console_headers(cloudfront, distribution, console_site.stage_header_parameters(self.env))
        console_site.publish(session.client("s3", endpoint_url=moto_url), cloudfront,
                             self.env["DEPLOY_CONSOLE_BUCKET_NAME"], distribution, out=log.info)
        edge = LocalEdge(session, moto_url, distribution, api_url, host=self.options.host).start()
        self._exit.callback(edge.stop)
        return f"{edge.url}/console"

    def _apply_console_headers(self, cloudfront: Any, distribution: str, parameters: dict[str, str]) -> None:
        """The template's ConsoleHeadersPolicy with these parameters, as a stack update would make it."""
        from .provision_delivery import _headers_policy_config
        from .template import Resolver, load_template, resolve_parameters

        template = load_template(self.options.template)
        values = resolve_parameters(template, {"Stage": self.options.stage, **parameters})

        def no_resources(*names: str) -> str:
            raise ValueError(f"ConsoleHeadersPolicy refers to a resource ({names}): not resolvable here")

        resolver = Resolver(values, {"AWS::Region": "us-east-1"}, no_resources, no_resources)
        config = _headers_policy_config(resolver.resolve(
            template["Resources"]["ConsoleHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]))
        behaviours = cloudfront.get_distribution_config(Id=distribution)["DistributionConfig"]
        policy_ids = {b.get("ResponseHeadersPolicyId") for b in behaviours["CacheBehaviors"].get("Items") or []}
        for policy_id in sorted(filter(None, policy_ids)):
            current = cloudfront.get_response_headers_policy(Id=policy_id)
            cloudfront.update_response_headers_policy(Id=policy_id, IfMatch=current["ETag"],
                                                      ResponseHeadersPolicyConfig=config)

    def _connect_sign_in(self, session: Any, moto_url: str, provider: Any, control_url: str,
                         console_urls: list[str]) -> None:
        """What ties sign-in to this run's ports: the pools' providers (a kept local AWS names an older
        stand-in), the console URLs the app clients may redirect to, the user pool domains' function
        invoker and their stand-ins for Google and Apple."""
        import urllib.request

        cognito = session.client("cognito-idp", endpoint_url=moto_url)
        registrations = {"Corporate": ("STAFF_USER_POOL_ID", "corporate"), "Google": ("USER_POOL_ID", "google"),
                         "SignInWithApple": ("USER_POOL_ID", "apple")}
        for name, (pool_variable, registration) in registrations.items():
            pool = self.env.get(pool_variable)
            try:
                details = cognito.describe_identity_provider(UserPoolId=pool, ProviderName=name)[
                    "IdentityProvider"]["ProviderDetails"]
            except cognito.exceptions.ResourceNotFoundException:
                continue
            details["client_id"] = self._providers[registration].client_id
            if name == "Corporate":
                details.update(oidc_issuer=provider.issuer, client_secret=self._providers[registration].client_secret)
            cognito.update_identity_provider(UserPoolId=pool, ProviderName=name, ProviderDetails=details)
        for pool_variable, client_variable in (("STAFF_USER_POOL_ID", "STAFF_USER_POOL_CLIENT_ID"),
                                               ("USER_POOL_ID", "USER_POOL_CLIENT_ID")):
            client = cognito.describe_user_pool_client(UserPoolId=self.env[pool_variable],
                                                       ClientId=self.env[client_variable])["UserPoolClient"]
            if not client.get("AllowedOAuthFlowsUserPoolClient"):
                continue
            urls = list(dict.fromkeys([*console_urls, *client.get("CallbackURLs", [])]))
            settings = {key: value for key, value in client.items()
                        if key not in ("UserPoolId", "ClientId", "ClientSecret", "CreationDate", "LastModifiedDate")}
            cognito.update_user_pool_client(UserPoolId=self.env[pool_variable], ClientId=self.env[client_variable],
                                            **{**settings, "CallbackURLs": urls, "LogoutURLs": urls})
        configuration = {"lambda_invoke_url": control_url, "providers": {
            "Google": {"issuer": provider.issuer, "client_secret": self._providers["google"].client_secret},
            "SignInWithApple": {"issuer": provider.issuer, "client_secret": self._providers["apple"].client_secret}}}
        request = urllib.request.Request(f"{self._hosted_ui_url}/_devstack/config", method="POST",
                                         data=json.dumps(configuration).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - the local stack's own endpoint
            pass

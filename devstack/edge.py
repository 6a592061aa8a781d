"""The local stand-in of CloudFront's edge for the console's distribution (issue 21).

moto keeps distributions, origin access controls and (with devstack's patch)
response headers policies, but serves nothing. This server serves the
distribution as CloudFront would, reading its configuration from the local AWS
on every request (so what the template provisioned is what is served):

- the cache behaviour is chosen as CloudFront chooses it: the first path pattern
  that matches (``*`` and ``?`` wildcards, case-sensitive), else the default;
- an S3 origin is read through origin access control only: the origin must name
  one, and the bucket policy must let ``cloudfront.amazonaws.com`` read with this
  distribution as ``AWS:SourceArn`` -- otherwise S3's 403, as CloudFront gets it;
  ``If-None-Match`` gets a 304;
- a custom origin on ``execute-api`` is the local REST API (whose one stage is
  served at its root: the origin path, the stage, is taken off);
- the behaviour's response headers policy is applied (``Override`` as CloudFront).

It caches nothing (so invalidations have nothing to do), speaks plain HTTP on
127.0.0.1 (no certificate, no viewer protocol policy) and filters nothing (the
web ACL is recorded in moto only).
"""
from __future__ import annotations

import fnmatch
import json
import logging
import re
import urllib.parse
from typing import Any

from .webserver import WsgiServer

log = logging.getLogger("devstack")

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
S3_ORIGIN = re.compile(r"^[a-z0-9.-]+\.s3(\.[a-z0-9-]+)?\.amazonaws\.com$")
EXECUTE_API = re.compile(r"^[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com$")
REFERRER_POLICIES = {"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin", "same-origin",
                     "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"}


def path_matches(pattern: str, path: str) -> bool:
    """CloudFront's path pattern: ``*`` any characters, ``?`` one, everything else literal, case-sensitive."""
    return fnmatch.fnmatchcase(path, pattern.replace("[", "[[]"))


class LocalEdge(WsgiServer):
    """Serves the distribution ``distribution_id`` of the local AWS on ``host:port``."""

    def __init__(self, session: Any, endpoint_url: str, distribution_id: str, api_url: str | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.distribution_id = distribution_id
        self.api_url = api_url
        self._cloudfront = session.client("cloudfront", endpoint_url=endpoint_url)
        self._s3 = session.client("s3", endpoint_url=endpoint_url)
        super().__init__(host, port, "devstack-edge")

    # --- serving ------------------------------------------------------------------------------

    def respond(self, request: Any) -> Any:
        from werkzeug.wrappers import Response

        try:
            distribution = self._cloudfront.get_distribution(Id=self.distribution_id)["Distribution"]
            config = distribution["DistributionConfig"]
            behaviour = self.behaviour(config, request.path)
            origin = next(o for o in config["Origins"]["Items"] if o["Id"] == behaviour["TargetOriginId"])
            methods = behaviour.get("AllowedMethods", {}).get("Items") or ["GET", "HEAD"]
            if request.method not in methods:
                response = Response("method not allowed by this behaviour", status=403)
            elif "S3OriginConfig" in origin or S3_ORIGIN.match(origin["DomainName"]):
                response = self._from_bucket(distribution, origin, request)
            else:
                response = self._from_custom_origin(origin, request)
            policy_id = behaviour.get("ResponseHeadersPolicyId")
            if policy_id:
                self._apply_headers_policy(policy_id, response)
        except Exception as error:  # noqa: BLE001 - CloudFront's 502, and the cause in the log
            log.exception("devstack edge: %s %s failed", request.method, request.path)
            response = Response(f"502 the local edge could not reach the origin: {error}", status=502)
        response.headers["Via"] = "1.1 devstack-edge (CloudFront stand-in)"
        return response

    @staticmethod
    def behaviour(config: dict[str, Any], path: str) -> dict[str, Any]:
        for behaviour in config.get("CacheBehaviors", {}).get("Items") or []:
            if path_matches(behaviour["PathPattern"], path):
                return dict(behaviour)
        return dict(config["DefaultCacheBehavior"])

    def _from_bucket(self, distribution: dict[str, Any], origin: dict[str, Any], request: Any) -> Any:
        from werkzeug.wrappers import Response

        bucket = origin["DomainName"].split(".s3.", 1)[0]
        if not origin.get("OriginAccessControlId") or not self._bucket_lets_distribution_read(bucket, distribution):
            return _s3_error(403, "AccessDenied", "the bucket does not let this distribution read it")
        key = urllib.parse.unquote(request.path.lstrip("/"))
        arguments: dict[str, Any] = {"Bucket": bucket, "Key": key}
        try:
            item = self._s3.get_object(**arguments)
        except self._s3.exceptions.NoSuchKey:
            return _s3_error(403, "AccessDenied", "Access Denied")  # no ListBucket: S3 hides what is missing
        etag = item.get("ETag", "")
        headers = {"Content-Type": item.get("ContentType", "binary/octet-stream"), "ETag": etag,
                   "Last-Modified": item["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")}
        if item.get("CacheControl"):
            headers["Cache-Control"] = item["CacheControl"]
        if etag and etag in [tag.strip() for tag in (request.headers.get("If-None-Match") or "").split(",")]:
            return Response(status=304, headers=headers)
        body = item["Body"].read()
        return Response(b"" if request.method == "HEAD" else body, status=200, headers=headers)

    def _bucket_lets_distribution_read(self, bucket: str, distribution: dict[str, Any]) -> bool:
        try:
            policy = json.loads(self._s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except self._s3.exceptions.ClientError:
            return False
        for statement in policy.get("Statement", []):
            principal = statement.get("Principal") or {}
            service = principal.get("Service") if isinstance(principal, dict) else None
            condition = json.dumps(statement.get("Condition") or {})
            if (statement.get("Effect") == "Allow" and service == "cloudfront.amazonaws.com"
                    and distribution["ARN"] in condition):
                return True
        return False

    def _from_custom_origin(self, origin: dict[str, Any], request: Any) -> Any:
        from werkzeug.wrappers import Response

        if not EXECUTE_API.match(origin["DomainName"]) or not self.api_url:
            return Response(f"no local stand-in for the origin {origin['DomainName']}", status=502)
        import requests

        url = self.api_url.rstrip("/") + request.path  # the origin path (the stage) is the local API's root
        headers = {name: value for name, value in request.headers.items() if name.lower() not in HOP_BY_HOP}
        answer = requests.request(request.method, url, params=list(request.args.items(multi=True)),
                                  data=request.get_data(), headers=headers, allow_redirects=False, timeout=120)
        kept = [(name, value) for name, value in answer.headers.items()
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-encoding"]
        return Response(answer.content, status=answer.status_code, headers=kept)

    def _apply_headers_policy(self, policy_id: str, response: Any) -> None:
        config = self._cloudfront.get_response_headers_policy(Id=policy_id)["ResponseHeadersPolicy"][
            "ResponseHeadersPolicyConfig"]
        security = config.get("SecurityHeadersConfig") or {}

        def put(name: str, value: str, override: bool) -> None:
            if override or name not in response.headers:
                response.headers[name] = value

        if "ContentSecurityPolicy" in security:
            csp = security["ContentSecurityPolicy"]
            put("Content-Security-Policy", csp["ContentSecurityPolicy"], csp.get("Override", False))
        if "ContentTypeOptions" in security:
            put("X-Content-Type-Options", "nosniff", security["ContentTypeOptions"].get("Override", False))
        if "FrameOptions" in security:
            frame = security["FrameOptions"]
            put("X-Frame-Options", frame["FrameOption"], frame.get("Override", False))
        if "ReferrerPolicy" in security:
            referrer = security["ReferrerPolicy"]
            if referrer["ReferrerPolicy"] not in REFERRER_POLICIES:
                raise ValueError(f"CloudFront has no referrer policy {referrer['ReferrerPolicy']}")
            put("Referrer-Policy", referrer["ReferrerPolicy"], referrer.get("Override", False))
        if "StrictTransportSecurity" in security:
            hsts = security["StrictTransportSecurity"]
            value = f"max-age={hsts['AccessControlMaxAgeSec']}" + ("; includeSubDomains" if hsts.get(
                "IncludeSubdomains") else "") + ("; preload" if hsts.get("Preload") else "")
            put("Strict-Transport-Security", value, hsts.get("Override", False))
        for item in (config.get("CustomHeadersConfig") or {}).get("Items") or []:
            put(item["Header"], item["Value"], item.get("Override", False))


def _s3_error(status: int, code: str, message: str) -> Any:
    from werkzeug.wrappers import Response

    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status=status, content_type="application/xml")

"""The console on CloudFront (issue 21): its files published to the stage's private bucket, its headers.

What the app serves at ``/console`` (chalicelib/api/console.py) is what
CloudFront serves in AWS, from one source:

- the files: ``chalicelib/console/`` -- ``index.html`` as the object ``console``
  (the page's address, ``/console``, as today), every other allow-listed asset as
  ``console/<name>``. ``config.json`` is not a file: CloudFront sends
  ``/console/config.json`` to the app, which makes it from the stage's settings
  as it always has. Objects carry their type and ``Cache-Control: max-age=0,
  must-revalidate, s-maxage=86400`` (browsers revalidate every load, as with the
  app's ETags; CloudFront keeps a day and is invalidated by every publish);
- the headers: ``header_parameters`` turns what ``console.security_headers`` sets
  into the resources stack's ``Console*`` parameters, which the distribution's
  response headers policy carries (the CSP computed from the stage's endpoints).
  A header the policy has no parameter for stops the deploy, never dropped.

``publish`` uploads what changed, deletes what is no longer a console file and
invalidates ``/console`` and ``/console/*``; the deploy and the local stack both
call it.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

CACHE_CONTROL = "max-age=0, must-revalidate, s-maxage=86400"
PAGE_KEY = "console"
PREFIX = "console/"
DIGEST = "sha256"  # object metadata: unchanged files are not uploaded again
#: The console's headers -> the resources stack's parameters (the response headers policy's values).
PARAMETER_OF_HEADER = {
    "Content-Security-Policy": "ConsoleContentSecurityPolicy",
    "Referrer-Policy": "ConsoleReferrerPolicy",
    "X-Frame-Options": "ConsoleFrameOption",
    "Cross-Origin-Opener-Policy": "ConsoleCrossOriginOpenerPolicy",
    "Permissions-Policy": "ConsolePermissionsPolicy",
}
#: Set by the policy itself, with these values only (resources.yaml, ConsoleHeadersPolicy).
FIXED_HEADERS = {"X-Content-Type-Options": "nosniff"}
#: CloudFront's limit on a response headers policy's Content-Security-Policy.
CSP_MAX_LENGTH = 1783


class ConsoleHeadersUnsupported(RuntimeError):
    """The console sets a header the CloudFront response headers policy does not carry."""


@dataclass(frozen=True)
class ConsoleObject:
    key: str
    body: bytes
    content_type: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def header_parameters(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``Console*`` parameters of the resources stack for these console headers."""
    parameters: dict[str, str] = {}
    for name, value in headers.items():
        if name in PARAMETER_OF_HEADER:
            parameters[PARAMETER_OF_HEADER[name]] = value
        elif FIXED_HEADERS.get(name) != value:
            raise ConsoleHeadersUnsupported(
                f"the console sets {name}: {value}, which the CloudFront response headers policy does not carry; "
                "add it to resources.yaml (ConsoleHeadersPolicy) and to scripts/console_site.py")
    csp = parameters.get("ConsoleContentSecurityPolicy", "")
    if len(csp) > CSP_MAX_LENGTH:
        raise ConsoleHeadersUnsupported(f"the console's CSP is {len(csp)} characters; CloudFront takes "
                                        f"{CSP_MAX_LENGTH} at most")
    return parameters


def stage_header_parameters(env: Mapping[str, str], review_sla_hours: float | None = None) -> dict[str, str]:
    """The parameters for a stage, from its environment (the stack's outputs and the WebSocket API's domain)."""
    from chalicelib.api.console import ConsoleSettings, security_headers

    return header_parameters(security_headers(ConsoleSettings.from_env(env, review_sla_hours)))


def objects() -> list[ConsoleObject]:
    """The console's files as published: the page at ``console``, the assets under ``console/``."""
    from chalicelib.api.console import ASSETS, STATIC_DIR

    published = []
    for name, content_type in sorted(ASSETS.items()):
        key = PAGE_KEY if name == "index.html" else PREFIX + name
        published.append(ConsoleObject(key, (STATIC_DIR / name).read_bytes(), content_type))
    return published


def publish(s3: Any, cloudfront: Any, bucket: str, distribution_id: str | None,
            out: Callable[[str], None] = print) -> dict[str, Any]:
    """Upload the console's files that changed, delete those gone, invalidate the distribution's copies."""
    wanted = {item.key: item for item in objects()}
    existing: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PAGE_KEY):
        for item in page.get("Contents", []):
            if item["Key"] == PAGE_KEY or item["Key"].startswith(PREFIX):
                existing[item["Key"]] = s3.head_object(Bucket=bucket, Key=item["Key"]).get("Metadata", {}).get(DIGEST,
                                                                                                                 "")
    uploaded = []
    for key, item in wanted.items():
        if existing.get(key) == item.digest:
            continue
        s3.put_object(Bucket=bucket, Key=key, Body=item.body, ContentType=item.content_type,
                      CacheControl=CACHE_CONTROL, Metadata={DIGEST: item.digest})
        uploaded.append(key)
    removed = sorted(set(existing) - set(wanted))
    for key in removed:
        s3.delete_object(Bucket=bucket, Key=key)
    invalidation = None
    if distribution_id and (uploaded or removed):
        invalidation = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/console", "/console/*"]},
            "CallerReference": f"console-{int(time.time() * 1000)}"})["Invalidation"]["Id"]
    out(f"console files: {len(uploaded)} published, {len(removed)} removed, "
        f"{len(wanted) - len(uploaded)} unchanged" + (f"; invalidation {invalidation}" if invalidation else ""))
    return {"uploaded": uploaded, "removed": removed, "invalidation": invalidation}

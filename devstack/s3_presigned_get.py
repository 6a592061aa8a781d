"""S3's checks of a presigned GET (or HEAD) link, which moto skips (dev tooling only).

A reviewer sees a document through a short-lived presigned GET: the link is the authorisation, so its
signature must cover the key, the version and the response overrides it names, and it must stop working when
it expires. moto serves any link whose query merely *mentions* a signature, so a link with a zeroed
signature, one re-pointed at another key, or one past its expiry would work locally and fail in AWS.
:func:`check` answers such a request the way S3 does, or returns ``None`` to let it through.

What S3 answers (checked against its documentation and behaviour):

* SigV4 query authentication (``X-Amz-Algorithm=AWS4-HMAC-SHA256``, what the app's s3v4 client signs):
  a signature that does not match the request as received (any change to the method, the path, a query
  parameter or a signed header): ``403 SignatureDoesNotMatch``; past ``X-Amz-Date + X-Amz-Expires``:
  ``403 AccessDenied`` "Request has expired" (with ``X-Amz-Expires``, ``Expires`` and ``ServerTime``);
  ``X-Amz-Expires`` over seven days or missing parameters: ``400 AuthorizationQueryParametersError``;
  a date in the future: ``403 AccessDenied`` "Request is not valid yet";
* SigV2 query authentication (``AWSAccessKeyId``, ``Expires``, ``Signature``): past ``Expires``:
  ``403 AccessDenied`` "Request has expired"; its signature is checked too.

Only links signed with a key whose secret the local stack knows (its own fake credentials) can be checked
for their signature; the expiry is checked for every link.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from typing import Mapping, Optional
from urllib.parse import unquote, unquote_plus
from xml.sax.saxutils import escape

from .provision import FAKE_CREDENTIALS

Refusal = tuple[int, dict[str, str], str]

_KNOWN_SECRETS = {FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]: FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}
_MAX_EXPIRES = 7 * 24 * 3600  # S3: a SigV4 presigned URL lives seven days at most
_V4_REQUIRED = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                "X-Amz-Signature")
#: Sub-resources and overrides a SigV2 signature covers (S3's list), in the canonical resource.
_V2_SUBRESOURCES = ("acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
                    "policy", "requestPayment", "response-cache-control", "response-content-disposition",
                    "response-content-encoding", "response-content-language", "response-content-type",
                    "response-expires", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
                    "versions", "website")


def _error(status: int, code: str, message: str, **extra: object) -> Refusal:
    fields = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in extra.items())
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId><HostId>devstack</HostId></Error>")
    return status, {"Content-Type": "application/xml"}, body


def _mismatch() -> Refusal:
    return _error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                  "signature you provided. Check your key and signing method.")


def _pairs(raw_query: str) -> list[tuple[str, str]]:
    """The query's parameters as sent (still percent-encoded), in order."""
    return [(key, value) for key, _, value in (p.partition("=") for p in raw_query.split("&") if p)]


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_presigned(raw_query: str) -> bool:
    names = {unquote(key) for key, _ in _pairs(raw_query)}
    return "X-Amz-Signature" in names or ("Signature" in names and "AWSAccessKeyId" in names)


def check(method: str, raw_path: str, raw_query: str, headers: Mapping[str, str],
          now: Optional[dt.datetime] = None) -> Optional[Refusal]:
    """S3's answer to a presigned request (``raw_path`` and ``raw_query`` exactly as sent), or None."""
    now = now or dt.datetime.now(dt.timezone.utc)
    pairs = _pairs(raw_query)
    params = {unquote_plus(key): unquote_plus(value) for key, value in pairs}
    if "X-Amz-Signature" in params or "X-Amz-Algorithm" in params:
        return _check_v4(method, raw_path, pairs, params, headers, now)
    if "Signature" in params and "AWSAccessKeyId" in params:
        return _check_v2(method, raw_path, params, headers, now)
    return None


def _check_v4(method: str, raw_path: str, pairs: list[tuple[str, str]], params: Mapping[str, str],
              headers: Mapping[str, str], now: dt.datetime) -> Optional[Refusal]:
    missing = [name for name in _V4_REQUIRED if not params.get(name)]
    if missing or params["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        return _error(400, "AuthorizationQueryParametersError", "Query-string authentication version 4 requires "
                      "the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                      "and X-Amz-Expires parameters.")
    try:
        signed_at = dt.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        return _error(400, "AuthorizationQueryParametersError", "X-Amz-Date and X-Amz-Expires must be a date "
                      "(YYYYMMDD'T'HHMMSS'Z') and a number of seconds.")
    if not 0 <= expires <= _MAX_EXPIRES:
        return _error(400, "AuthorizationQueryParametersError",
                      "X-Amz-Expires must be less than a week (in seconds) that is 604800")
    credential = params["X-Amz-Credential"].split("/")
    if len(credential) != 5 or credential[1] != params["X-Amz-Date"][:8] or credential[4] != "aws4_request":
        return _error(400, "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter")
    secret = _KNOWN_SECRETS.get(credential[0])
    if secret is not None:
        signed = params["X-Amz-SignedHeaders"].lower().split(";")
        lowered = {name.lower(): value for name, value in headers.items()}
        if "host" not in signed:
            return _error(400, "AuthorizationQueryParametersError", "Host must be a signed header")
        canonical_headers = "".join(f"{name}:{' '.join(lowered.get(name, '').split())}\n" for name in signed)
        query = "&".join(f"{k}={v}" for k, v in sorted(p for p in pairs if unquote(p[0]) != "X-Amz-Signature"))
        canonical = "\n".join([method.upper(), raw_path, query, canonical_headers, ";".join(signed),
                               "UNSIGNED-PAYLOAD"])
        scope = "/".join(credential[1:])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + secret).encode()
        for part in credential[1:]:
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, params["X-Amz-Signature"].lower()):
            return _mismatch()
    if signed_at > now + dt.timedelta(minutes=15):
        return _error(403, "AccessDenied", "Request is not valid yet")
    if now > signed_at + dt.timedelta(seconds=expires):
        return _error(403, "AccessDenied", "Request has expired", **{
            "X-Amz-Expires": expires, "Expires": _iso(signed_at + dt.timedelta(seconds=expires)),
            "ServerTime": _iso(now)})
    return None


def _check_v2(method: str, raw_path: str, params: Mapping[str, str], headers: Mapping[str, str],
              now: dt.datetime) -> Optional[Refusal]:
    try:
        expires = int(params.get("Expires", ""))
    except ValueError:
        return _error(403, "AccessDenied", "Query-string authentication requires the Signature, Expires and "
                      "AWSAccessKeyId parameters")
    secret = _KNOWN_SECRETS.get(params["AWSAccessKeyId"])
    if secret is not None:
        sub = sorted((name, params[name]) for name in params if name in _V2_SUBRESOURCES)
        resource = unquote(raw_path)
        if sub:
            resource += "?" + "&".join(f"{name}={value}" if value else name for name, value in sub)
        lowered = {name.lower(): value for name, value in headers.items()}
        amz = "".join(f"{name}:{lowered[name].strip()}\n" for name in sorted(lowered) if name.startswith("x-amz-"))
        to_sign = "\n".join([method.upper(), lowered.get("content-md5", ""), lowered.get("content-type", ""),
                             str(expires), amz + resource])
        expected = base64.b64encode(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, params["Signature"]):
            return _mismatch()
    if now.timestamp() > expires:
        return _error(403, "AccessDenied", "Request has expired",
                      Expires=_iso(dt.datetime.fromtimestamp(expires, dt.timezone.utc)), ServerTime=_iso(now))
    return None

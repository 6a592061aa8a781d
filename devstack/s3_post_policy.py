"""S3's POST-policy checks, which moto skips (dev tooling only).

A presigned POST is only as safe as its policy: the size range, the content
type and the key are the app's defence against oversized or mislabelled
uploads. moto stores whatever is posted, so without this a regression in the
app's conditions would pass every local test. :func:`check` evaluates a
browser-based upload's form the way S3 does and returns the error S3 would
answer with, or ``None`` to let the upload through. Nothing is stored on a
refusal.

What S3 answers (checked against its documentation and behaviour):

* a condition that fails: ``403 AccessDenied``, "Invalid according to Policy:
  Policy Condition failed: ["eq", "$Content-Type", "image/png"]";
* a form field no condition covers: ``403 AccessDenied``, "... Extra input
  fields: x-foo";
* an expired policy: ``403 AccessDenied``, "... Policy expired.";
* a file outside ``content-length-range``: ``400 EntityTooLarge`` /
  ``EntityTooSmall`` with the proposed and allowed sizes;
* no policy on a private bucket: ``403 AccessDenied``; a signature that does
  not match (only checkable for the local stack's own fake credentials):
  ``403 SignatureDoesNotMatch``.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any, Mapping, Optional
from xml.sax.saxutils import escape

from .provision import FAKE_CREDENTIALS

#: Form fields that never need a condition (S3: the signature fields, the
#: file, and anything prefixed ``x-ignore-``).
_EXEMPT = {"policy", "x-amz-signature", "file", "signature", "awsaccesskeyid"}
#: Secrets the local stack signs with, so their signatures can be verified.
_KNOWN_SECRETS = {FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]: FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}

Refusal = tuple[int, dict[str, str], str]


def _error(status: int, code: str, message: str, **extra: Any) -> Refusal:
    fields = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in extra.items())
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId><HostId>devstack</HostId></Error>")
    return status, {"Content-Type": "application/xml"}, body


def _denied(message: str) -> Refusal:
    return _error(403, "AccessDenied", f"Invalid according to Policy: {message}")


def _condition_text(condition: Any) -> str:
    return json.dumps(condition, separators=(", ", ": "))


def _signature_matches(form: Mapping[str, str], policy_b64: str) -> Optional[bool]:
    """The policy's SigV4 (``x-amz-signature``) or SigV2 (``signature``) signature.

    ``None`` when the access key is not one whose secret we know.
    """
    if "x-amz-signature" in form:
        parts = form.get("x-amz-credential", "").split("/")
        if len(parts) != 5 or parts[0] not in _KNOWN_SECRETS:
            return None
        key = ("AWS4" + _KNOWN_SECRETS[parts[0]]).encode()
        for part in parts[1:]:
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, form["x-amz-signature"])
    secret = _KNOWN_SECRETS.get(form.get("awsaccesskeyid", ""))
    if secret is None:
        return None
    digest = hmac.new(secret.encode(), policy_b64.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), form.get("signature", ""))


def check(bucket: str, form: Mapping[str, str], size: int,
          now: Optional[dt.datetime] = None) -> Optional[Refusal]:
    """S3's answer to a POST upload of ``size`` bytes with these form fields, or None if allowed.

    ``form`` holds the fields as posted (``key`` after ``${filename}`` is
    substituted), without the file.
    """
    fields = {name.lower(): value for name, value in form.items()}
    policy_b64 = fields.get("policy")
    if not policy_b64:
        return _error(403, "AccessDenied", "Access Denied")
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
        expiration = dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = policy["conditions"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return _error(400, "InvalidPolicyDocument",
                      "Invalid Policy: Invalid JSON or missing expiration/conditions.")
    if _signature_matches(fields, policy_b64) is False:
        return _error(403, "SignatureDoesNotMatch", "The request signature we calculated does not "
                      "match the signature you provided. Check your key and signing method.")
    if expiration <= (now or dt.datetime.now(dt.timezone.utc)):
        return _denied("Policy expired.")

    values = {**fields, "bucket": bucket}
    covered = {"bucket"}
    size_range: Optional[tuple[int, int]] = None
    for condition in conditions:
        if isinstance(condition, dict):
            (name, expected), = condition.items()
            condition = ["eq", f"${name}", expected]
        if not isinstance(condition, list) or len(condition) != 3:
            return _error(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {condition!r}")
        operator, first, second = condition
        if str(operator).lower() == "content-length-range":
            size_range = (int(first), int(second))
            continue
        name = str(first).lstrip("$").lower()
        covered.add(name)
        actual = values.get(name, "")
        if str(operator).lower() == "eq":
            ok = actual == second
        elif str(operator).lower() == "starts-with":
            # S3: Content-Type may be a comma-separated list, each item must match.
            items = actual.split(",") if name == "content-type" and second else [actual]
            ok = all(item.strip().startswith(second) for item in items)
        else:
            return _error(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {condition!r}")
        if not ok:
            return _denied(f"Policy Condition failed: {_condition_text(condition)}")

    extra = sorted(name for name in fields
                   if name not in covered and name not in _EXEMPT and not name.startswith("x-ignore-"))
    if extra:
        return _denied(f"Extra input fields: {', '.join(extra)}")
    if size_range is not None:
        low, high = size_range
        if size > high:
            return _error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
                          ProposedSize=size, MaxSizeAllowed=high)
        if size < low:
            return _error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum "
                          "allowed size", ProposedSize=size, MinSizeAllowed=low)
    return None

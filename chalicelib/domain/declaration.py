"""What the applicant declares: the request schema, validated with pydantic.

The same models validate requests and generate the OpenAPI document, so the
two cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from . import codes, text


def _iso_country(value: str) -> str:
    if not codes.is_iso_country(value):
        raise ValueError("not an assigned ISO 3166-1 alpha-2 country code")
    return value


def _icao_code(value: str) -> str:
    if not codes.is_icao_nationality(value):
        raise ValueError("not an ICAO 9303 nationality or issuing-state code")
    return value


def _plausible_date(value: dt.date) -> dt.date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be from {MIN_YEAR} to {MAX_YEAR}")
    return value


#: Dates on identity documents and of birth: anything outside is a typing error or a probe.
MIN_YEAR, MAX_YEAR = 1900, 2099
PLAUSIBLE_DATE = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
ICAO_CODES = sorted(codes.ISO_ALPHA3 | codes.ICAO_EXTRA | {"D<<"})

Alpha2 = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    AfterValidator(_iso_country),
    Field(json_schema_extra={"enum": sorted(codes.ISO_ALPHA2)}),
]
# ICAO 9303 nationality / issuing-state codes: three letters, or "D" padded as "D<<".
IcaoCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{1,3}<{0,2}$", max_length=3),
    AfterValidator(_icao_code),
    Field(json_schema_extra={"enum": ICAO_CODES}),
]


def _text(max_length: int, *, required: bool = True, address: bool = False) -> tuple[Any, ...]:
    """The metadata of a declared text field: whitespace stripped, at most ``max_length`` characters (and at least
    one when ``required``), printable only (an address line may hold a tab), the refusal and the JSON schema's
    pattern from the same rule (``text``)."""
    allowed = text.ADDRESS_WHITESPACE if address else ""
    return (
        StringConstraints(strip_whitespace=True, min_length=1 if required else None, max_length=max_length),
        AfterValidator(text.check_address_line if address else text.check_printable),
        Field(json_schema_extra=text.printable_schema(allowed, required=required)),
    )


Text = Annotated[str, *_text(200)]
#: Given names may be empty: a person known by one name has it printed by ICAO 9303 as the primary identifier
#: (the surname field, nothing after its ``<<``), so they declare it as ``surname`` and no given names.
GivenNames = Annotated[str, *_text(200, required=False)]
AddressText = Annotated[str, *_text(200, address=True)]
ShortText = Annotated[str, *_text(20, required=False, address=True)]
PlausibleDate = Annotated[
    dt.date, AfterValidator(_plausible_date), Field(json_schema_extra={"pattern": PLAUSIBLE_DATE})
]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FullName(_Strict):
    """As the identity document prints it: a person known by one name gives it as ``surname``."""

    given_names: GivenNames = Field("", description="Empty or left out for a person known by one name")
    surname: Text


class Address(_Strict):
    """Residential address; field names follow Google's address data."""

    country: Alpha2 = Field(description="ISO 3166-1 alpha-2 code, e.g. GB")
    street_address: list[AddressText] = Field(min_length=1, max_length=3)
    city: Optional[AddressText] = None
    city_area: Optional[AddressText] = None
    country_area: Optional[AddressText] = Field(None, description="State, province or county")
    postal_code: Optional[ShortText] = None
    sorting_code: Optional[ShortText] = None


class DocumentType(str, enum.Enum):
    PASSPORT = "passport"  # ICAO 9303 TD3, two lines of 44
    ID_CARD = "id_card"  # ICAO 9303 TD1, three lines of 30


class IdentityDocument(_Strict):
    type: DocumentType
    number: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,9}$")]
    issuing_country: IcaoCode
    expiry_date: PlausibleDate


class ApplicationRequest(_Strict):
    """Body of ``POST /applications``."""

    full_name: FullName
    date_of_birth: PlausibleDate
    nationality: IcaoCode
    email: EmailStr
    phone: Phone
    address: Address
    identity_document: IdentityDocument

    @field_validator("date_of_birth")
    @classmethod
    def _born_in_the_past(cls, value: dt.date) -> dt.date:
        if value >= dt.date.today() or value.year < 1900:
            raise ValueError("date of birth must be in the past and after 1900")
        return value


_NAME_CLEAN = re.compile(r"[^A-Z]+")


def mrz_name(text: str) -> str:
    """Normalise a name the way an MRZ prints it: A-Z only, words joined by '<'."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    return "<".join(w for w in _NAME_CLEAN.split(ascii_text) if w)

"""What the applicant declares: the request schema, validated with pydantic.

The same models validate requests and generate the OpenAPI document, so the
two cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

Alpha2 = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
# ICAO 9303 nationality / issuing-state codes: three letters, or "D" padded as "D<<".
IcaoCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,3}<{0,2}$", max_length=3)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FullName(_Strict):
    given_names: Text
    surname: Text


class Address(_Strict):
    """Residential address; field names follow Google's address data."""

    country: Alpha2 = Field(description="ISO 3166-1 alpha-2 code, e.g. GB")
    street_address: list[Text] = Field(min_length=1, max_length=3)
    city: Optional[Text] = None
    city_area: Optional[Text] = None
    country_area: Optional[Text] = Field(None, description="State, province or county")
    postal_code: Optional[Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]] = None
    sorting_code: Optional[Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]] = None


class DocumentType(str, enum.Enum):
    PASSPORT = "passport"  # ICAO 9303 TD3, two lines of 44
    ID_CARD = "id_card"  # ICAO 9303 TD1, three lines of 30


class IdentityDocument(_Strict):
    type: DocumentType
    number: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,9}$")]
    issuing_country: IcaoCode
    expiry_date: dt.date


class ApplicationRequest(_Strict):
    """Body of ``POST /applications``."""

    full_name: FullName
    date_of_birth: dt.date
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

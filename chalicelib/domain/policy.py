"""Business thresholds and lists, read from Parameter Store by the settings adapter, and the rules
that the declaration alone settles.

Some rules need no document: an applicant too young, a document already expired, a nationality or a
country of residence the bank does not serve, a date no document can carry. ``settled_by_declaration``
applies them when the application is created (the API answers 422 naming each one), and the identity
check applies the very same functions again to what was read from the document, because Parameter
Store may have changed in between and because the document, not the form, is the evidence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .declaration import ApplicationRequest

#: Every nationality (``served_nationalities``): the list is then only the refused one.
ANY = "*"


@dataclass(frozen=True)
class Policy:
    """Every tunable rule in one immutable value; defaults match resources.yaml."""

    minimum_age: int = 18
    served_countries: frozenset[str] = frozenset({"GB", "IE", "DE", "FR", "NL", "ES", "IT", "US"})
    # Nationalities (ICAO 9303 codes, e.g. GBR, D): those served ("*": any), and those refused whatever
    # the served list says (default: the FATF's "call for action" jurisdictions). "-" is an empty list.
    served_nationalities: frozenset[str] = frozenset({ANY})
    refused_nationalities: frozenset[str] = frozenset({"PRK", "IRN", "MMR"})
    document_min_bytes: int = 1024
    document_max_bytes: int = 5 * 1024 * 1024
    upload_url_ttl_seconds: int = 600
    review_sla_hours: int = 48
    awaiting_documents_expiry_days: int = 30
    document_retention_days: int = 90
    #: APPROVED applications' documents and personal data: anti-money-laundering record keeping (five years
    #: after the business relationship ends in most regimes; counted here from the approval, see
    #: docs/security.md). 1827 days: five years with their leap days.
    approved_document_retention_days: int = 1827
    max_body_bytes: int = 16 * 1024
    # Sanctions screening: a candidate scoring this (of 100) or more goes to review; a list
    # download more than this share smaller than the last good one is refused; where the lists are.
    sanctions_review_threshold: float = 85.0
    sanctions_max_shrink: float = 0.1
    sanctions_ofac_sdn_url: str = "https://www.treasury.gov/ofac/downloads/sdn.csv"
    sanctions_ofac_alt_url: str = "https://www.treasury.gov/ofac/downloads/alt.csv"
    sanctions_un_url: str = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
    #: Approved customers are re-screened when the lists change for this long after approval (the AML
    #: record-keeping period), by this many workers in parallel (segments of the customers' scan).
    customer_rescreening_days: int = 1827
    customer_rescreening_segments: int = 8
    ocr_min_confidence: int = 50  # percent: an MRZ field read less surely than this goes to a person
    document_max_pixels: int = 40_000_000  # an image declaring more is refused before anything decodes it
    #: Applications one applicant may create per UTC day (429 with Retry-After beyond).
    max_applications_per_day: int = 10
    # The face check (issue 17; domain/face.py). Similarities and confidences are Rekognition's 0-100.
    # At or above the match threshold the selfie matches the document's photo; between the review and the
    # match threshold a person compares them; below the review threshold it is FACE_MISMATCH (a person too:
    # the face check never rejects on its own).
    face_match_threshold: float = 95.0
    face_review_threshold: float = 80.0
    #: The same face on another application (a search of the stage's face collection) at or above this.
    face_duplicate_threshold: float = 95.0
    #: Rekognition Face Liveness' confidence that a live person was in front of the camera, to pass.
    face_liveness_threshold: float = 90.0
    #: The selfie's quality (Rekognition's FaceDetail): sharper/brighter than this, turned less than this.
    face_min_sharpness: float = 20.0
    face_min_brightness: float = 20.0
    face_max_pose_degrees: float = 30.0
    #: The biometric consent text the applicant must accept (chalicelib/console/consent/biometric-<v>.txt).
    face_consent_text_version: str = "v1"
    #: A liveness session must be streamed this soon after it is created (Rekognition's is 3 minutes).
    face_liveness_session_seconds: int = 180
    #: Liveness sessions one application may start (each is a paid check); the last result then stands.
    face_liveness_max_attempts: int = 3
    #: Selfies, liveness images and face-collection entries are deleted this long after the application is
    #: decided (at once when withdrawn or expired); never kept longer than documents (``biometric_retention``).
    biometric_retention_days: int = 30
    #: REST requests one signed-in user may make per minute (a fixed window; 429 with Retry-After beyond).
    #: Applicants: a console polls little (live updates come over the WebSocket). Staff: a reviewer
    #: working a queue. Each request counts, answered or refused by a later rule.
    applicant_requests_per_minute: int = 120
    staff_requests_per_minute: int = 300
    #: Four eyes: cases flagged for a reason of these checks or codes need two different reviewers to
    #: approve (``SANCTIONS``: any sanctions REVIEW; add e.g. ``IDENTITY`` or a reason code). "-": none.
    second_review_for: frozenset[str] = frozenset({"SANCTIONS"})
    #: The review queue: how long a reviewer's claim on a case lasts (others see it claimed meanwhile).
    review_claim_minutes: int = 30

    @classmethod
    def from_parameters(cls, values: Mapping[str, str]) -> Policy:
        """Build from Parameter Store names (``minimum_age`` or ``minimum-age``).

        Unknown names are ignored so a new parameter can be deployed before
        the code that reads it; a malformed value raises ValueError loudly.
        """
        normalised = {k.rsplit("/", 1)[-1].replace("-", "_"): v for k, v in values.items()}
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            if f.name not in normalised:
                continue
            raw = str(normalised[f.name]).strip()
            if isinstance(f.default, frozenset):  # a StringList: "GB,IE"; "-" (or nothing) for none
                codes = (c.strip().upper() for c in raw.split(","))
                kwargs[f.name] = frozenset(_unpad(c) for c in codes if c and c != "-")
            elif isinstance(f.default, float):
                kwargs[f.name] = float(raw)
            elif isinstance(f.default, str):
                kwargs[f.name] = raw
            else:
                kwargs[f.name] = int(raw)
        return cls(**kwargs)  # type: ignore[arg-type]

    def serves_nationality(self, code: str) -> bool:
        """ICAO codes compare unpadded: "D<<" is Germany's "D"."""
        bare = _unpad(code)
        if bare in self.refused_nationalities:
            return False
        return ANY in self.served_nationalities or bare in self.served_nationalities

    def serves_country(self, alpha2: str) -> bool:
        return alpha2 in self.served_countries

    @property
    def biometric_retention(self) -> int:
        """Days biometric data outlives the decision: the setting, but never longer than documents are kept."""
        return max(0, min(self.biometric_retention_days, self.document_retention_days))


def _unpad(code: str) -> str:
    return code.strip().rstrip("<")


# --- the rules the declaration alone settles -----------------------------------------------------

APPLICANT_UNDERAGE = "APPLICANT_UNDERAGE"
DOCUMENT_EXPIRED = "DOCUMENT_EXPIRED"
DOCUMENT_EXPIRY_IMPLAUSIBLE = "DOCUMENT_EXPIRY_IMPLAUSIBLE"
NATIONALITY_NOT_SERVED = "NATIONALITY_NOT_SERVED"
COUNTRY_NOT_SERVED = "COUNTRY_NOT_SERVED"

#: No state issues a travel document valid longer than this (ten years is the usual maximum); a later
#: expiry is a typing error. It must stay under 50: the MRZ holds the expiry year in two digits.
MAX_DOCUMENT_VALIDITY_YEARS = 20


@dataclass(frozen=True)
class Broken:
    """One rule a value breaks: its code (the same as the identity check's reason), the field, why."""

    code: str
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The entry of a 422's ``details.fields``: the shape of a validation error, typed by the rule."""
        return {"field": self.field, "message": self.message, "type": self.code}


def age_on(birth: dt.date, today: dt.date) -> int:
    """Completed years of age on ``today``.

    Someone born on 29 February completes a year on 1 March in common years
    (the rule in English law), which the tuple comparison gives for free:
    (2, 28) < (2, 29).
    """
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def age_rule(birth: dt.date, policy: Policy, today: dt.date, field: str = "date_of_birth") -> Optional[Broken]:
    if age_on(birth, today) < policy.minimum_age:
        return Broken(APPLICANT_UNDERAGE, field, f"The applicant is younger than {policy.minimum_age}")
    return None


def expiry_rule(expiry: dt.date, today: dt.date, field: str = "identity_document.expiry_date") -> Optional[Broken]:
    """A document is valid up to and including its expiry date, and for no more than a state issues one."""
    if expiry < today:
        return Broken(DOCUMENT_EXPIRED, field, f"The document expired on {expiry.isoformat()}")
    if expiry > _years_after(today, MAX_DOCUMENT_VALIDITY_YEARS):
        message = f"No identity document is valid for more than {MAX_DOCUMENT_VALIDITY_YEARS} years"
        return Broken(DOCUMENT_EXPIRY_IMPLAUSIBLE, field, message)
    return None


def nationality_rule(code: str, policy: Policy, field: str = "nationality") -> Optional[Broken]:
    if not policy.serves_nationality(code):
        return Broken(NATIONALITY_NOT_SERVED, field, f"Nationality {_unpad(code)} is not served")
    return None


def residence_rule(alpha2: str, policy: Policy, field: str = "address.country") -> Optional[Broken]:
    if not policy.serves_country(alpha2):
        return Broken(COUNTRY_NOT_SERVED, field, f"Country {alpha2} is not served")
    return None


def settled_by_declaration(declared: ApplicationRequest, policy: Policy, today: dt.date) -> list[Broken]:
    """Every rule the declared data alone breaks (all of them, not the first): nothing a document could mend."""
    found = [
        age_rule(declared.date_of_birth, policy, today),
        expiry_rule(declared.identity_document.expiry_date, today),
        nationality_rule(declared.nationality, policy),
        residence_rule(declared.address.country, policy),
    ]
    return [broken for broken in found if broken is not None]


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)

"""Business thresholds and lists, read from Parameter Store by the settings adapter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Policy:
    """Every tunable rule in one immutable value; defaults match resources.yaml."""

    minimum_age: int = 18
    served_countries: frozenset[str] = frozenset({"GB", "IE", "DE", "FR", "NL", "ES", "IT", "US"})
    document_min_bytes: int = 1024
    document_max_bytes: int = 5 * 1024 * 1024
    upload_url_ttl_seconds: int = 600
    review_sla_hours: int = 48
    awaiting_documents_expiry_days: int = 30
    document_retention_days: int = 90
    max_body_bytes: int = 16 * 1024
    # Sanctions screening: a candidate scoring this (of 100) or more goes to review; a list
    # download more than this share smaller than the last good one is refused; where the lists are.
    sanctions_review_threshold: float = 85.0
    sanctions_max_shrink: float = 0.1
    sanctions_ofac_sdn_url: str = "https://www.treasury.gov/ofac/downloads/sdn.csv"
    sanctions_ofac_alt_url: str = "https://www.treasury.gov/ofac/downloads/alt.csv"
    sanctions_un_url: str = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
    ocr_min_confidence: int = 50  # percent: an MRZ field read less surely than this goes to a person
    document_max_pixels: int = 40_000_000  # an image declaring more is refused before anything decodes it
    #: Applications one applicant may create per UTC day (429 with Retry-After beyond).
    max_applications_per_day: int = 10

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
            if f.name == "served_countries":
                kwargs[f.name] = frozenset(c.strip().upper() for c in raw.split(",") if c.strip())
            elif isinstance(f.default, float):
                kwargs[f.name] = float(raw)
            elif isinstance(f.default, str):
                kwargs[f.name] = raw
            else:
                kwargs[f.name] = int(raw)
        return cls(**kwargs)  # type: ignore[arg-type]

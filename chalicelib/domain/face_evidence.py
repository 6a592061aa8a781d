"""What an application keeps of the applicant's biometric evidence: ``Application.biometrics``.

A plain JSON mapping, stored with the application and changed only by the commands of
``face_workflow.py`` (each with its history event, in one transaction)::

    consent          {"text_version", "at", "by"}               the last consent given
    sessions         [{"session_id", "attempt", "created_at",   every liveness session started, in order;
                       "expires_at", "state"}]                  state: open | used | superseded
    liveness         {"session_id", "attempt", "status",        the last completed attempt (the one that
                      "confidence", "passed", "reference",      counts); reference/audit: {"key", "version"}
                      "audit", "completed_at"}                  in the biometrics bucket
    attempts         [{"session_id", "status", "confidence",    every completed attempt, for the reviewer
                       "passed"}]
    liveness_settled_at   when the liveness check became final (passed, or no attempt left)
    face_requested_at     when the FACE check was asked for (once)
    face_ids         [...]                                      this application's faces in the collection
    purged_at        when the images and collection entries were deleted (consent and scores stay)

Functions here read and rebuild that mapping; nothing here knows storage or Rekognition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from .checks import FACE

OPEN = "open"
USED = "used"
SUPERSEDED = "superseded"

#: Rekognition's session ids are UUIDs; anything else never reaches AWS.
_SESSION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_session_id(value: object) -> bool:
    return isinstance(value, str) and bool(_SESSION_ID.match(value))


def consent(biometrics: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    found = biometrics.get("consent")
    return found if isinstance(found, Mapping) else None


def consented_to(biometrics: Mapping[str, Any], text_version: str) -> bool:
    given = consent(biometrics)
    return given is not None and given.get("text_version") == text_version


def sessions(biometrics: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in biometrics.get("sessions") or () if isinstance(s, Mapping)]


def session(biometrics: Mapping[str, Any], session_id: str) -> Optional[Mapping[str, Any]]:
    return next((s for s in sessions(biometrics) if s.get("session_id") == session_id), None)


def open_session(biometrics: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    return next((s for s in reversed(sessions(biometrics)) if s.get("state") == OPEN), None)


def attempts_used(biometrics: Mapping[str, Any]) -> int:
    return len(sessions(biometrics))


def liveness(biometrics: Mapping[str, Any]) -> Mapping[str, Any]:
    found = biometrics.get("liveness")
    return found if isinstance(found, Mapping) else {}


def liveness_settled(biometrics: Mapping[str, Any]) -> bool:
    return bool(biometrics.get("liveness_settled_at"))


def face_requested(biometrics: Mapping[str, Any]) -> bool:
    return bool(biometrics.get("face_requested_at"))


def awaits_liveness(checks: Mapping[str, Any], biometrics: Mapping[str, Any]) -> bool:
    """Only the applicant can move the application on: no face check, and no final liveness result for one."""
    return FACE not in checks and not liveness_settled(biometrics)


def face_ids(biometrics: Mapping[str, Any]) -> list[str]:
    return [str(f) for f in biometrics.get("face_ids") or ()]


def reference(biometrics: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    """The liveness reference image (the selfie) as {"key", "version"}, if there is one."""
    found = liveness(biometrics).get("reference")
    return found if isinstance(found, Mapping) and found.get("key") else None


def purged(biometrics: Mapping[str, Any]) -> bool:
    return bool(biometrics.get("purged_at"))


def holds_biometric_data(biometrics: Mapping[str, Any]) -> bool:
    """Whether anything is left to delete: images in the bucket or faces in the collection (or may be)."""
    if purged(biometrics):
        return False
    return bool(sessions(biometrics) or face_ids(biometrics) or face_requested(biometrics))


# --- rebuilding the mapping (each returns a new one) ------------------------------------------------


def with_face_requested(biometrics: Mapping[str, Any], at: str) -> dict[str, Any]:
    return {**biometrics, "face_requested_at": at}


def with_face_ids(biometrics: Mapping[str, Any], ids: Sequence[str]) -> dict[str, Any]:
    known = face_ids(biometrics)
    return {**biometrics, "face_ids": known + [i for i in dict.fromkeys(ids) if i not in known]}


def with_session_state(biometrics: Mapping[str, Any], session_id: str, state: str) -> dict[str, Any]:
    updated = [{**s, "state": state} if s.get("session_id") == session_id else dict(s) for s in sessions(biometrics)]
    return {**biometrics, "sessions": updated}

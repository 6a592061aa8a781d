"""``./dev selfie APPLICATION_ID PHOTO... [--as USER]``: a liveness check fed from photos.

What the console's capture does with a camera, done with photos of one person:
consent (the current text version), a liveness session, the session's challenge
from the local stand-in, a burst of frames chosen from the photos to meet it,
then ``complete``. Frames are chosen by the pose the local Rekognition measures
(DetectFaces through its endpoint): a photo facing the camera first (it becomes
the reference image), then the one turned furthest the asked way; for a blink,
open - closed - open. When the photos cannot meet the challenge (no photo with
closed eyes for ``blink``), it says so and asks for another session, as a person
would retry, within the app's attempts.

Standard library plus boto3 (already in the dev environment); no face models load here.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

FRONTAL, TURNED = 12.0, 18.0  # margins over the stand-in's 15 and 15 degrees
CHALLENGES = ("turn_left", "turn_right", "blink")  # the stand-in's (devstack/rekognition/liveness.py)


class SelfieError(Exception):
    """Something the developer must fix or know; printed as one line."""


@dataclass
class Measured:
    name: str
    data: bytes
    yaw: Optional[float]  # None: no face
    eyes_open: Optional[bool]


def measure(rekognition: Any, photos: list[tuple[str, bytes]]) -> list[Measured]:
    """Each photo's largest face as the local Rekognition sees it."""
    measured = []
    for name, data in photos:
        try:
            details = rekognition.detect_faces(Image={"Bytes": data}, Attributes=["ALL"])["FaceDetails"]
        except Exception as error:  # noqa: BLE001 - an AWS error code, reported as such
            raise SelfieError(f"{name}: {getattr(error, 'response', {}).get('Error', {}).get('Code', error)}") from None
        if not details:
            measured.append(Measured(name, data, None, None))
            continue
        face = max(details, key=lambda d: d["BoundingBox"]["Width"] * d["BoundingBox"]["Height"])
        measured.append(Measured(name, data, face["Pose"]["Yaw"], face.get("EyesOpen", {}).get("Value")))
    return measured


def choose(challenge: str, photos: list[Measured]) -> Optional[list[Measured]]:
    """Frames meeting ``challenge`` (facing the camera first), or None if these photos cannot."""
    faces = [p for p in photos if p.yaw is not None]
    frontal = sorted((p for p in faces if abs(p.yaw or 0) <= FRONTAL), key=lambda p: abs(p.yaw or 0))
    if not frontal:
        return None
    first = frontal[0]
    if challenge in ("turn_left", "turn_right"):
        sign = 1.0 if challenge == "turn_left" else -1.0  # + yaw: the person's own left
        turned = sorted((p for p in faces if sign * (p.yaw or 0) >= TURNED), key=lambda p: -sign * (p.yaw or 0))
        return [first, turned[0]] if turned else None
    if challenge == "blink":
        opened = [p for p in frontal if p.eyes_open]
        closed = [p for p in frontal if p.eyes_open is False]
        if opened and closed:
            return [opened[0], closed[0], opened[-1] if len(opened) > 1 else opened[0]]
    return None


class Api:
    """The app's REST API as the applicant's client calls it (fresh connection per request)."""

    def __init__(self, api_url: str, token: str) -> None:
        self.api_url, self.token = api_url.rstrip("/"), token

    def call(self, method: str, path: str, body: Optional[dict[str, Any]] = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.api_url}{path}", method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - local
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.loads(error.read() or b"null")
            except ValueError:
                return error.code, None


def post_json(url: str, body: Optional[dict[str, Any]] = None, timeout: float = 180) -> tuple[int, Any]:
    request = urllib.request.Request(url, method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - local
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _error_text(status: int, body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return f"{status} {body['error'].get('code')}: {body['error'].get('message')}"
    return f"{status} {body}"


def run(api: Api, liveness_url: str, rekognition: Any, application_id: str, photos: list[tuple[str, bytes]],
        consent_version: Optional[str] = None, attempts: int = 3, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Consent, session, frames, complete; returns the complete call's answer and what was posted."""
    app = f"/applications/{urllib.parse.quote(application_id)}"
    measured = measure(rekognition, photos)
    for item in measured:
        say(f"  {item.name}: " + ("no face" if item.yaw is None else
                                   f"yaw {item.yaw:+.0f} deg, eyes {'open' if item.eyes_open else 'closed'}"))
    version = consent_version
    if version is None:  # the current text's version, as the API serves it to the console
        status, current = api.call("GET", f"{app}/biometric-consent")
        if status != 200:
            raise SelfieError(f"no consent text: {_error_text(status, current)}")
        version = str(current["text_version"])
    status, body = api.call("POST", f"{app}/biometric-consent", {"text_version": version, "accepted": True})
    if status not in (200, 201):
        raise SelfieError(f"consent refused: {_error_text(status, body)}")
    say(f"consent given (text {version})")
    for attempt in range(1, attempts + 1):
        status, session = api.call("POST", f"{app}/liveness-sessions", {})
        if status not in (200, 201):  # 200: the session still open is handed back (the app's rule)
            raise SelfieError(f"no liveness session: {_error_text(status, session)}")
        session_id = session["session_id"]
        # Say which challenges these photos can meet, so the stand-in never asks one they cannot (a blink
        # without a photo of closed eyes): such a session spent an attempt, and three did (1 time in 27).
        can = [c for c in CHALLENGES if choose(c, measured) is not None]
        query = f"?can={','.join(can)}" if can else ""
        status, described = post_json(f"{liveness_url}/sessions/{session_id}{query}")
        if status != 200:
            raise SelfieError(f"the local liveness stand-in does not know session {session_id}: {described}")
        challenge = described["Challenge"]["Type"]
        frames = choose(challenge, measured)
        met = frames is not None
        if frames is None:
            # The app hands back an open session, so asking again would get this challenge again: spend the
            # attempt as a person who cannot do it would (the stand-in fails it), then a new session follows.
            usable = [m for m in measured if m.yaw is not None]
            if not usable:
                raise SelfieError("no face in any of these photos")
            frames = [min(usable, key=lambda m: abs(m.yaw or 0)), *[m for m in usable][:1]]
            say(f"session {attempt}: challenge {challenge}: these photos cannot meet it; this attempt will fail")
        else:
            say(f"session {session_id}: challenge {challenge}: frames {', '.join(f.name for f in frames)}")
        status, judged = post_json(f"{liveness_url}/sessions/{session_id}/frames",
                                   {"Frames": [base64.b64encode(f.data).decode() for f in frames]})
        if status != 200:
            raise SelfieError(f"the stand-in refused the frames: {judged.get('__type')}: {judged.get('message')}")
        say(f"liveness {judged['Status']}" + (f" ({'; '.join(judged['Reasons'])})" if judged["Reasons"] else ""))
        status, completed = api.call("POST", f"{app}/liveness-sessions/{session_id}/complete", {})
        if status != 202:
            raise SelfieError(f"complete refused: {_error_text(status, completed)}")
        if met or not completed.get("retry_allowed"):
            return {"session_id": session_id, "challenge": challenge, "frames": [f.name for f in frames],
                    "liveness": judged, "complete": completed}
    raise SelfieError(f"none of {attempts} sessions asked a challenge these photos can meet (turning left or "
                      "right needs a photo facing the camera and one turned that way; a blink needs one with eyes "
                      "closed)")


def read_photos(paths: list[Path]) -> list[tuple[str, bytes]]:
    photos = []
    for path in paths:
        try:
            photos.append((path.name, path.read_bytes()))
        except OSError as error:
            raise SelfieError(f"{path}: {error.strerror}") from None
    return photos

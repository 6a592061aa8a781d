"""The face photos of tests/data/faces (provenance in its README): who is where, and bursts.

``burst_for(person, challenge)`` picks, from one person's photos, the frames a live
person would show for a challenge -- a photo facing the camera, then one turned the
asked way -- by the pose the local engine measures (tests/data/faces has no photo
with closed eyes, so no one here can pass ``blink``: a caller asks for another
session, as a person would retry). Dev and test only.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Optional

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"

PEOPLE: dict[str, tuple[str, ...]] = {
    "obama": ("obama-1.jpg", "obama-2.jpg", "obama-3.jpg", "obama-4.jpg", "obama-partial-1.jpg",
              "obama-partial-2.jpg"),
    "biden": ("biden-1.jpg", "biden-2.jpg"),
    "lacamoire": ("lacamoire-1.jpg", "lacamoire-2.jpg", "lacamoire-3.jpg"),
    "harington": ("harington-1.jpg", "harington-2.jpg", "harington-3.jpg"),
    "leslie": ("leslie-1.jpg", "leslie-2.jpg"),
    "miranda": ("miranda-1.jpg",),
}
GROUPS = ("group-two-people.jpg", "group-obama-biden.jpg", "group-harington-leslie.jpg")
FRONTAL, TURNED = 12.0, 18.0  # |yaw| for "facing the camera"; yaw for "turned" (the stand-in wants 15)


def path(name: str) -> Path:
    return FACES / name


def photo(name: str) -> bytes:
    return path(name).read_bytes()


def person_of(name: str) -> Optional[str]:
    return next((person for person, files in PEOPLE.items() if name in files), None)


@functools.cache
def yaw(name: str) -> float:
    """The largest face's yaw in degrees, as the local engine estimates it (+: the person's left)."""
    from devstack.rekognition.engine import Engine, decode, install_analyses

    install_analyses()  # the checkout's kept analyses (devstack/rekognition/analyses.py)
    faces = Engine.shared().faces(decode(photo(name)))
    return faces[0].pose()["Yaw"] if faces else float("nan")


def burst_for(person: str, challenge: str, first: Optional[str] = None) -> Optional[list[str]]:
    """File names for a burst meeting ``challenge``, facing the camera first; None when impossible.

    ``first`` forces the first frame (the reference image), e.g. a group photo.
    """
    if challenge not in ("turn_left", "turn_right"):
        return None
    sign = 1.0 if challenge == "turn_left" else -1.0
    files = PEOPLE[person]
    frontal = [first] if first else sorted((f for f in files if abs(yaw(f)) <= FRONTAL), key=lambda f: abs(yaw(f)))
    turned = sorted((f for f in files if sign * yaw(f) >= TURN_GOAL), key=lambda f: -sign * yaw(f))
    if not frontal or not turned:
        return None
    return [frontal[0], turned[0]]


TURN_GOAL = TURNED


def portrait(data: bytes, aspect: float = 35 / 45) -> bytes:
    """A passport-style crop (35x45) around the largest face: face about 70 % of the height, JPEG."""
    from PIL import Image, ImageOps

    from devstack.rekognition.engine import Engine, ImageRejected, install_analyses

    install_analyses()  # the checkout's kept analyses (devstack/rekognition/analyses.py)
    try:
        faces = Engine.shared().faces_of(data)
    except ImageRejected as error:
        raise ValueError(f"not a photo the engine reads: {error.message}") from None
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    if not faces:
        raise ValueError("no face in the photo to crop a portrait around")
    left, top, right, bottom = faces[0].rect
    face_h = (bottom - top) * 1.45  # dlib's box is brows to chin; a head is taller
    height = face_h / 0.7
    width = height * aspect
    cx, cy = (left + right) / 2, top - (bottom - top) * 0.2 + face_h / 2
    box = (int(cx - width / 2), int(cy - height / 2), int(cx + width / 2), int(cy + height / 2))
    crop = image.crop(box)  # outside the photo: black, as a scanner margin would be
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=92)
    return out.getvalue()

"""The local stand-in for Rekognition Face Liveness's streaming check.

On AWS the applicant's browser streams video to Rekognition (the Amplify
FaceLivenessDetector) and Rekognition decides; here the client posts a short
burst of still frames and this module judges them. What it checks, in order:

1. every frame is a JPEG/PNG within the limits (else the request is refused,
   AWS-style, and the session stays open for a correct retry);
2. every frame shows a face (the largest face is the subject; other faces are
   allowed and left to the FACE check's DetectFaces, which sends them to review);
3. the frames are not copies of one another (near-duplicate pixels);
4. one consistent face: every frame's descriptor within dlib's same-person
   distance of the first frame's;
5. the first frame faces the camera and the challenge is met:
   ``turn_left``/``turn_right`` -- a later frame turned at least
   :data:`TURN_DEGREES` the asked way (yaw from the nose's place between the
   sides of the face); ``blink`` -- a later frame whose eye aspect ratio falls
   below :data:`BLINK_RATIO` of the open eyes', and open again after it;
6. for a turn, the landmarks moved like a head, not like a flat picture: the
   best 2-D affine map from the first frame's landmarks to the turned frame's
   leaves a residual (a picture turned in front of a camera maps almost
   exactly; a turning head does not, because the nose moves across the face).

It cannot tell a screen replaying a video of the person doing the challenge,
a mask, or frames injected by a script -- the client's frames are trusted
entirely (docs/face-local.md). The first frame becomes the reference image.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from .engine import SAME_PERSON_DISTANCE, Engine, Face, ImageRejected, decode, distance

CHALLENGES = ("turn_left", "turn_right", "blink")
INSTRUCTIONS = {
    "turn_left": "Look at the camera, then turn your head slowly to your left.",
    "turn_right": "Look at the camera, then turn your head slowly to your right.",
    "blink": "Look at the camera and blink once, slowly.",
}
MIN_FRAMES, MAX_FRAMES = 2, 10
MAX_FRAME_BYTES = 2 * 1024 * 1024
FRONTAL_DEGREES = 15.0  # the first frame's |yaw| at most this
TURN_DEGREES = 15.0  # a turn reaches at least this yaw, the asked way
BLINK_RATIO = 0.7  # closed: eye aspect ratio below this share of the open eyes'
COPY_DIFFERENCE = 1.5  # mean absolute grey difference (0-255, 64x64) below which two frames are copies
FLAT_RESIDUAL = 0.025  # affine-fit residual (of the face's size) below which a turn was a flat picture
PASS_CONFIDENCE, FAIL_CONFIDENCE = 90.0, 20.0


@dataclass
class Frame:
    data: bytes
    image: Any
    faces: list[Face]

    @property
    def subject(self) -> Face:
        return self.faces[0]


@dataclass
class Verdict:
    """What the stand-in concluded: FAILED when nothing could be judged (no face)."""

    status: str  # SUCCEEDED | FAILED
    confidence: float
    reasons: list[str]
    reference: int = 0  # index of the reference frame
    frames: list[Frame] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.status == "SUCCEEDED" and self.confidence >= PASS_CONFIDENCE


def decode_frames(frames: list[bytes]) -> list[Any]:
    """The frames as images; :class:`ImageRejected` (Rekognition's error codes) for bad ones."""
    if len(frames) < MIN_FRAMES or len(frames) > MAX_FRAMES:
        raise ImageRejected("ValidationException",
                            f"a burst has {MIN_FRAMES} to {MAX_FRAMES} frames, got {len(frames)}")
    images = []
    for index, data in enumerate(frames):
        if len(data) > MAX_FRAME_BYTES:
            raise ImageRejected("ImageTooLargeException",
                                f"frame {index} is {len(data)} bytes; at most {MAX_FRAME_BYTES}")
        try:
            images.append(decode(data))
        except ImageRejected as error:
            raise ImageRejected(error.code, f"frame {index}: {error.message}") from None
    return images


def _grey64(image: Any) -> Any:
    import numpy as np
    from PIL import Image

    return np.asarray(Image.fromarray(image).convert("L").resize((64, 64), Image.BILINEAR), dtype=np.float64)


def _affine_residual(a: Any, b: Any) -> float:
    """RMS residual of the least-squares affine map a -> b, as a share of b's face width."""
    import numpy as np

    ones = np.ones((len(a), 1))
    design = np.hstack([a, ones])
    solution, *_ = np.linalg.lstsq(design, b, rcond=None)
    residual = design @ solution - b
    width = float(np.ptp(b[:, 0])) or 1.0
    return float(np.sqrt((residual**2).sum(axis=1).mean())) / width


def judge(challenge: str, datas: list[bytes], images: list[Any], engine: Engine) -> Verdict:
    """Run the checks on decoded frames (see the module docstring)."""
    frames = [Frame(data, image, engine.faces(image)) for data, image in zip(datas, images, strict=True)]
    missing = [i for i, frame in enumerate(frames) if not frame.faces]
    if missing:
        return Verdict("FAILED", 0.0, [f"FACE_NOT_FOUND: no face in frame(s) {missing}"], frames=frames)
    reasons: list[str] = []
    greys = [_grey64(frame.image) for frame in frames]
    copies = [(i, j) for i in range(len(greys)) for j in range(i + 1, len(greys))
              if abs(greys[i] - greys[j]).mean() < COPY_DIFFERENCE]
    if copies:
        reasons.append(f"FRAMES_COPIED: frames {copies} are copies of each other")
    first = frames[0].subject
    changed = [i for i, frame in enumerate(frames)
               if distance(frame.subject.descriptor, first.descriptor) >= SAME_PERSON_DISTANCE]
    if changed:
        reasons.append(f"FACE_CHANGED: frame(s) {changed} show another face than frame 0")
    yaws = [frame.subject.pose()["Yaw"] for frame in frames]
    if abs(yaws[0]) > FRONTAL_DEGREES:
        reasons.append(f"NOT_FACING_CAMERA: frame 0 is turned {yaws[0]:.0f} degrees")
    if challenge in ("turn_left", "turn_right"):
        sign = 1.0 if challenge == "turn_left" else -1.0  # + yaw: the person's own left (unmirrored)
        turned = [i for i in range(1, len(frames)) if sign * yaws[i] >= TURN_DEGREES]
        if not turned:
            reasons.append(f"CHALLENGE_NOT_MET: no frame turned {TURN_DEGREES:.0f} degrees to the "
                           f"{challenge[5:]} (yaws {[round(y) for y in yaws]})")
        else:
            best = max(turned, key=lambda i: sign * yaws[i])
            residual = _affine_residual(first.points, frames[best].subject.points)
            if residual < FLAT_RESIDUAL:
                reasons.append(f"FLAT_PICTURE: the face moved like a flat picture (residual {residual:.4f})")
    elif challenge == "blink":
        ears = [frame.subject.eye_aspect_ratio() for frame in frames]
        open_ear = max(ears[0], ears[-1])
        closed = [i for i in range(1, len(frames) - 1) if ears[i] < BLINK_RATIO * open_ear]
        if not closed or min(ears[0], ears[-1]) < BLINK_RATIO * open_ear:
            reasons.append(f"CHALLENGE_NOT_MET: no blink between open eyes (eye ratios "
                           f"{[round(e, 2) for e in ears]})")
    confidence = FAIL_CONFIDENCE if reasons else _pass_confidence(challenge, yaws)
    return Verdict("SUCCEEDED", confidence, reasons, reference=0, frames=frames)


def _pass_confidence(challenge: str, yaws: list[float]) -> float:
    """90 at the bare minimum, up to 99 with a clear turn (a blink passes at 95)."""
    if challenge == "blink":
        return 95.0
    return round(min(99.0, PASS_CONFIDENCE + max(abs(y) for y in yaws[1:]) - TURN_DEGREES), 3)


def jpeg(image: Any, quality: int = 92) -> bytes:
    """An image as JPEG bytes (the reference and audit images are stored as JPEG, as on AWS)."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(image).save(out, "JPEG", quality=quality)
    return out.getvalue()

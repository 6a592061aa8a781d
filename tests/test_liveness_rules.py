"""The liveness stand-in's rules on faces whose landmarks the test sets (no models, no pixels)."""

from __future__ import annotations

import numpy as np
import pytest

from devstack.rekognition import liveness
from devstack.rekognition.engine import Face

pytestmark = pytest.mark.no_stack  # devstack's code, no AWS needed


def _face(eye_open: float = 0.3, nose_shift: float = 0.0, person: float = 0.0) -> Face:
    """A frontal face whose eyes have aspect ratio ``eye_open`` and whose nose sits ``nose_shift`` of
    the face's width off centre (+: towards the image's right, the person's own left)."""
    points = np.zeros((68, 2))
    points[0:17, 0] = np.linspace(100, 300, 17)  # jaw, left to right
    points[0:17, 1] = 250 + 80 * np.sin(np.linspace(0, np.pi, 17))
    for start, cx in ((36, 150.0), (42, 250.0)):
        w = 40.0
        h = eye_open * w
        points[start:start + 6] = [(cx - w / 2, 200), (cx - w / 6, 200 - h / 2), (cx + w / 6, 200 - h / 2),
                                   (cx + w / 2, 200), (cx + w / 6, 200 + h / 2), (cx - w / 6, 200 + h / 2)]
    points[27:36] = [(200, 200 + 10 * k) for k in range(9)]
    points[30] = (200 + nose_shift * 200, 250)
    points[8] = (200, 330)
    points[48:68] = [(170 + 3 * k, 290) for k in range(20)]
    descriptor = np.full(128, person)
    gray = np.full((400, 400), 128, dtype=np.uint8)
    return Face(400, 400, (100.0, 150.0, 300.0, 330.0), 1.0, points, descriptor, gray)


class FakeEngine:
    def __init__(self, faces):
        self._faces = iter(faces)

    def faces(self, image):
        return [next(self._faces)]


def _judge(challenge, faces):
    images = [np.random.default_rng(i).integers(0, 255, (80, 80, 3), dtype=np.uint8) for i in range(len(faces))]
    return liveness.judge(challenge, [b"frame"] * len(faces), images, FakeEngine(faces))


def test_a_blink_between_open_eyes_passes():
    verdict = _judge("blink", [_face(0.3), _face(0.05), _face(0.3)])
    assert verdict.reasons == [] and verdict.live and verdict.confidence >= 90


@pytest.mark.parametrize("ears", [(0.3, 0.3, 0.3), (0.3, 0.25, 0.3), (0.05, 0.05, 0.3), (0.3, 0.05, 0.05)])
def test_no_blink_or_eyes_not_open_around_it_fails(ears):
    verdict = _judge("blink", [_face(e) for e in ears])
    assert not verdict.live and any(r.startswith("CHALLENGE_NOT_MET") for r in verdict.reasons)


def test_yaw_sign_is_the_persons_own_side():
    assert _face(nose_shift=0.2).pose()["Yaw"] > 15  # nose to the image's right: turned to their left
    assert _face(nose_shift=-0.2).pose()["Yaw"] < -15
    assert abs(_face().pose()["Yaw"]) < 1


def test_a_turn_must_be_the_asked_way_and_start_facing_the_camera():
    assert not _judge("turn_left", [_face(), _face(nose_shift=-0.25)]).live
    assert not _judge("turn_left", [_face(nose_shift=0.25), _face(nose_shift=0.3)]).live


def test_another_persons_face_in_the_burst_fails():
    verdict = _judge("blink", [_face(0.3), _face(0.05, person=0.1), _face(0.3)])
    assert any(r.startswith("FACE_CHANGED") for r in verdict.reasons) and not verdict.live


def test_no_face_in_a_frame_fails_the_session():
    class Empty:
        def faces(self, image):
            return []

    verdict = liveness.judge("blink", [b"a", b"b"], [np.zeros((80, 80, 3), np.uint8)] * 2, Empty())
    assert verdict.status == "FAILED" and verdict.confidence == 0

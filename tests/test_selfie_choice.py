"""./dev selfie's choice of frames for a challenge, from the poses the local Rekognition measured."""

from __future__ import annotations

import pytest

from devstack.selfie import Measured, choose

pytestmark = pytest.mark.no_stack  # devstack's code, no AWS needed


def m(name: str, yaw: float | None, eyes_open: bool | None = True) -> Measured:
    return Measured(name, b"", yaw, eyes_open)


PHOTOS = [m("front", 2.0), m("left", 26.0), m("right", -27.0), m("slight", 10.0), m("none", None)]


def test_a_turn_starts_facing_the_camera_and_ends_turned_the_asked_way():
    assert [p.name for p in choose("turn_left", PHOTOS)] == ["front", "left"]
    assert [p.name for p in choose("turn_right", PHOTOS)] == ["front", "right"]


def test_photos_that_cannot_meet_the_challenge_are_refused():
    assert choose("turn_left", [m("front", 1.0), m("right", -30.0)]) is None
    assert choose("turn_right", [m("left", 26.0), m("right", -30.0)]) is None  # nothing faces the camera
    assert choose("blink", PHOTOS) is None  # no photo with eyes closed


def test_a_blink_is_open_closed_open():
    chosen = choose("blink", [m("open", 1.0), m("closed", 2.0, eyes_open=False), m("open2", -3.0)])
    assert [p.name for p in chosen] == ["open", "closed", "open2"]


def test_the_challenges_are_the_stand_ins():
    """./dev selfie names the challenges its photos can meet (``?can=``) with the stand-in's names."""
    from devstack.rekognition.liveness import CHALLENGES as STAND_IN
    from devstack.selfie import CHALLENGES

    assert CHALLENGES == STAND_IN

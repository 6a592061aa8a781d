"""A phone photographing a data page: the page on a table, seen at an angle, lit badly, held any way up.

Each effect is a function of the image and a seeded ``random.Random``, applied
by ``passports.photograph`` in the order a camera would: the page lies on a
table and is seen in perspective, a shadow falls across it, a lamp's glare
washes part of it out, the lens blurs, the phone stores few pixels (600 px
wide), then the picture is held sideways or upside down -- with the EXIF
orientation tag a phone writes, or without it. Dev and test only.
"""

from __future__ import annotations

import io
import math
import random

import numpy as np
from PIL import Image, ImageFilter

#: EXIF Orientation for pixels stored turned by ``rotate(angle)`` (PIL: counter-clockwise): the tag tells a viewer
#: how to turn them back. 6: display rotated 90 clockwise; 3: 180; 8: 90 counter-clockwise.
EXIF_ORIENTATION = {90: 6, 180: 3, 270: 8}
EXIF_ORIENTATION_TAG = 0x0112


def table(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A wooden table top: brown, with grain and a little noise."""
    width, height = size
    base = np.array([rng.randint(90, 150), rng.randint(65, 105), rng.randint(40, 70)], dtype=np.float32)
    ys = np.arange(height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    grain = np.sin(ys / rng.uniform(3, 7) + 4 * np.sin(xs / rng.uniform(150, 300) + ys / 400.0)) * 12
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 6, (height, width))
    shade = (grain + noise)[..., None]
    return Image.fromarray(np.clip(base + shade, 0, 255).astype(np.uint8), "RGB")


def _homography(source: list[tuple[float, float]], target: list[tuple[float, float]]) -> list[float]:
    """PIL's PERSPECTIVE coefficients mapping each output pixel (``target``) to its input one (``source``)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64))]


def on_a_table(page: Image.Image, rng: random.Random, strength: float, rotation: float = 0.0) -> Image.Image:
    """The page lying on a table, photographed from above at an angle: its corners where a tilted camera sees them.

    ``strength`` 0..1: how far the far edge shrinks (0.25 at 1) and the corners wander; ``rotation`` turns the
    page on the table (degrees, counter-clockwise).
    """
    width, height = page.size
    margin = 0.18
    out_w, out_h = int(width * (1 + 2 * margin)), int(height * (1 + 2 * margin))
    cx, cy = out_w / 2, out_h / 2
    shrink = 0.25 * strength * rng.uniform(0.6, 1.0)
    side = rng.choice(("top", "bottom", "left", "right"))
    corners = [(-width / 2, -height / 2), (width / 2, -height / 2), (width / 2, height / 2), (-width / 2, height / 2)]
    placed = []
    theta = math.radians(-rotation)
    for x, y in corners:
        far = {"top": y < 0, "bottom": y > 0, "left": x < 0, "right": x > 0}[side]
        if far:  # the edge farther from the camera: shorter, and pushed back
            if side in ("top", "bottom"):
                x *= 1 - shrink
                y *= 1 - shrink * 0.5
            else:
                y *= 1 - shrink
                x *= 1 - shrink * 0.5
        x += rng.uniform(-1, 1) * width * 0.03 * strength
        y += rng.uniform(-1, 1) * height * 0.03 * strength
        placed.append((cx + x * math.cos(theta) - y * math.sin(theta), cy + x * math.sin(theta) + y * math.cos(theta)))
    source = [(0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height))]
    coefficients = _homography(source, placed)
    warped = page.transform((out_w, out_h), Image.PERSPECTIVE, coefficients, resample=Image.BICUBIC)
    mask = Image.new("L", page.size, 255).transform((out_w, out_h), Image.PERSPECTIVE, coefficients,
                                                      resample=Image.BILINEAR)
    photo = table((out_w, out_h), rng)
    photo.paste(warped, (0, 0), mask)
    return photo


def shadow(image: Image.Image, rng: random.Random, strength: float) -> Image.Image:
    """A soft shadow (the phone, a hand) across part of the picture: darker by up to ``strength`` (0..1)."""
    width, height = image.size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    along = (xs - width / 2) * math.cos(angle) + (ys - height / 2) * math.sin(angle)
    edge = rng.uniform(-0.2, 0.3) * max(width, height)
    softness = rng.uniform(0.03, 0.12) * max(width, height)
    dark = 1 / (1 + np.exp(-(along - edge) / softness))
    factor = 1 - strength * dark[..., None]
    pixels = np.asarray(image, dtype=np.float32) * factor
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def glare(image: Image.Image, rng: random.Random, strength: float, over: tuple[float, float] | None = None) -> Image.Image:
    """A lamp's reflection: a bright, soft ellipse washing the picture toward white by up to ``strength`` (0..1).
    ``over``: where (as fractions of width and height) its centre lies; random when None."""
    width, height = image.size
    fx, fy = over if over is not None else (rng.uniform(0.15, 0.85), rng.uniform(0.2, 0.9))
    cx, cy = fx * width, fy * height
    rx, ry = rng.uniform(0.08, 0.2) * width, rng.uniform(0.06, 0.15) * height
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2
    wash = (strength * np.exp(-distance * 1.2))[..., None]
    pixels = np.asarray(image, dtype=np.float32)
    return Image.fromarray(np.clip(pixels * (1 - wash) + 255 * wash, 0, 255).astype(np.uint8), "RGB")


def low_resolution(image: Image.Image, width: int) -> Image.Image:
    """What a phone app that sends small pictures stores: ``width`` pixels across."""
    if image.width <= width:
        return image
    return image.resize((width, max(1, round(image.height * width / image.width))), Image.LANCZOS)


def held(image: Image.Image, orientation: int) -> Image.Image:
    """The picture as stored by a phone held sideways or upside down: turned by 90, 180 or 270 degrees."""
    if orientation % 360 == 0:
        return image
    return image.rotate(orientation % 360, expand=True)


def exif_for(orientation: int) -> bytes:
    """The EXIF block a phone writes for pixels stored turned by ``orientation``."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION_TAG] = EXIF_ORIENTATION[orientation % 360]
    return exif.tobytes()


def blur(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius)) if radius else image


def upright(data: bytes) -> Image.Image:
    """What a viewer shows (EXIF applied): for tests that compare."""
    from PIL import ImageOps

    return ImageOps.exif_transpose(Image.open(io.BytesIO(data)))

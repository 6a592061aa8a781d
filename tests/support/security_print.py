"""Security printing for generated data pages: what real passports and cards print behind their text.

A real data page is not white: a coloured background that shifts hue across
the page (rainbow printing), fine guilloche (interlaced sine and rosette
lines), a watermark, microprinted text, and a hologram laminated over part of
the page -- the machine-readable zone included. ``plain`` is the old page (a
tint, a few faint guilloche lines, the MRZ area cleared); ``security`` prints
all of the above, under the MRZ too. Dev and test only.
"""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

BACKGROUNDS = ("plain", "security")


def plain_background(page: Image.Image, rng: random.Random, scale: float) -> None:
    """A few faint guilloche lines over the page's tint (the old look)."""
    draw = ImageDraw.Draw(page)
    width, height = page.size
    colour = (rng.randint(180, 215), rng.randint(190, 220), rng.randint(200, 230))
    for k in range(14):
        phase, amplitude, period = rng.uniform(0, 6.3), rng.uniform(2, 7) * scale, rng.uniform(15, 40) * scale
        points = [(x, height * (k + 0.5) / 14 + amplitude * math.sin(x / period * 6.283 + phase))
                  for x in range(0, width, max(2, int(scale)))]
        draw.line(points, fill=colour, width=max(1, int(scale / 8)))


def _pastel(rng: random.Random) -> tuple[int, int, int]:
    hue = rng.random()
    r, g, b = (0.5 + 0.5 * math.cos(2 * math.pi * (hue + k / 3)) for k in range(3))
    lightness = rng.uniform(0.72, 0.86)
    return tuple(int(255 * (lightness + (1 - lightness) * 0.6 * c)) for c in (r, g, b))  # type: ignore[return-value]


def security_background(page: Image.Image, rng: random.Random, scale: float, emblem: str) -> None:
    """Rainbow background, dense guilloche and rosettes, microprint and a watermark: over the whole page."""
    width, height = page.size
    # Rainbow printing: two pastels blended across the page, with a slow wave.
    left, right = np.array(_pastel(rng), dtype=np.float32), np.array(_pastel(rng), dtype=np.float32)
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    mix = np.clip(xs + 0.15 * np.sin(ys * rng.uniform(3, 7) + rng.uniform(0, 6)), 0, 1)[..., None]
    base = left * (1 - mix) + right * mix
    page.paste(Image.fromarray(base.astype(np.uint8), "RGB"))
    draw = ImageDraw.Draw(page, "RGBA")
    line_width = max(1, int(round(scale / 7)))
    # Guilloche: interlaced sine bands, two colours, darker than the background but far lighter than ink.
    for colour in (_line_colour(rng), _line_colour(rng)):
        rows = rng.randint(18, 30)
        for k in range(rows):
            phase, amplitude = rng.uniform(0, 6.3), rng.uniform(1.5, 5) * scale
            period = rng.uniform(8, 25) * scale
            centre = height * (k + 0.5) / rows
            points = [(x, centre + amplitude * math.sin(x / period * 6.283 + phase)
                       + amplitude * 0.4 * math.sin(x / period * 17.1 + 2 * phase))
                      for x in range(0, width + 4, max(2, int(scale / 2)))]
            draw.line(points, fill=colour, width=line_width)
    # Rosettes: epicycloid-like loops, one of them often over the MRZ.
    for _ in range(rng.randint(2, 4)):
        cx, cy = rng.uniform(0, width), rng.uniform(height * 0.3, height)
        radius = rng.uniform(12, 30) * scale
        petals, colour = rng.randint(7, 19), _line_colour(rng)
        points = []
        for step in range(0, 1441):
            t = step / 1440 * 2 * math.pi
            r = radius * (0.65 + 0.35 * math.cos(petals * t))
            points.append((cx + r * math.cos(t * 3), cy + r * math.sin(t * 3)))
        draw.line(points, fill=colour, width=line_width)
    _microprint(draw, width, height, rng, scale)
    _watermark(page, rng, scale, emblem)


def _line_colour(rng: random.Random) -> tuple[int, int, int, int]:
    hue = rng.random()
    r, g, b = (0.5 + 0.5 * math.cos(2 * math.pi * (hue + k / 3)) for k in range(3))
    value = rng.uniform(0.45, 0.7)  # a saturated mid-tone: guilloche is printed in colour, never in black
    return (int(255 * value * (0.5 + 0.5 * r)), int(255 * value * (0.5 + 0.5 * g)), int(255 * value * (0.5 + 0.5 * b)),
            rng.randint(140, 210))


def _microprint(draw: ImageDraw.ImageDraw, width: int, height: int, rng: random.Random, scale: float) -> None:
    font = _font(max(6, int(scale * 1.1)))
    text = "SECURITYDOCUMENT" * 20
    colour = (*_line_colour(rng)[:3], 110)
    for y in np.arange(height * 0.55, height, scale * 6):
        draw.text((-(rng.random() * 40), float(y)), text, fill=colour, font=font)


def _watermark(page: Image.Image, rng: random.Random, scale: float, emblem: str) -> None:
    """A large faint emblem (a ring and the state's code) blended into the page, often over the MRZ."""
    width, height = page.size
    layer = Image.new("L", page.size, 0)
    draw = ImageDraw.Draw(layer)
    cx, cy = rng.uniform(width * 0.3, width * 0.8), rng.uniform(height * 0.55, height * 0.85)
    radius = rng.uniform(18, 28) * scale
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=255, width=int(scale * 2.5))
    font = _font(int(radius * 0.8))
    draw.text((cx, cy), emblem[:3] or "UTO", fill=255, font=font, anchor="mm")
    layer = layer.filter(ImageFilter.GaussianBlur(scale * 0.6))
    shade = np.asarray(layer, dtype=np.float32)[..., None] / 255.0 * rng.uniform(0.12, 0.22)
    pixels = np.asarray(page, dtype=np.float32)
    tone = np.array([120, 110, 130], dtype=np.float32)
    page.paste(Image.fromarray((pixels * (1 - shade) + tone * shade).astype(np.uint8), "RGB"))


def hologram(page: Image.Image, rng: random.Random, scale: float, top_fraction: float = 0.55) -> None:
    """A laminated hologram: an iridescent, semi-transparent patch with its own pattern, over part of the MRZ.
    Printed last (it lies over the ink), it lightens the ink under it and tints everything."""
    width, height = page.size
    w, h = int(rng.uniform(25, 45) * scale), int(rng.uniform(18, 30) * scale)
    x0 = int(rng.uniform(0, max(1, width - w)))
    y0 = int(rng.uniform(height * top_fraction, max(height * top_fraction + 1, height - h * 0.6)))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    phase = (xx * math.cos(angle) + yy * math.sin(angle)) / (scale * rng.uniform(4, 9))
    rainbow = np.stack([0.5 + 0.5 * np.cos(phase + k * 2.094) for k in range(3)], axis=-1) * 255
    rings = 0.5 + 0.5 * np.sin(np.hypot(xx - w / 2, yy - h / 2) / (scale * 0.9))
    alpha = (rng.uniform(0.18, 0.32) + 0.1 * rings)[..., None]
    edge = np.minimum.reduce([xx, yy, w - 1 - xx, h - 1 - yy])[..., None] / (scale * 2)
    alpha *= np.clip(edge, 0, 1)
    region = page.crop((x0, y0, x0 + w, y0 + h))
    pixels = np.asarray(region, dtype=np.float32)
    pixels = pixels[: alpha.shape[0], : alpha.shape[1]]
    a = alpha[: pixels.shape[0], : pixels.shape[1]]
    blended = pixels * (1 - a) + rainbow[: pixels.shape[0], : pixels.shape[1]] * a
    page.paste(Image.fromarray(blended.astype(np.uint8), "RGB"), (x0, y0))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from .passports import _text_font

    return _text_font(max(6, size))

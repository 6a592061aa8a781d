"""OCR-B lines printed at the local engine's scale, for tests of its glyph matching (tests/test_ocrb_*.py)."""
from __future__ import annotations

import functools

from PIL import ImageFont

FONT = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
HEIGHT = 30  # the digits' height, as the engine scales a line


@functools.lru_cache(maxsize=1)
def line_font() -> tuple[ImageFont.FreeTypeFont, float, int]:
    """The font sized so a digit is ``HEIGHT`` rows tall, its advance, and the top of a digit's ink."""
    probe = ImageFont.truetype(FONT, 100)
    _, top, _, bottom = probe.getbbox("0")
    font = ImageFont.truetype(FONT, int(round(100 * HEIGHT / (bottom - top))))
    return font, font.getlength("0"), font.getbbox("0")[1]

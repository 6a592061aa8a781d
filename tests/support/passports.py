"""Realistic identity documents for tests, benchmarks and `./dev passport`.

A data page as a phone or scanner sees it: a background (a plain tint, or
security printing -- rainbow colours, guilloche, a watermark, microprint and a
hologram, behind the MRZ too: ``security_print``), a header, a photo area,
printed fields, and the machine-readable zone set in OCR-B (Debian's
``fonts-ocr-b``) at the ICAO pitch; then the camera (``phone_camera``: the
page on a table in perspective, shadow, glare, blur, few pixels, held any way
up with or without the EXIF orientation tag) and the container (JPEG at any
quality, PNG, single-page PDF). Dev and test only: nothing here ships in
``chalicelib``.

The steps are separate functions (``render_page`` -> ``photograph`` ->
``encode``), and ``Look`` says how each goes, so a new kind of page (a real
photo in the photo area, another background) is one more field and one more
step, not a new generator.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from PIL import Image, ImageDraw, ImageFont

from chalicelib.domain.mrz import FILLER, check_digit, encode_name

from . import phone_camera, security_print

FONT_DIRS = (Path("/usr/share/fonts/opentype/ocr-b"), Path("/usr/share/fonts/truetype/ocr-b"))
TEXT_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)

# ICAO 9303 sizes: TD3 125 x 88 mm, TD1 85.6 x 54 mm, TD2 105 x 74 mm; MRZ pitch 2.54 mm.
_SIZES_MM = {"TD3": (125.0, 88.0), "TD2": (105.0, 74.0), "TD1": (85.6, 54.0)}
_WIDTH = {"TD3": 44, "TD2": 36, "TD1": 30}
_CODE = {"TD3": "P<", "TD2": "I<", "TD1": "I<"}
_LAYOUT_OF = {"passport": "TD3", "id_card": "TD1", "td2": "TD2"}


def ocr_b_font_path() -> Path:
    """OCR-B from fonts-ocr-b; `./dev test` installs it on Debian."""
    for directory in FONT_DIRS:
        for name in ("OCRB.otf", "OCRB.ttf"):
            if (directory / name).exists():
                return directory / name
    raise FileNotFoundError("the OCR-B font is missing: apt-get install fonts-ocr-b")


def _text_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in TEXT_FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.truetype(str(ocr_b_font_path()), size)


@dataclass(frozen=True)
class Holder:
    """What the document says: the same fields a declaration has."""

    surname: str = "Carter"
    given_names: str = "Emily Jane"
    nationality: str = "GBR"
    issuing_state: str = "GBR"
    document_number: str = "533401372"
    birth_date: dt.date = dt.date(1990, 5, 17)
    sex: str = "F"
    expiry_date: dt.date = dt.date(2031, 1, 1)
    kind: str = "passport"  # passport (TD3), id_card (TD1), td2
    optional_data: str = ""
    # The holder's photo (JPEG/PNG bytes) printed in the photo area; None: a grey silhouette, no face.
    photo: Optional[bytes] = field(default=None, repr=False, compare=False)

    @property
    def layout(self) -> str:
        return _LAYOUT_OF[self.kind]


def _yymmdd(date: dt.date) -> str:
    return date.strftime("%y%m%d")


def _pad(text: str, width: int) -> str:
    return (text + FILLER * width)[:width]


def mrz_name_field(surname: str, given_names: str, width: int) -> str:
    """SURNAME<<GIVEN<NAMES, truncated to fit as ICAO 9303 part 3 does (given names first)."""
    primary, secondary = encode_name(surname), encode_name(given_names)
    name = f"{primary}<<{secondary}" if secondary else primary
    if len(name) > width:
        name = name[:width]
    return _pad(name, width)


def mrz_lines(holder: Holder) -> list[str]:
    """The zone a real issuer would print for ``holder``, check digits and all."""
    layout = holder.layout
    width = _WIDTH[layout]
    code = _CODE[layout] if holder.kind != "passport" else "P<"
    number = _pad(holder.document_number.upper(), 9)
    birth, expiry = _yymmdd(holder.birth_date), _yymmdd(holder.expiry_date)
    nationality, state = _pad(holder.nationality, 3), _pad(holder.issuing_state, 3)
    if layout == "TD1":
        optional = _pad(holder.optional_data, 15)
        line1 = code + state + number + check_digit(number) + optional
        optional2 = _pad("", 11)
        head = birth + check_digit(birth) + holder.sex + expiry + check_digit(expiry) + nationality + optional2
        composite = check_digit(line1[5:30] + head[0:7] + head[8:15] + head[18:29])
        return [line1, head + composite, mrz_name_field(holder.surname, holder.given_names, 30)]
    line1 = code + state + mrz_name_field(holder.surname, holder.given_names, width - 5)
    if layout == "TD3":
        optional = _pad(holder.optional_data, 14)
        optional_check = check_digit(optional) if holder.optional_data else FILLER
        body = number + check_digit(number) + nationality + birth + check_digit(birth) + holder.sex
        body += expiry + check_digit(expiry) + optional + optional_check
        composite = check_digit(body[0:10] + body[13:20] + body[21:43])
    else:
        optional = _pad(holder.optional_data, 7)
        body = number + check_digit(number) + nationality + birth + check_digit(birth) + holder.sex
        body += expiry + check_digit(expiry) + optional
        composite = check_digit(body[0:10] + body[13:20] + body[21:35])
    return [line1, body + composite]


# --- people -------------------------------------------------------------------

_SURNAMES = ("Carter", "Eriksson", "Müller", "O'Brien", "Nguyen", "García Lorca", "Kowalski", "Smith-Jones",
             "Papadopoulos", "Okafor", "Dubois", "Rossi", "Van der Berg", "Øster", "Kessler", "Li")
_GIVEN = ("Emily Jane", "Anna Maria", "Jürgen", "Seán", "Thi Lan", "Federico", "Zofia", "Oliver James",
          "Eleni", "Chidi", "Amélie", "Marco", "Pieter Jan", "Søren", "Katharina Sophie Elisabeth", "Wei")
_STATES = ("GBR", "IRL", "D", "FRA", "NLD", "ESP", "ITA", "USA", "POL", "SWE")


def random_holder(rng: random.Random, today: Optional[dt.date] = None, kind: Optional[str] = None) -> Holder:
    """Someone plausible: an adult with a valid document; names include ones that need transliteration."""
    today = today or dt.date.today()
    state = rng.choice(_STATES)
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    number = rng.choice(letters) + "".join(rng.choice("0123456789") for _ in range(8))
    if rng.random() < 0.5:
        number = "".join(rng.choice("0123456789") for _ in range(9))
    return Holder(
        surname=rng.choice(_SURNAMES), given_names=rng.choice(_GIVEN), nationality=state, issuing_state=state,
        document_number=number,
        birth_date=today - dt.timedelta(days=rng.randint(18 * 366, 80 * 365)),
        sex=rng.choice("MF"), expiry_date=today + dt.timedelta(days=rng.randint(30, 9 * 365)),
        kind=kind or rng.choice(("passport", "passport", "passport", "id_card")),
    )


# --- rendering ----------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """How the page is printed, photographed and stored."""

    rotation: float = 0.0  # degrees, + is counter-clockwise
    blur: float = 0.0  # Gaussian radius in page pixels
    quality: int = 90  # JPEG quality (also of the image inside a PDF)
    fmt: str = "jpeg"  # jpeg, png, pdf
    px_per_mm: float = 10.0
    with_mrz: bool = True
    seed: int = 0
    extra: dict[str, object] = field(default_factory=dict)
    background: str = "plain"  # plain, security (security_print.BACKGROUNDS)
    perspective: float = 0.0  # 0..1: the page on a table, photographed at an angle
    shadow: float = 0.0  # 0..1: how dark a shadow across the picture is
    glare: float = 0.0  # 0..1: how far a lamp's reflection washes the picture out
    width_px: Optional[int] = None  # the stored picture's width (600: a phone app that sends small pictures)
    orientation: int = 0  # 0, 90, 180, 270: the phone held sideways or upside down (counter-clockwise)
    exif: bool = False  # the orientation written as the EXIF tag (pixels turned, the tag says how to show them)


#: The variations the read rate is measured across, each on its own over the baseline (rotation to +-3 degrees,
#: blur, JPEG quality 60-95, every container, 8-12 px/mm), and several at once.
VARIATIONS = ("baseline", "orientation", "background", "perspective", "low_resolution", "quality_30", "combined")


def random_look(rng: random.Random, variation: str = "baseline") -> Look:
    """A reproducible look for ``variation`` (see VARIATIONS)."""
    look = Look(
        rotation=rng.uniform(-3.0, 3.0), blur=rng.choice((0.0, 0.0, 0.6, 1.0, 1.4)),
        quality=rng.randint(60, 95), fmt=rng.choice(("jpeg", "jpeg", "png", "pdf")),
        px_per_mm=rng.choice((8.0, 10.0, 12.0)), seed=rng.randint(0, 10**6),
    )
    if variation == "baseline":
        return look
    if variation == "orientation":
        return replace(look, orientation=rng.choice((90, 180, 270)), exif=rng.random() < 0.5,
                       fmt=rng.choice(("jpeg", "jpeg", "png")))
    if variation == "background":
        return replace(look, background="security")
    if variation == "perspective":
        return replace(look, perspective=rng.uniform(0.4, 1.0), rotation=rng.uniform(-8, 8), fmt="jpeg",
                       glare=rng.choice((0.0, rng.uniform(0.3, 0.7))), shadow=rng.choice((0.0, rng.uniform(0.2, 0.5))),
                       blur=rng.choice((0.0, 0.6, 1.0)))
    if variation == "low_resolution":
        return replace(look, width_px=600, fmt=rng.choice(("jpeg", "png")), blur=rng.choice((0.0, 0.6)))
    if variation == "quality_30":
        return replace(look, quality=30, fmt="jpeg")
    if variation == "combined":  # several at once, as phones deliver them
        return replace(look, background="security", perspective=rng.uniform(0.3, 0.8), rotation=rng.uniform(-6, 6),
                       glare=rng.choice((0.0, rng.uniform(0.3, 0.6))), shadow=rng.choice((0.0, rng.uniform(0.2, 0.4))),
                       orientation=rng.choice((0, 90, 180, 270)), exif=rng.random() < 0.5, fmt="jpeg",
                       quality=rng.choice((30, 50, 75)), blur=rng.choice((0.0, 0.6)))
    raise ValueError(f"unknown variation {variation!r}")


def render_page(holder: Holder, look: Look = Look()) -> Image.Image:
    """The data page as an RGB image, before any camera effects."""
    layout = holder.layout
    rng = random.Random(look.seed)
    scale = look.px_per_mm
    width_mm, height_mm = _SIZES_MM[layout]
    width, height = int(width_mm * scale), int(height_mm * scale)
    tint = (rng.randint(225, 245), rng.randint(228, 245), rng.randint(215, 240))
    page = Image.new("RGB", (width, height), tint)
    if look.background == "security":
        security_print.security_background(page, rng, scale, holder.issuing_state)
    else:
        security_print.plain_background(page, rng, scale)
    draw = ImageDraw.Draw(page)
    small, label, value = (_text_font(max(8, int(scale * k))) for k in (2.0, 2.2, 3.2))
    kind_title = {"TD3": "PASSPORT / PASSEPORT", "TD1": "IDENTITY CARD / CARTE D'IDENTITÉ", "TD2": "IDENTITY CARD"}
    title = value if layout == "TD3" else label
    draw.text((scale * 4, scale * 3), kind_title[layout], fill=(40, 40, 90), font=title)
    draw.text((width - scale * 14, scale * 3), f"{holder.issuing_state}", fill=(40, 40, 90), font=title)
    # The photo area: where a face would be, with a silhouette.
    photo_w, photo_h = (35 * scale, 45 * scale) if layout == "TD3" else (22 * scale, 28 * scale)
    x0, y0 = scale * 5, scale * 10
    draw.rectangle((x0, y0, x0 + photo_w, y0 + photo_h), fill=(200, 205, 212), outline=(120, 120, 130))
    if holder.photo is not None:
        _print_photo(page, holder.photo, (int(x0), int(y0), int(photo_w), int(photo_h)))
    else:
        cx, cy = x0 + photo_w / 2, y0 + photo_h * 0.4
        r = photo_w * 0.22
        draw.ellipse((cx - r, cy - r * 1.2, cx + r, cy + r * 1.2), fill=(150, 140, 135))
        draw.ellipse((cx - photo_w * 0.42, cy + r * 1.1, cx + photo_w * 0.42, y0 + photo_h * 1.35),
                     fill=(110, 110, 125))
        draw.rectangle((x0, y0 + photo_h + 1, x0 + photo_w, y0 + photo_h * 1.4), fill=tint)
    fields = [
        ("Type / Type", "P" if layout == "TD3" else "I"), ("Code / Code", holder.issuing_state),
        ("Passport No. / No. du passeport" if layout == "TD3" else "Document No.", holder.document_number),
        ("Surname / Nom", holder.surname.upper()), ("Given names / Prénoms", holder.given_names.upper()),
        ("Nationality / Nationalité", holder.nationality),
        ("Date of birth / Date de naissance", holder.birth_date.strftime("%d %b %Y").upper()),
        ("Sex / Sexe", holder.sex), ("Date of expiry / Date d'expiration", holder.expiry_date.strftime("%d %b %Y").upper()),
    ]
    fx = x0 + photo_w + scale * 5
    fy = y0 - scale * 1
    step = (scale * 6.2) if layout == "TD3" else (scale * 3.6)
    for name, text in fields if layout == "TD3" else fields[2:]:
        draw.text((fx, fy), name, fill=(90, 90, 110), font=small if layout != "TD3" else label)
        draw.text((fx, fy + step * 0.38), text, fill=(20, 20, 30), font=value if layout == "TD3" else small)
        fy += step
    if look.with_mrz:
        _draw_mrz(page, mrz_lines(holder), scale, layout, clear=look.background == "plain")
        if look.background == "security":
            security_print.hologram(page, rng, scale)
    else:
        draw.text((scale * 5, height - scale * 14), "SPECIMEN — NO MACHINE READABLE ZONE", fill=(60, 60, 60), font=value)
    return page


def _print_photo(page: Image.Image, photo: bytes, area: tuple[int, int, int, int]) -> None:
    """The holder's photo in the photo area: scaled to cover it, centred, slightly faded as printed."""
    from PIL import ImageOps

    x0, y0, width, height = area
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(photo))).convert("RGB")
    image = ImageOps.fit(image, (width, height), Image.LANCZOS, centering=(0.5, 0.4))
    image = Image.blend(image, Image.new("RGB", image.size, (235, 235, 230)), 0.12)
    page.paste(image, (x0, y0))


def _draw_mrz(page: Image.Image, lines: list[str], scale: float, layout: str, clear: bool = True) -> None:
    """OCR-B at the ICAO pitch (2.54 mm a character), bottom of the page; ``clear``: over a cleared area, else
    over whatever the background prints there."""
    width, height = page.size
    pitch = 2.54 * scale
    font = ImageFont.truetype(str(ocr_b_font_path()), 10)
    per_size = font.getlength("<" * 10) / 10 / 10
    font = ImageFont.truetype(str(ocr_b_font_path()), max(8, int(round(pitch / per_size))))
    line_gap = 4.2 * scale if layout != "TD1" else 3.9 * scale
    left = (width - pitch * len(lines[0])) / 2
    top = height - scale * 4 - line_gap * len(lines)
    draw = ImageDraw.Draw(page)
    if clear:
        draw.rectangle((0, top - scale * 2, width, height), fill=page.getpixel((2, int(top - scale * 3))))
    for i, line in enumerate(lines):
        for j, char in enumerate(line):
            draw.text((left + j * pitch, top + i * line_gap), char, fill=(15, 15, 20), font=font)


def photograph(page: Image.Image, look: Look) -> Image.Image:
    """The page as the camera stores it: on a desk or a table (rotated, in perspective), shadow, glare, blur,
    the stored size, then held any way up."""
    rng = random.Random(look.seed * 7919 + 1)
    image = page
    if look.perspective:
        image = phone_camera.on_a_table(page, rng, look.perspective, look.rotation)
    elif look.rotation:
        margin = int(max(page.size) * 0.06)
        desk = (95, 85, 75)
        canvas = Image.new("RGB", (page.width + 2 * margin, page.height + 2 * margin), desk)
        canvas.paste(page, (margin, margin))
        image = canvas.rotate(look.rotation, resample=Image.BICUBIC, expand=False, fillcolor=desk)
    if look.shadow:
        image = phone_camera.shadow(image, rng, look.shadow)
    if look.glare:
        image = phone_camera.glare(image, rng, look.glare)
    image = phone_camera.blur(image, look.blur)
    if look.width_px:
        image = phone_camera.low_resolution(image, look.width_px)
    return phone_camera.held(image, look.orientation)


def encode(image: Image.Image, look: Look) -> bytes:
    """The file as uploaded: JPEG at ``quality``, PNG, or a one-page PDF holding the JPEG; with the EXIF
    orientation tag when ``look.exif`` (JPEG and PNG)."""
    out = io.BytesIO()
    exif = phone_camera.exif_for(look.orientation) if look.exif and look.orientation % 360 else b""
    if look.fmt == "jpeg":
        image.save(out, "JPEG", quality=look.quality, exif=exif)
    elif look.fmt == "png":
        image.save(out, "PNG", optimize=False, exif=exif)
    elif look.fmt == "pdf":
        image.save(out, "PDF", resolution=look.px_per_mm * 25.4, quality=look.quality)
    else:
        raise ValueError(f"unknown format {look.fmt!r}")
    return out.getvalue()


CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}


def make_document(holder: Holder = Holder(), look: Look = Look()) -> bytes:
    """A document file for ``holder`` as photographed with ``look``."""
    return encode(photograph(render_page(holder, look), look), look)


def sample(seed: int, today: Optional[dt.date] = None, variation: str = "baseline") -> tuple[Holder, Look, bytes]:
    """One reproducible random document (for round trips and the bench)."""
    rng = random.Random(seed)
    holder = random_holder(rng, today)
    look = random_look(rng, variation)
    return holder, look, make_document(holder, look)


def with_changes(holder: Holder, **changes: object) -> Holder:
    return replace(holder, **changes)  # type: ignore[arg-type]

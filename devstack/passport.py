"""`./dev passport`: make a sample identity document to upload to the local stack.

    ./dev passport                                            # Emily Jane Carter, the README's example
    ./dev passport --out /tmp/emily.png
    ./dev passport --from docs/example-application.json --out me.pdf
    ./dev passport --surname Müller --given-names Jürgen --nationality D --number C01X00T47 \\
                   --birth-date 1984-08-12 --sex M --expiry 2031-10-31 --rotation 2 --blur 0.8 --out juergen.jpg
    ./dev passport --kind id_card --no-mrz --out unreadable.png
    ./dev passport --background security --perspective 0.7 --glare 0.5 --orientation 90 --exif --out phone.jpg
    ./dev passport --photo tests/data/faces/obama-3.jpg --out with-photo.jpg   # a real face in the photo area

The format follows the file's extension (.jpg/.jpeg, .png, .pdf); without --out
the page goes to the temp folder (``$TMPDIR/account-opening/passport.jpg``), never
into the working tree, and the path is printed. Dev only: the generator lives in
tests/support/passports.py and never ships.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from tests.support.passports import Holder, Look, make_document, mrz_lines

_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".pdf": "pdf"}


def holder_from_application(path: Path) -> Holder:
    """The document an applicant with this ``POST /applications`` body would hold."""
    body = json.loads(path.read_text())
    document = body.get("identity_document", {})
    return Holder(
        surname=body["full_name"]["surname"], given_names=body["full_name"].get("given_names", ""),
        nationality=body["nationality"], issuing_state=document.get("issuing_country", body["nationality"]),
        document_number=document["number"], birth_date=dt.date.fromisoformat(body["date_of_birth"]),
        sex=document.get("sex", "F" if body["full_name"].get("given_names", "").startswith("Emily") else "M"),
        expiry_date=dt.date.fromisoformat(document["expiry_date"]), kind=document.get("type", "passport"),
    )


def _portrait(parser: argparse.ArgumentParser, path: Path) -> bytes:
    """The photo cropped passport-style around its largest face (the local face engine finds it)."""
    from tests.support.faces import portrait

    try:
        return portrait(path.read_bytes())
    except OSError as error:
        parser.error(f"--photo {path}: {error.strerror}")
    except ValueError as error:  # no face, or not an image
        parser.error(f"--photo {path}: {error}")
    raise AssertionError("unreachable")


def default_out() -> Path:
    """Out of the working tree: a file in the temp folder ($TMPDIR, else /tmp)."""
    return Path(tempfile.gettempdir()) / "account-opening" / "passport.jpg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev passport", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="file to write: .jpg, .png or .pdf (default: "
                             f"{default_out()})")
    parser.add_argument("--from", dest="application", type=Path, help="a POST /applications body (JSON)")
    parser.add_argument("--kind", choices=("passport", "id_card", "td2"))
    parser.add_argument("--surname")
    parser.add_argument("--given-names")
    parser.add_argument("--nationality", help="ICAO code, e.g. GBR, D, FRA")
    parser.add_argument("--issuing-state", help="ICAO code (default: the nationality)")
    parser.add_argument("--number", help="document number, up to 9 characters")
    parser.add_argument("--birth-date", type=dt.date.fromisoformat)
    parser.add_argument("--sex", choices=("M", "F", "<"))
    parser.add_argument("--expiry", type=dt.date.fromisoformat)
    parser.add_argument("--rotation", type=float, default=0.0, help="degrees (the read rate is measured to +-3)")
    parser.add_argument("--blur", type=float, default=0.0, help="Gaussian radius in pixels, e.g. 0.6-1.4")
    parser.add_argument("--quality", type=int, default=90, help="JPEG quality, 60-95")
    parser.add_argument("--no-mrz", action="store_true", help="a page without a machine-readable zone")
    parser.add_argument("--background", choices=("plain", "security"), default="plain",
                        help="security: guilloche, rainbow, rosettes, microprint, watermark, a hologram over the zone")
    parser.add_argument("--perspective", type=float, default=0.0, help="0-1: a phone photo of the page on a table")
    parser.add_argument("--glare", type=float, default=0.0, help="0-1: a lamp's reflection")
    parser.add_argument("--shadow", type=float, default=0.0, help="0-1: a shadow across the picture")
    parser.add_argument("--width", type=int, default=None, help="the stored picture's width in pixels, e.g. 600")
    parser.add_argument("--orientation", type=int, choices=(0, 90, 180, 270), default=0,
                        help="the phone held sideways or upside down (counter-clockwise)")
    parser.add_argument("--exif", action="store_true", help="write the orientation as the EXIF tag (JPEG, PNG)")
    parser.add_argument("--photo", type=Path, help="a JPEG/PNG of the holder's face for the photo area "
                        "(cropped around the face; without it the page shows a silhouette, no face)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = default_out()
        args.out.parent.mkdir(parents=True, exist_ok=True)

    fmt = _FORMATS.get(args.out.suffix.lower())
    if fmt is None:
        parser.error("--out must end in .jpg, .jpeg, .png or .pdf")
    holder = holder_from_application(args.application) if args.application else Holder()
    changes = {
        "kind": args.kind, "surname": args.surname, "given_names": args.given_names,
        "nationality": args.nationality, "issuing_state": args.issuing_state or args.nationality,
        "document_number": args.number, "birth_date": args.birth_date, "sex": args.sex, "expiry_date": args.expiry,
    }
    holder = replace(holder, **{name: value for name, value in changes.items() if value is not None})
    if args.photo:
        holder = replace(holder, photo=_portrait(parser, args.photo))
    look = Look(rotation=args.rotation, blur=args.blur, quality=args.quality, fmt=fmt, with_mrz=not args.no_mrz,
                background=args.background, perspective=args.perspective, glare=args.glare, shadow=args.shadow,
                width_px=args.width, orientation=args.orientation, exif=args.exif)
    args.out.write_bytes(make_document(holder, look))
    print(f"wrote {args.out.resolve()} ({fmt}, {args.out.stat().st_size} bytes)")
    if look.with_mrz:
        for line in mrz_lines(holder):
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

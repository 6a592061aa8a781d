"""How well the local Textract reads MRZs, and what reading costs in AWS.

    python -m bench.ocr_read_rate [--count 200] [--seed 0]      (./dev bench ocr_read_rate)

Generates ``--count`` identity documents (tests/support/passports.py: TD3
passports and TD1 cards, JPEG/PNG/PDF, rotation up to +-3 degrees, blur,
JPEG quality 60-95, 8-12 px/mm), sends each through the local engine's
``DetectDocumentText`` (devstack/textract.py, in process: the same code the
HTTP endpoint runs) and our MRZ finder/repairer (chalicelib/domain/mrz.py).
Prints, without asserting:

- the read rate: exact MRZ as OCR returned it (among the page's other lines), and exact after repair;
- wrong-but-valid readings (check digits satisfied by a wrong repair: the
  dangerous kind), and unreadable ones;
- mismatched documents that would pass: each document checked against
  another generated person's declaration must never agree;
- seconds per page, and the rate per variation;
- Textract's price per million applications (one page each).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.domain import mrz  # noqa: E402
from devstack.textract import TextractError, detect_document_text  # noqa: E402
from tests.support.passports import Holder, make_document, mrz_lines, random_holder, random_look  # noqa: E402

# Amazon Textract DetectDocumentText, us-east-1 list prices per page (2026): the first million
# pages a month, and beyond.
PRICE_PER_PAGE_FIRST_MILLION = 0.0015
PRICE_PER_PAGE_AFTER = 0.0006


def lines_of(response: dict) -> tuple[list[str], list[list[float]]]:
    """What the app's adapter takes from a DetectDocumentText answer: LINE texts and their confidences."""
    lines = [block for block in response["Blocks"] if block["BlockType"] == "LINE"]
    return [line["Text"] for line in lines], [[line["Confidence"] / 100] for line in lines]


def agrees(reading: mrz.Reading, declared: Holder) -> bool:
    """Would the identity check see this zone as the declared person's document (every compared field)?"""
    zone = reading.mrz
    return (
        zone.document_number == declared.document_number
        and zone.birth_date == declared.birth_date.strftime("%y%m%d")
        and zone.expiry_date == declared.expiry_date.strftime("%y%m%d")
        and zone.nationality == declared.nationality
        and mrz.name_field_matches(declared.surname, declared.given_names, zone)
    )


def bucket(look) -> list[str]:
    rotation = abs(look.rotation)
    return [
        f"format {look.fmt}",
        f"rotation {'<1' if rotation < 1 else '1-2' if rotation < 2 else '2-3'} deg",
        f"blur {look.blur:.1f}",
        f"quality {'60-69' if look.quality < 70 else '70-84' if look.quality < 85 else '85-95'}"
        if look.fmt != "png" else "quality lossless",
        f"{look.px_per_mm:.0f} px/mm",
    ]


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--count', '3']


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    today = dt.date.today()
    totals = collections.Counter()
    per_variation: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    seconds: list[float] = []
    people = [random_holder(rng, today) for _ in range(args.count)]
    for index, holder in enumerate(people):
        look = random_look(rng)
        truth = tuple(mrz_lines(holder))
        data = make_document(holder, look)
        started = time.perf_counter()
        try:
            lines, confidence = lines_of(detect_document_text(data))
        except TextractError as error:
            lines, confidence = [], []
            totals[f"refused ({error.code})"] += 1
        reading = mrz.find(lines, confidence)
        seconds.append(time.perf_counter() - started)
        # The engine returns the page's other text too (as Textract does): the zone is exact as read when its
        # lines stand, unchanged and together, among them.
        raw_exact = any(tuple(lines[i:i + len(truth)]) == truth for i in range(len(lines) - len(truth) + 1))
        totals["other text lines"] += max(0, len(lines) - len(truth))
        exact = reading is not None and reading.mrz.lines == truth
        totals["documents"] += 1
        totals["exact as read"] += raw_exact
        totals["exact after repair"] += exact
        if reading is None or not reading.mrz.valid:
            totals["unreadable (no valid MRZ: flagged for review)"] += 1
        elif not exact:
            totals["valid but wrong"] += 1
        other = people[(index + 1) % len(people)]
        if reading is not None and reading.mrz.valid and agrees(reading, other):
            totals["another person's document agreeing with a declaration"] += 1
        if reading is not None and reading.mrz.valid and agrees(reading, holder):
            totals["own document agreeing with its declaration"] += 1
        for name in bucket(look):
            per_variation[name]["n"] += 1
            per_variation[name]["exact"] += exact
        if not exact and args.show_failures:
            print(f"  #{index} {look}\n    truth {truth}\n    read  {tuple(lines)}\n"
                  f"    got   {reading.mrz.lines if reading else None}", flush=True)
        if (index + 1) % 25 == 0:
            print(f"  ... {index + 1}/{args.count}: {totals['exact after repair']} exact after repair", flush=True)

    n = totals["documents"]
    print(f"\nocr_read_rate: {n} generated documents (seed {args.seed}), local engine = Tesseract "
          f"{_tesseract_version()} + OCR-B cell matching, repair = chalicelib/domain/mrz.py")
    for name in ("exact as read", "exact after repair", "valid but wrong",
                 "unreadable (no valid MRZ: flagged for review)", "own document agreeing with its declaration",
                 "another person's document agreeing with a declaration"):
        print(f"  {name:<58} {totals[name]:>5}  {100 * totals[name] / n:6.2f} %")
    for name, count in totals.items():
        if name.startswith("refused"):
            print(f"  {name:<58} {count:>5}")
    print(f"  other text lines returned beside the zone: {totals['other text lines'] / n:.1f} a page")
    print(f"  seconds per page (decode + OCR + repair): median {statistics.median(seconds):.2f}, "
          f"p95 {sorted(seconds)[int(0.95 * (len(seconds) - 1))]:.2f}, max {max(seconds):.2f}")
    print("  exact after repair, by variation:")
    for name in sorted(per_variation):
        counts = per_variation[name]
        print(f"    {name:<22} {counts['exact']:>4}/{counts['n']:<4} {100 * counts['exact'] / counts['n']:6.1f} %")
    first, after = PRICE_PER_PAGE_FIRST_MILLION * 1e6, PRICE_PER_PAGE_AFTER * 1e6
    print(f"  Textract DetectDocumentText per million applications (1 page each): ${first:,.0f} within the first "
          f"million pages a month, ${after:,.0f} beyond (us-east-1 list price; a retried call is billed again)")


def _tesseract_version() -> str:
    import subprocess

    try:
        out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.split()[1]
    except Exception:
        return "?"


if __name__ == "__main__":
    main()

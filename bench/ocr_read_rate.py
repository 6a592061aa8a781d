"""How well documents are read on the local engine, what the identity check makes of them, and what reading
costs in AWS.

    python -m bench.ocr_read_rate [--count 1000] [--seed 190619] [--names mixed] [--workers 2]
                                  [--variation all] [--show-failures]          (./dev bench ocr_read_rate)

Generates ``--count`` identity documents (tests/support/passports.py: TD3 passports and TD1 cards), the
variations of issue 19 in turn (tests/support/passports.VARIATIONS): ``baseline`` (JPEG/PNG/PDF, rotation up
to +-3 degrees, blur, JPEG quality 60-95, 8-12 px/mm), ``orientation`` (held at 90/180/270 degrees, with or
without the EXIF tag), ``background`` (security printing: guilloche, rainbow, rosettes, microprint,
watermark, a hologram over the zone), ``perspective`` (a phone photo of the page on a table, glare, shadow),
``low_resolution`` (600 px wide), ``quality_30`` (JPEG quality 30) and ``combined`` (several at once).

The people are ones the engine was never tuned on (bench/ocr_names.py): the real sanctions lists' individuals
(OFAC SDN and UN consolidated) and Faker's zh_CN, ko_KR, vi_VN, ar_AA, ru_RU, uk_UA and es_ES people,
romanised as a passport prints them; ``--names mixed`` takes them in turn.

Each page goes through the local engine's ``DetectDocumentText`` (devstack/textract.py, in process: the code
the HTTP endpoint runs), our MRZ finder/repairer (chalicelib/domain/mrz/) and the identity check itself
(chalicelib/domain/identity.check_identity), once against its own holder's declaration and once against
another person's. Prints, without asserting:

- the read rate: the zone exact as the engine returned it, and exact after repair, overall and per
  variation and per name source;
- wrong-but-valid readings (check digits satisfied by a wrong zone: the dangerous kind), and unreadable ones;
- the identity check's outcomes for the holder's own declaration (approved, flagged and why, failed): a
  valid document of the declared person FLAGGED for a name misread is a miss; for another person's
  declaration nothing may be approved;
- per-character confusion: what each printed character was read as, by the engine and after repair, in the
  name and elsewhere;
- seconds per page (decode + OCR + repair) p50/p95;
- Textract's price per million applications (one page each).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import difflib
import multiprocessing
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ocr_names import pool  # noqa: E402
from chalicelib.domain import mrz  # noqa: E402
from chalicelib.domain.declaration import ApplicationRequest  # noqa: E402
from chalicelib.domain.identity import PageText, check_identity
from chalicelib.domain.document_file import DocumentSample
from chalicelib.domain.policy import Policy  # noqa: E402
from tests.support.documents import make_declared  # noqa: E402
from tests.support.passports import (  # noqa: E402
    CONTENT_TYPES,
    VARIATIONS,
    Holder,
    Look,
    make_document,
    mrz_lines,
    random_holder,
    random_look,
)

# Amazon Textract DetectDocumentText, us-east-1 list prices per page (2026): the first million
# pages a month, and beyond.
PRICE_PER_PAGE_FIRST_MILLION = 0.0015
PRICE_PER_PAGE_AFTER = 0.0006
DEFAULT_SEED = 190619  # held out: never used while the engine or the repair was tuned


def lines_of(response: dict) -> tuple[list[str], list[float]]:
    """What the app's adapter takes from a DetectDocumentText answer: LINE texts and their confidences."""
    lines = [block for block in response["Blocks"] if block["BlockType"] == "LINE"]
    return [line["Text"] for line in lines], [float(line["Confidence"]) for line in lines]


def _person_name(text: str) -> str:
    """A name as an applicant types it: letters of any script, spaces, hyphens and apostrophes."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s'-]|[\d_]", " ", text)).strip(" -'")


def declaration(holder: Holder) -> ApplicationRequest:
    body = make_declared(
        full_name={"surname": holder.surname, "given_names": holder.given_names},
        date_of_birth=holder.birth_date, nationality=holder.nationality,
        doc_overrides={"type": "passport" if holder.kind == "passport" else "id_card",
                       "number": holder.document_number, "issuing_country": holder.issuing_state,
                       "expiry_date": holder.expiry_date},
    )
    return ApplicationRequest.model_validate(body)


def _name_span(layout: str) -> mrz.Span:
    return next(s for s in mrz.BY_NAME[layout].spans if s.name == "names")


def confusions(truth: tuple[str, ...], read: list[str], layout: str) -> list[tuple[str, str, str]]:
    """(printed, read as, "name"/"other") for every character the reading got wrong; each printed line is
    aligned with the read line most like it ("" for a character dropped or added)."""
    span = _name_span(layout)
    found = []
    for row, printed in enumerate(truth):
        best = max(read, key=lambda line: difflib.SequenceMatcher(None, printed, line, autojunk=False).ratio(),
                   default="")
        matcher = difflib.SequenceMatcher(None, printed, best, autojunk=False)
        for op, a0, a1, b0, b1 in matcher.get_opcodes():
            if op == "equal":
                continue
            where = "name" if row == span.line and span.start <= a0 < span.end else "other"
            if op == "replace" and a1 - a0 == b1 - b0:
                found += [(printed[a0 + k], best[b0 + k], where) for k in range(a1 - a0)]
            else:
                found.append((printed[a0:a1], best[b0:b1], where))
    return found


@dataclasses.dataclass
class Page:
    index: int
    variation: str
    source: str
    holder: Holder
    look: Look
    other: Holder


def read_one(page: Page) -> dict[str, Any]:
    from devstack.textract import TextractError, detect_document_text

    holder, look = page.holder, page.look
    truth = tuple(mrz_lines(holder))
    data = make_document(holder, look)
    started = time.perf_counter()
    refused = None
    try:
        lines, confidences = lines_of(detect_document_text(data))
    except TextractError as error:
        lines, confidences, refused = [], [], error.code
    reading = mrz.find(lines, [[c / 100] for c in confidences])
    seconds = time.perf_counter() - started
    sample = DocumentSample(key="bench", size=len(data), head=data[:65536], content_type=CONTENT_TYPES[look.fmt],
                            tail=data[-1024:])
    text = PageText(tuple(lines), tuple(confidences))
    today = dt.date.today()
    own = check_identity(declaration(holder), sample, Policy(), today, text)
    other = check_identity(declaration(page.other), sample, Policy(), today, text)
    exact = reading is not None and reading.mrz.lines == truth
    return {
        "index": page.index, "variation": page.variation, "source": page.source, "seconds": seconds,
        "refused": refused, "look": look, "truth": truth, "lines": lines,
        "got": reading.mrz.lines if reading else None,
        "raw_exact": any(tuple(lines[i:i + len(truth)]) == truth for i in range(len(lines) - len(truth) + 1)),
        "exact": exact, "valid": reading is not None and reading.valid,
        "own": own.outcome.value, "own_codes": sorted({r.code for r in own.reasons}),
        "other": other.outcome.value, "other_codes": sorted({r.code for r in other.reasons}),
        "name_level": (own.details.get("mrz") or {}).get("name_comparison", {}).get("level"),
        "raw_confusions": confusions(truth, lines, holder.layout) if not exact or lines else [],
        "repaired_confusions": [
            (a, b, "name" if (row == _name_span(holder.layout).line
                              and _name_span(holder.layout).start <= col < _name_span(holder.layout).end)
             else "other")
            for row, (t, g) in enumerate(zip(truth, reading.mrz.lines, strict=False))
            for col, (a, b) in enumerate(zip(t, g, strict=False)) if a != b
        ] if reading is not None and len(reading.mrz.lines) == len(truth) else [],
    }


def pages(count: int, seed: int, names: str, variation: str) -> list[Page]:
    rng = random.Random(seed)
    today = dt.date.today()
    people = pool(names, seed, count)
    holders = []
    for surname, given, _ in people:
        holder = random_holder(rng, today)
        # A listed person known by one name (ABDUL MANAN AGHA, no given names) is declared as they are: the surname
        # and no given names, as ICAO prints them and the API takes them (tests/test_one_name.py). Until 7 Dec they
        # got the given name "X" (the API required one); no measured page changed: the draws do not depend on the
        # names, and the first one-name person of every measured seed lies past its pages read (133452: page 344,
        # read to 254; 91019: 502, read to 105; 86421: 480; 424242: 728; 60613: none; 190619 at --count 210: none).
        surname, given = _person_name(surname), _person_name(given)
        surname, given = (surname, given) if surname else (given or "X", "")
        holders.append(dataclasses.replace(holder, surname=surname, given_names=given))
    variations = VARIATIONS if variation == "all" else (variation,)
    out = []
    for index, holder in enumerate(holders):
        kind = variations[index % len(variations)]
        out.append(Page(index, kind, people[index][2], holder, random_look(rng, kind),
                        holders[(index + 1) % len(holders)]))
    return out


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:6.2f} %" if whole else "   -   "


def report(results: list[dict[str, Any]], seed: int, names: str) -> None:
    n = len(results)
    totals: collections.Counter[str] = collections.Counter()
    by: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    flagged_codes: collections.Counter[str] = collections.Counter()
    raw_conf: collections.Counter[tuple[str, str, str]] = collections.Counter()
    fixed_conf: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for r in results:
        totals["exact as read"] += r["raw_exact"]
        totals["exact after repair"] += r["exact"]
        totals["valid but wrong"] += r["valid"] and not r["exact"]
        totals["unreadable (no valid zone: flagged)"] += not r["valid"]
        totals["own declaration: APPROVED"] += r["own"] == "PASS"
        totals["own declaration: FLAGGED"] += r["own"] == "REVIEW"
        totals["own declaration: FAILED"] += r["own"] == "FAIL"
        totals["own declaration: FLAGGED/FAILED for the name"] += "MRZ_MISMATCH_NAME" in r["own_codes"]
        totals["own, exact zone: FLAGGED/FAILED for the name"] += r["exact"] and "MRZ_MISMATCH_NAME" in r["own_codes"]
        totals["unreadable and APPROVED"] += not r["valid"] and r["own"] == "PASS"
        totals["another person's declaration: APPROVED"] += r["other"] == "PASS"
        totals["name agreed by look-alike letters"] += r["name_level"] == "lookalike_letters"
        if r["refused"]:
            totals[f"refused by the engine ({r['refused']})"] += 1
        if r["own"] != "PASS":
            flagged_codes.update(r["own_codes"])
        for key in (f"variation {r['variation']}", f"names {r['source']}"):
            by[key]["n"] += 1
            by[key]["exact"] += r["exact"]
            by[key]["approved"] += r["own"] == "PASS"
            by[key]["name flagged"] += "MRZ_MISMATCH_NAME" in r["own_codes"]
        raw_conf.update(r["raw_confusions"])
        fixed_conf.update(r["repaired_confusions"])
    seconds = sorted(r["seconds"] for r in results)
    print(f"\nocr_read_rate: {n} generated documents (seed {seed}, names {names}), local engine = Tesseract "
          f"{_tesseract_version()} + OCR-B cell matching, repair = chalicelib/domain/mrz/, "
          f"decision = chalicelib/domain/identity.py")
    for name in ("exact as read", "exact after repair", "valid but wrong", "unreadable (no valid zone: flagged)",
                 "own declaration: APPROVED", "own declaration: FLAGGED", "own declaration: FAILED",
                 "own declaration: FLAGGED/FAILED for the name", "own, exact zone: FLAGGED/FAILED for the name",
                 "name agreed by look-alike letters", "unreadable and APPROVED",
                 "another person's declaration: APPROVED"):
        print(f"  {name:<52} {totals[name]:>5}  {_percent(totals[name], n)}")
    for name, count in sorted(totals.items()):
        if name.startswith("refused"):
            print(f"  {name:<52} {count:>5}")
    print("  why the holder's own declaration was not approved (reason codes): "
          + (", ".join(f"{code} {count}" for code, count in flagged_codes.most_common()) or "-"))
    print(f"  seconds per page (decode + OCR + repair): p50 {statistics.median(seconds):.2f}, "
          f"p95 {seconds[int(0.95 * (n - 1))]:.2f}, max {seconds[-1]:.2f}")
    print(f"  {'by':<26} {'exact after repair':>24} {'approved':>16} {'name flagged':>13}")
    for key in sorted(by):
        c = by[key]
        print(f"    {key:<24} {c['exact']:>5}/{c['n']:<5} {_percent(c['exact'], c['n'])} "
              f"{c['approved']:>5} {_percent(c['approved'], c['n'])} {c['name flagged']:>6}")
    for title, table in (("as the engine read it", raw_conf), ("after repair", fixed_conf)):
        total = sum(table.values())
        print(f"  per-character confusion {title} (printed -> read, where: count; {total} in all):")
        rows = [f"{a or '∅'}->{b or '∅'} {w} {c}" for (a, b, w), c in table.most_common(24)]
        for i in range(0, len(rows), 6):
            print("    " + "   ".join(rows[i:i + 6]))
    first, after = PRICE_PER_PAGE_FIRST_MILLION * 1e6, PRICE_PER_PAGE_AFTER * 1e6
    print(f"  Textract DetectDocumentText per million applications (1 page each): ${first:,.0f} within the first "
          f"million pages a month, ${after:,.0f} beyond (us-east-1 list price; a retried call is billed again)")


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--count', '3']


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=210)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--names", choices=("mixed", "sanctions", "faker"), default="mixed")
    parser.add_argument("--variation", choices=("all", *VARIATIONS), default="all")
    parser.add_argument("--workers", type=int, default=1, help="processes reading pages at once")
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="stop reading after this long and report the pages read (0: read them all)")
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--start", type=int, default=0,
                        help="read from this page on (the pages of a seed and count are the same whatever --start):"
                             " a run stopped by --minutes is continued by another")
    args = parser.parse_args()

    work = pages(args.count, args.seed, args.names, args.variation)[args.start:]
    results: list[dict[str, Any]] = []
    context = multiprocessing.get_context("fork")
    stop_at = time.monotonic() + 60 * args.minutes if args.minutes else float("inf")
    with context.Pool(max(1, args.workers)) as workers:
        for result in workers.imap(read_one, work, chunksize=1):
            if time.monotonic() > stop_at:
                print(f"  stopped after {args.minutes:g} min: {len(results)} of {args.count} pages read "
                      "(the variations and name sources are taken in turn, so each is still represented)")
                workers.terminate()
                break
            results.append(result)
            bad = not result["exact"] or result["own"] != "PASS" or result["other"] == "PASS"
            if bad and args.show_failures:
                print(f"  #{result['index']} {result['variation']} {result['source']} own={result['own']} "
                      f"{result['own_codes']} other={result['other']}\n    {result['look']}\n"
                      f"    truth {result['truth']}\n    read  {tuple(result['lines'][-3:])}\n"
                      f"    got   {result['got']}", flush=True)
            if len(results) % 25 == 0:
                done = sum(r["exact"] for r in results)
                print(f"  ... {len(results)}/{args.count}: {done} exact after repair", flush=True)
    report(results, args.seed, args.names)


def _tesseract_version() -> str:
    import subprocess

    try:
        out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.split()[1]
    except Exception:
        return "?"


if __name__ == "__main__":
    main()

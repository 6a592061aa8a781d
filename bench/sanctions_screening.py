"""Benchmark: sanctions screening quality and speed on a labelled set generated from the list.

    python -m bench.sanctions_screening [--individuals 7500] [--per-kind 400] [--non-listed 4000]
    python -m bench.sanctions_screening --sdn path/sdn.csv --alt path/alt.csv   # a real SDN snapshot

The list: a real ``sdn.csv``/``alt.csv`` when given (or found in
tests/data/sanctions/real/), otherwise the SYNTHETIC list of
tests/support/sanctions_lists.py at the real SDN list's size. Printed with
its size either way.

The labelled set (see bench/README.md for its design): true variants of
listed names (swapped order, transliteration, missing middle names, one- and
two-letter typos, initials, and for Cyrillic names the original script), each
with the birth date and nationality the list gives (a day in the listed year
when it gives only a year); and applicants who are not listed, from Faker
locales that the list is NOT made from (tests/support/sanctions_lists.py,
APPLICANT_POPULATION: a European bank's applicants, a third of them from the
regions the lists are mostly made of), with random birth dates. A non-listed
name whose normalised form equals a listed name is a namesake, not a false
positive: counted apart.

Printed: recall of true variants by kind (target >= 99 %), false positives on
non-listed names (target <= 0.5 %), both also for the names alone (no birth
date, no nationality); screening time per applicant p50/p99 after the index is
loaded (target p99 <= 20 ms); index size and load time; and the baseline in the
same run: brute force, scoring every listed name, on a sample, for time and
for what blocking loses (applicants the brute force flags and blocking does not).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import percentile  # noqa: E402
from chalicelib.domain.checks import Outcome  # noqa: E402
from chalicelib.domain.sanctions import (  # noqa: E402
    Applicant,
    ListEntry,
    ScreeningIndex,
    ScreeningPolicy,
    find_candidates,
    parse_sdn,
    screen,
)
from chalicelib.domain.sanctions.normalise import key, tokens  # noqa: E402
from tests.support.sanctions_lists import (  # noqa: E402
    LIST_REGION_LOCALES,
    ApplicantNames,
    make_people,
    respell,
    sdn_files,
)

REAL_DIR = ROOT / "tests" / "data" / "sanctions" / "real"
KINDS = ("swapped", "transliteration", "missing_middle", "typo1", "typo2", "initials")
KUNYA = re.compile(r"^(ab[ou]{1,3}|abd(u|e|ou|a)?l?)$", re.IGNORECASE)


def parts_of(text: str) -> list[str]:
    """Name parts, keeping "Abd al-Rahman" and "Abou Bakr" whole: dropping half of one is no variant."""
    parts: list[str] = []
    for word in text.split():
        if parts and KUNYA.match(parts[-1]):
            parts[-1] += " " + word
        else:
            parts.append(word)
    return parts


def split_name(listed: str) -> tuple[list[str], list[str]]:
    """(given names, surname parts) of "SURNAME, Given Names"; a name without a comma is all given."""
    if "," in listed:
        surname, given = listed.split(",", 1)
        return parts_of(given), parts_of(surname)
    parts = parts_of(listed)
    return parts[:-1], parts[-1:]


def typo(word: str, rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    letters_at = [i for i, ch in enumerate(word) if ch.isalpha()]
    i = rng.choice(letters_at[2:] if word.lower().startswith("al-") else letters_at)
    op = rng.choice(("sub", "del", "ins", "swap"))
    if op == "sub":
        return word[:i] + rng.choice(letters) + word[i + 1 :]
    if op == "del" and len(word) > 3:
        return word[:i] + word[i + 1 :]
    if op == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(letters) + word[i:]


def with_typos(parts: list[str], count: int, rng: random.Random) -> list[str]:
    parts = list(parts)
    for _ in range(count):
        long = [i for i, p in enumerate(parts) if len(p) >= 4 and " " not in p]
        if not long:
            break
        i = rng.choice(long)
        parts[i] = typo(parts[i], rng)
    return parts


def variant(entry: ListEntry, kind: str, rng: random.Random, original: str | None) -> str | None:
    given, surname = split_name(rng.choice(entry.names) if kind != "swapped" else entry.name)
    if not given:
        return None
    if kind == "swapped":
        return " ".join(given + surname)
    if kind == "transliteration":
        if original and rng.random() < 0.5:
            return original
        parts = given + surname
        for i in rng.sample(range(len(parts)), min(len(parts), rng.choice((1, 2)))):
            parts[i] = respell(parts[i], rng)
        return " ".join(parts)
    if kind == "missing_middle":
        return " ".join(given[:1] + surname) if len(given) > 1 else None
    if kind in ("typo1", "typo2"):
        return " ".join(with_typos(given + surname, 1 if kind == "typo1" else 2, rng))
    if kind == "initials":
        return " ".join([g[0] + "." for g in given] + surname)
    raise ValueError(kind)


def birth_date_for(entry: ListEntry, rng: random.Random) -> dt.date:
    for listed in entry.birth_dates:
        if listed.is_exact and listed.month and listed.day:
            return dt.date(listed.year_from, listed.month, listed.day)
        return dt.date(listed.year_from, 1, 1) + dt.timedelta(days=rng.randrange(365))
    return random_birth_date(rng)


def random_birth_date(rng: random.Random) -> dt.date:
    return dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))


def load_list(args: argparse.Namespace) -> tuple[str, str, str, dict[str, str]]:
    """(sdn.csv, alt.csv, description, original-script names by ent_num)."""
    sdn, alt = args.sdn, args.alt
    if not sdn and (REAL_DIR / "sdn.csv").exists():
        sdn, alt = REAL_DIR / "sdn.csv", REAL_DIR / "alt.csv"
    if sdn:
        alt_text = Path(alt).read_text(encoding="latin-1") if alt else ""
        return Path(sdn).read_text(encoding="latin-1"), alt_text, f"REAL snapshot {sdn}", {}
    people = make_people(args.individuals, seed=args.seed)
    sdn_text, alt_text = sdn_files(people, seed=args.seed)
    originals = {str(p.ent_num): p.original_script for p in people if p.original_script}
    return sdn_text, alt_text, "SYNTHETIC list (tests/support/sanctions_lists.py)", originals


def non_listed(count: int, listed_keys: set[str], rng: random.Random) -> tuple[list[Applicant], list[str], int]:
    """Applicants not on the list, from pools independent of the list's (ApplicantNames), with their locales."""
    source = ApplicantNames(random.Random(rng.randrange(1 << 30)))
    applicants: list[Applicant] = []
    locales: list[str] = []
    namesakes = 0
    while len(applicants) < count:
        person = source.applicant()
        if key(tokens(person.name)) in listed_keys:
            namesakes += 1
            continue
        applicants.append(Applicant((person.name,), person.birth, person.nationality))
        locales.append(person.locale)
    return applicants, locales, namesakes


def flagged(index: ScreeningIndex, applicant: Applicant, policy: ScreeningPolicy) -> bool:
    return screen(index, applicant, policy).outcome is not Outcome.PASS


def name_only(applicant: Applicant) -> Applicant:
    return Applicant(applicant.names)


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--individuals', '300', '--per-kind', '10', '--non-listed', '200', '--baseline-sample', '10']


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--individuals", type=int, default=7500, help="synthetic list size (individuals)")
    parser.add_argument("--per-kind", type=int, default=600, help="true variants per kind")
    parser.add_argument("--non-listed", type=int, default=10000)
    parser.add_argument("--baseline-sample", type=int, default=150)
    parser.add_argument("--threshold", type=float, default=ScreeningPolicy().review_threshold)
    parser.add_argument("--sdn", type=Path)
    parser.add_argument("--alt", type=Path)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    policy = ScreeningPolicy(review_threshold=args.threshold)

    sdn_text, alt_text, description, originals = load_list(args)
    started = time.perf_counter()
    parsed = parse_sdn(sdn_text, alt_text)
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    index = ScreeningIndex.build([parsed], built_at="bench")
    build_s = time.perf_counter() - started
    blob = index.dumps()
    loads, load_cpu = [], []
    for _ in range(5):
        started, cpu = time.perf_counter(), time.process_time()
        index = ScreeningIndex.loads(blob)
        loads.append(time.perf_counter() - started)
        load_cpu.append(time.process_time() - cpu)
    aliases = sum(len(e.aliases) for e in parsed.entries)
    print(f"list: {description}")
    print(
        f"  sdn.csv {len(sdn_text.encode()) / 1e6:.2f} MB, {parsed.record_count} records, "
        f"{len(parsed.entries)} individuals with {aliases} aliases -> {len(index.names)} distinct names, "
        f"{len(index.postings)} blocking keys"
    )
    print(
        f"  parse {parse_s * 1000:.0f} ms, build {build_s * 1000:.0f} ms; index (gzip JSON, format v1) "
        f"{len(blob) / 1024:.0f} KiB; load median {statistics.median(loads) * 1000:.0f} ms "
        f"(min {min(loads) * 1000:.0f}, max {max(loads) * 1000:.0f}), "
        f"CPU median {statistics.median(load_cpu) * 1000:.0f} ms"
    )

    # -- the labelled set ------------------------------------------------------------------------
    variants: dict[str, list[Applicant]] = defaultdict(list)
    pool = list(parsed.entries)
    for kind in KINDS:
        attempts = 0
        while len(variants[kind]) < args.per_kind and attempts < args.per_kind * 20:
            attempts += 1
            entry = rng.choice(pool)
            name = variant(entry, kind, rng, originals.get(entry.entry_id))
            if not name:
                continue
            nationality = entry.nationalities[0] if entry.nationalities else None
            variants[kind].append(Applicant((name,), birth_date_for(entry, rng), nationality))
    listed_keys = {key(n.tokens) for n in index.names}
    others, other_locales, namesakes = non_listed(args.non_listed, listed_keys, rng)

    # -- quality and time --------------------------------------------------------------------------
    times: list[float] = []
    cpu_times: list[float] = []  # the machine may be shared: CPU time is what the applicant's Lambda spends
    recall_rows = []
    missed: list[str] = []
    total_true = total_found = total_found_name = 0
    for kind in KINDS:
        found = found_name = 0
        for applicant in variants[kind]:
            started, cpu = time.perf_counter(), time.process_time()
            hit = flagged(index, applicant, policy)
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu)
            found += hit
            found_name += flagged(index, name_only(applicant), policy)
            if not hit and len(missed) < 12:
                missed.append(f"{kind}: {applicant.names[0]!r}")
        n = len(variants[kind])
        total_true, total_found, total_found_name = total_true + n, total_found + found, total_found_name + found_name
        recall_rows.append(f"  {kind:<16} n={n:<5} recall {found / n:7.2%}   names only {found_name / n:7.2%}")
    false_pos = false_pos_name = 0
    outcomes: Counter[str] = Counter()
    by_group: Counter[tuple[str, bool]] = Counter()
    for applicant, locale in zip(others, other_locales, strict=True):
        started, cpu = time.perf_counter(), time.process_time()
        result = screen(index, applicant, policy)
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu)
        outcomes[result.outcome.value] += 1
        false_pos += result.outcome is not Outcome.PASS
        group = "the lists' regions" if locale in LIST_REGION_LOCALES else "Europe"
        by_group[group, False] += 1
        by_group[group, True] += result.outcome is not Outcome.PASS
        false_pos_name += flagged(index, name_only(applicant), policy)

    print(f"\nreview threshold {policy.review_threshold:g}; true variants (target recall >= 99 %):")
    print("\n".join(recall_rows))
    print(
        f"  {'all':<16} n={total_true:<5} recall {total_found / total_true:7.2%}   "
        f"names only {total_found_name / total_true:7.2%}"
    )
    if missed:
        print("  some misses: " + "; ".join(missed))
    print(
        f"non-listed names (target <= 0.5 % flagged): n={len(others)}  flagged {false_pos / len(others):.2%} "
        f"({false_pos}; {dict(outcomes)})   names only {false_pos_name / len(others):.2%}   "
        f"[{namesakes} namesakes of listed names drawn and set aside]"
    )
    for group in ("Europe", "the lists' regions"):
        n = by_group[group, False]
        print(f"  applicants from {group:<20} n={n:<6} flagged {by_group[group, True] / max(n, 1):.2%}")

    # -- the review threshold's trade-off (a Parameter Store setting) ------------------------------------
    sweep = (80.0, 82.5, 85.0, 87.5, 90.0)

    def best(applicant: Applicant) -> float:
        found = find_candidates(index, applicant, policy, floor=min(sweep))
        return found[0].score if found else 0.0

    true_best = [best(a) for kind in KINDS for a in variants[kind]]
    other_best = [best(a) for a in others]
    print("\nthreshold   recall    flagged non-listed")
    for threshold in sweep:
        recall = sum(score >= threshold for score in true_best) / len(true_best)
        flagged_share = sum(score >= threshold for score in other_best) / len(other_best)
        print(f"  {threshold:5.1f}    {recall:7.2%}   {flagged_share:7.2%}")

    # -- baseline: brute force over every listed name ------------------------------------------------
    everything = range(len(index.names))
    sample = rng.sample(
        [a for kind in KINDS for a in variants[kind]] + others, min(args.baseline_sample, total_true + len(others))
    )
    brute_times, blocked_times, lost = [], [], 0
    for applicant in sample:
        started = time.perf_counter()
        brute = find_candidates(index, applicant, policy, floor=policy.review_threshold, name_ids=everything)
        brute_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        blocked = find_candidates(index, applicant, policy, floor=policy.review_threshold)
        blocked_times.append(time.perf_counter() - started)
        brute_hit = any(c.score >= policy.review_threshold for c in brute)
        blocked_hit = any(c.score >= policy.review_threshold for c in blocked)
        lost += brute_hit and not blocked_hit
    p50, p99 = percentile(times, 50), percentile(times, 99)
    print(
        f"\nscreening time per applicant, index loaded (target p99 <= 20 ms): n={len(times)}  "
        f"p50 {p50 * 1000:.2f} ms  p99 {p99 * 1000:.2f} ms  max {max(times) * 1000:.2f} ms wall; "
        f"CPU p50 {percentile(cpu_times, 50) * 1000:.2f} ms  p99 {percentile(cpu_times, 99) * 1000:.2f} ms"
    )
    b50, b99 = percentile(brute_times, 50), percentile(brute_times, 99)
    k50 = percentile(blocked_times, 50)
    print(
        f"baseline, brute force over all {len(index.names)} names, n={len(sample)}: p50 {b50 * 1000:.1f} ms  "
        f"p99 {b99 * 1000:.1f} ms  -> blocking is {b50 / k50:.0f}x faster at p50 ({b99 / p99:.0f}x at p99); "
        f"applicants brute force flags and blocking misses: {lost} of {len(sample)}"
    )


if __name__ == "__main__":
    main()

"""Benchmark: sanctions screening quality and speed on the REAL lists (OFAC SDN + UN Security Council).

    python -m bench.sanctions_screening                       # the report split, seed 29 (the figures quoted)
    python -m bench.sanctions_screening --split tune --seed 13 # what the matcher was tuned on
    python -m bench.sanctions_screening --sdn sdn.csv --alt alt.csv --un consolidated.xml
    python -m bench.sanctions_screening --only aliases --only variants   # parts; --workers 2 (default)

The lists default to the snapshots in tests/data/sanctions/ (provenance in its README).
Every listed individual falls in one of two halves by a hash of its list and entry id:
``tune`` or ``report``. Queries are made only from the chosen half's entries (the index
always holds the whole list), and the populations of people who are not listed are drawn
with the seed given. The matcher was tuned on ``--split tune --seed 13`` and the Faker
populations only; the figures in docs/sanctions.md are ``--split report --seed 29``, with
the name-variants population, which nothing was ever tuned on. ``--only`` runs a part
(load, aliases, variants, population, time); the queries are screened by ``--workers``
processes (forked after the index is built, so each has it without loading it again).

Printed:

* the lists, parse and index build time, the index's size and load time;
* **held-out real aliases**: one alias per entry with aliases (Latin script) is taken OUT
  of the index and screened with the entry's birth date, nationality and gender, twice:
  any alias (many are other names altogether, which no name matcher can find), and a
  *spelling variant* of a name the entry keeps, by the rule in ``spelling_variant`` (fixed
  before any matcher result was looked at): the list's own spellings, which no generator
  imagined (target recall >= 97 % on the spelling variants). Each figure is printed for two halves of the
  entries by a second stable hash (``alias_half``): ``tuning``, whose misses are printed and which rules may be
  tuned on, and ``untouched``, whose misses are never printed (the figure that counts), and the whole;
* **generated variants** of listed names (target recall >= 99.5 %), by kind;
* **people who are not listed** (target <= 0.1 % flagged for the lists' own cultures,
  <= 0.02 % for a general population), by culture and source; a person whose normalised
  name equals a listed name exactly is a namesake, set aside and counted;
* screening time per applicant (target p99 <= 20 ms) with `uptime` beside it, and a brute-force baseline over
  the same applicants in the same run (p50 and p99 of each, and their ratios).

``--general-seed`` draws the general population apart from ``--seed`` (a never-used seed for a final figure).
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import random
import re
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jellyfish  # noqa: E402
from anyascii import anyascii  # noqa: E402

from bench._common import percentile  # noqa: E402
from bench._sanctions_queries import (  # noqa: E402
    DATA,
    KINDS,
    Query,
    alias_half,
    honest,
    latin,
    load_lists,
    split_of,
    variant,
)
from chalicelib.domain.checks import Outcome  # noqa: E402
from chalicelib.domain.sanctions import (  # noqa: E402
    Applicant,
    ListEntry,
    ParsedList,
    ScreeningIndex,
    ScreeningPolicy,
    find_candidates,
    screen,
)
from chalicelib.domain.sanctions.normalise import key, tokens  # noqa: E402
from chalicelib.domain.sanctions.un import alias_names  # noqa: E402
from tests.support.sanctions_lists import ApplicantNames  # noqa: E402
from tests.support.sanctions_people import (  # noqa: E402
    FAKER_CULTURES,
    NAME_VARIANTS_CULTURES,
    FakerCultures,
    NameVariantsCultures,
)

ALIAS_SPELLING_THRESHOLD = 0.75
_TRANSLIT = (("kh", "h"), ("gh", "g"), ("dh", "d"), ("th", "t"), ("ph", "f"), ("ck", "k"), ("q", "k"))


def fold(name: str) -> list[str]:
    text = anyascii(name).lower()
    text = re.sub(r"['`\u2019]", "", text)
    return re.sub(r"[^a-z]+", " ", text).split()


def translit_form(part: str) -> str:
    text = re.sub(r"(.)\1+", r"\1", part)
    for a, b in _TRANSLIT:
        text = text.replace(a, b)
    text = re.sub(r"c(?!h)", "k", text)
    text = text.replace("w", "v").replace("ou", "u").replace("oo", "u").replace("ee", "i").replace("y", "i")
    text = re.sub(r"(?<=[aeiou])j", "i", text)
    text = re.sub(r"(.)\1+", r"\1", text)
    return text[:1] + re.sub(r"[aeiou]", "", text[1:])


def part_similarity(a: str, b: str) -> float:
    best = 1 - jellyfish.levenshtein_distance(a, b) / max(len(a), len(b), 1)
    ta, tb = translit_form(a), translit_form(b)
    if len(ta) >= 3 and len(tb) >= 3:
        best = max(best, 1 - jellyfish.levenshtein_distance(ta, tb) / max(len(ta), len(tb)))
    return best


def _joinings(parts: list[str]) -> list[list[str]]:
    """The parts as they are, and with each pair of neighbours written as one."""
    out = [parts]
    for i in range(len(parts) - 1):
        out.append(parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2 :])
    return out


def _pairs_up(alias: list[str], name: list[str]) -> bool:
    """Each alias part paired with its own part of the name (similarity >= the threshold), at most one
    part of the name of three letters or more left over: a depth-first search over the pairs allowed."""
    if len(alias) > len(name):
        return False
    allowed = [[j for j, n in enumerate(name) if part_similarity(a, n) >= ALIAS_SPELLING_THRESHOLD] for a in alias]
    if any(not options for options in allowed):
        return False
    long_parts = {j for j, n in enumerate(name) if len(n) >= 3}

    def search(i: int, used: frozenset[int]) -> bool:
        if i == len(alias):
            return len(long_parts - used) <= 1
        return any(search(i + 1, used | {j}) for j in allowed[i] if j not in used)

    return search(0, frozenset())


def spelling_variant(alias: str, kept_names: Iterable[str]) -> bool:
    """Rule parts 2 and 3 (part 1, the alias's type, is ``strong_aliases``)."""
    parts = fold(alias)
    if len(parts) < 2 or any(len(p) < 2 for p in parts):
        return False
    for name in kept_names:
        for a in _joinings(parts):
            for n in _joinings(fold(name)):
                if _pairs_up(a, n):
                    return True
    return False


def strong_aliases(args: argparse.Namespace) -> set[tuple[str, str, str]]:
    """(list, entry id, alias) of rule part 1: OFAC "aka" aliases, UN "Good" and "a.k.a." ones."""
    strong: set[tuple[str, str, str]] = set()
    if args.alt:
        import csv
        import io

        text = Path(args.alt).read_text(encoding="latin-1").replace("\x1a", "")
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(row) == 5 and row[2].strip().strip('"').lower() == "aka":
                strong.add(("OFAC-SDN", row[0].strip(), row[3].strip()))
    if args.un:
        root = ET.fromstring(Path(args.un).read_bytes())
        for person in root.iter("INDIVIDUAL"):
            reference = (person.findtext("REFERENCE_NUMBER") or person.findtext("DATAID") or "").strip()
            for alias in person.findall("INDIVIDUAL_ALIAS"):
                quality = (alias.findtext("QUALITY") or "").strip().lower()
                if quality in ("good", "a.k.a."):  # one field may hold several names (un.alias_names)
                    for name in alias_names((alias.findtext("ALIAS_NAME") or "").strip()):
                        strong.add(("UN-SC", reference, name))
    return strong


def held_out(
    lists: list[ParsedList], split: str, rng: random.Random, eligible: Callable[[ListEntry, str], bool] | None = None
) -> tuple[list[ParsedList], list[Query]]:
    """The lists with one Latin alias of each of the split's entries taken out (one that ``eligible`` accepts,
    when given), and those aliases as queries."""
    queries: list[Query] = []
    out: list[ParsedList] = []
    for parsed in lists:
        entries = []
        for entry in parsed.entries:
            aliases = [a for a in entry.aliases if latin(a)]
            if eligible is not None and split_of(entry) == split:
                aliases = [a for a in aliases if eligible(entry, a)]
            if split_of(entry) != split or not aliases:
                entries.append(entry)
                continue
            alias = rng.choice(aliases)
            kept = replace(entry, aliases=tuple(a for a in entry.aliases if a != alias))
            entries.append(kept)
            queries.append(Query(honest(entry, alias, rng), kept, "held_out"))
        out.append(replace(parsed, entries=tuple(entries)))
    return out, queries


# --- screening in worker processes -------------------------------------------------------------------------
# The index and policy are module globals set before the pool is made: forked workers share them.

_INDEX: ScreeningIndex | None = None
_POLICY: ScreeningPolicy | None = None
_PROFILER: cProfile.Profile | None = None  # --profile: the screening calls only, in one process


def _screen_query(query: Query) -> tuple[bool, bool, bool, float]:
    """(flagged, right entry among the candidates, flagged on the names alone, CPU seconds)."""
    assert _INDEX is not None and _POLICY is not None
    started = time.process_time()
    if _PROFILER:
        _PROFILER.enable()
    flagged, right = hit(_INDEX, query, _POLICY)
    if _PROFILER:
        _PROFILER.disable()
    spent = time.process_time() - started
    names = hit(_INDEX, query, _POLICY, names_only=True)[0]
    return flagged, right, names, spent


def _screen_person(person: object) -> tuple[bool, bool, float, str | None]:
    """(flagged, flagged on the name alone, CPU seconds, an example when flagged)."""
    assert _INDEX is not None and _POLICY is not None
    applicant = Applicant((person.name,), person.birth, person.nationality, getattr(person, "sex", None))  # type: ignore[attr-defined]
    started = time.process_time()
    if _PROFILER:
        _PROFILER.enable()
    result = screen(_INDEX, applicant, _POLICY)
    if _PROFILER:
        _PROFILER.disable()
    spent = time.process_time() - started
    example = None
    if result.outcome is not Outcome.PASS:
        best = result.details["candidates"][0]
        example = f"{person.name!r} ~ {best['matched_name']!r} ({best['score']})"  # type: ignore[attr-defined]
    names = screen(_INDEX, Applicant((person.name,)), _POLICY).outcome is not Outcome.PASS  # type: ignore[attr-defined]
    return result.outcome is not Outcome.PASS, names, spent, example


class Workers:
    """Maps over the queries with ``count`` forked processes sharing the index (in-process when 1)."""

    def __init__(self, count: int) -> None:
        self.count = count

    def map(self, index: ScreeningIndex, policy: ScreeningPolicy, fn: Callable, items: list) -> list:
        global _INDEX, _POLICY
        _INDEX, _POLICY = index, policy
        _ = index.names  # filed here once, before the fork: not again in every worker
        if self.count <= 1 or len(items) < 50:
            return [fn(item) for item in items]
        with multiprocessing.get_context("fork").Pool(self.count) as pool:
            return pool.map(fn, items, chunksize=max(1, len(items) // (self.count * 8)))


def hit(index: ScreeningIndex, query: Query, policy: ScreeningPolicy, names_only: bool = False) -> tuple[bool, bool]:
    """(flagged at all, flagged with the right entry among the candidates)."""
    applicant = Applicant(query.applicant.names) if names_only else query.applicant
    result = screen(index, applicant, policy)
    if result.outcome is Outcome.PASS:
        return False, False
    right = any(
        c["list"] == query.entry.source and c["entry_id"] == query.entry.entry_id for c in result.details["candidates"]
    )
    return True, right


def recall(
    workers: Workers, index: ScreeningIndex, queries: list[Query], policy: ScreeningPolicy, times: list[float]
) -> dict:
    results = workers.map(index, policy, _screen_query, queries)
    misses = [q for q, r in zip(queries, results, strict=True) if not r[0]]
    times.extend(r[3] for r in results)
    n = max(len(queries), 1)
    return {
        "n": len(queries),
        "found": sum(r[0] for r in results),
        "recall": sum(r[0] for r in results) / n,
        "right": sum(r[1] for r in results) / n,
        "names_only": sum(r[2] for r in results) / n,
        "misses": misses,
        "results": results,
    }


def population(make: Callable[[], Iterable], count: int, listed_keys: set[str]) -> tuple[list, int]:
    people, namesakes = [], 0
    source = iter(make())
    while len(people) < count:
        person = next(source)
        if key(tokens(person.name)) in listed_keys:
            namesakes += 1
            continue
        people.append(person)
    return people, namesakes


def flagged_share(
    workers: Workers,
    index: ScreeningIndex,
    people: list,
    policy: ScreeningPolicy,
    times: list[float],
    examples: list[str],
) -> tuple[int, int]:
    results = workers.map(index, policy, _screen_person, people)
    times.extend(r[2] for r in results)
    for r in results:
        if r[3] and len(examples) < 25:
            examples.append(r[3])
    return sum(r[0] for r in results), sum(r[1] for r in results)


def forever(factory: Callable[[], object]) -> Callable[[], Iterable]:
    def generate() -> Iterable:
        while True:
            yield factory()

    return generate


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def uptime() -> str:
    """`uptime`'s line (the machine's load beside a time printed), or the load average where it is missing."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"load average {load_average()}"


PARTS = ("load", "aliases", "variants", "population", "time")


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--only', 'load', '--only', 'variants', '--only', 'population', '--only', 'time', '--per-kind', '2', '--per-culture', '3', '--general', '20', '--baseline-sample', '1', '--load-runs', '1', '--misses', '0', '--workers', '1']  # every sized part (aliases: all the held-out real ones, no size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdn", type=Path, default=DATA / "sdn.csv")
    parser.add_argument("--alt", type=Path, default=DATA / "alt.csv")
    parser.add_argument("--un", type=Path, default=DATA / "un_consolidated.xml")
    parser.add_argument("--split", choices=("tune", "report"), default="report")
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument(
        "--general-seed", type=int, default=None, help="seed of the general population (default: --seed)"
    )
    parser.add_argument("--only", action="append", choices=PARTS, help="run only these parts (repeatable)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="screening processes")
    parser.add_argument("--per-kind", type=int, default=400, help="generated variants per kind")
    parser.add_argument("--per-culture", type=int, default=2500, help="non-listed people per culture and source")
    parser.add_argument("--general", type=int, default=10000, help="non-listed people of a general population")
    parser.add_argument("--baseline-sample", type=int, default=100)
    parser.add_argument("--load-runs", type=int, default=3, help="index loads timed (the median is printed)")
    parser.add_argument("--misses", type=int, default=25, help="misses printed per part")
    parser.add_argument("--threshold", type=float, default=ScreeningPolicy().review_threshold)
    parser.add_argument(
        "--no-name-variants", action="store_true", help="leave out the name-variants population (tuning)"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile the screening calls (one process): top N"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each line as it comes (a long run)
    parts = set(args.only or PARTS)
    general_seed = args.seed if args.general_seed is None else args.general_seed
    rng = random.Random(args.seed)
    policy = ScreeningPolicy(review_threshold=args.threshold)
    workers = Workers(1 if args.profile else args.workers)
    if args.profile:
        global _PROFILER
        _PROFILER = cProfile.Profile()
    wall = time.perf_counter()

    started = time.perf_counter()
    lists = load_lists(args)
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    index = ScreeningIndex.build(lists, built_at="bench")
    _ = index.names
    build_s = time.perf_counter() - started
    print(f"load average {load_average()} (1, 5, 15 min) at the start; CPU times below are per process")
    print(f"lists: {', '.join(str(p) for p in (args.sdn, args.alt, args.un) if p)}")
    for parsed in lists:
        aliases = sum(len(e.aliases) for e in parsed.entries)
        dropped = (
            f", {parsed.dropped_aliases} aliases of entries not in the list dropped" if parsed.dropped_aliases else ""
        )
        print(
            f"  {parsed.source}: {parsed.record_count} records, {len(parsed.entries)} individuals, "
            f"{aliases} aliases{dropped}"
        )
    if "load" in parts:
        blob = index.dumps()
        loads, load_cpu = [], []
        for _ in range(max(1, args.load_runs)):
            started, cpu = time.perf_counter(), time.process_time()
            loaded = ScreeningIndex.loads(blob)
            _ = loaded.names  # filed on first use: a screening container pays this once
            screen(loaded, Applicant(("Load Test",)), policy)  # and its first screening's one-off work
            loads.append(time.perf_counter() - started)
            load_cpu.append(time.process_time() - cpu)
        print(
            f"  {len(index.names)} distinct names; parse {parse_s:.2f} s, build {build_s:.2f} s; index "
            f"{len(blob) / 1024:.0f} KiB gzip JSON; load median {statistics.median(loads):.2f} s wall, "
            f"{statistics.median(load_cpu):.2f} s CPU"
        )
    print(
        f"split {args.split!r}, seed {args.seed} (general population {general_seed}), review threshold {policy.review_threshold:g}, "
        f"parts {', '.join(p for p in PARTS if p in parts)}, {workers.count} worker(s)"
    )
    times: list[float] = []

    # -- held-out real aliases -------------------------------------------------------------------------
    if "aliases" in parts:
        strong = strong_aliases(args)

        def is_spelling_variant(entry: ListEntry, alias: str) -> bool:
            kept = [n for n in entry.names if n != alias and latin(n)]
            return (entry.source, entry.entry_id, alias) in strong and spelling_variant(alias, kept)

        for label, eligible in (("any alias", None), ("spelling variants (the rule above)", is_spelling_variant)):
            reduced, held = held_out(lists, args.split, random.Random(args.seed), eligible)
            held_index = ScreeningIndex.build(reduced, built_at="bench")
            result = recall(workers, held_index, held, policy, [])
            print(f"\nheld-out real aliases, {label} (target >= 97 % on spelling variants, on the untouched half):")
            halves = [alias_half(q.entry) for q in held]
            for half in ("tuning", "untouched", "whole"):
                rows = [r for h, r in zip(halves, result["results"], strict=True) if half in ("whole", h)]
                n = max(len(rows), 1)
                print(
                    f"  {half:<9} n={len(rows):<5} recall {sum(r[0] for r in rows) / n:7.2%} ({sum(r[0] for r in rows)}; "
                    f"right entry {sum(r[1] for r in rows) / n:.2%}; names only {sum(r[2] for r in rows) / n:.2%})"
                )
            tuning_misses = [q for q in result["misses"] if alias_half(q.entry) == "tuning"]  # never the untouched
            for q in tuning_misses[: args.misses]:
                print(f"    missed {q.applicant.names[0]!r} of {q.entry.source} {q.entry.entry_id} {q.entry.names}")

    # -- generated variants --------------------------------------------------------------------------------
    if "variants" in parts:
        pool = [e for parsed in lists for e in parsed.entries if split_of(e) == args.split]
        total = found = found_names = 0
        print(f"\ngenerated variants of the split's {len(pool)} individuals (target recall >= 99.5 %):")
        all_misses = []
        for kind in KINDS:
            queries: list[Query] = []
            attempts = 0
            while len(queries) < args.per_kind and attempts < args.per_kind * 50:
                attempts += 1
                entry = rng.choice(pool)
                name = variant(entry, kind, rng)
                if name and key(tokens(name)) != "":
                    queries.append(Query(honest(entry, name, rng), entry, kind))
            r = recall(workers, index, queries, policy, times)
            total += r["n"]
            found += r["found"]
            found_names += round(r["names_only"] * r["n"])
            all_misses.extend(r["misses"])
            print(f"  {kind:<16} n={r['n']:<5} recall {r['recall']:7.2%}   names only {r['names_only']:7.2%}")
        print(f"  {'all':<16} n={total:<5} recall {found / total:7.2%}   names only {found_names / total:7.2%}")
        for q in all_misses[: args.misses]:
            print(f"    missed {q.kind}: {q.applicant.names[0]!r} for {q.entry.name!r}")
        counts = Counter(q.kind for q in all_misses)
        if counts:
            print(f"  misses by kind: {dict(counts)}")

    # -- people who are not listed -------------------------------------------------------------------------
    people: list = []
    if "population" in parts or "time" in parts:
        listed_keys = {key(n.tokens) for n in index.names}
    if "population" in parts:
        print("\npeople who are not listed (target <= 0.1 % flagged for the lists' cultures, <= 0.02 % general):")
        sources: list[tuple[str, str, Callable[[], Iterable]]] = []
        faker = FakerCultures(args.seed)
        for culture in FAKER_CULTURES:
            sources.append(("Faker", culture, forever(lambda c=culture: faker.person(c))))
        if not args.no_name_variants:
            nv = NameVariantsCultures(args.seed)
            for culture in NAME_VARIANTS_CULTURES:
                sources.append(("name-variants", culture, forever(lambda c=culture: nv.person(c))))
        by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        examples: list[str] = []
        for source, culture, make in sources:
            people, namesakes = population(make, args.per_culture, listed_keys)
            flagged, flagged_names = flagged_share(workers, index, people, policy, times, examples)
            by_source[source][0] += len(people)
            by_source[source][1] += flagged
            print(
                f"  {source:<13} {culture:<12} n={len(people):<6} flagged {flagged / len(people):7.3%} ({flagged})"
                f"   names only {flagged_names / len(people):7.3%}   [{namesakes} namesakes set aside]"
            )
        n_all = sum(v[0] for v in by_source.values())
        f_all = sum(v[1] for v in by_source.values())
        for source, (n, f) in by_source.items():
            print(f"  {'all ' + source:<26} n={n:<6} flagged {f / n:7.3%} ({f})")
        print(f"  {'all the lists cultures':<26} n={n_all:<6} flagged {f_all / n_all:7.3%} ({f_all})")
        general_source = ApplicantNames(random.Random(general_seed))
        people, namesakes = population(forever(general_source.applicant), args.general, listed_keys)
        flagged, flagged_names = flagged_share(workers, index, people, policy, times, examples)
        print(
            f"  general population (a European bank's, tests/support/sanctions_lists.py; seed {general_seed}) "
            f"n={len(people)} "
            f"flagged {flagged / len(people):.3%} ({flagged})   names only {flagged_names / len(people):.3%}   "
            f"[{namesakes} namesakes set aside]"
        )
        for example in examples:
            print(f"    flagged {example}")

    # -- time ----------------------------------------------------------------------------------------------
    if "time" in parts:
        if not people:
            general_source = ApplicantNames(random.Random(general_seed))
            people, _ = population(forever(general_source.applicant), max(args.baseline_sample, 2000), listed_keys)
            flagged_share(workers, index, people, policy, times, [])
        print(
            f"\nscreening CPU time per applicant, index loaded (target p99 <= 20 ms): n={len(times)} "
            f"p50 {percentile(times, 50) * 1000:.2f} ms  p99 {percentile(times, 99) * 1000:.2f} ms  "
            f"max {max(times) * 1000:.1f} ms   [{uptime()}]"
        )
        sample = rng.sample(
            [Applicant((p.name,), p.birth, p.nationality) for p in people], min(args.baseline_sample, len(people))
        )
        brute, blocked = [], []
        everything = range(len(index.names))
        for applicant in sample:  # the two one after the other per applicant: the same load for both
            started = time.process_time()
            find_candidates(index, applicant, policy, floor=policy.review_threshold, name_ids=everything)
            brute.append(time.process_time() - started)
            started = time.process_time()
            find_candidates(index, applicant, policy, floor=policy.review_threshold)
            blocked.append(time.process_time() - started)
        print(
            f"baseline, brute force over all {len(index.names)} names, the same n={len(sample)} applicants "
            f"[{uptime()}]:\n  brute force p50 {percentile(brute, 50) * 1000:.1f} ms, p99 "
            f"{percentile(brute, 99) * 1000:.1f} ms; blocking p50 {percentile(blocked, 50) * 1000:.2f} ms, p99 "
            f"{percentile(blocked, 99) * 1000:.2f} ms; ratio blocking / brute force: p50 "
            f"{percentile(blocked, 50) / max(percentile(brute, 50), 1e-9):.4f}, p99 "
            f"{percentile(blocked, 99) / max(percentile(brute, 99), 1e-9):.4f} "
            f"({percentile(brute, 50) / max(percentile(blocked, 50), 1e-9):.0f}x faster at p50)"
        )
    if _PROFILER:
        print("\nprofile of the screening calls (cumulative, then own time):")
        pstats.Stats(_PROFILER, stream=sys.stdout).sort_stats("cumulative").print_stats(args.profile)
        pstats.Stats(_PROFILER, stream=sys.stdout).sort_stats("tottime").print_stats(args.profile)
    print(f"\n(wall {time.perf_counter() - wall:.0f} s; load average {load_average()} at the end)")


if __name__ == "__main__":
    main()

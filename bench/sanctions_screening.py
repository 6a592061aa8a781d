"""Benchmark: sanctions screening quality and speed on the REAL lists (OFAC SDN + UN Security Council).

    python -m bench.sanctions_screening                       # the report split, seed 29 (the figures quoted)
    python -m bench.sanctions_screening --split tune --seed 13 # what the matcher was tuned on
    python -m bench.sanctions_screening --sdn sdn.csv --alt alt.csv --un consolidated.xml

The lists default to the snapshots in tests/data/sanctions/ (provenance in its README).
Every listed individual falls in one of two halves by a hash of its list and entry id:
``tune`` or ``report``. Queries are made only from the chosen half's entries (the index
always holds the whole list), and the populations of people who are not listed are drawn
with the seed given. The matcher was tuned on ``--split tune --seed 13`` and the Faker
populations only; the figures in docs/sanctions.md are ``--split report --seed 29``, with
the nam_dict population, which nothing was ever tuned on.

Printed:

* the lists, parse and index build time, the index's size and load time;
* **held-out real aliases**: one alias per entry with aliases (Latin script) is taken OUT
  of the index and screened with the entry's birth date, nationality and gender: the
  list's own spelling variants, which no generator imagined (target recall >= 97 %);
* **generated variants** of listed names (target recall >= 99.5 %), by kind;
* **people who are not listed** (target <= 0.1 % flagged for the lists' own cultures,
  <= 0.02 % for a general population), by culture and source; a person whose normalised
  name equals a listed name exactly is a namesake, set aside and counted;
* screening time per applicant (target p99 <= 20 ms) and a brute-force baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import percentile  # noqa: E402
from chalicelib.domain.checks import Outcome  # noqa: E402
from chalicelib.domain.sanctions import (  # noqa: E402
    Applicant,
    ListEntry,
    ParsedList,
    ScreeningIndex,
    ScreeningPolicy,
    find_candidates,
    parse_sdn,
    parse_un,
    screen,
)
from chalicelib.domain.sanctions.normalise import key, tokens  # noqa: E402
from tests.support.sanctions_lists import ApplicantNames, respell  # noqa: E402
from tests.support.sanctions_people import FAKER_CULTURES, NAM_DICT_CULTURES, FakerCultures, NamDictCultures  # noqa: E402

DATA = ROOT / "tests" / "data" / "sanctions"
KINDS = (
    "swapped",
    "transliteration",
    "missing_middle",
    "typo1",
    "typo2",
    "initials",
    "compound",
    "apostrophe",
    "honorific",
)
KUNYA = re.compile(r"^(ab[ou]{1,3}|abd(u|e|ou|a)?l?)$", re.IGNORECASE)
HONORIFICS = ("Sheikh", "Haji", "Hajji", "Mullah", "Hafiz", "Qari", "Dr.")


@dataclass(frozen=True)
class Query:
    applicant: Applicant
    entry: ListEntry
    kind: str


def split_of(entry: ListEntry) -> str:
    digest = hashlib.sha256(f"{entry.source}:{entry.entry_id}".encode()).digest()
    return "tune" if digest[0] % 2 == 0 else "report"


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
    """(given names, surname parts) of "SURNAME, Given Names"; a name without a comma is all given but the last."""
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


def latin(name: str) -> bool:
    return all(ord(ch) < 0x250 for ch in name)


def variant(entry: ListEntry, kind: str, rng: random.Random) -> str | None:
    names = [n for n in entry.names if latin(n)]
    if not names:
        return None
    given, surname = split_name(entry.name if kind in ("swapped", "compound") else rng.choice(names))
    if not given:
        return None
    parts = given + surname
    if kind == "swapped":
        return " ".join(parts)
    if kind == "transliteration":
        for i in rng.sample(range(len(parts)), min(len(parts), rng.choice((1, 2)))):
            parts[i] = respell(parts[i], rng)
        return " ".join(parts)
    if kind == "missing_middle":
        return " ".join(given[:1] + surname) if len(given) > 1 else None
    if kind in ("typo1", "typo2"):
        return " ".join(with_typos(parts, 1 if kind == "typo1" else 2, rng))
    if kind == "initials":
        return " ".join([g[0] + "." for g in given] + surname)
    if kind == "compound":  # two parts written as one, or a hyphenated / long part written as two
        hyphenated = [i for i, p in enumerate(parts) if "-" in p.strip("-") and not p.lower().startswith(("al-", "el-"))]
        if hyphenated and rng.random() < 0.5:
            i = rng.choice(hyphenated)
            parts[i] = parts[i].replace("-", rng.choice(("", " ")))
            return " ".join(parts)
        joinable = [i for i in range(len(parts) - 1) if " " not in parts[i] + parts[i + 1]]
        if not joinable:
            return None
        i = rng.choice(joinable)
        return " ".join(parts[:i] + [parts[i] + parts[i + 1].lower()] + parts[i + 2 :])
    if kind == "apostrophe":
        quoted = [i for i, p in enumerate(parts) if "'" in p.strip("'")]
        if not quoted:
            return None
        i = rng.choice(quoted)
        parts[i] = parts[i].replace("'", " ")
        return " ".join(parts)
    if kind == "honorific":
        return rng.choice(HONORIFICS) + " " + " ".join(parts)
    raise ValueError(kind)


def birth_date_for(entry: ListEntry, rng: random.Random) -> dt.date:
    for listed in entry.birth_dates:
        if listed.is_exact and listed.month and listed.day:
            return dt.date(listed.year_from, listed.month, listed.day)
        month = listed.month or rng.randrange(1, 13)
        return dt.date(listed.year_from, month, 1) + dt.timedelta(days=rng.randrange(28))
    return dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))


def honest(entry: ListEntry, name: str, rng: random.Random) -> Applicant:
    """What the listed person would declare under that name: the listed birth date, nationality and sex."""
    nationality = alpha3_to_icao(entry.nationalities[0]) if entry.nationalities else None
    return Applicant((name,), birth_date_for(entry, rng), nationality, entry.sex)


def alpha3_to_icao(code: str) -> str:
    return {"DEU": "D"}.get(code, code)


def load_lists(args: argparse.Namespace) -> list[ParsedList]:
    alt = Path(args.alt).read_text(encoding="latin-1") if args.alt else ""
    lists = [parse_sdn(Path(args.sdn).read_text(encoding="latin-1"), alt)]
    if args.un:
        lists.append(parse_un(Path(args.un).read_bytes()))
    return lists


def held_out(lists: list[ParsedList], split: str, rng: random.Random) -> tuple[list[ParsedList], list[Query]]:
    """The lists with one Latin alias of each of the split's entries taken out, and those aliases as queries."""
    queries: list[Query] = []
    out: list[ParsedList] = []
    for parsed in lists:
        entries = []
        for entry in parsed.entries:
            aliases = [a for a in entry.aliases if latin(a)]
            if split_of(entry) != split or not aliases:
                entries.append(entry)
                continue
            alias = rng.choice(aliases)
            kept = replace(entry, aliases=tuple(a for a in entry.aliases if a != alias))
            entries.append(kept)
            queries.append(Query(honest(entry, alias, rng), kept, "held_out"))
        out.append(replace(parsed, entries=tuple(entries)))
    return out, queries


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


def recall(index: ScreeningIndex, queries: list[Query], policy: ScreeningPolicy, times: list[float]) -> dict:
    found = right = names = 0
    misses = []
    for query in queries:
        started = time.process_time()
        flagged, correct = hit(index, query, policy)
        times.append(time.process_time() - started)
        found += flagged
        right += correct
        names += hit(index, query, policy, names_only=True)[0]
        if not flagged:
            misses.append(query)
    n = max(len(queries), 1)
    return {"n": len(queries), "recall": found / n, "right": right / n, "names_only": names / n, "misses": misses}


def population(
    make: Callable[[], Iterable], count: int, listed_keys: set[str]
) -> tuple[list, int]:
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
    index: ScreeningIndex, people: list, policy: ScreeningPolicy, times: list[float], examples: list[str]
) -> tuple[int, int]:
    flagged = flagged_names = 0
    for person in people:
        applicant = Applicant((person.name,), person.birth, person.nationality, getattr(person, "sex", None))
        started = time.process_time()
        result = screen(index, applicant, policy)
        times.append(time.process_time() - started)
        if result.outcome is not Outcome.PASS:
            flagged += 1
            if len(examples) < 15:
                best = result.details["candidates"][0]
                examples.append(f"{person.name!r} ~ {best['matched_name']!r} ({best['score']})")
        flagged_names += screen(index, Applicant((person.name,)), policy).outcome is not Outcome.PASS
    return flagged, flagged_names


def forever(factory: Callable[[], object]) -> Callable[[], Iterable]:
    def generate() -> Iterable:
        while True:
            yield factory()

    return generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdn", type=Path, default=DATA / "sdn.csv")
    parser.add_argument("--alt", type=Path, default=DATA / "alt.csv")
    parser.add_argument("--un", type=Path, default=DATA / "un_consolidated.xml")
    parser.add_argument("--split", choices=("tune", "report"), default="report")
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument("--per-kind", type=int, default=400, help="generated variants per kind")
    parser.add_argument("--per-culture", type=int, default=2500, help="non-listed people per culture and source")
    parser.add_argument("--general", type=int, default=10000, help="non-listed people of a general population")
    parser.add_argument("--baseline-sample", type=int, default=100)
    parser.add_argument("--threshold", type=float, default=ScreeningPolicy().review_threshold)
    parser.add_argument("--no-nam-dict", action="store_true", help="leave out the nam_dict population (tuning)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    policy = ScreeningPolicy(review_threshold=args.threshold)

    started = time.perf_counter()
    lists = load_lists(args)
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    index = ScreeningIndex.build(lists, built_at="bench")
    _ = index.names
    build_s = time.perf_counter() - started
    blob = index.dumps()
    loads, load_cpu = [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        index = ScreeningIndex.loads(blob)
        _ = index.names  # filed on first use: a screening container pays this once
        loads.append(time.perf_counter() - started)
        load_cpu.append(time.process_time() - cpu)
    print(f"lists: {', '.join(str(p) for p in (args.sdn, args.alt, args.un) if p)}")
    for parsed in lists:
        aliases = sum(len(e.aliases) for e in parsed.entries)
        dropped = f", {parsed.dropped_aliases} aliases of entries not in the list dropped" if parsed.dropped_aliases else ""
        print(
            f"  {parsed.source}: {parsed.record_count} records, {len(parsed.entries)} individuals, "
            f"{aliases} aliases{dropped}"
        )
    print(
        f"  {len(index.names)} distinct names; parse {parse_s:.2f} s, build {build_s:.2f} s; index {len(blob) / 1024:.0f} KiB "
        f"gzip JSON; load median {statistics.median(loads):.2f} s wall, {statistics.median(load_cpu):.2f} s CPU"
    )
    print(f"split {args.split!r}, seed {args.seed}, review threshold {policy.review_threshold:g}")
    times: list[float] = []

    # -- held-out real aliases -------------------------------------------------------------------------
    reduced, held = held_out(lists, args.split, rng)
    held_index = ScreeningIndex.build(reduced, built_at="bench")
    result = recall(held_index, held, policy, [])
    trivial = sum(
        1 for q in held if key(tokens(q.applicant.names[0])) in {key(tokens(n)) for n in q.entry.names}
    )
    print(
        f"\nheld-out real aliases (target >= 97 %): n={result['n']} recall {result['recall']:.2%} "
        f"(right entry {result['right']:.2%}; names only {result['names_only']:.2%}); "
        f"{trivial} of them normalise to a name still listed"
    )
    for q in result["misses"][:25]:
        print(f"    missed {q.applicant.names[0]!r} of {q.entry.source} {q.entry.entry_id} {q.entry.names}")

    # -- generated variants --------------------------------------------------------------------------------
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
        r = recall(index, queries, policy, times)
        total += r["n"]
        found += round(r["recall"] * r["n"])
        found_names += round(r["names_only"] * r["n"])
        all_misses.extend(r["misses"])
        print(f"  {kind:<16} n={r['n']:<5} recall {r['recall']:7.2%}   names only {r['names_only']:7.2%}")
    print(f"  {'all':<16} n={total:<5} recall {found / total:7.2%}   names only {found_names / total:7.2%}")
    for q in all_misses[:20]:
        print(f"    missed {q.kind}: {q.applicant.names[0]!r} for {q.entry.name!r}")

    # -- people who are not listed -------------------------------------------------------------------------
    listed_keys = {key(n.tokens) for n in index.names}
    print("\npeople who are not listed (target <= 0.1 % flagged for the lists' cultures, <= 0.02 % general):")
    sources: list[tuple[str, str, Callable[[], Iterable]]] = []
    faker = FakerCultures(args.seed)
    for culture in FAKER_CULTURES:
        sources.append(("Faker", culture, forever(lambda c=culture: faker.person(c))))
    if not args.no_nam_dict:
        nam = NamDictCultures(args.seed)
        for culture in NAM_DICT_CULTURES:
            sources.append(("nam_dict", culture, forever(lambda c=culture: nam.person(c))))
    cultures_n = cultures_flagged = 0
    examples: list[str] = []
    for source, culture, make in sources:
        people, namesakes = population(make, args.per_culture, listed_keys)
        flagged, flagged_names = flagged_share(index, people, policy, times, examples)
        cultures_n += len(people)
        cultures_flagged += flagged
        print(
            f"  {source:<9} {culture:<15} n={len(people):<6} flagged {flagged / len(people):7.3%} ({flagged})"
            f"   names only {flagged_names / len(people):7.3%}   [{namesakes} namesakes set aside]"
        )
    print(f"  {'all the lists cultures':<25} n={cultures_n:<6} flagged {cultures_flagged / cultures_n:7.3%}")
    general_source = ApplicantNames(random.Random(args.seed))
    people, namesakes = population(forever(general_source.applicant), args.general, listed_keys)
    flagged, flagged_names = flagged_share(index, people, policy, times, examples)
    print(
        f"  general population (a European bank's, tests/support/sanctions_lists.py) n={len(people)} "
        f"flagged {flagged / len(people):.3%} ({flagged})   names only {flagged_names / len(people):.3%}   "
        f"[{namesakes} namesakes set aside]"
    )
    for example in examples:
        print(f"    flagged {example}")

    # -- time ----------------------------------------------------------------------------------------------
    print(
        f"\nscreening CPU time per applicant, index loaded (target p99 <= 20 ms): n={len(times)} "
        f"p50 {percentile(times, 50) * 1000:.2f} ms  p99 {percentile(times, 99) * 1000:.2f} ms  "
        f"max {max(times) * 1000:.1f} ms"
    )
    sample = rng.sample([Applicant((p.name,), p.birth, p.nationality) for p in people], min(args.baseline_sample, len(people)))
    brute, blocked = [], []
    everything = range(len(index.names))
    for applicant in sample:
        started = time.process_time()
        find_candidates(index, applicant, policy, floor=policy.review_threshold, name_ids=everything)
        brute.append(time.process_time() - started)
        started = time.process_time()
        find_candidates(index, applicant, policy, floor=policy.review_threshold)
        blocked.append(time.process_time() - started)
    print(
        f"baseline, brute force over all {len(index.names)} names, n={len(sample)}: p50 "
        f"{percentile(brute, 50) * 1000:.0f} ms -> blocking {percentile(brute, 50) / max(percentile(blocked, 50), 1e-9):.0f}x faster"
    )
    counts = Counter(q.kind for q in all_misses)
    if counts:
        print(f"misses by kind: {dict(counts)}")
    _ = defaultdict


if __name__ == "__main__":
    main()

"""The queries of ``bench.sanctions_screening``: the lists loaded, each listed individual's half (tune or report),
and the generated variants of a listed name by kind (swapped, transliterated, a middle name missing, typos,
initials, compounds, apostrophes, honorifics), with the birth date and nationality an honest applicant gives."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from chalicelib.domain.sanctions import (  # noqa: E402
    Applicant,
    ListEntry,
    ParsedList,
    parse_sdn,
    parse_un,
)
from tests.support.sanctions_lists import respell  # noqa: E402

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


def alias_half(entry: ListEntry) -> str:
    """The half of the held-out real aliases an entry's alias falls in: ``tuning`` (rules may be tuned on it,
    its misses printed) or ``untouched`` (never printed, never looked at: the figure that counts). A stable
    hash of the list and entry id, salted apart from ``split_of``, so each split's aliases halve again (the
    report split's aliases had been looked at over many sessions before the tenth shift drew this line)."""
    digest = hashlib.sha256(f"alias-half:{entry.source}:{entry.entry_id}".encode()).digest()
    return "tuning" if digest[0] % 2 == 0 else "untouched"


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
        hyphenated = [
            i for i, p in enumerate(parts) if "-" in p.strip("-") and not p.lower().startswith(("al-", "el-"))
        ]
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


# --- which held-out aliases are spelling variants (the rule, fixed before looking at any matcher result) --
#
# An alias is a SPELLING VARIANT of a listed person's name when all of these hold:
#  1. it is a strong alias: OFAC alt.csv type "aka" (not "fka"/"nka": a former or new name is another
#     name), or a UN alias of quality "Good" or "a.k.a." (not "f.k.a.");
#  2. folded (anyascii, lower case, apostrophes dropped, any other non-letter a space) it has at least
#     two parts and none of one letter (an initial is the "initials" variant, not a spelling);
#  3. for some name the entry keeps (primary or another alias), each part of the alias is paired with
#     its own part of that name -- where either side may join two neighbouring parts into one
#     (Hongsop / Hong Sop, al Qasir / alqassir) -- with TOKEN SIMILARITY >= 0.75, and at most one part
#     of that name of three letters or more is left unpaired (a middle name the alias leaves out);
#  TOKEN SIMILARITY is the larger of 1 - Levenshtein / longer length on (a) the folded parts and (b)
#  their transliteration forms: doubled letters single, kh->h gh->g dh->d th->t ph->f q->k ck->k
#  c->k (not in ch) w->v y->i j->i (after a vowel) ou->u oo->u ee->i, then the vowels a e i o u
#  after the first letter dropped; (b) counts only when both forms have three letters or more.
# The threshold, the table and the one-unpaired-part allowance were written down before the
# first run; they are not tuned.

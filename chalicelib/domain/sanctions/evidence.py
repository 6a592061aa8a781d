"""Whether a name match is too thin to flag anyone on the name alone.

A name score says how alike two names are, not how many people share the likeness. Two kinds of
match are alike to thousands of people who are not listed, whatever their score:

* **names of one-syllable parts** ("So Sung" for "HSING, Su"; "Ryong So" for "SO, Myong"): Korean
  and Chinese names are written a syllable a word, and in a word of one syllable one letter is a
  third of it, so a spelling of the same syllable (Myung/Myong) and another syllable (Ryong/Myong)
  are equally alike; a listed two-syllable given name with one syllable left off ("Chol" for
  "Ch'ol-Chae") is another name;
* **a very common part and a part only roughly alike**: a listed part one listed name in a hundred
  has ("Muhammad", "Ali", "Ahmed": weight under ``COMMON_WEIGHT``) says almost nothing, so the rest must
  be the same name up to transliteration: "Nasir Muhammad" is not "QASIR, Muhammad", "Aly Hossein" not
  "HUSSEIN, Ali Ahmed" on the name alone.

Such a match flags only as a weak alias does (screening._candidate): with the listed birth day, or
the listed year when the applicant's nationality does not contradict the list; and when the list
gives no birth date to agree with, with the listed nationality. The same name up to
transliteration -- every identifying part of both names paired at ``SAME_NAME`` or better -- is never
thin.
"""

from __future__ import annotations

import functools
import re

from .index import Reading
from .normalise import core
from .similarity import Similarity

#: A pair this alike is the same word up to transliteration ("Ee"/"I", "Hassan"/"Hasan": 0.95; equal 1.0).
SAME_NAME = 0.95
#: A listed part this light (ScreeningIndex.weight) is one more than one listed name in a hundred has
#: (about 180 of 17,000: "Muhammad" 0.51, "Ali" 0.50, "Ahmed" 0.62; "Hasan" 0.72 is not).
COMMON_WEIGHT = 0.7
#: The longest word read as one syllable ("Zhuang", "Hyeong"); a longer word of one vowel group
#: ("Schwartz") is distinctive enough.
SYLLABLE_LETTERS = 6

_VOWEL_GROUP = re.compile(r"[aeiouy]+")


@functools.lru_cache(maxsize=65536)
def one_syllable(token: str) -> bool:
    """A word of one syllable: one group of vowels (y counted), at most SYLLABLE_LETTERS letters; an
    initial too (it says less than a syllable)."""
    return len(token) == 1 or (len(token) <= SYLLABLE_LETTERS and len(_VOWEL_GROUP.findall(token)) == 1)


def token_pairs(query: Reading, listed: Reading, floor: float, similarity: Similarity) -> list[tuple[float, int, int]]:
    """(alike, query index, listed index) of the paired tokens, paired greedily, the most alike first: how
    scoring pairs them (screening.reading_score) and what ``thin`` looks at."""
    pairs = sorted(
        (
            (alike, i, j)
            for i, q in enumerate(query.tokens)
            for j, c in enumerate(listed.tokens)
            if (alike := similarity(q, c)) >= floor
        ),
        reverse=True,
    )
    used_q: set[int] = set()
    used_c: set[int] = set()
    kept = []
    for alike, i, j in pairs:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        kept.append((alike, i, j))
    return kept


def thin(
    query: Reading,
    listed: Reading,
    written: tuple[tuple[str, ...], tuple[str, ...]],
    floor: float,
    similarity: Similarity,
) -> bool:
    """Whether the match of these two readings (the best scored) is too thin to flag on the name alone.
    ``written``: the applicant's and the listed name's tokens as written (syllables are counted there:
    a re-reading joins two words into one of two syllables)."""
    pairs = token_pairs(query, listed, floor, similarity)
    same_q = {i for alike, i, _ in pairs if alike >= SAME_NAME}
    same_c = {j for alike, _, j in pairs if alike >= SAME_NAME}
    query_core, listed_core = set(core(query.tokens)), set(core(listed.tokens))
    if all(i in same_q for i, t in enumerate(query.tokens) if t in query_core) and all(
        j in same_c for j, t in enumerate(listed.tokens) if t in listed_core
    ):
        return False  # the same name, up to transliteration
    if all(one_syllable(t) for t in core(written[0])) and all(one_syllable(t) for t in core(written[1])):
        return True
    # an initial weighs little for its length, not for being common: it is no "Muhammad"
    paired = [
        (alike, listed.weights[j])
        for alike, _, j in pairs
        if listed.tokens[j] in listed_core and len(listed.tokens[j]) > 1
    ]
    return any(weight < COMMON_WEIGHT for _, weight in paired) and any(
        alike < SAME_NAME for alike, weight in paired if weight >= COMMON_WEIGHT
    )


def part_of_name(query: Reading, listed: Reading, floor: float, similarity: Similarity) -> bool:
    """Whether the applicant's name is a part of the listed one: two or more identifying parts, each the same
    name up to transliteration (``SAME_NAME``) as a part of its own of the listed name, and the listed name
    has more. People whose names are chains (given name, father's, grandfather's, family or tribe: Arab,
    Persian, Afghan, Somali names) go by different links of the chain, and the lists write them so ("NAJAFI,
    Ali Habibi" / "HABIBI, Ali"; "AL-'IBUDI, Hossein Moanes" / "MOANES, Hossein"). On the name alone that
    is thousands of people; with the listed birth day it is the person (screening._candidate)."""
    query_core = set(core(query.tokens))
    identifying = [i for i, t in enumerate(query.tokens) if t in query_core]
    if len(identifying) < 2 or len(listed.tokens) <= len(identifying):  # more: a surname spelt as an honorific too
        return False
    same = {i for alike, i, _ in token_pairs(query, listed, floor, similarity) if alike >= SAME_NAME}
    return all(i in same for i in identifying)

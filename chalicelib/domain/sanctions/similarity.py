"""How alike two name tokens are (token_similarity), and which listed tokens may be alike enough to an
applicant's to be worth comparing exactly (near_pairs, NearCache: rapidfuzz's edit distances over many words in
one native call). Screening (screening.py) scores names with these; rapidfuzz and jellyfish are imported where
they are called, so `import app` loads neither."""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable, Iterable, Sequence

from .normalise import skeleton, sound, token_forms, unglued, without_abd


@functools.lru_cache(maxsize=262144)
def token_similarity(a: str, b: str) -> float:
    """Similarity of two name tokens in [0, 1]; cached: the same pairs recur across listed names.

    Edit distance, not Jaro-Winkler, carries typos: JW rates any two short names with a
    shared start highly ("Jieun"/"Junho"), which floods the reviewer. Spellings of one
    sound ("Mohammed"/"Muhammad", "Hussein"/"Husayn") are far apart in edits, so an equal
    Metaphone key with a fair JW raises them to 0.9. A particle written glued to the name
    ("OuldeAbdallah", "Almasri") is compared without it too, an "Abd al-" name without its "Abd" at 0.8.
    """
    similarity = _spelling_similarity(a, b)
    if similarity < 0.9:
        glued_a, glued_b = unglued(a), unglued(b)
        if glued_a:
            similarity = max(similarity, _spelling_similarity(glued_a, b) - 0.05)
        if glued_b:
            similarity = max(similarity, _spelling_similarity(a, glued_b) - 0.05)
    if similarity < 0.8:  # "Aziz" for "Abdul Aziz": one name's short form, weaker than a spelling of it
        bare_a, bare_b = without_abd(a), without_abd(b)
        if bare_a:
            similarity = max(similarity, _spelling_similarity(bare_a, b) - ABD_LEFT_OFF)
        if bare_b:
            similarity = max(similarity, _spelling_similarity(a, bare_b) - ABD_LEFT_OFF)
    return similarity


#: What "Abd" left off costs a pair's similarity ("Aziz" / "Abdul Aziz": 0.8)
ABD_LEFT_OFF = 0.2


def _spelling_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    folded_a, folded_b = skeleton(a), skeleton(b)
    if folded_a == folded_b:
        return 0.95  # "Ee" and "I", "Djun" and "Jun": one name in two transliterations
    if len(a) == 1 or len(b) == 1:
        return 0.9 if a[0] == b[0] else 0.0
    if len(a) <= 3 and len(b) <= 3:
        return 0.0  # "Lin" is not "Bin", "Wei" not "Wen": two short names a letter apart are two names
    distance = _damerau_levenshtein()
    similarity = 1.0 - distance(a, b) / max(len(a), len(b))
    if similarity < 0.9:
        folded = 1.0 - distance(folded_a, folded_b) / max(len(folded_a), len(folded_b))
        similarity = max(similarity, folded - 0.05)
    if similarity < 0.9:
        sound_a, sound_b = sound(a), sound(b)
        if sound_a == sound_b and len(sound_a) >= 3:
            import jellyfish  # imported where screening needs it: `import app` does not load it

            if jellyfish.jaro_winkler_similarity(a, b) >= 0.8:
                similarity = 0.9
    return similarity


#: (applicant token, listed token) -> token_similarity, or what it is for every pair that reaches the floor
Similarity = Callable[[str, str], float]


@functools.cache
def _damerau_levenshtein() -> Callable[[str, str], int]:
    """The (unrestricted) Damerau-Levenshtein distance, rapidfuzz's: the very distance jellyfish gives (a
    property test), about 30 times faster a call. Imported on first use: only screening needs it."""
    from rapidfuzz.distance import DamerauLevenshtein

    distance: Callable[[str, str], int] = DamerauLevenshtein.distance
    return distance


class Words:
    """Listed words laid out for native comparison: every form of each (``token_forms``), in columns; the forms
    and the skeletons each also in order of length (``by_length``), and the rows by Metaphone."""

    def __init__(self, words: Iterable[str]) -> None:
        rows = [row for word in words for row in token_forms(word)]
        self.owners = [row[0] for row in rows]
        self.forms = [row[1] for row in rows]
        self.skeletons = [row[2] for row in rows]
        self.sounds = [row[3] for row in rows]
        self.one_letter = [position for position, form in enumerate(self.forms) if len(form) == 1]
        self._by_length: dict[int, tuple[list[int], list[str], list[int]]] = {}
        self._by_sound: dict[str, list[int]] | None = None

    def by_length(self, column: int) -> tuple[list[int], list[str], list[int]]:
        """The rows of one column (1: forms, 2: skeletons) in order of length: (lengths, texts, row positions)."""
        laid = self._by_length.get(column)
        if laid is None:
            texts = self.forms if column == 1 else self.skeletons
            lengths = list(map(len, texts))
            order = sorted(range(len(texts)), key=lengths.__getitem__)
            laid = ([lengths[p] for p in order], [texts[p] for p in order], order)
            self._by_length[column] = laid
        return laid

    def sounding(self, metaphone: str) -> list[int]:
        """The rows whose Metaphone is this one."""
        if self._by_sound is None:
            self._by_sound = {}
            for position, sound in enumerate(self.sounds):
                if sound:
                    self._by_sound.setdefault(sound, []).append(position)
        return self._by_sound.get(metaphone, [])


def _within(laid: tuple[list[int], list[str], list[int]], length: int, least: float) -> tuple[list[str], list[int]]:
    """The texts whose normalised edit similarity with a text of ``length`` letters can reach ``least``: a distance
    is at least the difference of the lengths, so the shorter of two is at least ``least`` times the longer."""
    lengths, texts, order = laid
    if least <= 0:
        return texts, order
    low = bisect.bisect_left(lengths, math.floor(length * least))
    high = bisect.bisect_right(lengths, math.ceil(length / least))
    return texts[low:high], order[low:high]


def near_words(query: str, words: Words, floor: float) -> set[str]:
    """The words whose token_similarity with ``query`` may reach ``floor`` (never fewer: see near_pairs)."""
    from rapidfuzz import process  # imported where screening needs it: other handlers never load it
    from rapidfuzz.distance import DamerauLevenshtein

    # a margin: rapidfuzz compares the cut-off with a tolerance of its own (0.3 - 1e-9 dropped a pair at 0.3)
    cutoff = floor - 0.001
    folded_cutoff = floor + 0.05 - 0.001  # a skeletons' distance counts 0.05 less (token_similarity)
    hits = set(words.one_letter)  # a listed initial pairs with any word of its letter
    for _, form, folded, metaphone in token_forms(query):
        if len(form) == 1:  # an initial: the words of its letter (or of its skeleton)
            hits.update(
                position
                for position, other in enumerate(words.forms)
                if other[0] == form or words.skeletons[position] == folded
            )
            continue
        if metaphone:  # sound-alike spellings (an equal Metaphone)
            hits.update(words.sounding(metaphone))
        # edit distance of the spellings (equal ones included), then of their skeletons (equal ones: 0.95), each
        # over the words whose length can reach the cut-off
        for text, column, least in ((form, 1, cutoff), (folded, 2, folded_cutoff)):
            choices, order = _within(words.by_length(column), len(text), least)
            hits.update(
                order[position]
                for _, _, position in process.extract(
                    text, choices, scorer=DamerauLevenshtein.normalized_similarity, score_cutoff=least, limit=None
                )
            )
    owners = words.owners
    return {owners[position] for position in hits}


def near_pairs(queries: Sequence[str], listed: Sequence[str], floor: float) -> dict[str, set[int]]:
    """For each listed token, the positions of the ``queries`` tokens whose token_similarity with it may reach
    ``floor`` -- never fewer: every pair that reaches it is named (a property test). The rest cannot pair.

    One native call per applicant token and form (rapidfuzz's edit distances over all the listed tokens at
    once, with a score cut-off) instead of a Python call per pair: a long name with common parts has 1,000+
    candidates' words against ten of its own words and re-readings, most of them pairs no better than chance.
    What token_similarity can reach the floor through, for a token or its glued-particle-free form (unglued):
    equal or equally folded (skeleton) spellings, one letter (an initial), the edit distance of the spellings
    or of their skeletons, or an equal Metaphone of three letters or more. Each is looked for here."""
    words = Words(listed)
    found: dict[str, set[int]] = {}
    for d, query in enumerate(queries):
        for word in near_words(query, words, floor):
            found.setdefault(word, set()).add(d)
    return found


#: Listed words a container keeps compared with its common applicant tokens (NearCache), at most.
NEAR_CACHE_WORDS = 1_000_000


class NearCache:
    """The listed words each common applicant token ("Muhammad", "Aleksandr": ScreeningIndex.is_common) was
    compared with, and those near it, kept per index: the next applicant with that token compares it only
    with the words no earlier applicant's candidates had. Emptied when it holds NEAR_CACHE_WORDS words."""

    def __init__(self, floor: float) -> None:
        self.floor = floor
        self.checked: dict[str, set[str]] = {}
        self.near: dict[str, set[str]] = {}
        self.size = 0

    def near_of(self, query: str, words: set[str], laid_out: Callable[[], Words]) -> set[str]:
        """The words (of ``words``) whose token_similarity with ``query`` may reach the floor; ``laid_out``
        gives all of ``words`` laid out, for when most of them were never compared with the query."""
        checked = self.checked.get(query)
        if checked is None:
            checked = self.checked[query] = set()
            self.near[query] = set()
        unknown = words - checked
        if unknown:
            if self.size + len(unknown) > NEAR_CACHE_WORDS:
                self.checked, self.near, self.size = {query: set()}, {query: set()}, 0
                checked = self.checked[query]
            few = 2 * len(unknown) < len(words)
            self.near[query] |= near_words(query, Words(unknown) if few else laid_out(), self.floor)
            self.size += len(words - checked)
            checked |= words
        return self.near[query] & words

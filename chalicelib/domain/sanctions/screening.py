"""Screen an applicant against the index: a CheckResult named ``sanctions``.

Scoring, per listed name that shares a blocking key with the applicant:

* tokens are paired greedily by similarity (equal 1.0; one transliteration
  0.95; one minus the share of edits, raised to 0.9 when they sound alike; an
  initial matches a token it begins; a glued particle is also compared
  without it); pairs below the token floor do not count;
* the name score is the weighted share of paired tokens, rare tokens weighing
  more than common ones and particles hardly at all; a listed middle name the
  applicant lacks costs little, a listed surname or first given name more,
  an applicant token the listed name lacks more still;
* a birth date the list knows raises the score when it fits and lowers it
  when it clearly does not; nationality does the same, more weakly.

Outcomes: no candidate at the review threshold -> PASS; one at or above it ->
REVIEW with the candidates for the reviewer; the exact name (in any order,
case, script or particles) and the exact birth date -> FAIL.

The reasons are what the applicant may see: they never name a list, an entry
or a score. The candidates, lists, programmes, scores and the why are in
``details``, which only a reviewer sees.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jellyfish

from ..checks import SANCTIONS, CheckResult, Outcome, Reason
from .countries import icao_to_alpha3
from .index import Reading, ScreeningIndex
from .model import DateMatch, ListEntry, best_date_match
from .normalise import compounds, core, key, skeleton, tokens, unglued

SANCTIONS_POSSIBLE_MATCH = "SANCTIONS_POSSIBLE_MATCH"
SANCTIONS_MATCH = "SANCTIONS_MATCH"
SANCTIONS_INDEX_UNAVAILABLE = "SANCTIONS_INDEX_UNAVAILABLE"

# What the applicant may read: nothing about lists, entries or scores.
APPLICANT_MESSAGES = {
    SANCTIONS_POSSIBLE_MATCH: "Our compliance team needs to review this application.",
    SANCTIONS_MATCH: "We cannot open an account for this application.",
    SANCTIONS_INDEX_UNAVAILABLE: "Our compliance team needs to review this application.",
}


@dataclass(frozen=True)
class ScreeningPolicy:
    """Thresholds and adjustments (score points out of 100); the threshold lives in Parameter Store."""

    review_threshold: float = 85.0
    fail_on_exact_name_and_birth_date: bool = True
    birth_date_points: dict[DateMatch, float] = field(
        default_factory=lambda: {
            DateMatch.EXACT: 10.0,
            DateMatch.YEAR: 5.0,
            DateMatch.NEAR: 0.0,
            DateMatch.DIFFERENT: -15.0,
            DateMatch.UNKNOWN: 0.0,
        }
    )
    nationality_match_points: float = 3.0
    nationality_mismatch_points: float = -3.0
    sex_mismatch_points: float = -10.0  # the list's gender is not the applicant's (a match says little)
    token_floor: float = 0.5  # token pairs less similar than this are not a match (two typos in a 4-letter name)
    missing_listed_token_cost: float = 0.15  # a listed middle name the applicant lacks
    missing_essential_token_cost: float = 0.8  # a listed surname or first given name the applicant lacks
    extra_applicant_token_cost: float = 0.6  # an applicant token the listed name lacks
    max_candidates: int = 5


@dataclass(frozen=True)
class Applicant:
    """What screening needs from an application: names as declared, birth date, ICAO nationality."""

    names: tuple[str, ...]
    date_of_birth: dt.date | None = None
    nationality: str | None = None
    sex: str | None = None  # "M" / "F" (the MRZ's sex), when known


@dataclass(frozen=True)
class Candidate:
    entry: ListEntry
    matched_name: str
    name_score: float
    score: float
    exact_name: bool
    date_match: DateMatch
    why: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Reviewer-only detail: the listed entry and how it was matched."""
        return {
            "list": self.entry.source,
            "entry_id": self.entry.entry_id,
            "listed_name": self.entry.name,
            "matched_name": self.matched_name,
            "programmes": list(self.entry.programmes),
            "birth_dates": [b.to_text() for b in self.entry.birth_dates],
            "nationalities": list(self.entry.nationalities),
            "sex": self.entry.sex,
            "entry_hash": self.entry.fingerprint(),
            "score": round(self.score, 1),
            "name_score": round(self.name_score, 1),
            "why": list(self.why),
        }


@functools.lru_cache(maxsize=262144)
def token_similarity(a: str, b: str) -> float:
    """Similarity of two name tokens in [0, 1]; cached: the same pairs recur across listed names.

    Edit distance, not Jaro-Winkler, carries typos: JW rates any two short names with a
    shared start highly ("Jieun"/"Junho"), which floods the reviewer. Spellings of one
    sound ("Mohammed"/"Muhammad", "Hussein"/"Husayn") are far apart in edits, so an equal
    Metaphone key with a fair JW raises them to 0.9. A particle written glued to the name
    ("OuldeAbdallah", "Almasri") is compared without it too.
    """
    similarity = _spelling_similarity(a, b)
    if similarity < 0.9:
        glued_a, glued_b = unglued(a), unglued(b)
        if glued_a:
            similarity = max(similarity, _spelling_similarity(glued_a, b) - 0.05)
        if glued_b:
            similarity = max(similarity, _spelling_similarity(a, glued_b) - 0.05)
    return similarity


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
    similarity = 1.0 - jellyfish.damerau_levenshtein_distance(a, b) / max(len(a), len(b))
    if similarity < 0.9:
        folded = 1.0 - jellyfish.damerau_levenshtein_distance(folded_a, folded_b) / max(len(folded_a), len(folded_b))
        similarity = max(similarity, folded - 0.05)
    if similarity < 0.9:
        sound_a, sound_b = _sound(a), _sound(b)
        if sound_a == sound_b and len(sound_a) >= 3 and jellyfish.jaro_winkler_similarity(a, b) >= 0.8:
            similarity = 0.9
    return similarity


@functools.lru_cache(maxsize=65536)
def _sound(token: str) -> str:
    """Metaphone, once per token (a listed token is compared with many applicants' tokens)."""
    return jellyfish.metaphone(token)


def at_least(score: float, threshold: float) -> bool:
    """Scores are compared as the reviewer reads them, to one decimal: 84.99999999999999 is 85.0."""
    return round(score, 1) >= threshold


def best_name_score(
    queries: tuple[Reading, ...], listed: tuple[Reading, ...], policy: ScreeningPolicy
) -> tuple[float, int, tuple[str, ...], tuple[str, ...]]:
    """The best of name_score over each side's ways of reading the name (the first is as written;
    the others join two neighbouring words, see normalise.compounds): (score, pairs, query, listed).

    A re-reading is scored only when a word it joins pairs with a word of the other side: otherwise it
    reads no better than the name as written (it would only dodge the cost of the parts it joined)."""
    best: tuple[float, int, tuple[str, ...], tuple[str, ...]] = (-1.0, 0, queries[0].tokens, listed[0].tokens)
    for i, query in enumerate(queries):
        joined_q = _joined(queries[0].tokens, query.tokens) if i else ()
        for j, name in enumerate(listed):
            if i and j and best[0] >= 100 - policy.review_threshold / 10:
                continue  # both sides re-read only while nothing reads well
            if i and not _pairs_with(joined_q, name.tokens, policy.token_floor):
                continue
            if j and not _pairs_with(_joined(listed[0].tokens, name.tokens), query.tokens, policy.token_floor):
                continue
            score, paired = reading_score(query, name, policy)
            if paired >= min(2, query.identifying, name.identifying) and score > best[0]:
                best = (score, paired, query.tokens, name.tokens)
    return best


@functools.lru_cache(maxsize=262144)
def _joined(written: tuple[str, ...], reading: tuple[str, ...]) -> tuple[str, ...]:
    """The words a re-reading has that the name as written has not (the joined ones)."""
    return tuple(t for t in reading if t not in written)


def _pairs_with(tokens_a: tuple[str, ...], tokens_b: tuple[str, ...], floor: float) -> bool:
    return any(token_similarity(a, b) >= floor for a in tokens_a for b in tokens_b)


def name_score(
    query: tuple[str, ...],
    listed: tuple[str, ...],
    index: ScreeningIndex,
    policy: ScreeningPolicy,
    essential: frozenset[str] = frozenset(),
) -> tuple[float, int]:
    """Score 0-100 of how well two token tuples name the same person, and how many identifying tokens paired."""
    return reading_score(index.reading(query), index.reading(listed, essential), policy)


def reading_score(query: Reading, listed: Reading, policy: ScreeningPolicy) -> tuple[float, int]:
    """name_score of two prepared readings (weights looked up once, at index build and once per applicant)."""
    query_tokens, listed_tokens = query.tokens, listed.tokens
    floor = policy.token_floor
    pairs = sorted(
        (
            (similarity, i, j)
            for i, q in enumerate(query_tokens)
            for j, c in enumerate(listed_tokens)
            if (similarity := token_similarity(q, c)) >= floor
        ),
        reverse=True,
    )
    used_q: set[int] = set()
    used_c: set[int] = set()
    matched = 0.0
    matched_weight = 0.0
    weights = listed.weights
    for similarity, i, j in pairs:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        weight = weights[j]
        matched += similarity * weight
        matched_weight += weight
    if not used_q:
        return 0.0, 0
    paired_listed = {listed_tokens[j] for j in used_c}  # "Qasim Qasim": one of them paired, the other is a middle name
    missing = sum(
        weights[j]
        * (
            policy.missing_essential_token_cost
            if listed.essential[j] and c not in paired_listed
            else policy.missing_listed_token_cost
        )
        for j, c in enumerate(listed_tokens)
        if j not in used_c
    )
    extra = sum(w for i, w in enumerate(query.weights) if i not in used_q)
    total = matched_weight + missing + policy.extra_applicant_token_cost * extra
    return 100.0 * matched / total, sum(query_tokens[i] not in query.optional for i in used_q)


class ScoreBound:
    """An upper bound of a listed name's score against one applicant's name, cheap enough to skip most
    candidates without scoring them (blocking leads to names that share one or two common parts).

    Per listed token (cached for the applicant: candidates share their common tokens) it keeps the best
    similarity any of the applicant's tokens reaches and which applicant tokens reach the token floor.
    A listed reading then scores at most its best choice of paired tokens, each at that best similarity,
    every other listed token missing at its lowest possible cost, and the applicant tokens no listed token
    can pair with as extra; the best choice is a prefix of the tokens ordered by gain per weight (a ratio
    of sums), so it is found in one pass. Never below the score (best_name_score), so skipping a name
    whose bound cannot reach the floor changes no result.
    """

    def __init__(self, queries: tuple[Reading, ...], policy: ScreeningPolicy) -> None:
        self.queries = queries
        self.policy = policy
        self.usable = max(policy.missing_listed_token_cost, policy.missing_essential_token_cost) < 1.0
        self._tokens: dict[str, tuple[float, tuple[int, ...]]] = {}
        self._extra: list[dict[int, float]] = [{} for _ in queries]
        # the readings share most tokens: each distinct one is compared once
        self._distinct = sorted({t for query in queries for t in query.tokens})
        where = {t: d for d, t in enumerate(self._distinct)}
        self._positions = [tuple(where[t] for t in query.tokens) for query in queries]

    def _token(self, token: str) -> tuple[float, tuple[int, ...]]:
        floor = self.policy.token_floor
        reached = [token_similarity(query_token, token) for query_token in self._distinct]
        best = max((similarity for similarity in reached if similarity >= floor), default=0.0)
        masks = tuple(
            sum(1 << i for i, d in enumerate(positions) if reached[d] >= floor) for positions in self._positions
        )
        found = (best, masks)
        self._tokens[token] = found
        return found

    def _unpaired(self, k: int, mask: int) -> float:
        """The weight of reading k's tokens outside ``mask`` (no listed token can pair with them)."""
        table = self._extra[k]
        value = table.get(mask)
        if value is None:
            value = sum(w for i, w in enumerate(self.queries[k].weights) if not mask >> i & 1)
            table[mask] = value
        return value

    def score(self, listed: tuple[Reading, ...]) -> float:
        if not self.usable:
            return 100.0
        policy = self.policy
        low = min(policy.missing_listed_token_cost, policy.missing_essential_token_cost)
        best = 0.0
        for reading in listed:
            fixed = 0.0  # the denominator with nothing paired: every listed token missing
            gains: list[tuple[float, float, float]] = []
            masks = [0] * len(self.queries)
            for token, weight, essential, sole in zip(
                reading.tokens, reading.weights, reading.essential, reading.sole_essential, strict=True
            ):
                similarity, token_masks = self._tokens.get(token) or self._token(token)
                cost = (
                    policy.missing_essential_token_cost
                    if sole
                    else (low if essential else policy.missing_listed_token_cost)
                )
                fixed += cost * weight
                if similarity:
                    gains.append((similarity / (1.0 - cost), similarity * weight, (1.0 - cost) * weight))
                for k, mask in enumerate(token_masks):
                    masks[k] |= mask
            if not gains:
                continue
            fixed += policy.extra_applicant_token_cost * min(self._unpaired(k, m) for k, m in enumerate(masks))
            gains.sort(reverse=True)
            numerator, denominator = 0.0, fixed
            for _, gain, weight in gains:
                numerator += gain
                denominator += weight
                best = max(best, numerator / denominator)
        return 100.0 * best


def _candidate(
    applicant: Applicant,
    queries: tuple[Reading, ...],
    name_id: int,
    index: ScreeningIndex,
    policy: ScreeningPolicy,
    floor: float,
    bound: ScoreBound | None = None,
) -> Candidate | None:
    indexed = index.names[name_id]
    readings = index.readings[name_id]
    if bound is not None and bound.score(readings) + _max_bonus(policy) < floor - 1e-6:
        return None  # cannot reach the floor, however well it is scored
    # One shared token is not a person unless one of the names has only that token (best_name_score).
    score, paired, query, listed = best_name_score(queries, readings, policy)
    if score < 0:
        return None
    if score + _max_bonus(policy) < floor:
        return None  # cannot reach the floor whatever the birth date and nationality say
    entry = index.entries[indexed.entry]
    date_match = best_date_match(entry.birth_dates, applicant.date_of_birth)
    if indexed.weak and date_match not in (DateMatch.EXACT, DateMatch.YEAR):
        return None  # a short or common alias flags only with the listed birth date
    why = [
        (
            f"name {score:.0f}/100: {' '.join(query)!r} ~ {' '.join(listed)!r} "
            f"({paired} of {len(core(listed))} listed names paired"
            f"{', alias' if indexed.alias else ''}{' (weak: needs the birth date)' if indexed.weak else ''})"
        )
    ]
    total = score
    points = policy.birth_date_points[date_match]
    if date_match is not DateMatch.UNKNOWN:
        total += points
        dates = ", ".join(b.to_text() for b in entry.birth_dates)
        why.append(f"birth date {date_match.value} against {dates} ({points:+.0f})")
    nationality = icao_to_alpha3(applicant.nationality) if applicant.nationality else None
    if nationality and entry.nationalities:
        same = nationality in entry.nationalities
        points = policy.nationality_match_points if same else policy.nationality_mismatch_points
        total += points
        why.append(
            f"nationality {nationality} {'is' if same else 'is not'} {'/'.join(entry.nationalities)} ({points:+.0f})"
        )
    if applicant.sex and entry.sex and applicant.sex != entry.sex:
        total += policy.sex_mismatch_points
        why.append(f"listed as {entry.sex}, the applicant is {applicant.sex} ({policy.sex_mismatch_points:+.0f})")
    exact_name = key(queries[0].tokens) == key(indexed.tokens)
    return Candidate(entry, indexed.name, score, min(total, 100.0), exact_name, date_match, tuple(why))


def _rank(candidate: Candidate) -> tuple[float, bool, float]:
    """Which of one entry's names matched best: the score (capped at 100), then the name alone."""
    return (candidate.score, candidate.exact_name, candidate.name_score)


def _max_bonus(policy: ScreeningPolicy) -> float:
    return max(policy.birth_date_points.values()) + max(policy.nationality_match_points, 0.0)


def find_candidates(
    index: ScreeningIndex,
    applicant: Applicant,
    policy: ScreeningPolicy,
    floor: float = 0.0,
    name_ids: Iterable[int] | None = None,
) -> list[Candidate]:
    """Listed people scoring at least ``floor`` against the applicant's names, best first, one per entry.

    ``name_ids`` overrides blocking (the benchmark's brute-force baseline passes all of them).
    """
    best: dict[int, Candidate] = {}
    for name in applicant.names:
        query = tokens(name)
        if not query:
            continue
        readings = (query, *compounds(name))
        if name_ids is None:
            ids: Iterable[int] = index.candidates_of(readings, applicant.date_of_birth)
        else:
            ids = name_ids
        queries = tuple(index.reading(r) for r in readings)
        bound = ScoreBound(queries, policy) if floor > _max_bonus(policy) else None
        for name_id in ids:
            candidate = _candidate(applicant, queries, name_id, index, policy, floor, bound)
            if candidate is None:
                continue
            entry_pos = index.names[name_id].entry
            current = best.get(entry_pos)
            if current is None or _rank(candidate) > _rank(current):
                best[entry_pos] = candidate
    return sorted(best.values(), key=lambda c: (-c.score, c.entry.source, c.entry.entry_id))


#: (list, entry id) -> the entry's fingerprint when a reviewer cleared it as a false positive for this applicant
Cleared = Mapping[tuple[str, str], str]


def screen(
    index: ScreeningIndex,
    applicant: Applicant,
    policy: ScreeningPolicy = ScreeningPolicy(),
    cleared: Cleared | None = None,
) -> CheckResult:
    """The sanctions check's verdict for one applicant.

    ``cleared``: entries a reviewer marked as not this applicant; such a candidate is left out (and named
    in ``details.cleared``) while the entry is as it was then, and flags again once the list changes it.
    """
    found = find_candidates(index, applicant, policy, floor=policy.review_threshold - 0.05)
    candidates = [c for c in found if at_least(c.score, policy.review_threshold)]
    still_cleared = [
        c for c in candidates if (cleared or {}).get((c.entry.source, c.entry.entry_id)) == c.entry.fingerprint()
    ]
    candidates = [c for c in candidates if c not in still_cleared]
    details: dict[str, Any] = {
        "index_version": index.version,
        "lists": {source: info.to_dict() for source, info in sorted(index.lists.items())},
        "review_threshold": policy.review_threshold,
        "candidates": [c.to_dict() for c in candidates[: policy.max_candidates]],
    }
    if still_cleared:
        details["cleared"] = [
            {"list": c.entry.source, "entry_id": c.entry.entry_id, "entry_hash": c.entry.fingerprint()}
            for c in still_cleared
        ]
    if not candidates:
        return CheckResult(SANCTIONS, (), details)
    exact = [c for c in candidates if c.exact_name and c.date_match is DateMatch.EXACT]
    if exact and policy.fail_on_exact_name_and_birth_date:
        reason = Reason(SANCTIONS_MATCH, Outcome.FAIL, APPLICANT_MESSAGES[SANCTIONS_MATCH])
    else:
        reason = Reason(SANCTIONS_POSSIBLE_MATCH, Outcome.REVIEW, APPLICANT_MESSAGES[SANCTIONS_POSSIBLE_MATCH])
    return CheckResult(SANCTIONS, (reason,), details)


def unavailable(why: str) -> CheckResult:
    """No usable index: never pass an applicant unscreened; a human looks instead."""
    reason = Reason(SANCTIONS_INDEX_UNAVAILABLE, Outcome.REVIEW, APPLICANT_MESSAGES[SANCTIONS_INDEX_UNAVAILABLE])
    return CheckResult(SANCTIONS, (reason,), {"error": why})

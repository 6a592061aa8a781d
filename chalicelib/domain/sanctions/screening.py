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

A match too thin to name anyone on the name alone (evidence.thin: every part one syllable, or a very
common part such as Muhammad beside a part only roughly alike) counts only with the listed birth date,
as a weak alias does (or, when the list gives none, the listed nationality). With the listed birth day, a name
that is part of the listed one (evidence.part_of_name: a link of a name chain) costs its left-out parts as middle names.

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
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..checks import SANCTIONS, CheckResult, Outcome, Reason
from .countries import icao_to_alpha3
from .evidence import part_of_name, thin, token_pairs
from .index import Reading, ScreeningIndex
from .model import DateMatch, ListEntry, best_date_match
from .normalise import core, key, tokens
from .similarity import NearCache, Similarity, Words, near_words, token_similarity

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


_NEAR: weakref.WeakKeyDictionary[ScreeningIndex, dict[float, NearCache]] = weakref.WeakKeyDictionary()


def at_least(score: float, threshold: float) -> bool:
    """Scores are compared as the reviewer reads them, to one decimal: 84.99999999999999 is 85.0."""
    return round(score, 1) >= threshold


def best_name_score(
    queries: tuple[Reading, ...],
    listed: tuple[Reading, ...],
    policy: ScreeningPolicy,
    similarity: Similarity = token_similarity,
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
            if i and not _pairs_with(joined_q, name.tokens, policy.token_floor, similarity):
                continue
            if j and not _pairs_with(
                query.tokens, _joined(listed[0].tokens, name.tokens), policy.token_floor, similarity
            ):
                continue
            score, paired = reading_score(query, name, policy, similarity)
            if paired >= min(2, query.identifying, name.identifying) and score > best[0]:
                best = (score, paired, query.tokens, name.tokens)
    return best


@functools.lru_cache(maxsize=262144)
def _joined(written: tuple[str, ...], reading: tuple[str, ...]) -> tuple[str, ...]:
    """The words a re-reading has that the name as written has not (the joined ones)."""
    return tuple(t for t in reading if t not in written)


def _pairs_with(query: tuple[str, ...], listed: tuple[str, ...], floor: float, similarity: Similarity) -> bool:
    return any(similarity(a, b) >= floor for a in query for b in listed)


def name_score(
    query: tuple[str, ...],
    listed: tuple[str, ...],
    index: ScreeningIndex,
    policy: ScreeningPolicy,
    essential: frozenset[str] = frozenset(),
) -> tuple[float, int]:
    """Score 0-100 of how well two token tuples name the same person, and how many identifying tokens paired."""
    return reading_score(index.reading(query), index.reading(listed, essential), policy)


def reading_score(
    query: Reading, listed: Reading, policy: ScreeningPolicy, similarity: Similarity = token_similarity
) -> tuple[float, int]:
    """name_score of two prepared readings (weights looked up once, at index build and once per applicant)."""
    query_tokens, listed_tokens = query.tokens, listed.tokens
    pairs = token_pairs(query, listed, policy.token_floor, similarity)
    used_q = {i for _, i, _ in pairs}
    used_c = {j for _, _, j in pairs}
    weights = listed.weights
    matched = sum(alike * weights[j] for alike, _, j in pairs)
    matched_weight = sum(weights[j] for _, _, j in pairs)
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


#: One listed reading as the bound reads it under a policy's costs: the denominator with every token missing,
#: and per token (token, 1 - its missing cost, weight, (1 - cost) x weight). See ScoreBound.terms.
Terms = tuple[float, tuple[tuple[str, float, float, float], ...]]

# index -> policy costs -> by name id, its readings' terms: the same for every applicant
_TERMS: weakref.WeakKeyDictionary[ScreeningIndex, dict[tuple[float, float], list[tuple[Terms, ...]]]] = (
    weakref.WeakKeyDictionary()
)


_NO_PAIRS: dict[str, float] = {}  # a listed word no applicant token pairs with (shared: never written to)


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

    ``prepare`` compares all the candidates' words at once (``near_pairs``); which applicant tokens a listed
    token pairs with is one integer over all the applicant's readings (reading k's bits from ``_offsets[k]``).
    """

    def __init__(self, queries: tuple[Reading, ...], policy: ScreeningPolicy) -> None:
        self.queries = queries
        self.policy = policy
        self.usable = max(policy.missing_listed_token_cost, policy.missing_essential_token_cost) < 1.0
        self._tokens: dict[str, tuple[float, int]] = {}
        # per listed token compared: the applicant tokens that reach the token floor with it, and how closely
        self._pairs: dict[str, dict[str, float]] = {}
        self._extra: dict[int, float] = {}  # packed mask -> the least unpaired weight over the readings
        # the readings share most tokens: each distinct one is compared once
        self._distinct = sorted({t for query in queries for t in query.tokens})
        where = {t: d for d, t in enumerate(self._distinct)}
        self._offsets: list[int] = []
        offset = 0
        for query in queries:
            self._offsets.append(offset)
            offset += len(query.tokens)
        # per distinct applicant token: its bits in every reading (packed)
        self._bits = [0] * len(self._distinct)
        for query, start in zip(queries, self._offsets, strict=True):
            for i, token in enumerate(query.tokens):
                self._bits[where[token]] |= 1 << (start + i)
        self._extra_cost = policy.extra_applicant_token_cost
        self._costs = (policy.missing_listed_token_cost, policy.missing_essential_token_cost)

    def prepare(self, listed_tokens: Iterable[str], index: ScreeningIndex | None = None) -> None:
        """Files what the bound needs of many listed tokens at once (all the candidates' words): the pairs
        that may reach the token floor are found by native edit distances (``near_pairs``), and only those
        are compared exactly; the others cannot pair (the same result as comparing each pair, ``_token``).
        With the ``index``, its common tokens' comparisons are kept for later applicants (NearCache)."""
        floor = self.policy.token_floor
        known = self._tokens
        new = {token for token in listed_tokens if token not in known}
        if not new:
            return
        cache = _NEAR.setdefault(index, {}).setdefault(floor, NearCache(floor)) if index is not None else None
        near: dict[str, list[int]] = {}
        shared: list[Words] = []

        def laid_out() -> Words:  # all the new words laid out once, when needed
            if not shared:
                shared.append(Words(new))
            return shared[0]

        for d, query in enumerate(self._distinct):
            if cache is not None and index is not None and index.is_common(query):
                found = cache.near_of(query, new, laid_out)
            else:
                found = near_words(query, laid_out(), floor)
            for word in found:
                near.setdefault(word, []).append(d)
        distinct, bits = self._distinct, self._bits
        unpaired = new.difference(near)  # most words: no applicant token near them
        known.update(dict.fromkeys(unpaired, (0.0, 0)))
        self._pairs.update(dict.fromkeys(unpaired, _NO_PAIRS))
        for token in near:
            if token not in new:
                continue
            pairs: dict[str, float] = {}
            self._pairs[token] = pairs
            best = 0.0
            mask = 0
            for d in near[token]:
                query_token = distinct[d]
                similarity = token_similarity(query_token, token)
                if similarity >= floor:
                    pairs[query_token] = similarity
                    if similarity > best:
                        best = similarity
                    mask |= bits[d]
            known[token] = (best, mask)

    def similarity(self, query_token: str, listed_token: str) -> float:
        """token_similarity for the pairs that reach the token floor, 0 for the others (which scoring drops
        alike), looked up for the listed tokens the bound has compared: no pair is compared twice."""
        pairs = self._pairs.get(listed_token)
        if pairs is None:
            return token_similarity(query_token, listed_token)
        return pairs.get(query_token, 0.0)

    def _token(self, token: str) -> tuple[float, int]:
        """One listed token compared with every applicant token (what prepare does for many at once)."""
        floor = self.policy.token_floor
        reached = [token_similarity(query_token, token) for query_token in self._distinct]
        best = max((similarity for similarity in reached if similarity >= floor), default=0.0)
        self._pairs[token] = {
            q: similarity for q, similarity in zip(self._distinct, reached, strict=True) if similarity >= floor
        }
        mask = 0
        for d, similarity in enumerate(reached):
            if similarity >= floor:
                mask |= self._bits[d]
        found = (best, mask)
        self._tokens[token] = found
        return found

    def _unpaired(self, mask: int) -> float:
        """The least weight, over the applicant's readings, of a reading's tokens outside ``mask`` (no listed
        token can pair with them)."""
        value = self._extra.get(mask)
        if value is None:
            value = min(
                sum(w for i, w in enumerate(query.weights) if not mask >> (start + i) & 1)
                for query, start in zip(self.queries, self._offsets, strict=True)
            )
            self._extra[mask] = value
        return value

    def terms(self, reading: Reading) -> Terms:
        """The reading under this policy's costs (see Terms): a listed token missing costs the essential price
        when the reading writes it once, the lower of the two prices when it is essential but written twice."""
        listed_cost, essential_cost = self._costs
        low = min(listed_cost, essential_cost)
        fixed = 0.0
        items = []
        for token, weight, essential, sole in zip(
            reading.tokens, reading.weights, reading.essential, reading.sole_essential, strict=True
        ):
            cost = essential_cost if sole else (low if essential else listed_cost)
            fixed += cost * weight
            items.append((token, 1.0 - cost, weight, (1.0 - cost) * weight))
        return fixed, tuple(items)

    def terms_of(self, index: ScreeningIndex) -> list[tuple[Terms, ...]]:
        """terms of each reading of every name of the index (by name id), made once per index and policy
        costs, at its first screening (a container's first applicant pays it with the index load)."""
        by_costs = _TERMS.setdefault(index, {})
        table = by_costs.get(self._costs)
        if table is None:
            table = [tuple(self.terms(reading) for reading in readings) for readings in index.readings]
            by_costs[self._costs] = table
        return table

    def score(self, listed: tuple[Reading, ...]) -> float:
        return self.score_terms(tuple(self.terms(reading) for reading in listed))

    def score_terms(self, listed: tuple[Terms, ...]) -> float:
        if not self.usable:
            return 100.0
        known = self._tokens
        best = 0.0
        for fixed, items in listed:
            gains: list[tuple[float, float, float]] = []
            mask = 0
            for token, keep, weight, kept_weight in items:
                similarity, bits = known.get(token) or self._token(token)
                if similarity:
                    gains.append((similarity / keep, similarity * weight, kept_weight))
                mask |= bits
            if not gains:
                continue
            value = self._extra.get(mask)
            fixed += self._extra_cost * (self._unpaired(mask) if value is None else value)
            gains.sort(reverse=True)
            numerator, denominator = 0.0, fixed
            for _, gain, weight in gains:
                numerator += gain
                denominator += weight
                if numerator / denominator > best:
                    best = numerator / denominator
        return 100.0 * best


def _candidate(
    applicant: Applicant,
    queries: tuple[Reading, ...],
    name_id: int,
    index: ScreeningIndex,
    policy: ScreeningPolicy,
    floor: float,
    similarity: Similarity = token_similarity,
) -> Candidate | None:
    indexed = index.names[name_id]
    readings = index.readings[name_id]
    entry = index.entries[indexed.entry]
    date_match = best_date_match(entry.birth_dates, applicant.date_of_birth)
    # One shared token is not a person unless one of the names has only that token (best_name_score).
    score, paired, query, listed = best_name_score(queries, readings, policy, similarity)
    part = date_match is DateMatch.EXACT and _part_score(queries, readings, policy, similarity)
    if part and part[0] > score:
        score, paired, query, listed = part
    if score < 0:
        return None
    if score + _max_bonus(policy) < floor:
        return None  # cannot reach the floor whatever the birth date and nationality say
    nationality = icao_to_alpha3(applicant.nationality) if applicant.nationality else None
    other_country = bool(nationality and entry.nationalities and nationality not in entry.nationalities)
    if not (date_match is DateMatch.EXACT or (date_match is DateMatch.YEAR and not other_country)):
        if indexed.weak:
            return None  # a short or common alias flags only with the listed birth day, or year and no other country
        # a match too thin to name anyone (evidence.thin) as well, or, when the list gives no birth date to
        # agree with, with the listed nationality
        listed_country = not entry.birth_dates and nationality is not None and nationality in entry.nationalities
        if not listed_country and _thin(queries, readings, query, listed, policy.token_floor, similarity):
            return None
    why = [
        (
            f"name {score:.0f}/100: {' '.join(query)!r} ~ {' '.join(listed)!r} "
            f"({paired} of {len(core(listed))} listed names paired"
            f"{', alias' if indexed.alias else ''}{' (weak: needs the birth date)' if indexed.weak else ''}"
            f"{'; part of the listed name, with its birth day' if part and (query, listed) == part[2:] else ''})"
        )
    ]
    total = score
    points = policy.birth_date_points[date_match]
    if date_match is not DateMatch.UNKNOWN:
        total += points
        dates = ", ".join(b.to_text() for b in entry.birth_dates)
        why.append(f"birth date {date_match.value} against {dates} ({points:+.0f})")
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


def _part_score(
    queries: tuple[Reading, ...], readings: tuple[Reading, ...], policy: ScreeningPolicy, similarity: Similarity
) -> tuple[float, int, tuple[str, ...], tuple[str, ...]] | None:
    """The best score of the readings where the applicant's name is part of the listed one (evidence.part_of_name),
    a listed part the applicant leaves out costing as a middle name, surname or not: only with the listed birth day
    (the caller), whose names ``find_candidates`` never skips by the bound (scored so, they may exceed it)."""
    lenient = replace(policy, missing_essential_token_cost=policy.missing_listed_token_cost)
    best = None
    for query in queries:
        for name in readings:
            if part_of_name(query, name, policy.token_floor, similarity):
                score, paired = reading_score(query, name, lenient, similarity)
                if best is None or score > best[0]:
                    best = (score, paired, query.tokens, name.tokens)
    return best


def _thin(
    queries: tuple[Reading, ...],
    readings: tuple[Reading, ...],
    query: tuple[str, ...],
    listed: tuple[str, ...],
    floor: float,
    similarity: Similarity,
) -> bool:
    """evidence.thin of the two readings best_name_score chose (named by their tokens)."""
    query_reading = next(r for r in queries if r.tokens == query)
    listed_reading = next(r for r in readings if r.tokens == listed)
    return thin(query_reading, listed_reading, (queries[0].tokens, readings[0].tokens), floor, similarity)


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
        readings = (query, *index.rereadings(name))
        if name_ids is None:
            ids: Iterable[int] = index.candidates_of(readings, applicant.date_of_birth)
        else:
            ids = name_ids
        queries = tuple(index.reading(r) for r in readings)
        born = applicant.date_of_birth
        # names listed with the applicant's birth day: never skipped by the bound (_part_score may exceed it)
        same_day = frozenset(index.name_keys.get(f"b:{born.isoformat()}", ())) if born else frozenset()
        bonus = _max_bonus(policy)
        bound = ScoreBound(queries, policy) if floor > bonus else None
        similarity: Similarity = token_similarity
        terms: list[tuple[Terms, ...]] = []
        if bound is not None:
            ids = list(ids)
            bound.prepare(index.words_of(ids), index)
            similarity = bound.similarity
            terms = bound.terms_of(index)
        for name_id in ids:
            if (
                bound is not None
                and name_id not in same_day
                and bound.score_terms(terms[name_id]) + bonus < floor - 1e-6
            ):
                continue  # cannot reach the floor, however well it is scored
            candidate = _candidate(applicant, queries, name_id, index, policy, floor, similarity)
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

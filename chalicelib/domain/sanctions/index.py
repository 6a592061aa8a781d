"""The screening index: every listed name, normalised, behind blocking keys.

Screening must not compare an applicant with every listed name (tens of
thousands with aliases). Each name token (particles aside) is filed under
blocking keys: the token itself, its phonetic keys (Metaphone, NYSIIS), its
transliteration skeleton, its one-letter deletions, the same without a glued
particle, and for long tokens its first and last four letters; each name also
under its initials, and under its exact day of birth when the list gives one.
An applicant is only scored against names sharing keys with two of their
tokens, or with one token few names have, or listed with their birth day, so
"Mohamed" still meets "Muhammad", a typo in one token is carried by the
others, and "J. I" born on the listed day still meets "I, JiHun".

The serialised form is gzip-compressed JSON with a format version: the
entries only, not the keys, which are rebuilt on load, so an index written by
one release is never read with another release's key function. Its
``version`` is a hash of the content: the same lists give the same version,
and a handler reloads exactly when it changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from .model import BirthDate, ListEntry, ParsedList
from .normalise import (
    compounds,
    core,
    essential_tokens,
    optional_tokens,
    phonetic_keys,
    token_forms,
    tokens,
    typo_keys,
    unprefixed,
    word_spans,
)
from .normalise import words as written_words

FORMAT = "account-opening/sanctions-index"
FORMAT_VERSION = 2
#: Two name parts whose weights (see ScreeningIndex.weight) add up to less are a common name.
WEAK_WEIGHT = 1.6
#: An applicant's re-readings of their name scored, at most (ScreeningIndex.rereadings).
MAX_REREADINGS = 4
#: Blocking leads of a query token with at least this many names are kept, up to this many tokens.
LEAD_CACHE_MIN_NAMES = 200
LEAD_CACHE_TOKENS = 2048


class IndexFormatError(ValueError):
    """Bytes that are not an index this code can read: keep the index already loaded."""


@dataclass(frozen=True)
class ListInfo:
    """What the index knows about one source list, for validation and the reviewer."""

    records: int
    individuals: int
    published: str | None = None
    fetched_at: str | None = None
    dropped_aliases: int = 0  # aliases naming no entry of the download (see ParsedList)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "individuals": self.individuals,
            "published": self.published,
            "fetched_at": self.fetched_at,
            "dropped_aliases": self.dropped_aliases,
        }


@dataclass(frozen=True)
class IndexedName:
    entry: int  # position in ScreeningIndex.entries
    name: str  # as listed
    tokens: tuple[str, ...]
    alias: bool
    essential: frozenset[str] = frozenset()  # surname and first given name, when the list says which
    alternatives: tuple[tuple[str, ...], ...] = ()  # two neighbouring words written as one (normalise.compounds)
    weak: bool = False  # an alias too short or too common to flag anyone without the birth date


@dataclass(frozen=True)
class Reading:
    """One way of reading a name (as written, or two neighbours written as one), prepared for scoring once:
    its tokens, each token's weight (a tenth for a particle or honorific: see ScreeningIndex.reading), which
    tokens are optional, how many identify, which are the name's essential tokens, and which of those it
    writes once (a surname the other side lacks costs the essential price only then)."""

    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    optional: frozenset[str]
    identifying: int  # len(core(tokens))
    essential: tuple[bool, ...] = ()
    sole_essential: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Leads:
    """Where one query token leads: the names sharing a close key with it (``close``) or a close or loose
    one (``near``), and the listed tokens through which they do."""

    close: AbstractSet[int]
    near: AbstractSet[int]
    close_tokens: AbstractSet[str]
    near_tokens: AbstractSet[str]


@functools.lru_cache(maxsize=65536)
def token_keys(token: str) -> frozenset[str]:
    """Close keys of one token: itself, its sound, its spelling skeleton, one deletion, without a glued particle."""
    keys: set[str] = set()
    if len(token) >= 2:
        keys.add("t:" + token)
        keys.update(phonetic_keys(token))
        keys.update(typo_keys(token))
        glued = unprefixed(token)  # not a theophoric ending's: "Aminullah" would lead to every "Amin"
        if glued:
            keys.update(token_keys(glued))
    return frozenset(keys)


def loose_keys(token: str) -> frozenset[str]:
    """Its ends: two typos in a long name part still leave one end intact (a weaker lead)."""
    if len(token) < 6:
        return frozenset()
    return frozenset(("<:" + token[:4], ">:" + token[-4:]))


def blocking_keys(name_tokens: Iterable[str]) -> set[str]:
    """Keys a name is filed under; initials (one letter) are too common to block on alone."""
    keys: set[str] = set()
    for token in core(tuple(name_tokens)):  # "al", "bin", "van" would lead to half the list
        keys.update(token_keys(token))
        keys.update(loose_keys(token))
    return keys


def initials_key(name_tokens: Iterable[str]) -> str:
    """The name's initials, particles left out: what is left to match of "J. I" or "K. Y. R."."""
    return "i:" + "".join(sorted(t[0] for t in core(tuple(name_tokens))))


class ScreeningIndex:
    """Listed individuals with their names filed under blocking keys."""

    def __init__(self, entries: Sequence[ListEntry], lists: Mapping[str, ListInfo], built_at: str) -> None:
        self.entries = tuple(entries)
        self.lists = dict(lists)
        self.built_at = built_at
        self.version = self._content_hash()

    # The names, keys and weights are filed on first use: the refresh job only needs the entries and
    # their version, a screening container files them once when it first screens.
    names: list[IndexedName]
    postings: dict[str, list[str]]
    token_names: dict[str, list[int]]
    name_keys: dict[str, list[int]]
    readings: list[tuple[Reading, ...]]  # per name: as written, then its alternatives
    _single: list[bool]
    _single_ids: frozenset[int]
    _lead_cache: dict[str, Leads]
    _weights: dict[str, float]
    _FILED = frozenset(
        (
            "names",
            "postings",
            "token_names",
            "name_keys",
            "readings",
            "_single",
            "_single_ids",
            "_lead_cache",
            "_weights",
        )
    )
    _EXPORTED = _FILED - {"_lead_cache"}  # a cache of lookups, begun empty

    def __getattr__(self, attribute: str) -> Any:
        if attribute in ScreeningIndex._FILED:
            self.file()
            return self.__dict__[attribute]
        raise AttributeError(attribute)

    def file(self) -> None:
        """File the names now (done on first use of what it files; the local stack wraps it to keep the filing)."""
        self._file()

    @property
    def filed(self) -> bool:
        return ScreeningIndex._FILED <= self.__dict__.keys()

    @property
    def is_delta(self) -> bool:
        """A ``subset``: weighed by the whole index's weights, so its filing is not its content's alone."""
        return "_weighed_by" in self.__dict__

    def filed_state(self) -> dict[str, Any]:
        """What the filing made (filed now if not yet), for ``load_filed`` on an index of the same version."""
        if self.is_delta:
            raise ValueError("a delta's filing depends on the index it was taken from")
        return {"version": self.version, **{name: getattr(self, name) for name in sorted(self._EXPORTED)}}

    def load_filed(self, state: Mapping[str, Any]) -> None:
        """Set what ``filed_state`` exported; ValueError for another version's state, or a malformed one."""
        if self.is_delta or set(state) != self._EXPORTED | {"version"} or state["version"] != self.version:
            raise ValueError("not the filed state of this index")
        self.__dict__.update({name: state[name] for name in self._EXPORTED}, _lead_cache={})

    def _file(self) -> None:
        """File every listed name under its blocking keys and weigh the tokens."""
        self.names = []
        # Two levels, so that each distinct token's keys are filed once, not once per name:
        self.postings = {}  # blocking key -> the listed tokens filed under it
        self.token_names = {}  # listed token (particles aside) -> the names having it
        self.name_keys = {}  # initials and day of birth -> names
        seen: set[tuple[int, tuple[str, ...]]] = set()
        for position, entry in enumerate(self.entries):
            for number, name in enumerate(entry.names):
                name_tokens = tokens(name)
                if not name_tokens or (position, name_tokens) in seen:
                    continue  # an alias that normalises to a name already filed adds nothing
                seen.add((position, name_tokens))
                self.names.append(
                    IndexedName(position, name, name_tokens, number > 0, essential_tokens(name), compounds(name))
                )
        document_frequency: Counter[str] = Counter()
        for name_id, indexed in enumerate(self.names):
            document_frequency.update(set(indexed.tokens))
            filed = set(core(indexed.tokens))  # "al", "bin", "van" would lead to half the list
            for alternative in indexed.alternatives:
                filed.update(core(alternative))
            for token in filed:
                self.token_names.setdefault(token, []).append(name_id)
            self.name_keys.setdefault(initials_key(indexed.tokens), []).append(name_id)
            for born in self.entries[indexed.entry].birth_dates:
                if born.is_exact:
                    day = dt.date(born.year_from, born.month or 1, born.day or 1)
                    self.name_keys.setdefault(f"b:{day.isoformat()}", []).append(name_id)
        for token in self.token_names:
            for key in token_keys(token) | loose_keys(token):
                self.postings.setdefault(key, []).append(token)
        self._single = [len(core(indexed.tokens)) == 1 for indexed in self.names]
        self._single_ids = frozenset(i for i, single in enumerate(self._single) if single)
        self._lead_cache = {}
        weighed_by = self.__dict__.get("_weighed_by")
        if weighed_by is not None:  # a delta: the whole list's weights, not its own few names'
            self._weights = weighed_by._weights
            self.names = [
                IndexedName(n.entry, n.name, n.tokens, n.alias, n.essential, n.alternatives, self._weak(n))
                for n in self.names
            ]
            self._prepare()
            return
        total = max(len(self.names), 1)
        # Rare tokens say more than common ones: a shared "Baghdadi" is evidence, a
        # shared "Muhammad" much less. Weights span [0.4, 1.5].
        self._weights = {
            token: min(1.5, max(0.4, math.log(total / count) / math.log(total) * 1.5 if total > 1 else 1.0))
            for token, count in document_frequency.items()
        }
        self.names = [
            IndexedName(n.entry, n.name, n.tokens, n.alias, n.essential, n.alternatives, self._weak(n))
            for n in self.names
        ]
        self._prepare()

    def _prepare(self) -> None:
        """Each name's readings with their weights, once, so that scoring an applicant only looks them up."""
        self.readings = [tuple(self.reading(r, n.essential) for r in (n.tokens, *n.alternatives)) for n in self.names]
        for word in self.words_of(range(len(self.names))):
            token_forms(word)  # what screening compares each listed word by: made once, here

    def words_of(self, name_ids: Iterable[int]) -> set[str]:
        """Every word of these names' readings, once (what a screening's score bound compares)."""
        found: set[str] = set()
        readings = self.readings
        for name_id in name_ids:
            for reading in readings[name_id]:
                found.update(reading.tokens)
        return found

    def reading(self, name_tokens: tuple[str, ...], essential: frozenset[str] = frozenset()) -> Reading:
        """The name's tokens prepared for scoring: a particle or honorific ("al", "bin", "sheikh") says
        little, and one side lacking it costs almost nothing, so it weighs a tenth -- unless it is one of
        the listed name's essential parts (a surname spelt like an honorific: "HAFIZ, Saeed")."""
        optional = optional_tokens(name_tokens) - essential
        return Reading(
            name_tokens,
            tuple(0.1 * self.weight(t) if t in optional else self.weight(t) for t in name_tokens),
            optional,
            len(core(name_tokens)),
            tuple(t in essential for t in name_tokens),
            tuple(t in essential and name_tokens.count(t) == 1 for t in name_tokens),
        )

    def _weak(self, indexed: IndexedName) -> bool:
        """An alias of one name part ("Hocine", "Abu Khalid"), or two of which one is an initial ("A. Kabir")
        or both are common ("Ali Mohammed"): the list marks them good, but alone they name thousands of
        people. The matcher flags through them only with the listed birth date."""
        if not indexed.alias:
            return False
        named = core(indexed.tokens)
        if len(named) <= 1:
            return True
        if len(named) == 2:
            return any(len(t) == 1 for t in named) or sum(self.weight(t) for t in named) < WEAK_WEIGHT
        return False

    @classmethod
    def build(cls, parsed: Iterable[ParsedList], built_at: str, fetched_at: str | None = None) -> ScreeningIndex:
        entries: list[ListEntry] = []
        lists: dict[str, ListInfo] = {}
        for parsed_list in sorted(parsed, key=lambda p: p.source):  # one order, so one version per content
            entries.extend(parsed_list.entries)
            lists[parsed_list.source] = ListInfo(
                parsed_list.record_count,
                len(parsed_list.entries),
                parsed_list.published,
                parsed_list.fetched_at or fetched_at,
                parsed_list.dropped_aliases,
            )
        return cls(entries, lists, built_at)

    def subset(self, keys: Iterable[tuple[str, str]]) -> ScreeningIndex:
        """An index of only these (list, entry id) entries -- the delta a refresh added or changed -- that
        weighs tokens as this whole index does: a name common in the list stays weak evidence even when the
        delta holds it once. Screening against it finds what screening against this index would find among
        those entries (its blocking is looser, never stricter: fewer names share each key)."""
        wanted = set(keys)
        delta = ScreeningIndex([e for e in self.entries if (e.source, e.entry_id) in wanted], self.lists, self.built_at)
        delta.__dict__["_weighed_by"] = self
        return delta

    def weight(self, token: str) -> float:
        """How much a token identifies someone; a token no listed name has counts as rare."""
        if len(token) == 1:
            return 0.4
        return self._weights.get(token, 1.5)

    def candidates(self, query_tokens: Iterable[str], born: dt.date | None = None, rare_limit: int = 250) -> set[int]:
        """Ids of the listed names worth scoring against one reading of the query (see candidates_of)."""
        return self.candidates_of((tuple(query_tokens),), born, rare_limit)

    def candidates_of(
        self, readings: Iterable[tuple[str, ...]], born: dt.date | None = None, rare_limit: int = 250
    ) -> set[int]:
        """Ids of the listed names worth scoring against the query, read in one or more ways (as written;
        two neighbouring words as one: normalise.compounds).

        A name qualifies when it shares blocking keys with two tokens of one reading,
        or close keys with one token that few names (``rare_limit``) have, or is listed
        with the applicant's day of birth; a listed name of one token besides particles
        needs one shared token. One shared common token ("Muhammad") alone is no lead:
        scoring every such name would cost tens of milliseconds. Two tokens of different
        readings are not two shared parts: "Aleksandrovich" and "Aleksandrovichtsarev" are
        one part of "Kirill Aleksandrovich Tsarev", and counting them twice made every
        Aleksandr on the list a candidate. Nor are two query tokens that lead to one and the same word of
        a listed name ("Mohammad Mohamed" and the one Muhammad of "Muhammad Ali Hassan"; "Iharyauhenavich
        Butkevich" and the one "-vich" of "Petrovich"): the two shared parts must be two different words
        of the listed name (``word_spans``), or every Muhammad on the list is a candidate.
        """
        same_day: AbstractSet[int] = frozenset(self.name_keys.get(f"b:{born.isoformat()}", ()) if born else ())
        result = set(same_day)
        shared: dict[tuple[str, str], AbstractSet[int]] = {}  # two tokens' common names, once per query
        written: set[str] = set()
        for number, reading in enumerate(readings):
            query = sorted(set(core(tuple(reading))))
            if not number:
                written = set(query)
            # per token: the names sharing any key with it, and the listed tokens through which they do
            leads: list[tuple[str, AbstractSet[int], AbstractSet[str] | None]] = []
            for token in query:
                found = self._leads(token)
                close, near, through = found.close, found.near, found.near_tokens
                if 0 < len(close) <= rare_limit:  # few enough names to be scored whole
                    result |= close
                elif not close and 0 < len(near) <= rare_limit:
                    result |= near
                if token not in written:
                    # A joined word leads by its close keys only: its ends are its parts' ends ("Muhammadsa"
                    # starts as "Muhammad" does), which would count one shared part twice.
                    near, through = close, found.close_tokens
                if near:
                    leads.append((token, near, through))
            if all(len(token) < 3 for token in query):
                # Initials and one- or two-letter names ("J. I", "N. Du"): the initials are the lead.
                initials = frozenset(self.name_keys.get(initials_key(tuple(query)), ()))
                if initials:
                    leads.append((" initials", initials, None))
                    if len(initials) <= rare_limit:
                        result |= initials
            named = [token for token in query if len(token) >= 2]
            if len(leads) <= 1 and (not named or len(named) == len(query) == 1):
                # one name part to go by: every name it leads to (as written; a re-reading of one joined word
                # leads only where few names are: above)
                if not number:
                    result.update(*(names for _, names, _ in leads))
                continue
            if len(named) == 1:
                # an initial ("D. Mohammad") is a shared part with the names having a word of its letter (beside two
                # name parts, which share two, it would only add the names sharing one of them)
                leads.extend((" initial " + t, self._initial_names(t), None) for t in query if len(t) == 1)
            leads.append((" born", same_day, None))  # the same birth day counts as a shared name part
            # Two shared parts (in two leads' intersection, through two different words of the listed
            # name), or one for a listed name that has only one besides particles ("CHEN, Bin"). Two name
            # parts of which only one leads anywhere are one shared part, as when both lead: the other is
            # like nothing on the list, so it is an extra part, however alike the one shared.
            for i, (token, names, words) in enumerate(leads):
                if token.startswith(" initial"):
                    continue  # an initial and the birth day or another initial: not a name's two parts
                result |= names & self._single_ids
                for other, also, also_words in leads[i + 1 :]:
                    both = shared.get((token, other))
                    if both is None:
                        both = names & also
                        if words is not None and also_words is not None and not words.isdisjoint(also_words):
                            both = {n for n in both if self._two_words(n, words, also_words)}
                        shared[(token, other)] = both
                    result |= both
        return result

    def rereadings(self, name: str) -> tuple[tuple[str, ...], ...]:
        """The applicant's re-readings of their name (normalise.compounds) worth scoring, at most MAX_REREADINGS:
        every re-reading kept is compared with every candidate's words, and a long name has ten or more (half its
        screening time, the p99 tail). Kept first, in this order: those that glue a fragment of one or two letters
        ("Sa id", "Zia ur Rahman", "Hyo k-ch o l"); those whose joined word is close (shares a close key: one
        typo, a transliteration, a sound) to a word a listed name writes as one ("Hong Sop" for "KIM, Hongsop");
        to a word a listed name's own re-reading joins ("Thy Pheap" for "PHEAP, Try"); then the rest, as written.
        Most names have no more than that: only long names, which have other parts to go by, lose one."""
        found = compounds(name)
        if len(found) <= MAX_REREADINGS:
            return found
        written = written_words(name)
        spans = dict(word_spans(name))
        ranked = []
        for number, reading in enumerate(found):
            joined = [word for word in reading if len(spans.get(word, ())) > 1]
            if any(len(written[i]) <= 2 for word in joined for i in spans[word]):
                rank = 0
            elif any(self._listed_like(word) for word in joined):
                rank = 1
            elif any(self._listed_like(word, joined_too=True) for word in joined):
                rank = 2
            else:
                rank = 3
            ranked.append((rank, len(reading), number, reading))  # the most fragments glued first
        return tuple(ranked_reading[-1] for ranked_reading in sorted(ranked)[:MAX_REREADINGS])

    def _listed_like(self, word: str, joined_too: bool = False) -> bool:
        """Whether a word shares a close key with a word a listed name writes (or, ``joined_too``, one its
        re-readings join)."""
        postings = self.postings
        if joined_too:
            return any(key in postings for key in token_keys(word))
        written: frozenset[str] | None = self.__dict__.get("_written")
        if written is None:
            written = self.__dict__["_written"] = frozenset(t for indexed in self.names for t in indexed.tokens)
        return any(not written.isdisjoint(postings.get(key, ())) for key in token_keys(word))

    def _initial_names(self, letter: str) -> frozenset[int]:
        """The names with an identifying word beginning with this letter (what an applicant's initial pairs with)."""
        by_letter: dict[str, frozenset[int]] | None = self.__dict__.get("_by_initial")
        if by_letter is None:
            found: dict[str, set[int]] = {}
            for name_id, indexed in enumerate(self.names):
                for token in core(indexed.tokens):
                    found.setdefault(token[0], set()).add(name_id)
            by_letter = self.__dict__["_by_initial"] = {k: frozenset(v) for k, v in found.items()}
        return by_letter.get(letter, frozenset())

    def is_common(self, token: str) -> bool:
        """Whether the token leads to many names (LEAD_CACHE_MIN_NAMES: "Muhammad", "Ali"), as last found by
        blocking; screening keeps such tokens' comparisons for later applicants."""
        return token in self._lead_cache

    def _two_words(self, name_id: int, first: AbstractSet[str], second: AbstractSet[str]) -> bool:
        """Whether two different words of the name (disjoint spans: not one word and a re-reading that joins
        it to its neighbour) are filed one among ``first`` and the other among ``second``."""
        spans = word_spans(self.names[name_id].name)  # rarely needed: not made for every name at load
        ones = [span for word, span in spans if word in first]
        return any(span.isdisjoint(one) for word, span in spans if word in second for one in ones)

    def _leads(self, token: str) -> Leads:
        """The names sharing a close key with the token, and those sharing a close or loose key; kept for
        the tokens with many names ("Muhammad", "Ali"), which applicants keep bringing back."""
        cached = self._lead_cache.get(token)
        if cached is not None:
            return cached
        close_tokens = self._tokens_under(token_keys(token))
        near_tokens = close_tokens | self._tokens_under(loose_keys(token))
        close = self._names_of(close_tokens)
        loose = self._names_of(near_tokens - close_tokens) - close
        # never changed once made: shared
        found = Leads(close, close | loose if loose else close, close_tokens, near_tokens)
        if len(found.near) >= LEAD_CACHE_MIN_NAMES:
            if len(self._lead_cache) >= LEAD_CACHE_TOKENS:
                self._lead_cache.clear()  # rare: the cache holds a container's common tokens
            self._lead_cache[token] = found
        return found

    def _tokens_under(self, keys: Iterable[str]) -> set[str]:
        """The listed tokens filed under any of these keys."""
        found: set[str] = set()
        for key in keys:
            found.update(self.postings.get(key, ()))
        return found

    def _names_of(self, listed_tokens: Iterable[str]) -> set[int]:
        """The names having any of these tokens."""
        names: set[int] = set()
        for token in listed_tokens:
            names.update(self.token_names[token])
        return names

    # -- serialised form ---------------------------------------------------------------------

    def _payload(self) -> dict[str, Any]:
        return {
            "lists": {source: info.to_dict() for source, info in sorted(self.lists.items())},
            "entries": [
                [
                    e.source,
                    e.entry_id,
                    e.name,
                    list(e.aliases),
                    list(e.programmes),
                    [b.to_text() for b in e.birth_dates],
                    list(e.nationalities),
                    e.sex,
                ]
                for e in self.entries
            ],
        }

    def _content_hash(self) -> str:
        """The version: what is screened (entries, list sizes), not when it was fetched or dated."""
        payload = self._payload()
        payload["lists"] = {
            s: {"records": i["records"], "individuals": i["individuals"]} for s, i in payload["lists"].items()
        }
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def dumps(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "built_at": self.built_at,
            **self._payload(),
        }
        raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        return gzip.compress(raw, compresslevel=9, mtime=0)

    @classmethod
    def loads(cls, data: bytes) -> ScreeningIndex:
        try:
            document = json.loads(gzip.decompress(data))
        except (OSError, EOFError, ValueError) as exc:
            raise IndexFormatError(f"not a gzip JSON index: {exc}") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise IndexFormatError("not a sanctions index")
        if document.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(f"index format {document.get('format_version')} is not {FORMAT_VERSION}")
        try:
            entries = [
                ListEntry(
                    source=s,
                    entry_id=i,
                    name=n,
                    aliases=tuple(a),
                    programmes=tuple(p),
                    birth_dates=tuple(BirthDate.from_text(b) for b in d),
                    nationalities=tuple(c),
                    sex=x,
                )
                for s, i, n, a, p, d, c, x in document["entries"]
            ]
            lists = {source: ListInfo(**info) for source, info in document["lists"].items()}
            index = cls(entries, lists, document["built_at"])
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexFormatError(f"malformed index: {exc}") from exc
        if index.version != document.get("version"):
            raise IndexFormatError("index content does not match its version")
        return index

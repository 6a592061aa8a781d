"""Names to comparable tokens: Latin script, folded case and diacritics, no titles or particles.

Lists and applicants write the same person differently: "AL-BAGHDADI, Abu Bakr",
"Abu Bakr al Baghdadi", "Абу Бакр аль-Багдади". Everything the matcher compares
goes through :func:`tokens`, so both sides differ only in what fuzzy matching is
for (spelling), never in script, case, punctuation or word order.
"""

from __future__ import annotations

import functools
import re

import jellyfish
from anyascii import anyascii

# Titles and honorifics carry no identity. Only words that are never given names;
# "Amir" or "Imam" can be names, so they stay.
HONORIFICS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "professor",
        "sir",
        "dame",
        "lord",
        "lady",
        "sheikh",
        "shaykh",
        "shaikh",
        "sheik",
        "haji",
        "hajji",
        "hadji",
        "alhaj",
        "alhajji",
        "mullah",
        "mulla",
        "maulana",
        "mawlana",
        "mawlawi",
        "mawlavi",
        "maulvi",
        "moulvi",
        "hafiz",
        "qari",
        "general",
        "gen",
        "colonel",
        "col",
        "major",
        "maj",
        "captain",
        "capt",
        "lieutenant",
        "lt",
        "sergeant",
        "sgt",
        "admiral",
        "brigadier",
        "commander",
        "cmdr",
        "jr",
        "jnr",
        "sr",
        "snr",
        "ii",
        "iii",
        "iv",
        "engineer",
        "eng",
    ]
)

# Particles that come and go between spellings of one name ("al-Zawahiri", "Zawahiri",
# "bin Laden", "van der Berg"). They are dropped; "abu"/"abd" are kept: they are part
# of the name ("Abu Bakr" is not "Bakr"), and joined to the word they introduce.
PARTICLES = frozenset(
    [
        "al",
        "el",
        "ul",
        "ad",
        "ar",
        "as",
        "at",
        "az",
        "bin",
        "ibn",
        "ben",
        "bint",
        "binti",
        "bte",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "de",
        "da",
        "di",
        "du",
        "del",
        "della",
        "dos",
        "das",
        "la",
    ]
)

# "Abd al-Karim", "Abdul Karim", "Abdel-Karim": one name, written as one token. The glued
# "Abdelkarim" is left to fuzzy matching: rewriting it would also rewrite typos of "Abdullah".
_ABD_SPACED = re.compile(r"\babd(?:u|e|ou|a)?l?[\s-]+(?:(?:al|el|ul|ar|ur|as|ad|an|ash|es|er)[\s-]+)?(?=[a-z])")
# "Abu Bakr", "Abou-Bakr", "Abubakr": a kunya is one name, never "Bakr" alone.
_ABU_SPACED = re.compile(r"\bab(?:u|ou|o)[\s-]+(?:(?:al|el|ul|ar|ur|as|ad|an|ash|es|er)[\s-]+)?(?=[a-z])")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u02bb`\u00b4]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=65536)
def tokens(name: str) -> tuple[str, ...]:
    """The name's tokens in canonical (sorted) order; empty when nothing identifying is left."""
    text = anyascii(name).lower()
    text = _APOSTROPHES.sub("", text)  # "Ma'ruf" and "Maruf" are one spelling
    text = _ABU_SPACED.sub("abu", _ABD_SPACED.sub("abd", text))
    words = [w for w in _NOT_ALNUM.sub(" ", text).split() if not w.isdigit()]
    kept = [w for w in words if w not in HONORIFICS and w not in PARTICLES]
    if not kept:  # a name made only of particles ("Al") is still a name
        kept = [w for w in words if w not in HONORIFICS]
    return tuple(sorted(kept))


def key(name_tokens: tuple[str, ...]) -> str:
    """One string per name, identical for any order, case, script or diacritics."""
    return " ".join(sorted(name_tokens))


# Letters that transliteration schemes write differently for one sound (English, French,
# German, BGN/PCGN and Revised Romanization conventions): "Kh"/"H", "Dj"/"J", "ee"/"i", "w"/"v".
_SKELETON_RULES = (
    ("tch", "ch"),
    ("dzh", "j"),
    ("dj", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("gh", "g"),
    ("dh", "d"),
    ("ph", "f"),
    ("ck", "k"),
    ("q", "k"),
    ("w", "v"),
    ("ee", "i"),
    ("ea", "i"),
    ("ie", "i"),
    ("ou", "u"),
    ("oo", "u"),
    ("ae", "e"),
    ("eo", "o"),
    ("y", "i"),
    ("ts", "tz"),
)
_DOUBLED = re.compile(r"(.)\1+")


@functools.lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """The token with transliteration-dependent spellings folded: "Djeenho" and "Jinho" agree."""
    text = token
    for old, new in _SKELETON_RULES:
        text = text.replace(old, new)
    return _DOUBLED.sub(r"\1", text)


@functools.lru_cache(maxsize=65536)
def phonetic_keys(token: str) -> tuple[str, ...]:
    """Sound-alike keys of one token (Metaphone, NYSIIS, skeleton): "Mohammed" and "Muhammad" share them."""
    if len(token) < 2:
        return ()
    keys = {"m:" + jellyfish.metaphone(token), "n:" + jellyfish.nysiis(token)}
    keys = {k for k in keys if len(k) > 3}
    keys.add("s:" + skeleton(token))
    return tuple(sorted(keys))


@functools.lru_cache(maxsize=65536)
def typo_keys(token: str) -> tuple[str, ...]:
    """The token with one letter deleted: two tokens one typo apart share one of these."""
    base = token
    if len(base) < 4:
        return ()
    return tuple(sorted({"d:" + base[:i] + base[i + 1 :] for i in range(len(base))} | {"d:" + base}))

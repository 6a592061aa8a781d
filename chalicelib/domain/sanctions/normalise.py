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
# "bin Laden", "Ould Abdallah", "van der Berg"). They are optional to the matcher: one
# side may lack them at almost no cost, and they lead no search. They are not dropped:
# the Chinese given name Bin and surnames Du, Di, Da are spelt like them. "abu"/"abd" are
# not particles: they are part of the name ("Abu Bakr" is not "Bakr"), and joined to the
# word they introduce.
PARTICLES = frozenset(
    [
        "ould",
        "uld",
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
# "Abu Bakr", "Abou-Bakr", "Aboou Bakr", "Abubakr": a kunya is one name, never "Bakr" alone.
_ABU_SPACED = re.compile(r"\bab(?:[ou]{1,3})[\s-]+(?:(?:al|el|ul|ar|ur|as|ad|an|ash|es|er)[\s-]+)?(?=[a-z])")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u02bb`\u00b4]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=65536)
def tokens(name: str) -> tuple[str, ...]:
    """The name's tokens in canonical (sorted) order, particles included; empty when nothing identifying is left.

    Particles stay (the Chinese given name "Bin" and surname "Du" are spelt like them)
    and the matcher treats them as optional: see :func:`is_particle`.
    """
    return tuple(sorted(_words(name)))


def _words(name: str) -> list[str]:
    """The name's words in written order: Latin, lower case, no titles, kunyas joined."""
    text = anyascii(name).lower()
    text = _APOSTROPHES.sub("", text)  # "Ma'ruf" and "Maruf" are one spelling
    text = _ABU_SPACED.sub("abu", _ABD_SPACED.sub("abd", text))
    words = [w for w in _NOT_ALNUM.sub(" ", text).split() if not w.isdigit()]
    return [w for w in words if w not in HONORIFICS]


@functools.lru_cache(maxsize=65536)
def essential_tokens(listed_name: str) -> frozenset[str]:
    """Of a listed "SURNAME, Given Middle" name, the (first) surname and the first given name.

    People drop their middle names, patronymics and second surnames, hardly ever their
    surname or first name: the matcher lets the first go cheaply, not these. Empty when
    the name's structure is not written (no comma, as in the UN list's FIRST_NAME
    SECOND_NAME...).
    """
    if "," not in listed_name:
        return frozenset()
    surname, given = listed_name.split(",", 1)
    first_surname = core(tuple(_words(surname)))[:1]
    first_given = [w for w in _words(given) if w not in PARTICLES][:1]
    return frozenset(first_surname) | frozenset(first_given)


def is_particle(token: str) -> bool:
    return token in PARTICLES


def core(name_tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The tokens that identify: particles left out, unless the name is nothing else ("Al", "Du")."""
    kept = tuple(t for t in name_tokens if t not in PARTICLES)
    return kept or name_tokens


# Particles an applicant may write glued to the name they introduce ("Almasri", "OuldAbdallah",
# "Vandenberg"); longest first, so "ould" is tried before "ul".
_GLUED = tuple(sorted(("al", "el", "ould", "bin", "ben", "ibn", "van", "von", "de", "der", "den", "del"), key=len))[
    ::-1
]


@functools.lru_cache(maxsize=65536)
def unglued(token: str) -> str | None:
    """The token without the particles glued to its front ("ouldeabdallah" -> "eabdallah",
    "vandenberg" -> "berg"), if any are there.

    Only while at least four letters remain: "Alan", "Elena" and "Benali" are names.
    """
    stripped = token
    for particle in _GLUED:
        if stripped.startswith(particle) and len(stripped) - len(particle) >= 4:
            return unglued(stripped[len(particle) :]) or stripped[len(particle) :]
    return None


def key(name_tokens: tuple[str, ...]) -> str:
    """One string per name, identical for any order, case, script, diacritics or particles."""
    return " ".join(sorted(core(name_tokens)))


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
    if len(base) < 3:
        return ()
    return tuple(sorted({"d:" + base[:i] + base[i + 1 :] for i in range(len(base))} | {"d:" + base}))

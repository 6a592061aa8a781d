"""People who are NOT on the sanctions lists, from the cultures the lists are made of, for the benchmark.

Two independent sources, so that what the matcher was tuned on is never what it is judged on:

* ``FakerCultures``: Faker locales of the lists' own cultures, written in Latin as a passport
  writes them (Cyrillic, Chinese, Korean, Devanagari and Bengali through anyascii). Arabic and
  Persian Faker names are in unvocalised Arabic script, which no transliteration turns into the
  Latin a passport carries ("mhmd"), so the Arabic-speaking world comes from the Latin locales
  fr_DZ (Algeria, French transliteration) and en_PK (Pakistan, English transliteration).
* ``NamDictCultures``: first names by country from ``nam_dict.txt`` (Jörg Michael's name
  dictionary, shipped by the ``gender-guesser`` package, data under the GNU FDL), for
  Arabia/Persia, India/Sri Lanka, Russia, China, Korea and Spain, in the dictionary's own Latin
  spellings (several transliterations of one name are separate entries, as in life). Arabic,
  Persian and South-Asian names are chains of given names (given, father's, grandfather's), as
  those cultures name people; the others take a surname from Faker.

Each person is (name, birth date, ICAO nationality, sex, culture). Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass
from importlib import resources

from anyascii import anyascii
from faker import Faker

#: culture -> (Faker locale, ICAO nationality) pools
FAKER_CULTURES: dict[str, tuple[tuple[str, str], ...]] = {
    "Arabic": (("fr_DZ", "DZA"), ("en_PK", "PAK")),
    "South-Asian": (("en_IN", "IND"), ("hi_IN", "IND")),
    "Russian": (("ru_RU", "RUS"), ("uk_UA", "UKR")),
    "Chinese": (("zh_CN", "CHN"), ("zh_TW", "TWN")),
    "Korean": (("ko_KR", "KOR"),),
    "Spanish": (("es_ES", "ESP"), ("es_MX", "MEX"), ("es_CO", "COL"), ("es_AR", "ARG"), ("es_CL", "CHL")),
}

#: culture -> (nam_dict column, ICAO nationality, Faker locale for surnames or None for a chain of given names)
NAM_DICT_CULTURES: dict[str, tuple[str, str, str | None]] = {
    "Arabic/Persian": ("arabia", "IRN", None),
    "South-Asian": ("india", "IND", None),
    "Russian": ("russia", "RUS", "ru_RU"),
    "Chinese": ("china", "CHN", "zh_CN"),
    "Korean": ("korea", "KOR", "ko_KR"),
    "Spanish": ("spain", "ESP", "es_ES"),
}

_COLUMNS = (
    "great_britain ireland usa italy malta portugal spain france belgium luxembourg the_netherlands east_frisia "
    "germany austria swiss iceland denmark norway sweden finland estonia latvia lithuania poland czech_republic "
    "slovakia hungary romania bulgaria bosniaand croatia kosovo macedonia montenegro serbia slovenia albania greece "
    "russia belarus moldova ukraine armenia azerbaijan georgia the_stans turkey arabia israel china india japan "
    "korea vietnam other_countries"
).split()


@dataclass(frozen=True)
class Person:
    name: str
    birth: dt.date
    nationality: str | None
    sex: str | None  # "M" / "F"
    culture: str
    source: str


def _birth(rng: random.Random) -> dt.date:
    return dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))


class FakerCultures:
    """Non-listed people of the lists' cultures from Faker locales."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        for number, locale in enumerate(sorted({loc for pools in FAKER_CULTURES.values() for loc, _ in pools})):
            fake = Faker(locale)
            fake.seed_instance(seed * 1000 + number)
            self.fakers[locale] = fake

    def person(self, culture: str) -> Person:
        rng = self.rng
        locale, nationality = rng.choice(FAKER_CULTURES[culture])
        fake = self.fakers[locale]
        female = rng.random() < 0.5
        first = fake.first_name_female if female and hasattr(fake, "first_name_female") else fake.first_name
        last = fake.last_name_female if female and hasattr(fake, "last_name_female") else fake.last_name
        parts = [first()]
        if rng.random() < 0.3:
            parts.append(first())
        parts.append(last())
        if culture == "Spanish" and rng.random() < 0.6:
            parts.append(last())  # two surnames
        return Person(anyascii(" ".join(parts)), _birth(rng), nationality, "F" if female else "M", culture, locale)


@functools.cache
def _nam_dict() -> dict[str, dict[str, list[tuple[str, int]]]]:
    """column -> sex ("M"/"F") -> [(name, frequency weight)], from nam_dict.txt."""
    text = resources.files("gender_guesser").joinpath("data/nam_dict.txt").read_text(encoding="utf-8")
    wanted = {column for column, _, _ in NAM_DICT_CULTURES.values()}
    positions = {column: _COLUMNS.index(column) for column in wanted}
    table: dict[str, dict[str, list[tuple[str, int]]]] = {c: {"M": [], "F": []} for c in wanted}
    for line in text.splitlines():
        if not line or line[0] in "#=":
            continue
        parts = line.split()
        sex = parts[0][-1]  # M, 1M, ?M -> M; F, 1F, ?F -> F; ? -> either
        name = parts[1].replace("+", " ")
        if not name.isascii() or not name.replace(" ", "").replace("-", "").isalpha():
            continue  # the dictionary's own escape codes for special letters: left out
        values = line[30:-1]
        for column, position in positions.items():
            digit = values[position] if position < len(values) else " "
            if digit.strip():
                weight = int(digit, 16)  # 1 (rare) .. 13 (very common): a log scale
                for s in ("M", "F") if sex == "?" else (sex,):
                    if s in ("M", "F"):
                        table[column][s].append((name, 2 ** max(weight - 1, 0)))
    return table


class NamDictCultures:
    """Non-listed people of the lists' cultures from nam_dict.txt (never used while tuning)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        for number, (_, _, locale) in enumerate(NAM_DICT_CULTURES.values()):
            if locale:
                fake = Faker(locale)
                fake.seed_instance(seed * 1000 + 500 + number)
                self.fakers[locale] = fake

    def _given(self, column: str, sex: str) -> str:
        pool = _nam_dict()[column][sex]
        names, weights = zip(*pool, strict=True)
        return self.rng.choices(names, weights=weights)[0]

    def person(self, culture: str) -> Person:
        rng = self.rng
        column, nationality, locale = NAM_DICT_CULTURES[culture]
        sex = "F" if rng.random() < 0.5 else "M"
        parts = [self._given(column, sex)]
        if locale is None:  # given, father's (and grandfather's) names
            parts.append(self._given(column, "M"))
            if rng.random() < 0.5:
                parts.append(self._given(column, "M"))
        else:
            fake = self.fakers[locale]
            last = fake.last_name_female if sex == "F" and hasattr(fake, "last_name_female") else fake.last_name
            parts.append(anyascii(last()))
            if culture == "Spanish" and rng.random() < 0.6:
                parts.append(anyascii(last()))
        return Person(" ".join(parts), _birth(rng), nationality, sex, culture, "nam_dict")

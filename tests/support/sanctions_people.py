"""People who are NOT on the sanctions lists, from the cultures the lists are made of, for the benchmark.

Two independent sources, so that what the matcher was tuned on is never what it is judged on:

* ``FakerCultures``: Faker locales of the lists' own cultures, written in Latin as a passport
  writes them (Cyrillic, Chinese, Korean, Devanagari and Bengali through anyascii). Arabic and
  Persian Faker names are in unvocalised Arabic script, which no transliteration turns into the
  Latin a passport carries ("mhmd"), so the Arabic-speaking world comes from the Latin locales
  fr_DZ (Algeria, French transliteration) and en_PK (Pakistan, English transliteration).
* ``NameVariantsCultures``: the ``name-variants`` package's tables (MIT; common names of each
  culture with their usual romanisations, so several transliterations of one name are separate
  names, as in life) for Arabic, Persian, South-Asian (Hindi, Bengali, Tamil), Russian
  (surnames; given names from Faker), Chinese, Korean and Turkish names. Arabic, Persian and
  Turkish names are chains of given names (given, father's, grandfather's), as those cultures
  name people. It replaces nam_dict.txt (gender-guesser: GPLv3 code, GFDL data, unmaintained).

Each person is (name, birth date, ICAO nationality, sex, culture). Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass

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


#: culture -> (name-variants tables for given names, tables for surnames or None for a chain of given
#: names, ICAO nationalities, Faker locale for given names or None)
NAME_VARIANTS_CULTURES: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None, tuple[str, ...], str | None]] = {
    "Arabic": (("ARABIC_NAME_VARIANTS",), None, ("SYR", "IRQ", "EGY", "YEM", "SAU", "LBN", "SDN"), None),
    "Persian": (("PERSIAN_NAME_VARIANTS",), None, ("IRN", "AFG"), None),
    "South-Asian": (
        ("INDIAN_NAMES_HINDI", "INDIAN_NAMES_BENGALI", "INDIAN_NAMES_TAMIL"),
        ("INDIAN_NAMES_HINDI", "INDIAN_NAMES_BENGALI", "INDIAN_NAMES_TAMIL"),
        ("IND", "BGD", "LKA"),
        None,
    ),
    "Russian": ((), ("RUSSIAN_SURNAME_VARIANTS",), ("RUS",), "ru_RU"),
    "Chinese": (("CHINESE_GIVEN_NAME_VARIANTS",), ("CHINESE_SURNAME_VARIANTS",), ("CHN",), None),
    "Korean": (("KOREAN_GIVEN_NAME_VARIANTS",), ("KOREAN_SURNAME_VARIANTS",), ("KOR", "PRK"), None),
    "Turkish": (("TURKISH_NAME_VARIANTS",), None, ("TUR",), None),
}


@functools.cache
def _name_variants(tables: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Every Latin spelling in the tables, weighted by the name's frequency (where the table gives one, else
    the tables' median), shared out among its spellings: several transliterations of one name, as in life."""
    import name_variants

    forms: list[str] = []
    weights: list[float] = []
    for table in tables:
        entries = getattr(name_variants, table).values()
        known = sorted(e["frequency"] for e in entries if e.get("frequency"))
        default = known[len(known) // 2] if known else 1
        for entry in entries:
            latin = [f for f in entry["forms"] if f.isascii() and f.replace("-", "").replace("'", "").isalpha()]
            for form in latin:
                forms.append(form.title())
                weights.append((entry.get("frequency") or default) / len(latin))
    scale = min(weights)
    return tuple(forms), tuple(max(1, round(w / scale)) for w in weights)


class NameVariantsCultures:
    """Non-listed people of the lists' cultures from ``name-variants`` (MIT) tables: common names of each
    culture in their usual Latin spellings. Never used while tuning. Arabic, Persian and Turkish names are
    chains of given names (given, father's and sometimes grandfather's); the others a given name and a
    surname (Russian given names from Faker: the tables have only surnames). No sex: the tables do not say."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        for number, (_, _, _, locale) in enumerate(NAME_VARIANTS_CULTURES.values()):
            if locale and locale not in self.fakers:
                fake = Faker(locale)
                fake.seed_instance(seed * 1000 + 700 + number)
                self.fakers[locale] = fake

    def _pick(self, tables: tuple[str, ...]) -> str:
        forms, weights = _name_variants(tables)
        return self.rng.choices(forms, weights=weights)[0]

    def person(self, culture: str) -> Person:
        rng = self.rng
        given_tables, surname_tables, nationalities, locale = NAME_VARIANTS_CULTURES[culture]
        if locale:
            parts = [anyascii(self.fakers[locale].first_name_male())]
        else:
            parts = [self._pick(given_tables)]
        if surname_tables is None:  # given, father's (and grandfather's) names
            parts.append(self._pick(given_tables))
            if rng.random() < 0.5:
                parts.append(self._pick(given_tables))
        else:
            if locale is None and rng.random() < 0.2:
                parts.append(self._pick(given_tables))
            parts.append(self._pick(surname_tables))
        sex = "M" if locale else None
        return Person(" ".join(parts), _birth(rng), rng.choice(nationalities), sex, culture, "name-variants")

"""SYNTHETIC sanctions lists in the real formats, and labelled name variants, for tests and benchmarks.

No real snapshot of the SDN list could be brought onto this machine (see
tests/data/sanctions/README.md), so this writes lists of realistic size and
shape in OFAC's legacy CSV format and the UN's XML format: every person here
is invented (names drawn from Faker's locales and from common Arabic name
parts), the dates and programmes are random. Deterministic for a seed and a
Faker version.

The names mix the cultures real lists are dominated by (Arabic, Russian,
Chinese, Korean, Spanish, Persian and Turkish names), transliterated into
Latin the way OFAC writes them (BGN/PCGN-like for Cyrillic), so fuzzy
matching meets the same spelling problems as with the real list.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from anyascii import anyascii
from faker import Faker

ARABIC_GIVEN = [
    g.replace("_", " ")
    for g in [
        "Muhammad",
        "Ahmad",
        "Ali",
        "Hasan",
        "Husayn",
        "Abdullah",
        "Abd_al-Rahman",
        "Abd_al-Aziz",
        "Umar",
        "Khalid",
        "Yusuf",
        "Ibrahim",
        "Ismail",
        "Mustafa",
        "Mahmud",
        "Hamid",
        "Said",
        "Salim",
        "Tariq",
        "Jamal",
        "Karim",
        "Nasir",
        "Faisal",
        "Walid",
        "Adil",
        "Bilal",
        "Hamza",
        "Anwar",
        "Ziyad",
        "Rashid",
        "Sami",
        "Fadil",
        "Majid",
        "Nabil",
        "Talal",
        "Jafar",
        "Qasim",
        "Amir",
        "Marwan",
        "Abu_Bakr",
        "Usama",
        "Hisham",
        "Mansur",
        "Munir",
        "Rami",
        "Saif",
        "Ayman",
        "Bashir",
        "Fawzi",
        "Ghazi",
        "Haytham",
        "Imad",
        "Kamal",
        "Luay",
        "Muhsin",
        "Nizar",
        "Riyad",
        "Sharif",
        "Tawfiq",
        "Wasim",
        "Yasin",
        "Zakariya",
        "Abd_al-Karim",
        "Abd_al-Latif",
    ]
]
ARABIC_FAMILY = [
    "al-Rashidi",
    "al-Tamimi",
    "al-Shammari",
    "al-Dulaymi",
    "al-Janabi",
    "al-Ubaydi",
    "al-Qahtani",
    "al-Ghamdi",
    "al-Zahrani",
    "al-Harbi",
    "al-Masri",
    "al-Halabi",
    "al-Baghdadi",
    "al-Mosuli",
    "al-Tikriti",
    "al-Kurdi",
    "al-Yamani",
    "al-Libi",
    "al-Suri",
    "al-Sudani",
    "Haddad",
    "Khoury",
    "Nasrallah",
    "Mansour",
    "Hijazi",
    "Darwish",
    "Barakat",
    "Khalil",
    "Saleh",
    "Awad",
    "Haddadin",
    "Qasim",
    "Zaidan",
    "Jaber",
    "Othman",
    "Hamdan",
    "Salameh",
    "Qureshi",
    "Siddiqui",
    "Chaudhry",
    "Rahimi",
    "Karimi",
    "Hosseini",
    "Mousavi",
    "Jafari",
    "Ahmadi",
    "Rezaei",
    "Moradi",
    "Sadeghi",
    "Abdelkader",
    "Belkacem",
    "Benali",
    "Boudiaf",
    "Mebarki",
    "Zerrouki",
    "Ould-Abdallah",
    "Ghaly",
    "Nur",
    "Warsame",
    "Farah",
    "Abdi",
    "Hirsi",
    "al-Awlaki",
    "al-Fadhli",
    "al-Nahdi",
    "al-Kuwari",
    "al-Marri",
    "al-Sulaiti",
    "al-Ansari",
    "al-Hashimi",
    "al-Samarrai",
    "al-Fahdawi",
]
# Spellings of one Arabic name part that lists and passports use interchangeably.
ARABIC_VARIANTS = {
    "Muhammad": ("Mohammed", "Mohamed", "Mohammad", "Muhammed"),
    "Ahmad": ("Ahmed",),
    "Husayn": ("Hussein", "Hussain", "Husain"),
    "Hasan": ("Hassan",),
    "Umar": ("Omar",),
    "Yusuf": ("Youssef", "Yousef"),
    "Mahmud": ("Mahmoud",),
    "Said": ("Saeed", "Sayed"),
    "Salim": ("Saleem",),
    "Usama": ("Osama",),
    "Mansur": ("Mansour",),
    "Ziyad": ("Ziad",),
    "Fadil": ("Fadel",),
    "Qasim": ("Kassem", "Qassim"),
    "Jafar": ("Jaafar",),
    "Tawfiq": ("Tawfik",),
    "Yasin": ("Yassin",),
    "Zakariya": ("Zakaria",),
    "Riyad": ("Riad",),
    "Abdullah": ("Abdallah",),
    "Ismail": ("Ismael",),
    "Mustafa": ("Moustafa", "Mostafa"),
    "Nasir": ("Nasser",),
}
CYRILLIC_BGN = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "ye",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
}
PROGRAMMES = (
    "SDGT",
    "IRAN",
    "IRGC",
    "IFSR",
    "SYRIA",
    "DPRK",
    "DPRK2",
    "DPRK3",
    "RUSSIA-EO14024",
    "UKRAINE-EO13660",
    "SDNTK",
    "ILLICIT-DRUGS-EO14059",
    "CYBER2",
    "GLOMAG",
    "VENEZUELA-EO13850",
    "IRAQ3",
    "SOMALIA",
    "YEMEN",
    "BELARUS-EO14038",
    "CAATSA - RUSSIA",
    "NPWMD",
    "TCO",
    "LIBYA3",
    "SUDAN-EO14098",
    "MALI-EO13882",
)
CULTURES = (
    ("arabic", 0.42),
    ("ru_RU", 0.17),
    ("uk_UA", 0.03),
    ("zh_CN", 0.08),
    ("ko_KR", 0.06),
    ("es_MX", 0.12),
    ("tr_TR", 0.04),
    ("persian", 0.05),
    ("fr_FR", 0.03),
)
NATIONALITIES = {
    "arabic": ("Iraq", "Syria", "Yemen", "Lebanon", "Saudi Arabia", "Libya", "Egypt", "Sudan", "Somalia"),
    "ru_RU": ("Russia",),
    "uk_UA": ("Ukraine", "Russia"),
    "zh_CN": ("China",),
    "ko_KR": ("Korea, North",),
    "es_MX": ("Mexico", "Colombia", "Venezuela"),
    "tr_TR": ("Turkey",),
    "persian": ("Iran",),
    "fr_FR": ("France", "Belgium"),
}
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass
class SyntheticPerson:
    """One invented listed individual, with what the benchmark needs to make true variants."""

    ent_num: int
    given: list[str]
    surname: list[str]
    culture: str
    birth: dt.date | None
    birth_precision: str  # "day", "year", "none"
    nationality: str | None
    original_script: str | None = None  # Cyrillic for Russian/Ukrainian names
    aliases: list[str] = field(default_factory=list)

    @property
    def listed_name(self) -> str:
        return f"{' '.join(self.surname).upper()}, {' '.join(self.given)}"


def bgn(text: str) -> str:
    """Cyrillic to Latin roughly as OFAC writes it (BGN/PCGN), unlike anyascii's scheme."""
    out = "".join(CYRILLIC_BGN.get(ch.lower(), ch) if ch.lower() in CYRILLIC_BGN else ch for ch in text)
    return out[:1].upper() + out[1:]


class NameSource:
    """Invented names by culture, Latin-transliterated as a list would publish them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.fakers = {loc: Faker(loc) for loc in ("ru_RU", "uk_UA", "zh_CN", "ko_KR", "es_MX", "tr_TR", "fr_FR")}
        for number, fake in enumerate(self.fakers.values()):
            fake.seed_instance(rng.randrange(1 << 30) + number)

    def culture(self) -> str:
        roll, acc = self.rng.random(), 0.0
        for culture, share in CULTURES:
            acc += share
            if roll < acc:
                return culture
        return CULTURES[0][0]

    def person(self, culture: str) -> tuple[list[str], list[str], str | None]:
        """(given names, surname parts, original script or None)."""
        rng = self.rng
        if culture in ("arabic", "persian"):
            given = [rng.choice(ARABIC_GIVEN) for _ in range(rng.choice((1, 2, 2, 3)))]
            return given, [rng.choice(ARABIC_FAMILY)], None
        fake = self.fakers[culture]
        male = rng.random() < 0.85
        first = fake.first_name_male() if male else fake.first_name_female()
        last = fake.last_name_male() if male and hasattr(fake, "last_name_male") else fake.last_name()
        if culture in ("ru_RU", "uk_UA"):
            middle = fake.middle_name_male() if male else fake.middle_name_female()
            original = f"{last} {first} {middle}"
            return [bgn(first), bgn(middle)], [bgn(last)], original
        if culture in ("zh_CN", "ko_KR"):
            return [anyascii(first)], [anyascii(last)], None
        if culture == "es_MX":
            return first.split(), [last, fake.last_name()], None
        return first.split(), last.split(), None


def make_people(count: int, seed: int = 13) -> list[SyntheticPerson]:
    rng = random.Random(seed)
    source = NameSource(rng)
    people = []
    for number in range(count):
        culture = source.culture()
        given, surname, original = source.person(culture)
        precision = rng.choices(("day", "year", "none"), weights=(0.6, 0.25, 0.15))[0]
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50)) if precision != "none" else None
        nationality = rng.choice(NATIONALITIES[culture]) if rng.random() < 0.7 else None
        person = SyntheticPerson(10000 + number, given, surname, culture, birth, precision, nationality, original)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            alias = alias_of(person, rng)
            if alias != person.listed_name and alias not in person.aliases:
                person.aliases.append(alias)
        people.append(person)
    return people


# Alternations between Latin transliterations of one name (Cyrillic, Korean, Chinese, Persian...).
LATIN_ALTERNATIONS = (
    ("kh", "h"),
    ("iy", "y"),
    ("y", "i"),
    ("ou", "u"),
    ("u", "ou"),
    ("ee", "i"),
    ("ph", "f"),
    ("q", "k"),
    ("dh", "d"),
    ("j", "dj"),
    ("ts", "tz"),
    ("ev", "yev"),
    ("sh", "ch"),
    ("ck", "k"),
    ("ss", "s"),
    ("v", "w"),
    ("eo", "o"),
    ("ae", "e"),
    ("i", "ee"),
    ("zh", "j"),
    ("ch", "tch"),
)


def respell(word: str, rng: random.Random) -> str:
    """One plausible other transliteration of a name part."""
    if word in ARABIC_VARIANTS:
        return rng.choice(ARABIC_VARIANTS[word])
    options = [(a, b) for a, b in LATIN_ALTERNATIONS if a in word.lower()]
    if not options:
        return word
    a, b = rng.choice(options)
    lower = word.lower().replace(a, b, 1)
    return lower.capitalize() if word[:1].isupper() else lower


def alias_of(person: SyntheticPerson, rng: random.Random) -> str:
    """Another spelling the list publishes: variant spellings, no particle, fewer given names."""
    given = [respell(g, rng) if rng.random() < 0.6 else g for g in person.given]
    surname = [respell(s, rng) if rng.random() < 0.4 else s for s in person.surname]
    surname = [s.replace("al-", "al ", 1) if rng.random() < 0.5 else s.replace("al-", "") for s in surname]
    if rng.random() < 0.3 and len(given) > 1:
        given = given[:1]
    return f"{' '.join(surname).upper()}, {' '.join(given)}"


def remarks(person: SyntheticPerson, rng: random.Random) -> str:
    parts = []
    if person.birth and person.birth_precision == "day":
        parts.append(f"DOB {person.birth.day:02d} {MONTHS[person.birth.month - 1]} {person.birth.year}")
    elif person.birth and person.birth_precision == "year":
        parts.append(
            rng.choice(
                (
                    f"DOB {person.birth.year}",
                    f"DOB circa {person.birth.year}",
                    f"DOB {person.birth.year} to {person.birth.year + 1}",
                )
            )
        )
    if person.nationality:
        parts.append(f"nationality {person.nationality}")
    parts.append(f"Gender {'Male' if rng.random() < 0.85 else 'Female'}")
    return "; ".join(parts) + "."


def sdn_files(
    people: list[SyntheticPerson], entities: int = 8500, vessels: int = 1300, seed: int = 13
) -> tuple[str, str]:
    """(sdn.csv, alt.csv) in OFAC's legacy format: CRLF, no header, ``-0-`` nulls, 0x1A at the end."""
    rng = random.Random(seed)
    sdn, alt = io.StringIO(), io.StringIO()
    sdn_writer = csv.writer(sdn, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    alt_writer = csv.writer(alt, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    null = "-0-"
    alt_num = 1
    for person in people:
        programme = "] [".join(rng.sample(PROGRAMMES, rng.choice((1, 1, 2))))
        sdn_writer.writerow(
            [
                person.ent_num,
                person.listed_name,
                "individual",
                programme,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                remarks(person, rng),
            ]
        )
        for alias in person.aliases:
            alt_writer.writerow([person.ent_num, alt_num, "aka", alias, null])
            alt_num += 1
    words = [
        "TRADING",
        "GENERAL",
        "PETROLEUM",
        "SHIPPING",
        "HOLDING",
        "INVESTMENT",
        "GROUP",
        "INDUSTRIAL",
        "BANK",
        "EXCHANGE",
    ]
    for number in range(entities):
        ent_num = 30000 + number
        family = rng.choice(ARABIC_FAMILY).upper().replace("AL-", "AL ")
        name = f"{family} {rng.choice(words)} {rng.choice(('LLC', 'CO', 'LTD'))}"
        sdn_writer.writerow(
            [
                ent_num,
                name,
                null,
                rng.choice(PROGRAMMES),
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                f"Registration Number {rng.randrange(10**6, 10**7)}.",
            ]
        )
        if rng.random() < 0.5:
            alt_writer.writerow([ent_num, alt_num, rng.choice(("aka", "fka")), name.replace(" CO", " COMPANY"), null])
            alt_num += 1
    for number in range(vessels):
        sdn_writer.writerow(
            [
                50000 + number,
                f"SEA {rng.choice(words)} {number}",
                "vessel",
                rng.choice(PROGRAMMES),
                null,
                f"9{rng.randrange(10**5):05d}",
                "Crude Oil Tanker",
                f"{rng.randrange(1, 90)},000",
                null,
                "Iran",
                null,
                f"Vessel Registration Identification IMO {9000000 + number}.",
            ]
        )
    return sdn.getvalue() + "\x1a", alt.getvalue() + "\x1a"


def un_xml(people: list[SyntheticPerson], entities: int = 100, seed: int = 13) -> bytes:
    """The UN consolidated list's XML shape for the given people."""
    rng = random.Random(seed)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        (
            '<CONSOLIDATED_LIST xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'dateGenerated="2026-11-01T00:00:00.000Z">'
        ),
        "<INDIVIDUALS>",
    ]
    for number, person in enumerate(people):
        parts = [*person.given, *person.surname][:4]
        tags = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
        out.append("<INDIVIDUAL>")
        out.append(f"<DATAID>{6900000 + number}</DATAID><VERSIONNUM>1</VERSIONNUM>")
        out.extend(f"<{tag}>{escape(part.upper())}</{tag}>" for tag, part in zip(tags, parts, strict=False))
        out.append(f"<UN_LIST_TYPE>{rng.choice(('Al-Qaida', 'DPRK', 'Libya', 'Iraq', 'Somalia'))}</UN_LIST_TYPE>")
        out.append(f"<REFERENCE_NUMBER>QDi.{number:03d}</REFERENCE_NUMBER><LISTED_ON>2015-01-01</LISTED_ON>")
        if person.original_script:
            out.append(f"<NAME_ORIGINAL_SCRIPT>{escape(person.original_script)}</NAME_ORIGINAL_SCRIPT>")
        if person.nationality:
            out.append(f"<NATIONALITY><VALUE>{escape(person.nationality)}</VALUE></NATIONALITY>")
        for alias in person.aliases:
            out.append(
                f"<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>{escape(alias)}</ALIAS_NAME></INDIVIDUAL_ALIAS>"
            )
        if person.birth and person.birth_precision == "day":
            out.append(
                "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE>"
                f"<DATE>{person.birth.isoformat()}</DATE></INDIVIDUAL_DATE_OF_BIRTH>"
            )
        elif person.birth:
            out.append(
                "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE>"
                f"<YEAR>{person.birth.year}</YEAR></INDIVIDUAL_DATE_OF_BIRTH>"
            )
        out.append("</INDIVIDUAL>")
    out.append("</INDIVIDUALS><ENTITIES>")
    for number in range(entities):
        out.append(
            f"<ENTITY><DATAID>{7000000 + number}</DATAID><FIRST_NAME>ENTITY {number}</FIRST_NAME>"
            f"<UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDe.{number:03d}</REFERENCE_NUMBER>"
            "</ENTITY>"
        )
    out.append("</ENTITIES></CONSOLIDATED_LIST>")
    return "\n".join(out).encode()


def fixture_documents() -> dict[str, bytes]:
    """The small synthetic fixtures of tests/data/sanctions/synthetic, by file name (fast workflow tests)."""
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data" / "sanctions" / "synthetic"
    return {name: (data / name).read_bytes() for name in ("sdn.csv", "alt.csv", "un_consolidated.xml")}


# -- applicants who are not on the list ------------------------------------------------------------

# The locales make_people() draws listed names from. Applicants never come from these pools:
# drawing both sides from one small pool would measure how often the pool repeats itself,
# not how well the matcher tells people apart.
LIST_LOCALES = frozenset(["ru_RU", "uk_UA", "zh_CN", "ko_KR", "es_MX", "tr_TR", "fr_FR"])

# A European bank's applicants (locale, share, ICAO nationality). About two thirds
# European; a third from the regions the lists are mostly made of (North Africa and the
# Middle East, South and Central Asia, the former Soviet Union, China, Latin America),
# each from a Faker locale with its own name pool, written in Latin as on a passport's MRZ.
# Common names are shared across locales as in life (Mohamed, Ali, Maria, Chen, Garcia),
# which is what screening must cope with.
APPLICANT_POPULATION: tuple[tuple[str, float, str], ...] = (
    ("en_GB", 0.12, "GBR"),
    ("en_IE", 0.03, "IRL"),
    ("de_DE", 0.09, "D"),
    ("de_AT", 0.02, "AUT"),
    ("fr_BE", 0.03, "BEL"),
    ("fr_CH", 0.02, "CHE"),
    ("nl_NL", 0.04, "NLD"),
    ("it_IT", 0.05, "ITA"),
    ("es_ES", 0.05, "ESP"),
    ("pt_PT", 0.03, "PRT"),
    ("pl_PL", 0.05, "POL"),
    ("cs_CZ", 0.02, "CZE"),
    ("ro_RO", 0.03, "ROU"),
    ("hu_HU", 0.02, "HUN"),
    ("el_GR", 0.02, "GRC"),
    ("sv_SE", 0.02, "SWE"),
    ("da_DK", 0.01, "DNK"),
    ("fi_FI", 0.01, "FIN"),
    ("hr_HR", 0.01, "HRV"),
    ("lt_LT", 0.01, "LTU"),
    # the regions the lists are mostly made of (LIST_REGION_LOCALES), none from LIST_LOCALES
    ("fr_DZ", 0.06, "DZA"),  # Maghreb names in French transliteration
    ("en_PK", 0.04, "PAK"),  # Arabic-derived given names in English transliteration
    ("az_AZ", 0.02, "AZE"),
    ("uz_UZ", 0.02, "UZB"),
    ("ha_NG", 0.01, "NGA"),
    ("id_ID", 0.01, "IDN"),
    ("bg_BG", 0.02, "BGR"),  # Cyrillic, transliterated
    ("mk_MK", 0.01, "MKD"),
    ("hy_AM", 0.01, "ARM"),
    ("ka_GE", 0.01, "GEO"),
    ("zh_TW", 0.02, "CHN"),
    ("en_IN", 0.02, "IND"),
    ("es_CO", 0.02, "COL"),
    ("es_AR", 0.01, "ARG"),
    ("pt_BR", 0.02, "BRA"),
)
assert not LIST_LOCALES & {locale for locale, _, _ in APPLICANT_POPULATION}
LIST_REGION_LOCALES = frozenset(
    ["fr_DZ", "en_PK", "az_AZ", "uz_UZ", "ha_NG", "id_ID", "bg_BG", "mk_MK", "hy_AM", "ka_GE", "zh_TW", "en_IN"]
    + ["es_CO", "es_AR", "pt_BR"]
)


@dataclass(frozen=True)
class NonListedApplicant:
    name: str
    birth: dt.date
    nationality: str | None  # ICAO code, as the application carries it
    locale: str


class ApplicantNames:
    """Invented applicants, independent of the listed names' pools (see APPLICANT_POPULATION)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.fakers = {}
        for number, (locale, _, _) in enumerate(APPLICANT_POPULATION):
            fake = Faker(locale)
            fake.seed_instance(rng.randrange(1 << 30) + number)
            self.fakers[locale] = fake
        self.weights = [share for _, share, _ in APPLICANT_POPULATION]

    def applicant(self) -> NonListedApplicant:
        rng = self.rng
        locale, _, nationality = rng.choices(APPLICANT_POPULATION, weights=self.weights)[0]
        fake = self.fakers[locale]
        female = rng.random() < 0.5
        first = fake.first_name_female if female and hasattr(fake, "first_name_female") else fake.first_name
        parts = [first()]
        shape = rng.random()
        if shape < 0.3:  # a second given name
            parts.append(first())
        parts.append(fake.last_name())
        if shape > 0.85:  # two surnames (Iberian, Latin American) or a double-barrelled one
            parts.append(fake.last_name())
        name = anyascii(" ".join(parts))
        birth = dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))
        return NonListedApplicant(name, birth, nationality if rng.random() < 0.9 else None, locale)

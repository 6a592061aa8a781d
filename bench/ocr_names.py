"""Names the OCR engine was never tuned on, for the read-rate bench (issue 19).

Two pools:

- ``sanctions``: the individuals of two real lists (OFAC SDN, 2024-05-03; UN Security Council consolidated,
  2020-03-20), surname and given names as the lists print them. ``bench/data/sanctioned_names.csv`` holds only
  the names, extracted by ``python -m bench.ocr_names --extract /work/shared/sanctions`` (provenance in
  ``bench/data/README.md``).
- ``faker``: Faker's people for zh_CN, ko_KR, vi_VN, ar_AA, ru_RU, uk_UA and es_ES, romanised as a passport's
  visual zone prints them (Faker's own romanisation for Chinese; anyascii, ISC, for Hangul, Arabic and
  Cyrillic; accents kept, for ICAO's transliteration to remove), seeded from the bench's seed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "sanctioned_names.csv"
FAKER_LOCALES = ("zh_CN", "ko_KR", "vi_VN", "ar_AA", "ru_RU", "uk_UA", "es_ES")


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("-0-", "")).strip(" ,.")


def extract(shared: Path) -> list[tuple[str, str, str]]:
    """(surname, given names, list) for every individual of the SDN and UN lists."""
    names: list[tuple[str, str, str]] = []
    with (shared / "sdn.csv").open(encoding="latin-1", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) > 2 and row[2].strip().strip('"') == "individual":
                surname, _, given = row[1].partition(",")
                if _clean(surname):
                    names.append((_clean(surname), _clean(given), "OFAC SDN"))
    root = ET.parse(shared / "un_consolidated.xml").getroot()
    for person in root.iter("INDIVIDUAL"):
        parts = [_clean(person.findtext(tag) or "") for tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
        parts = [p for p in parts if p]
        if parts:
            names.append((parts[0], " ".join(parts[1:]), "UN consolidated"))
    return names


def sanctioned() -> list[tuple[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        return [(row["surname"], row["given_names"]) for row in csv.DictReader(handle)]


def romanised(text: str) -> str:
    from anyascii import anyascii

    # Accented Latin letters stay (Vietnamese, Spanish): the MRZ's own transliteration removes them.
    return "".join(c if ord(c) < 0x250 else anyascii(c) for c in text).strip()


def faker_people(seed: int, count: int) -> list[tuple[str, str, str]]:
    """``count`` (surname, given names, locale), the locales in turn."""
    from faker import Faker

    fakers = {locale: Faker(locale) for locale in FAKER_LOCALES}
    for i, fake in enumerate(fakers.values()):
        fake.seed_instance(seed * 1000 + i)
    people = []
    for i in range(count):
        locale = FAKER_LOCALES[i % len(FAKER_LOCALES)]
        fake = fakers[locale]
        if locale == "zh_CN":
            surname, given = fake.last_romanized_name(), fake.first_romanized_name()
        else:
            surname, given = romanised(fake.last_name()), romanised(fake.first_name())
            if locale == "ko_KR":  # GimJeongHui -> Gim, Jeong Hui: one word a syllable, as passports print it
                given = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", given)
        people.append((surname, given, locale))
    return people


def pool(kind: str, seed: int, count: int) -> list[tuple[str, str, str]]:
    """``count`` names for pages: (surname, given names, where from), drawn reproducibly from ``seed``."""
    rng = random.Random(f"names-{seed}")
    listed = [(s, g, "sanctions") for s, g in sanctioned()] if kind in ("sanctions", "mixed") else []
    fake = faker_people(seed, count) if kind in ("faker", "mixed") else []
    if kind == "sanctions":
        return [rng.choice(listed) for _ in range(count)]
    if kind == "faker":
        return fake
    return [rng.choice(listed) if i % 2 == 0 else fake[i] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description="Extract the sanctioned individuals' names for the OCR bench")
    parser.add_argument("--extract", type=Path, required=True, help="the folder of sdn.csv and un_consolidated.xml")
    args = parser.parse_args()
    names = extract(args.extract)
    DATA.parent.mkdir(parents=True, exist_ok=True)
    with DATA.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["surname", "given_names", "list"])
        writer.writerows(names)
    digest = hashlib.sha256(DATA.read_bytes()).hexdigest()
    print(f"wrote {DATA} ({len(names)} individuals, sha256 {digest})")


if __name__ == "__main__":
    main()

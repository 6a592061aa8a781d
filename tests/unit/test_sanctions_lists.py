"""The list parsers and validation, on the synthetic fixtures in OFAC's and the UN's formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from chalicelib.domain.sanctions import (
    OFAC_SDN,
    UN_SC,
    BirthDate,
    DateMatch,
    ListFormatError,
    ListRefused,
    ParsedList,
    parse_sdn,
    parse_un,
    validate,
)
from chalicelib.domain.sanctions.ofac import parse_birth_dates, parse_nationalities

DATA = Path(__file__).parents[1] / "data" / "sanctions" / "synthetic"  # small invented fixtures: formats, edge cases
REAL = Path(__file__).parents[1] / "data" / "sanctions"  # the real OFAC and UN snapshots (README there)


def sdn() -> ParsedList:
    return parse_sdn((DATA / "sdn.csv").read_text(encoding="latin-1"), (DATA / "alt.csv").read_text(encoding="latin-1"))


def test_sdn_reads_individuals_with_aliases_dates_nationalities_and_programmes():
    parsed = sdn()
    assert parsed.source == OFAC_SDN
    assert parsed.record_count == 7  # entities and vessels counted, not screened
    by_id = {e.entry_id: e for e in parsed.entries}
    assert sorted(by_id) == ["1001", "1003", "1005", "1006", "1007"]
    karim = by_id["1001"]
    assert karim.name == "AL-RASHIDI, Karim Yusuf"
    assert karim.aliases == ("AL RASHIDI, Kareem", "RASHIDI, Karim Yousef")
    assert karim.programmes == ("SDGT", "IRGC")
    assert karim.nationalities == ("IRQ",)
    assert karim.birth_dates == (BirthDate(1960, 1960, 1, 12), BirthDate(1961, 1961))
    assert by_id["1003"].birth_dates == (BirthDate(1958, 1958, circa=True),)
    assert by_id["1003"].nationalities == ("RUS",)
    assert by_id["1005"].birth_dates == (BirthDate(1970, 1972),)
    assert by_id["1005"].nationalities == ("PRK",)
    assert by_id["1007"].birth_dates == () and by_id["1007"].nationalities == ()  # remarks "-0-" is null


def test_sdn_without_alt_file_still_parses():
    parsed = parse_sdn((DATA / "sdn.csv").read_text(encoding="latin-1"))
    assert all(e.aliases == () for e in parsed.entries)


@pytest.mark.parametrize(
    "text",
    [
        "",  # an empty download
        "<html><body>Service unavailable</body></html>",  # an error page served with 200
        '1001,"ONLY, Three","individual"\r\n',  # truncated columns
        'abc,"X","individual","SDGT","-0-","-0-","-0-","-0-","-0-","-0-","-0-","-0-"\r\n',
    ],
)
def test_broken_sdn_files_are_refused(text):
    with pytest.raises(ListFormatError):
        parse_sdn(text)


@pytest.mark.parametrize(
    "remarks, expected",
    [
        ("DOB 12 Jan 1960; POB x.", (BirthDate(1960, 1960, 1, 12),)),
        ("DOB Jan 1960.", (BirthDate(1960, 1960, 1),)),
        (
            "DOB circa 1955; alt. DOB circa 1957;",
            (BirthDate(1955, 1955, circa=True), BirthDate(1957, 1957, circa=True)),
        ),
        ("DOB 1960 to 1962;", (BirthDate(1960, 1962),)),
        ("Passport 123; nationality Iran", ()),
    ],
)
def test_birth_dates_in_remarks(remarks, expected):
    assert parse_birth_dates(remarks) == expected


def test_nationalities_in_remarks_map_to_alpha3_and_ignore_unknown_countries():
    assert parse_nationalities("nationality Iran; citizen Syria; nationality Atlantis;") == ("IRN", "SYR")


def test_birth_date_text_round_trips_and_grades_a_real_date():
    for text in ("1960-01-12", "1960", "~1955", "1960..1962", "1960-03"):
        assert BirthDate.from_text(text).to_text() == text
    listed = BirthDate(1960, 1962)
    assert listed.compare(dt.date(1961, 5, 5)) is DateMatch.YEAR
    assert listed.compare(dt.date(1963, 5, 5)) is DateMatch.NEAR
    assert listed.compare(dt.date(1990, 5, 5)) is DateMatch.DIFFERENT
    exact = BirthDate(1960, 1960, 1, 12)
    assert exact.compare(dt.date(1960, 1, 12)) is DateMatch.EXACT
    assert exact.compare(dt.date(1960, 1, 13)) is DateMatch.NEAR
    assert exact.compare(dt.date(1961, 1, 12)) is DateMatch.DIFFERENT


def test_un_list_reads_individuals_skips_low_quality_aliases_and_counts_entities():
    parsed = parse_un((DATA / "un_consolidated.xml").read_bytes())
    assert parsed.source == UN_SC and parsed.record_count == 3
    assert parsed.published == "2026-11-01T00:00:00.000Z"
    hamid, ri = parsed.entries
    assert hamid.name == "HAMID NASIR AL-DULAYMI"
    assert hamid.entry_id == "QDi.901" and hamid.programmes == ("Al-Qaida",)
    assert hamid.aliases == ("Hamed Nasser al-Dulaimi", "حامد ناصر الدليمي")  # "Abu Hamid" is Low quality
    assert hamid.birth_dates == (BirthDate(1971, 1971, 7, 4), BirthDate(1970, 1970, circa=True))
    assert hamid.nationalities == ("IRQ",)
    assert ri.name == "RI CHOL SU" and ri.nationalities == ("PRK",) and ri.birth_dates == (BirthDate(1961, 1963),)


@pytest.mark.parametrize("xml", [b"", b"<html>oops</html>", b"<CONSOLIDATED_LIST></CONSOLIDATED_LIST>", b"<CONSOL"])
def test_broken_un_documents_are_refused(xml):
    with pytest.raises(ListFormatError):
        parse_un(xml)


def test_validation_refuses_a_list_that_shrank_too_much_and_accepts_growth():
    parsed = sdn()  # 7 records
    validate(parsed, last_good_count=None, max_shrink=0.1)
    validate(parsed, last_good_count=7, max_shrink=0.1)
    validate(parsed, last_good_count=3, max_shrink=0.1)  # growth
    with pytest.raises(ListRefused) as refused:
        validate(parsed, last_good_count=10, max_shrink=0.2)  # 30 % smaller
    assert refused.value.source == OFAC_SDN and "30%" in refused.value.reason


def test_validation_refuses_a_list_without_individuals():
    with pytest.raises(ListRefused):
        validate(ParsedList(OFAC_SDN, (), record_count=5000), last_good_count=None, max_shrink=0.1)

"""Issue 20, eighth shift: transliteration folds found in the benchmark's misses (tune split), one test per fold.

Each fold is checked where it acts (normalise.skeleton / token_similarity, over generated inputs) and through
screening, with a small index of the real list's own spellings; each test fails without its fold.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.checks import Outcome
from chalicelib.domain.sanctions import (
    OFAC_SDN,
    Applicant,
    BirthDate,
    ListEntry,
    ScreeningIndex,
    ScreeningPolicy,
    find_candidates,
    screen,
)
from chalicelib.domain.sanctions.index import token_keys
from chalicelib.domain.sanctions.normalise import OPTIONAL, compounds, skeleton, unglued, without_abd, words
from chalicelib.domain.sanctions.similarity import token_similarity


def small(*entries: ListEntry) -> ScreeningIndex:
    padding = [ListEntry(OFAC_SDN, f"p{n}", f"PADDING, Person{n} Other{n}") for n in range(30)]
    return ScreeningIndex([*entries, *padding], {}, "t")


# -- Korean syllables: the North's aspirate spellings ph/th/kh in a one-syllable word ----------------------------

ONSET_PAIRS = [("ph", "p"), ("th", "t"), ("kh", "k")]
VOWELS = ["a", "ae", "ya", "o", "yo", "eo", "yeo", "u", "yu", "i", "e", "ye", "wa", "wo", "oe", "ui"]
FINALS = ["", "k", "n", "l", "m", "p", "ng"]


@given(st.sampled_from(ONSET_PAIRS), st.sampled_from(VOWELS), st.sampled_from(FINALS))
def test_one_korean_syllable_with_the_norths_aspirate_spelling_shares_a_skeleton(onsets, vowel, final):
    north, south = (onset + vowel + final for onset in onsets)
    assert skeleton(north) == skeleton(south), (north, south)
    assert token_similarity(north, south) >= 0.95, (north, south)


@pytest.mark.parametrize("a, b", [("seung", "sung"), ("woo", "u"), ("young", "yong"), ("hyeon", "hyon")])
def test_korean_vowel_spellings_of_one_syllable_share_a_skeleton(a, b):
    assert skeleton(a) == skeleton(b)


def test_ph_in_a_longer_word_is_still_f():
    assert skeleton("mustapha") == skeleton("mustafa") and skeleton("philip") == skeleton("filip")


@pytest.mark.parametrize("a, b", [("chang", "zhang"), ("kim", "gim"), ("ri", "li")])
def test_the_plain_onsets_are_not_folded(a, b):
    # Folding MR k/t/p/ch with RR g/d/b/j found the lists' own Korean spellings (Je/Che 83 -> 98) but made the
    # Wade-Giles Chang the Pinyin Zhang and every Gim a Kim: the lists' cultures were flagged 1 -> 4 of 2,600 on
    # a held-out seed (report split, 211), over the 0.1 % target; kept out until a fold can be culture-aware
    assert skeleton(a) != skeleton(b)


@pytest.mark.parametrize("listed, typed", [("KANG, P'il-Hun", "KANG, Phil Hun"), ("THAE, Yong Ho", "Tae Yong Ho")])
def test_a_korean_name_with_the_norths_aspirate_spelling_scores_as_a_transliteration(listed, typed):
    # "Phil" folded to "fil" by the general rules: 91.7 before
    index = small(ListEntry(OFAC_SDN, "1", listed))
    found = find_candidates(index, Applicant((typed,)), ScreeningPolicy())
    assert found and found[0].name_score >= 95, (listed, typed, found and found[0].name_score)
    assert screen(index, Applicant((typed,))).outcome is Outcome.REVIEW


# -- theophoric endings: -ullah / -ollah ("of God"), -uddin / -eddine ("of the faith") ---------------------------

STEMS = ["ghodrat", "kamal", "habib", "najib", "salah", "jalal", "shams", "rahmat", "hamid", "fazl", "saif"]
ENDINGS = ["ullah", "ollah", "allah", "ulla", "uddin", "oddin", "eddin", "eddine", "udin", "uddeen", "aldin"]


@given(st.sampled_from(STEMS), st.sampled_from(ENDINGS))
def test_a_theophoric_ending_left_off_is_the_same_name(stem, ending):
    # ZARGARI, Ghodrat / ZARGARI, Ghodratollah and NABIZADA, Kamal / NABIZADA, Kamaluddin: the lists' own aliases
    assert unglued(stem + ending) == stem
    assert token_similarity(stem + ending, stem) >= 0.9
    assert token_similarity(stem, stem + ending) >= 0.9


@pytest.mark.parametrize("word", ["nuruddin", "abdallah", "paula", "allah", "ziaullah", "baudin"])
def test_a_theophoric_ending_leaves_at_least_four_letters_and_is_not_a_particle_strip(word):
    assert unglued(word) is None  # "Nuruddin" is not "Nur"; Abdallah is canonical (normalise._ALLAH)


def test_a_theophoric_ending_does_not_lead_blocking_to_every_name_of_its_stem():
    # "Aminullah" filed under "amin"'s keys made it a lead to every Amin, too many to score on one shared part
    assert "t:amin" not in token_keys("aminullah")
    assert "t:berg" in token_keys("vandenberg")  # a glued particle still does


@pytest.mark.parametrize(
    "listed, typed",
    [("ZARGARI, Ghodrat", "Ghodratollah Zargari"), ("NABIZADA, Kamaluddin Gulam", "Kamal Nabizada")],
)
def test_a_real_alias_without_or_with_its_theophoric_ending_is_found(listed, typed):
    index = small(ListEntry(OFAC_SDN, "1", listed))
    found = find_candidates(index, Applicant((typed,)), ScreeningPolicy())
    assert found and found[0].name_score >= 85, (listed, typed, found and found[0].name_score)


# -- re-readings: three words around a short one, an honorific glued to the name -------------------------------


@pytest.mark.parametrize(
    "listed, typed",
    [
        ("ZIA-UR-RAHMAN MADANI", "Ziaurrahman Madani"),  # a real UN alias, held out: 68.6 before
        ("QADHAFI, Saif al Islam", "Saifalislam Qadhafi"),
        ("IMANI, Seyyed Zia", "Seyyedzia Imani"),  # an honorific written glued to the given name: 67.2 before
    ],
)
def test_a_name_written_as_one_word_across_a_short_word_or_an_honorific_is_found(listed, typed):
    index = small(ListEntry(OFAC_SDN, "1", listed))
    found = find_candidates(index, Applicant((typed,)), ScreeningPolicy())
    assert found and found[0].name_score >= 85, (listed, typed, found and found[0].name_score)


@given(
    st.lists(st.text("abcdehikmnorstuz", min_size=3, max_size=7), min_size=2, max_size=3),
    st.text("aeiludr", min_size=1, max_size=2),
)
def test_three_neighbours_around_a_short_word_are_read_as_one(outer, short):
    written = [outer[0], short, *outer[1:]]
    name = " ".join(written)
    if words(name) != tuple(written) or any(w in OPTIONAL for w in written):
        return  # titles, kunyas, particles: read by their own rules
    assert (written[0] + short + written[2]) in {t for reading in compounds(name) for t in reading}


# -- an "Abd al-" name by its second half ------------------------------------------------------------------------


@given(st.sampled_from(["aziz", "majid", "rahman", "karim", "samad", "hadi", "qadir", "wahid"]))
def test_an_abd_name_without_its_abd_is_a_weaker_likeness_than_a_spelling(name):
    assert without_abd("abd" + name) == name
    assert 0.75 <= token_similarity(name, "abd" + name) < 0.9  # below an equal sound (0.9): another form
    assert without_abd("abdallah") is None and without_abd("abdali") is None  # a name of its own; too short


@pytest.mark.parametrize(
    "listed, typed", [("HAQQANI, Abdul Aziz", "HAQQANI, Aziz"), ("MAJID, Hafiz Abdul", "Hafiz Majid")]
)
def test_an_abd_name_written_without_abd_is_found_with_the_birth_year(listed, typed):
    # both 84.3-84.9 before: a listed alias (HAQQANI) and a generated missing middle name (MAJID)
    entry = ListEntry(OFAC_SDN, "1", listed, birth_dates=(BirthDate(1972, 1972),))
    result = screen(small(entry), Applicant((typed,), dt.date(1972, 6, 1)))
    assert result.outcome is Outcome.REVIEW, result.details


def test_abu_is_never_left_off():
    assert without_abd("abubakr") is None
    assert token_similarity("bakr", "abubakr") == token_similarity("bakr", "abxbakr")  # edit distance alone


# -- Russian transliterations: Ye / E, -ij / -iy ------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [  # the real list's own pairs (OFAC aliases of one person)
        ("alekseyevich", "alekseevich"),
        ("nikolayev", "nikolaev"),
        ("matviyenko", "matvienko"),
        ("yevgeniy", "evgeny"),
        ("yelena", "elena"),
        ("valerij", "valeriy"),
        ("moskovskij", "moskovsky"),
    ],
)
def test_russian_transliterations_share_a_skeleton(a, b):
    assert skeleton(a) == skeleton(b), (a, b)


@pytest.mark.parametrize("a, b", [("yehia", "ehia"), ("seoyeong", "seoeong")])
def test_ye_is_not_folded_where_it_is_not_russian(a, b):
    # Yehia is Yahya, not Ehia; the Korean "Seoyeong" folded to "Song" and flagged a Choe Seoyeong as CHOE Song Il
    assert skeleton(a) != skeleton(b)


# -- Belarusian and Russian spellings of one East Slavic name (tenth shift) ----------------------------------------

RUSSIAN_STEM = st.text(alphabet="bdglmnprtv", min_size=1, max_size=3).flatmap(
    lambda consonants: st.lists(st.sampled_from("aeiou"), min_size=len(consonants), max_size=len(consonants)).map(
        lambda vowels: "".join(c + v for c, v in zip(consonants, vowels, strict=True)) + consonants[-1]
    )
)


def belarusian(russian: str) -> str:
    """How BGN/PCGN writes the Belarusian form of a Russian stem's consonants: g is h, d is dz."""
    return russian.replace("g", "h").replace("d", "dz")


@given(RUSSIAN_STEM)
def test_a_belarusian_patronymic_and_surname_share_a_skeleton_with_the_russian_ones(stem):
    # "Ihnatavich" / "Ignatovich", "Henadzievich" / "Gennadievich", "Novikau" / "Novikov"
    assert skeleton(belarusian(stem) + "avich") == skeleton(stem + "ovich"), stem
    assert skeleton(belarusian(stem) + "au") == skeleton(stem + "ov"), stem
    assert token_similarity(belarusian(stem) + "avich", stem + "ovich") >= 0.95, stem


@pytest.mark.parametrize("a, b", [("tkachou", "tkachev"), ("zhukau", "zhukov"), ("charnyshou", "charnyshov")])
def test_a_belarusian_surname_after_a_hushing_letter_is_the_russian_one(a, b):
    assert skeleton(a) == skeleton(b)


@pytest.mark.parametrize("a, b", [("hassan", "gassan"), ("hamid", "gamid"), ("haidar", "gaidar"), ("hanna", "ganna")])
def test_h_is_not_g_outside_an_east_slavic_word(a, b):
    # "Hassan" is not "Ghassan": only a patronymic or an -au/-ou/-ava surname is read as Belarusian
    assert skeleton(a) != skeleton(b)


@pytest.mark.parametrize(
    "listed, typed",
    [
        ("NOVIKAU, Siarhei Ihnatavich", "Sergey Ignatovich Novikov"),
        ("TKACHOU, Alyaksandr Henadzievich", "Aleksandr Gennadievich Tkachev"),
    ],
)
def test_the_russian_spelling_of_a_name_listed_in_belarusian_is_flagged(listed, typed):
    # the real list's own pairs (OFAC SDN: both spellings of one person); 77 and 84.5 before the fold
    entry = ListEntry(OFAC_SDN, "1", listed, birth_dates=(BirthDate.from_text("1968"),), nationalities=("BLR",))
    found = find_candidates(small(entry), Applicant((typed,)), ScreeningPolicy())
    assert found and found[0].name_score >= 85, (listed, typed, found and found[0].name_score)
    applicant = Applicant((typed,), dt.date(1968, 3, 4), "BLR", "M")
    assert screen(small(entry), applicant).outcome is Outcome.REVIEW


# -- Pinyin: zh and j are two initials, not one sound in two schemes (tenth shift) --------------------------------

PINYIN_FINALS = ["a", "e", "i", "u", "ai", "ao", "an", "en", "ang", "eng", "ong", "ou", "uo", "ui", "un", "uan"]


@given(st.sampled_from(PINYIN_FINALS), st.sampled_from(["", "cheng", "wei", "min", "hua", "ling"]))
def test_a_pinyin_word_with_zh_is_not_the_one_with_j(final, second):
    # "Zhicheng" is not "Jicheng", "Zhang" not "Jang": the Russian zh/j fold is wrong for Chinese names
    assert skeleton("zh" + final + second) != skeleton("j" + final + second)


@pytest.mark.parametrize("a, b", [("zhukov", "joukov"), ("zhirinovsky", "jirinovski"), ("zhenzhurist", "jenjurist")])
def test_a_russian_zh_is_still_the_french_j(a, b):
    assert skeleton(a) == skeleton(b)


def test_a_chinese_name_with_zh_is_not_flagged_as_the_listed_one_with_j():
    # the general population's false positive (seed 307, n=10,000): name 97 before, 85.1 with a birth year 12 off
    # (-15) and the same country (+3); now a letter apart in the given name, as Zhicheng and Jicheng are
    entry = ListEntry(
        OFAC_SDN, "16818", "ZHANG, Jicheng", birth_dates=(BirthDate.from_text("1973-11-12"),), nationalities=("CHN",)
    )
    found = find_candidates(small(entry), Applicant(("ZhiCheng Zhang",)), ScreeningPolicy(), floor=0)
    assert not found or found[0].name_score < 95, found[0].name_score
    assert screen(small(entry), Applicant(("ZhiCheng Zhang",), dt.date(1985, 5, 5), "CHN")).outcome is Outcome.PASS

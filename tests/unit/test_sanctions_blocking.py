"""Which listed names an applicant is scored against, and which re-readings of the applicant's name are scored
(ScreeningIndex.candidates_of, ScreeningIndex.rereadings): the p99 tail was long names re-read many ways and names
of which one part led to thousands of listed names."""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.sanctions import OFAC_SDN, ListEntry, ParsedList, ScreeningIndex
from chalicelib.domain.sanctions.index import MAX_REREADINGS
from chalicelib.domain.sanctions.normalise import compounds, tokens
from chalicelib.domain.sanctions.similarity import Words, _within, near_words, token_similarity


@functools.cache
def index() -> ScreeningIndex:
    entries = [
        ListEntry(OFAC_SDN, "1", "MOHAMMAD, Dawood"),
        ListEntry(OFAC_SDN, "2", "MOHAMMAD, Ali Hassan"),
        ListEntry(OFAC_SDN, "3", "YANUKOVICH, Viktor"),
        ListEntry(OFAC_SDN, "4", "KIM, Hongsop"),
        ListEntry(OFAC_SDN, "5", "SALAH AHMAD, Khalid"),
        ListEntry(OFAC_SDN, "6", "MOHAMMAD"),
        ListEntry(OFAC_SDN, "7", "PETROVICH, Ivan"),
    ]
    return ScreeningIndex.build([ParsedList(OFAC_SDN, tuple(entries), len(entries))], built_at="t")


def candidates(name: str) -> set[str]:
    idx = index()
    ids = idx.candidates_of((tokens(name), *idx.rereadings(name)), rare_limit=0)
    return {idx.entries[idx.names[n].entry].entry_id for n in ids}


def test_a_part_like_nothing_listed_does_not_make_every_name_of_the_other_part_a_candidate():
    """'Luchezar Yanukovich': Luchezar leads nowhere, so Yanukovich alone used to lead to every listed Yanukovich
    (and, by its ending, every -vich: 2,329 names on the real list); two name parts that share one are one shared
    part, as when both lead somewhere. A listed name of one part is still a candidate."""
    assert "3" not in candidates("Luchezar Yanukovich")
    assert "3" in candidates("Viktor Yanukovich")
    assert "3" in candidates("Yanukovich")  # one part to go by: every name it leads to
    assert "6" in candidates("Mohammad Zzyzx")  # a listed name of one part


def test_an_initial_is_a_shared_part_with_the_names_having_a_word_of_its_letter():
    """'D. Mohammad' meets 'MOHAMMAD, Dawood', not every listed Mohammad."""
    found = candidates("D. Mohammad")
    assert "1" in found and "2" not in found
    assert "2" in candidates("A. Mohammad")
    assert "2" not in candidates("D. Z. Mohammad")  # two initials are not two parts of the name


def test_a_long_name_keeps_its_likeliest_re_readings_and_no_more():
    """Khalid Abdallah Salah Ahmad Hussayn al-Umari al-Marfadi: eleven re-readings, each compared with every
    candidate's words. At most MAX_REREADINGS are scored: a fragment glued first, then a join a listed name writes
    as one word, then a join a listed name's re-reading makes."""
    idx = index()
    assert set(idx.rereadings("Kim Hong Sop")) == set(compounds("Kim Hong Sop"))  # a short name: all of them
    name = "Ivan Dawood Kim Hong Sop Ali Hassan Viktor"
    kept = idx.rereadings(name)
    assert len(compounds(name)) > MAX_REREADINGS == len(kept)
    assert ("ali", "dawood", "hassan", "hongsop", "ivan", "kim", "viktor") in kept  # KIM, Hongsop writes it
    assert any("salahahmad" in r for r in idx.rereadings("Ivan Dawood Kim Hong Salah Ahmad Zzyzx Viktor"))


@given(st.sampled_from(["Sa id Jum a", "Zia ur Rahman", "Hyo k-ch o l Kim", "Saif al Islam"]))
def test_a_re_reading_that_glues_a_fragment_of_one_or_two_letters_comes_first(name):
    long = f"{name} Ivan Dawood Viktor Hassan Khalid"
    kept = index().rereadings(long)
    fragments = [r for r in compounds(long) if any(len(w) > 2 and w not in tokens(long) for w in r)]
    assert kept and all(any(w not in tokens(long) for w in r) for r in kept)
    assert set(kept) <= set(compounds(long)) and fragments


_WORD = st.text("abdehiklmnorsuy", min_size=1, max_size=14)


@settings(max_examples=300, deadline=None)
@given(
    query=_WORD, listed=st.lists(_WORD, min_size=1, max_size=30, unique=True), floor=st.sampled_from([0.3, 0.5, 0.8])
)
def test_the_length_window_drops_no_word_that_can_reach_the_floor(query, listed, floor):
    """near_words compares a word only with the words whose length lets the edit similarity reach the cut-off:
    every word whose token_similarity reaches the floor is still named."""
    near = near_words(query, Words(listed), floor)
    for word in listed:
        if token_similarity(query, word) >= floor:
            assert word in near, (query, word, token_similarity(query, word))


def test_the_length_window_is_the_lengths_that_can_reach_the_cut_off():
    words = Words(["ab", "abcd", "abcdefgh", "abcdefghijklmnop"])
    texts, _ = _within(words.by_length(1), 8, 0.5)
    assert texts == ["abcd", "abcdefgh", "abcdefghijklmnop"]
    texts, _ = _within(words.by_length(1), 8, 0.9)
    assert texts == ["abcdefgh"]

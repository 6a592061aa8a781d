"""The screening index's filing as a public API: whether an index is filed, its filing exported and loaded into
another index of the same lists (what the local stack keeps between processes: devstack/sanctions_filing.py),
and a state that is not that index's refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from chalicelib.domain.sanctions import Applicant, ScreeningIndex, ScreeningPolicy, parse_sdn, parse_un, screen

SYNTHETIC = Path(__file__).parents[1] / "data" / "sanctions" / "synthetic"
APPLICANTS = [
    Applicant(names=("Mohamed Mostafa",), date_of_birth=dt.date(1976, 5, 2), nationality="EGY"),
    Applicant(names=("Kim Jong Un",), date_of_birth=None, nationality=None),
    Applicant(names=("Erika Mustermann",), date_of_birth=dt.date(1990, 1, 1), nationality="DEU"),
]


def fresh_index() -> ScreeningIndex:
    sdn = parse_sdn((SYNTHETIC / "sdn.csv").read_text(), (SYNTHETIC / "alt.csv").read_text())
    return ScreeningIndex.build([sdn, parse_un((SYNTHETIC / "un_consolidated.xml").read_bytes())], built_at="t")


def test_an_index_is_filed_on_first_use_and_says_so():
    index = fresh_index()
    assert not index.filed and not index.is_delta
    screen(index, APPLICANTS[0], ScreeningPolicy(review_threshold=0.85))
    assert index.filed


def test_a_filing_loaded_into_another_index_of_the_same_lists_screens_as_the_filed_one(monkeypatch):
    filed = fresh_index()
    state = filed.filed_state()  # files it first
    assert filed.filed and state["version"] == filed.version
    loaded = fresh_index()
    monkeypatch.setattr(ScreeningIndex, "_file", lambda self: pytest.fail("filed again instead of loaded"))
    loaded.load_filed(state)
    assert loaded.filed
    policy = ScreeningPolicy(review_threshold=0.85)
    for applicant in APPLICANTS:
        assert screen(loaded, applicant, policy) == screen(filed, applicant, policy)


def test_a_state_that_is_not_this_indexs_filing_is_refused():
    whole = fresh_index()
    state = whole.filed_state()
    other = ScreeningIndex(whole.entries[1:], whole.lists, "t")  # other lists: another version
    for wrong in ({**state, "version": other.version[::-1]}, {k: v for k, v in state.items() if k != "names"},
                  {**state, "extra": 1}):
        with pytest.raises(ValueError):
            fresh_index().load_filed(wrong)
    with pytest.raises(ValueError):
        other.load_filed(state)
    assert not other.filed
    delta = whole.subset([(whole.entries[0].source, whole.entries[0].entry_id)])
    assert delta.is_delta  # weighed by the whole index: its filing is not its content's alone
    with pytest.raises(ValueError):
        delta.filed_state()
    with pytest.raises(ValueError):
        delta.load_filed(state)

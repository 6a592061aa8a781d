"""The console's plain words (chalicelib/console/words.js) cover every state and event type of the domain:
an applicant reads "Being checked", never VERIFYING; a new state or event type needs its words here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.domain.checks import REQUIRED_CHECKS, Outcome
from chalicelib.domain.workflow import EventType, State

WORDS = (Path(__file__).resolve().parents[1] / "chalicelib" / "console" / "words.js").read_text()


def table(name: str) -> dict[str, str]:
    body = re.search(rf"export const {name} = \{{(.*?)\}};", WORDS, re.S)
    assert body, f"words.js has no {name}"
    return dict(re.findall(r'"?([\w.]+)"?: "([^"]+)"', body.group(1)))


@pytest.mark.no_stack
@pytest.mark.parametrize("name, codes", [
    ("STATE_WORDS", [s.value for s in State]),
    ("EVENT_WORDS", [e.value for e in EventType]),
    ("CHECK_WORDS", list(REQUIRED_CHECKS)),
    ("OUTCOME_WORDS", [o.value for o in Outcome]),
])
def test_every_code_has_words_and_the_words_are_not_the_code(name, codes):
    words = table(name)
    assert sorted(set(codes) - set(words)) == [], f"{name} lacks words for these"
    assert sorted(set(words) - set(codes)) == [], f"{name} has words for codes the domain does not have"
    for code, said in words.items():
        assert code not in said and "_" not in said, f"{name}[{code}] = {said!r} is not plain words"

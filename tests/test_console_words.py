"""The console's plain words (chalicelib/console/words.js) cover every state and event type of the domain:
an applicant reads "Being checked", never VERIFYING; a new state or event type needs its words here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.domain.checks import REQUIRED_CHECKS, Outcome
from chalicelib.domain.workflow.states import EventType, State

WORDS_PATH = Path(__file__).resolve().parents[1] / "chalicelib" / "console" / "words.js"
WORDS = WORDS_PATH.read_text()


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


#: Words that would tell an applicant of a screening (tipping off; chalicelib/domain/disclosure.py), lower-case.
TELLING = ("sanction", "screening", "watch list", "watchlist", "compliance", "same face", "duplicate",
           "another application", "other application", "second reviewer", "recommendation", "match")
#: The modules of the applicant's pages (applicant.js and what it imports); staff pages (reviewer.js, face.js,
#: sanctions.js, screening.js) keep every word.
APPLICANT_MODULES = ("applicant.js", "liveness.js", "liveness-aws.js", "timeline.js")


@pytest.mark.no_stack
def test_the_words_an_applicant_can_meet_tell_nothing_of_a_screening():
    """The API never sends an applicant the sanctions check, a screening event or a telling reason
    (tests/test_tipping_off.py); the console's own words for what it does send must not tell either."""
    from chalicelib.domain import disclosure

    shown_events = [e.value for e in EventType if disclosure.shown({"type": e.value, "actor": "system:x"})]
    shown_checks = [c for c in REQUIRED_CHECKS if c not in disclosure.WITHHELD_CHECKS]
    words = {
        **{f"STATE_WORDS[{k}]": v for k, v in table("STATE_WORDS").items()},
        **{f"EVENT_WORDS[{k}]": v for k, v in table("EVENT_WORDS").items() if k in shown_events},
        **{f"CHECK_WORDS[{k}]": v for k, v in table("CHECK_WORDS").items() if k in shown_checks},
        **{f"OUTCOME_WORDS[{k}]": v for k, v in table("OUTCOME_WORDS").items()},
        **{f"neutral {o.value}": r.message for o, r in disclosure.NEUTRAL_REASONS.items()},
    }
    console = WORDS_PATH.parent
    for module in APPLICANT_MODULES:
        code = re.sub(r"^\s*(//|\*|/\*).*$", "", (console / module).read_text(), flags=re.M)  # not the comments
        for n, literal in enumerate(re.findall(r'"([^"\n]*)"|`([^`]*)`', code)):
            words[f"{module} literal {n}"] = "".join(literal)
    told = {where: said for where, said in words.items() if any(t in said.lower() for t in TELLING)}
    assert told == {}, "an applicant could read these"
    assert "sanctions" in disclosure.WITHHELD_CHECKS and "screening.false_positive" not in shown_events
    assert "review.recommended" not in shown_events

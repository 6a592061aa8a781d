"""The OpenAPI document's pattern for free text says what the API accepts (``text.printable_pattern``).

A client, or the suite's fuzzer, that follows the document must not be refused: a reason of one no-break space
matched the old pattern (printable, one character long) and was then refused as too short once stripped.
"""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from chalicelib.api.models import Reason
from chalicelib.domain import text
from chalicelib.domain.declaration import AddressText, GivenNames

REASON = TypeAdapter(Reason)
REQUIRED = re.compile(text.printable_pattern(required=True))
ADDRESS = TypeAdapter(AddressText)
ADDRESS_LINE = re.compile(text.printable_pattern(text.ADDRESS_WHITESPACE, required=True))
GIVEN_NAMES = TypeAdapter(GivenNames)
OPTIONAL = re.compile(text.printable_pattern())

#: Blanks of every kind beside a letter and characters refused, so a draw is often blank, often not
FEW = st.sampled_from(" \t\u00a0\u1680\u2003\u202f\u3000\u200b\u00ad\u0000xé")
TEXT = st.text(FEW, max_size=6) | st.text(max_size=12)


def accepted(adapter: TypeAdapter, value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


@given(TEXT)
def test_a_reason_matches_the_documented_pattern_exactly_when_the_api_accepts_it(value):
    assume(text.longest_combining_run(value) <= 3)  # the one rule a pattern does not say (module docstring)
    assert bool(REQUIRED.fullmatch(value)) == accepted(REASON, value), repr(value)


@given(TEXT)
def test_an_address_line_matches_its_pattern_exactly_when_the_declaration_accepts_it(value):
    assume(text.longest_combining_run(value) <= 3)
    assert bool(ADDRESS_LINE.fullmatch(value)) == accepted(ADDRESS, value), repr(value)


@given(TEXT)
def test_a_given_name_may_be_blank_and_its_pattern_says_so(value):
    assume(text.longest_combining_run(value) <= 3)
    assert bool(OPTIONAL.fullmatch(value)) == accepted(GIVEN_NAMES, value), repr(value)


def test_blank_reasons_are_outside_the_pattern_and_refused():
    for blank in (" ", "\u00a0", "\t", "\u3000 \u2003"):
        assert not REQUIRED.fullmatch(blank)
        assert not accepted(REASON, blank)
    assert REQUIRED.fullmatch(" ok\u00a0") and accepted(REASON, " ok\u00a0")


def test_lone_surrogates_are_outside_every_pattern():
    for pattern in (REQUIRED, ADDRESS_LINE, OPTIONAL):
        assert not pattern.fullmatch("a\ud800b") and not pattern.fullmatch("\udfff")

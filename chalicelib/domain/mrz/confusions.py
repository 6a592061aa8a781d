"""What OCR reads OCR-B characters as, and what changing one character into another costs."""

from __future__ import annotations

from .layouts import ALLOWED, ALNUM, ALPHA, CHECK, FILLER, NAME, NUM

# What OCR-B characters are read as, per target alphabet: found -> (intended, cost).
TO_DIGIT = {
    "O": "0",
    "Q": "0",
    "D": "0",
    "U": "0",
    "I": "1",
    "L": "1",
    "J": "1",
    "T": "7",
    "Z": "27",
    "S": "58",
    "B": "83",
    "G": "6",
    "A": "4",
    "E": "3",
    "Y": "4",
    "H": "4",
}
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "4": "A", "7": "T", "3": "B", "9": "G"}
# Digits OCR swaps for each other: the cheaper guesses when a check digit disagrees.
DIGIT_SWAPS = {
    "0": "869",
    "1": "47",
    "2": "7",
    "3": "85",
    "4": "19",
    "5": "63",
    "6": "508",
    "7": "12",
    "8": "0369",
    "9": "840",
}
LETTER_SWAPS = {
    "M": "NH",
    "N": "MH",
    "H": "NM",
    "O": "DQ",
    "D": "O",
    "Q": "OG",
    "G": "QC",
    "C": "G",
    "I": "LJT",
    "L": "I",
    "T": "I",
    "E": "F",
    "F": "EP",
    "P": "FR",
    "R": "PB",
    "B": "R",
    "U": "V",
    "V": "U",
}
FILLER_LOOKALIKES = frozenset("KSCEXLZ")  # '<' as Tesseract reads it in OCR-B

#: The digit/letter twins: in a field that takes both (document numbers, optional data) the shape alone does
#: not settle them for any OCR, so one of them may be turned into its twin when a check digit says so. Every
#: flip changes the character's value by 3, 4, 6 or 7 (mod 10) -- or 0 for 6/G, which no check digit sees.
TWIN = {"0": "O", "O": "0", "Q": "0", "D": "0", "1": "I", "I": "1", "2": "Z", "Z": "2", "5": "S", "S": "5"}
TWIN.update({"8": "B", "B": "8", "6": "G", "G": "6"})

#: Twins whose values are equal modulo 10 (6 and G are 6 and 16): no check digit can tell them apart.
INVISIBLE_TWIN = {"6": "G", "G": "6", "8": "S", "S": "8", "0": "U", "U": "0", "1": "L", "L": "1", "5": "Z", "Z": "5"}

#: The letters a character read in a name (no check digit) could have been printed as: a digit there cannot
#: stand, and which letter it was only the declaration can tell (G read as 0: YANG, not YANO).
NAME_COULD_BE = {
    "0": "OQDGCU",
    "1": "ILJT",
    "2": "Z",
    "3": "BE",
    "4": "A",
    "5": "SB",
    "6": "GB",
    "7": "T",
    "8": "BS",
    "9": "G",
}

#: Letters OCR-B's shapes let an OCR read for one another, as letters (G as O, S as B, I as L...): nothing in the
#: zone can tell which one is printed in a name (no check digit protects it). A name read with one for the other
#: is the declared name read with a look-alike, never a rewrite of what was read (mrz.names.compare_name).
#: E/F and I/T are one stroke apart in OCR-B (E's foot, I's foot serif) that a photo's blur, glare or JPEG loses:
#: the most frequent letter confusions of the read-rate bench on pages nobody tuned on (issue 19).
NAME_LOOKALIKE_LETTERS = frozenset(
    frozenset(pair) for pair in ("GO", "GC", "GQ", "OQ", "OD", "DQ", "CO", "SB", "IL", "IJ", "EF", "IT")
)

CONFUSION_COST = 0.3  # a known confusion: 0 for O, K for '<'
SWAP_COST = 0.6  # a known digit/letter swap
ANY_COST = 1.0  # any other substitution
INDEL_COST = 1.0  # a character dropped or added


def sub_cost(found: str, new: str, kind: str, confidence: float) -> float:
    if found == new:
        return 0.0
    if found == "?":
        return ANY_COST * 0.5
    if kind in (NUM, CHECK) and new in TO_DIGIT.get(found, ""):
        base = CONFUSION_COST * (1.0 if TO_DIGIT[found][0] == new else 1.5)
    elif kind in (ALPHA, NAME) and TO_LETTER.get(found) == new:
        base = CONFUSION_COST
    elif new == FILLER and found in FILLER_LOOKALIKES:
        base = CONFUSION_COST
    elif found == FILLER and new in FILLER_LOOKALIKES:
        base = SWAP_COST
    elif kind == ALNUM and (new in TO_DIGIT.get(found, "") or TO_LETTER.get(found) == new):
        base = CONFUSION_COST
    elif new in DIGIT_SWAPS.get(found, "") or new in LETTER_SWAPS.get(found, ""):
        base = SWAP_COST
    else:
        base = ANY_COST
    return base * (0.4 + 0.6 * max(0.0, min(1.0, confidence)))


def alternatives(found: str, kind: str, confidence: float) -> list[tuple[str, float]]:
    allowed = ALLOWED[kind]
    return sorted(
        ((new, sub_cost(found, new, kind, confidence)) for new in allowed), key=lambda item: (item[1], item[0])
    )


def force_alphabet(text: str, kinds: list[str]) -> str:
    return "".join(c if c in ALLOWED[k] else alternatives(c, k, 1.0)[0][0] for c, k in zip(text, kinds, strict=False))

"""When two e-mail addresses may be one person's mailbox: the rule behind "a reviewer never decides
their own application".

The question asked is never "are these the same string" but "could these reach the same person". A
false "yes" costs little (another reviewer decides); a false "no" lets someone decide about
themselves. So the comparison is deliberately inclusive, and each step is what an identity provider
or a mail provider itself treats as the same:

1. Unicode NFKC, then case folding: full-width ``ｒｅｖｉｅｗｅｒ``, ligatures and case variants are one
   address (Cognito lower-cases e-mail usernames; every provider matches case-insensitively).
2. The confusable skeleton of Unicode TR39 (``confusables.txt``, shipped in ``data/``): a Cyrillic
   ``а``, a Greek ``ο`` or a mathematical ``𝐚`` becomes the Latin letter it is drawn like.
3. Combining marks dropped (after NFD): ``révièwer`` and ``reviewer`` compare equal. They are
   different mailboxes, but a person can own both, and an accent is the cheapest disguise.
4. Sub-addressing: everything from the first ``+`` in the local part is dropped, for EVERY domain.
   Gmail, Outlook, iCloud, Fastmail, Proton and most corporate servers deliver ``name+tag@`` to
   ``name@``; the few that do not lose only a false "same" (a second reviewer decides).
5. Dots in the local part are dropped only for Gmail (``gmail.com``, ``googlemail.com``, which are
   one domain): the one large provider that ignores them. Elsewhere ``a.b@`` and ``ab@`` are
   different people often enough (firstname.lastname schemes) that we keep them apart.
6. The domain: a trailing dot is dropped and IDNA's punycode form (``xn--``) is decoded, so the
   Unicode and ASCII spellings of one domain meet in step 2.

``mailbox_key`` returns the comparable form, or None for what is not an address at all.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from importlib import resources
from typing import Optional

#: Domains whose mailboxes ignore dots in the local part, and the one name they go by.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


@functools.cache
def _prototypes() -> dict[str, str]:
    """confusables.txt's source -> prototype mapping (loaded once, on the first comparison)."""
    table: dict[str, str] = {}
    text = resources.files(__package__).joinpath("data/confusables.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        source, target = line.split("\t")
        table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in target.split())
    return table


def skeleton(text: str) -> str:
    """UTS #39's skeleton: NFD, each character replaced by its prototype, NFD again."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(char, char) for char in decomposed))


def _fold(text: str) -> str:
    """NFKC, then per character case folding and the confusable skeleton, combining marks dropped.

    ASCII is folded first (``I`` is ``i``, not the ``l`` it is drawn like); anything else goes through
    the skeleton first, then folding, then the skeleton again (Cyrillic ``А`` -> ``A`` -> ``a``; ``Ь``
    is drawn like ``b``, while its small form ``ь`` is drawn like ``ƅ``: TR39's skeleton knows case).
    """
    pieces = []
    for char in unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text)):
        if char.isascii():
            pieces.append(skeleton(char.lower()))
        else:
            pieces.append(skeleton(skeleton(char).casefold()).casefold())
    folded = unicodedata.normalize("NFD", "".join(pieces))
    return "".join(char for char in folded if not unicodedata.combining(char))


def _domain(domain: str) -> str:
    labels = []
    for label in domain.rstrip(".").split("."):
        if label.startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna")
            except (UnicodeError, ValueError):
                pass  # not valid punycode: compared as written
        labels.append(label)
    return ".".join(labels)


@functools.cache
def _dotless_domains() -> dict[str, str]:
    """DOTLESS_DOMAINS in their folded form (the skeleton of ``gmail.com`` is ``grnail.corn``)."""
    return {_fold(domain): _fold(name) for domain, name in DOTLESS_DOMAINS.items()}


def mailbox_key(address: Optional[str]) -> Optional[str]:
    """The form in which two addresses that may be one mailbox are equal; None if not an address."""
    if not isinstance(address, str):
        return None
    text = unicodedata.normalize("NFKC", address).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return None
    domain = _fold(_domain(domain))
    local = local.split("+", 1)[0]
    dotless = _dotless_domains()
    if domain in dotless:
        domain = dotless[domain]
        local = local.replace(".", "")
    local = _fold(local)
    if not local:
        return None
    return f"{local}@{domain}"


def may_be_same_mailbox(first: Optional[str], others: Iterable[Optional[str]]) -> bool:
    """Whether ``first`` may reach the same mailbox as any of ``others`` (no address never matches)."""
    key = mailbox_key(first)
    return key is not None and any(mailbox_key(other) == key for other in others)

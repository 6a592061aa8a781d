"""Names to comparable tokens: Latin script, folded case and diacritics, no titles or particles.

Lists and applicants write the same person differently: "AL-BAGHDADI, Abu Bakr",
"Abu Bakr al Baghdadi", "Абу Бакр аль-Багдади". Everything the matcher compares
goes through :func:`tokens`, so both sides differ only in what fuzzy matching is
for (spelling), never in script, case, punctuation or word order.
"""

from __future__ import annotations

import functools
import re

from anyascii import anyascii

# Titles carry no identity and are never names: dropped.
TITLES = frozenset(
    ["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady"]
    + ["jr", "jnr", "sr", "snr", "ii", "iii", "iv", "eng", "engineer"]
    + ["fnu", "mnu", "lnu"]  # "first / middle / last name unknown" (Dr. Fnu Mnu Khamis)
)

# Honorifics and ranks come and go between spellings of one person's name, but some are also
# names or part of one ("HAFIZ, Saeed"; "Major"; "Qari"): kept as optional, low-weight tokens
# like particles, never deleted (deleting "Hafiz" erased a listed surname).
HONORIFICS = frozenset(
    ["sheikh", "shaykh", "shaikh", "sheik", "haji", "hajji", "hadji", "alhaj", "alhajji", "mullah", "mulla"]
    + ["maulana", "mawlana", "mawlawi", "mawlavi", "maulvi", "moulvi", "hafiz", "qari", "sayyid", "seyyed"]
    + ["seyed", "sayed", "sayyed", "syed", "seyyid", "sayid"]
    + ["general", "gen", "colonel", "col", "major", "maj", "captain", "capt", "lieutenant", "lt", "sergeant"]
    + ["sgt", "admiral", "brigadier", "commander", "cmdr"]
)

# Particles that come and go between spellings of one name ("al-Zawahiri", "Zawahiri",
# "bin Laden", "Ould Abdallah", "van der Berg"). They are optional to the matcher: one
# side may lack them at almost no cost, and they lead no search. They are not dropped:
# the Chinese given name Bin and surnames Du, Di, Da are spelt like them (see NAME_PARTICLES).
# "abu"/"abd" are not particles: they are part of the name ("Abu Bakr" is not "Bakr"), and
# joined to the word they introduce.
PARTICLES = frozenset(
    ["ould", "uld", "al", "el", "ul", "ad", "ar", "as", "at", "az", "bin", "ibn", "ben", "bint", "binti", "bte"]
    + ["van", "von", "der", "den", "ter", "de", "da", "di", "du", "del", "della", "dos", "das", "la"]
    # Turkic patronymic markers, "son of" / "daughter of" after the father's name ("Famil Kamil Ogly",
    # "Alisher Ogli", "Uulu", "Kyzy"): written or left out between spellings of one person's name
    + ["ogly", "oglu", "ogli", "ugli", "ogl", "uulu", "uly", "kyzy", "kizi", "qizi", "gizi", "gyzy", "kyzi"]
)
#: Optional to the matcher: particles and honorifics.
OPTIONAL = PARTICLES | HONORIFICS
#: Particles that are also given names or surnames ("XU, Bin", "DU, Wei"): in a name with no
#: more than one other part they are that name, not an optional particle.
NAME_PARTICLES = frozenset(["bin", "ben", "du", "di", "da", "la", "van"])

# "Abd al-Karim", "Abdul Karim", "Abdel-Karim", "Abdol Reza", "Abdelkarim": one name, written as one
# canonical token "abd" + name; "Abu Bakr", "Abou-Bakr", "Abubakr": "abu" + name.
_ABD = re.compile(r"^abd(?:u|e|ou|a|o|i)?l?$")
_ABU = re.compile(r"^ab(?:[ou]{1,3})$")
_ARTICLE = frozenset(["al", "el", "ul", "ar", "ur", "as", "ad", "an", "ash", "es", "er", "ol"])
_ABD_GLUED = re.compile(r"^abd(?:ul|el|al|ol|oul|il|u|e|ou|a|o|i)?([a-z]{3,})$")
_ABU_GLUED = re.compile(r"^ab(?:ou|u|oo)([a-z]{4,})$")
_ALLAH = re.compile(r"^abd[aeiou]?l+ah?i?$")  # Abdullah, Abdallah, Abdulla: Abd Allah
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u02bb`\u00b4]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=65536)
def tokens(name: str) -> tuple[str, ...]:
    """The name's tokens in canonical (sorted) order, particles and honorifics included; empty when
    nothing identifying is left.

    Particles stay (the Chinese given name "Bin" and surname "Du" are spelt like them)
    and the matcher treats them as optional: see :func:`core`.
    """
    return tuple(sorted(words(name)))


def _kunya(word: str) -> str | None:
    """ "abd" or "abu" when the word introduces a compound name, also with one typo ("abdlu", "abdoul")."""
    if _ABD.match(word):
        return "abd"
    if _ABU.match(word):
        return "abu"
    if word.startswith("abd") and 4 <= len(word) <= 6:
        import jellyfish  # imported where needed: `import app` (every handler's cold start) does not load it

        for form in ("abdul", "abdel", "abdal", "abdol", "abdou"):
            if jellyfish.damerau_levenshtein_distance(word, form) <= 1:
                return "abd"
    return None


def _canonical(word: str) -> str:
    """Glued compounds written the canonical way: "abdelkarim" -> "abdkarim", "abubakr" -> "abubakr"."""
    if _ALLAH.match(word):
        return "abdallah"
    glued = _ABD_GLUED.match(word)
    if glued:
        return "abd" + glued.group(1)
    glued_abu = _ABU_GLUED.match(word)
    if glued_abu:
        return "abu" + glued_abu.group(1)
    return word


@functools.lru_cache(maxsize=65536)
def words(name: str) -> tuple[str, ...]:
    """The name's words in written order (given names first): Latin, lower case, no titles,
    "Abd al-X"/"Abu X" joined into one word in either order ("HADI, Abdul" and "Abdul Hadi" agree).

    "SURNAME, Given" is read as "Given SURNAME". A kunya ("Abdul", "Abu") written last, with
    nothing after it to introduce, introduces the first word: "Hadi Abdul" is written
    surname first.
    """
    if "," in name:
        surname, given = name.split(",", 1)
        name = f"{given} {surname}"
    text = anyascii(name).lower()
    text = _APOSTROPHES.sub("", text)  # "Ma'ruf" and "Maruf" are one spelling
    raw = [w for w in _NOT_ALNUM.sub(" ", text).split() if not w.isdigit() and w not in TITLES]
    out: list[str] = []
    pending: str | None = None  # a kunya waiting for the word it introduces
    for i, word in enumerate(raw):
        kunya = _kunya(word) if len(raw) > 1 else None
        if kunya:
            if pending:
                out.append(pending)
            pending = kunya
            continue
        if pending:
            if word in _ARTICLE and i + 1 < len(raw):  # "Abd al-Karim": the article belongs to the compound
                continue
            out.append(
                "abdallah"
                if pending == "abd" and word in ("allah", "ullah", "illah", "lah", "llah")
                else pending + word
            )
            pending = None
            continue
        out.append(_canonical(word))
    if pending:
        if out and not out[0].startswith(("abd", "abu")):
            out[0] = pending + out[0]
        else:
            out.append(pending)
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def compounds(name: str) -> tuple[tuple[str, ...], ...]:
    """Other ways to read the name's words as one person writes them: two neighbours written as one
    ("Hong-Sop" / "Hongsop", "Koochak Zaie" / "Kouchakzaei", "Sa id" / "Said"), each a sorted token tuple."""
    return tuple(tuple(sorted(word for word, _ in reading)) for reading in _rereadings(name))


@functools.lru_cache(maxsize=65536)
def word_spans(name: str) -> tuple[tuple[str, frozenset[int]], ...]:
    """Every word of the name and of its re-readings (``compounds``) once, with the positions of the written
    words it spans: "Kim Hong Sop" -> kim {0}, hong {1}, sop {2}, kimhong {0, 1}, hongsop {1, 2}. Two words
    of a name are two parts of it only when their spans are disjoint (blocking: ScreeningIndex.candidates_of);
    a word written twice ("QASIM, Qasim") is two parts."""
    spans = {(word, frozenset((i,))) for i, word in enumerate(words(name))}
    for reading in _rereadings(name):
        spans.update(reading)
    return tuple(sorted(spans, key=lambda span: (min(span[1]), len(span[1]), span[0])))


def _joined(written: tuple[str, ...], start: int, end: int) -> tuple[tuple[str, frozenset[int]], ...]:
    """The words with those from ``start`` to ``end`` (excluded) written as one."""
    return (
        *((w, frozenset((k,))) for k, w in enumerate(written[:start])),
        ("".join(written[start:end]), frozenset(range(start, end))),
        *((w, frozenset((k,))) for k, w in enumerate(written[end:], end)),
    )


def _rereadings(name: str) -> list[tuple[tuple[str, frozenset[int]], ...]]:
    written = words(name)
    found = []
    for i in range(len(written) - 1):
        a, b = written[i], written[i + 1]
        if a in PARTICLES and len(b) > 2:
            continue  # "al Baghdadi" glued is "albaghdadi": see unglued (an honorific glued, "Seyyedzia", is read)
        found.append(_joined(written, i, i + 2))
        # a word of one or two letters between two others joins both ("Zia ur Rahman" / "Ziaurrahman",
        # "Saif al Islam" / "Saifalislam", "Kamal ud Din" / "Kamaluddin")
        if i + 2 < len(written) and len(b) <= 2 and len(a) > 2 and len(written[i + 2]) > 2:
            found.append(_joined(written, i, i + 3))
    # every fragment of one or two letters glued to the word before it: "Sa id Jum a" -> "Said Juma"
    glued: list[tuple[str, frozenset[int]]] = []
    for i, word in enumerate(written):
        if glued and len(word) <= 2:
            glued[-1] = (glued[-1][0] + word, glued[-1][1] | {i})
        else:
            glued.append((word, frozenset((i,))))
    if 1 < len(written) - len(glued):
        found.append(tuple(glued))
    return found


@functools.lru_cache(maxsize=65536)
def essential_tokens(listed_name: str) -> frozenset[str]:
    """The parts people hardly ever drop: of "SURNAME, Given Middle" the (first) surname and the first
    given name; of a name written in the person's own order (the UN's FIRST_NAME SECOND_NAME...),
    its first and last parts, or only the first when it has three or more and the last is not written with
    an article (a bare last part is often the father's or grandfather's name; "AL-AULAQI" is a family name).
    The matcher lets a middle name go cheaply, not these.
    """
    named = [w for w in words(listed_name) if w not in OPTIONAL]
    if "," in listed_name and named:
        # An honorific written as the surname is the surname ("HAFIZ, Saeed", "AL-SAYYED, Mohammad"):
        # essential, so never optional in this name (see screening.name_score).
        surname = [w for w in words(listed_name.split(",", 1)[0]) if w not in PARTICLES][:1]
        # the surname's word as the whole name writes it ("HADI, Abdul": "abdhadi")
        first_surname = [w for w in words(listed_name) if surname and w.endswith(surname[0])][:1]
        return frozenset(named[:1]) | frozenset(first_surname)
    if len(named) < 2:
        return frozenset()
    written = words(listed_name)
    if len(named) >= 3 and not (len(written) > 1 and written[-2] in PARTICLES):
        # FIRST SECOND THIRD...: a bare last part is often the father's or grandfather's name ("NAJIBULLAH
        # HAQQANI HIDAYATULLAH", "ABDUL HAI HAZEM ABDUL QADER"), which the person's own aliases leave out;
        # one written with its article is the family name ("ANWAR NASSER ABDULLA AL-AULAQI")
        return frozenset(named[:1])
    return frozenset((named[0], named[-1]))


def is_particle(token: str) -> bool:
    """A particle or honorific: optional unless the name is little else (see :func:`core`)."""
    return token in OPTIONAL


@functools.lru_cache(maxsize=262144)
def core(name_tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The tokens that identify: particles and honorifics left out, unless the name is little else
    ("Al"; "XU, Bin", where Bin is a given name; "HAFIZ, Saeed", where Hafiz is a surname)."""
    kept = tuple(t for t in name_tokens if t not in OPTIONAL)
    if len(kept) <= 1:
        named = tuple(t for t in name_tokens if t in NAME_PARTICLES or t in HONORIFICS)
        if named:
            return tuple(sorted(kept + named))
    return kept or name_tokens


@functools.lru_cache(maxsize=262144)
def optional_tokens(name_tokens: tuple[str, ...]) -> frozenset[str]:
    """The tokens of this name the matcher treats as optional (see :func:`core`)."""
    return frozenset(name_tokens) - frozenset(core(name_tokens))


# Particles an applicant may write glued to the name they introduce ("Almasri", "OuldAbdallah",
# "Vandenberg"); longest first, so "ould" is tried before "ul".
_GLUED = tuple(sorted(("al", "el", "ould", "bin", "ben", "ibn", "van", "von", "de", "der", "den", "del"), key=len))[
    ::-1
]


# The theophoric endings of Arabic, Persian and South-Asian compound names, which their bearers also leave off:
# "Ghodratollah" is "Ghodrat", "Kamaluddin" "Kamal", "Habibullah" "Habib" (-ullah/-ollah "of God", -uddin "of the
# faith"). Found in the lists' own aliases (ZARGARI, Ghodrat / Ghodratollah; NABIZADA, Kamal / Kamaluddin).
_THEOPHORIC = re.compile(r"^([a-z]{4,}?)(?:[uoai]llah?|[uoai]lah|[uoaei]dd?(?:in|een|ine)|aldin|aldeen)$")


@functools.lru_cache(maxsize=65536)
def unglued(token: str) -> str | None:
    """The token without the particles glued to its front ("ouldeabdallah" -> "eabdallah",
    "vandenberg" -> "berg"), if any are there; else without a theophoric ending ("ghodratollah" -> "ghodrat",
    "kamaluddin" -> "kamal"), if it has one.

    Only while at least four letters remain: "Alan", "Elena" and "Benali" are names, "Nuruddin" is not "Nur".
    """
    glued = unprefixed(token)
    if glued:
        return glued
    ending = _THEOPHORIC.match(token)
    return ending.group(1) if ending else None


def without_abd(token: str) -> str | None:
    """An "Abd al-" compound without its "Abd" ("abdaziz" -> "aziz"), when four letters remain: people named Abd
    al-Aziz go by Aziz too (the lists' own aliases: HAQQANI, Aziz for HAQQANI, Abdul Aziz). A weaker likeness
    than a spelling (token_similarity); "Abdallah" is a name of its own, and "Abu Bakr" is never "Bakr"."""
    if token.startswith("abd") and len(token) >= 7 and token != "abdallah":
        return token[3:]
    return None


@functools.lru_cache(maxsize=65536)
def unprefixed(token: str) -> str | None:
    """The token without the particles glued to its front only (what blocking files a token under besides itself:
    a theophoric ending left off would lead "Aminullah" to every "Amin" on the list)."""
    for particle in _GLUED:
        if token.startswith(particle) and len(token) - len(particle) >= 4:
            return unprefixed(token[len(particle) :]) or token[len(particle) :]
    return None


def key(name_tokens: tuple[str, ...]) -> str:
    """One string per name, identical for any order, case, script, diacritics or particles."""
    return " ".join(sorted(core(name_tokens)))


# Letters that transliteration schemes write differently for one sound (English, French,
# German, BGN/PCGN and Revised Romanization conventions): "Kh"/"H", "Dj"/"J", "ee"/"i", "w"/"v".
_SKELETON_RULES = (
    ("tch", "ch"),
    ("dzh", "j"),
    ("dj", "j"),
    ("zh", "j"),
    ("kh", "h"),
    ("gh", "g"),
    ("dh", "d"),
    ("ph", "f"),
    ("ck", "k"),
    ("q", "k"),
    ("w", "v"),
    ("ee", "i"),
    ("ea", "i"),
    ("ie", "i"),
    ("ou", "u"),
    ("oo", "u"),
    ("ae", "e"),
    ("eo", "o"),
    ("y", "i"),
    ("ts", "tz"),
)
_DOUBLED = re.compile(r"(.)\1+")

# One syllable as Korean is romanised (McCune-Reischauer, with its apostrophes and breves dropped; Revised
# Romanization; the North's official "ph"/"th"; popular spellings): onset, vowel, final consonant. Korean and
# Chinese names are written a syllable a word ("KIM, Yong-Chol", "RI, Je-Son"), and the schemes differ in the
# onset: MR writes the plain stops k/t/p/ch where RR writes g/d/b/j, and the aspirated ones k'/t'/p'/ch' (ph/th
# in the North) where RR writes k/t/p/ch (Pinyin and Wade-Giles differ the same way: Dong/Tong, Jin/Chin). In a
# word of one syllable that onset is a third of the word, and two short words a letter apart are two names to
# token_similarity, so the lists' own spellings of one Korean name (Je/Che, Pom/Bom, Kwang/Gwang, Pil/Phil,
# Ri/Li) never paired; and the general rules fold "ph" to "f", wrong for Korean "Phil".
_SYLLABLE = re.compile(
    r"^(kk|gg|tt|dd|pp|bb|jj|tch|ch|ph|th|kh|[gkndtrlmbpsjh])?"
    r"(yae|yeo|yoo|you|weo|wae|eui|woo|ae|ya|eo|ye|yo|wa|oe|oi|wo|we|wi|yu|eu|ui|oo|ou|ee|a|e|o|u|i)"
    r"(ng|[knlmpt])?$"
)
# Only the North's aspirate spellings are folded (Phil/P'il/Pil, Thae/T'ae/Tae: Chinese and other scripts never
# write ph/th there). Folding the plain onsets too (MR k/t/p/ch vs RR g/d/b/j: Kim/Gim, Chol/Jol, Ri/Li) found
# the lists' own Korean spellings (Je/Che 83 -> 98) but made Wade-Giles Chang the Pinyin Zhang and every Gim a
# Kim: on held-out seeds the lists' cultures were flagged 1 -> 4 of 2,600 (report split, seed 211), over target.
_ONSETS = {"ph": "p", "th": "t", "kh": "k"}
_SYLLABLE_VOWELS = {"eu": "u", "woo": "u", "you": "yo"}  # Seung/Sung, Woo/U, Young/Yong


def _syllable(token: str) -> str:
    """A word of one Korean-romanised syllable with its onset (and a few vowel spellings) folded: "Che" and
    "Je", "Phil" and "Pil", "Kwang" and "Gwang" agree. Particles ("bin", "al") are left as they are."""
    found = _SYLLABLE.match(token)
    if not found or token in OPTIONAL:
        return token
    onset, vowel, final = found.groups()
    return _ONSETS.get(onset or "", onset or "") + _SYLLABLE_VOWELS.get(vowel, vowel) + (final or "")


# Russian names as the English (BGN/PCGN), French, German and passport (ICAO) schemes write them, beside what the
# rules below fold already (kh/h, -iy/-y/-ii, Yu/Iu, Ya/Ia, tch/ch): Ye after a vowel or at the start is E in some
# ("Alekseyevich"/"Alekseevich", "Nikolayev"/"Nikolaev", "Yevgeniy"/"Evgeny", "Yelena"/"Elena"); a final -ij is -iy
# ("Valerij", "Moskovskij"). Not in a Korean syllable (above).
_RUSSIAN = (
    (re.compile(r"(?<=[aeiou])ye(?=v|nk)"), "e"),  # -yev, -yevich, -yevna, -yenko: not Korean "Seoyeong"
    (re.compile(r"^ye(?=[bcdfgklmnprstvz][a-z]{2})"), "e"),  # not Yehia (Yahya)
    (re.compile(r"[iy]j$"), "iy"),
)


# Belarusian names as BGN/PCGN and Belarusian passports write them, beside the Russian spellings of the same
# names (OFAC's Belarus programme lists many people both ways: "NOVIKAU, Siarhei Ihnatavich" / "NOVIKOV, Sergey
# Ignatovich", "TKACHOU, Alyaksandr Henadzievich" / "TKACHEV, Aleksandr Gennadievich"). Only in a word with an
# East Slavic ending, a patronymic (-vich/-vna) or a surname in -au/-ou/-ava (tenth shift): there h is Russian g
# (Ihnat/Ignat, Henadz/Gennad), dz is d, -avich/-avna are -ovich/-ovna, and the surname's -au (after ch/sh/zh
# also -ou, and Russian -ev, which is said -ov there) is -ov. Elsewhere h stays h: Hassan is not Gassan.
_SLAVIC_WORD = re.compile(r"(vich|vna|[^aeiou]au|[cszh]hou|[^aeiou]ava)$")
_BELARUSIAN = (
    (re.compile(r"(?<![kzsc])h"), "g"),
    (re.compile(r"dz"), "d"),
    (re.compile(r"av(?=ich$|na$)"), "ov"),
    (re.compile(r"(?<=[^aeiou])au$"), "ov"),
    (re.compile(r"(?<=[cszh]h)(ou|ev)$"), "ov"),
    (re.compile(r"(?<=[^aeiou])ava$"), "ova"),
)
_RUSSIAN_HUSHING_EV = re.compile(r"(?<=[csz]h)ev$")  # Tkachev, Gorbachev: said -ov, Belarusian -ou


def _belarusian(token: str) -> str:
    """A word with an East Slavic ending as Russian spells it ("ihnatavich" -> "ignatovich", "novikau" ->
    "novikov", "tkachou" and "tkachev" -> "tkachov"); any other word as it is."""
    if _RUSSIAN_HUSHING_EV.search(token):
        return _RUSSIAN_HUSHING_EV.sub("ov", token)
    if not _SLAVIC_WORD.search(token):
        return token
    for pattern, replacement in _BELARUSIAN:
        token = pattern.sub(replacement, token)
    return token


# A word of one to three Pinyin syllables: Chinese names are written so ("ZHANG, Jicheng", "Zhicheng"). There zh and
# j are two different initials (Zhang / Jiang, Zhicheng / Jicheng), never one sound in two schemes as Russian
# Zh / French J is (Zhukov / Joukov): the zh/j fold below made "ZhiCheng Zhang" the listed "ZHANG, Jicheng" (tenth
# shift, the general population). Wade-Giles has no zh and writes Pinyin j as ch, so nothing is lost there.
_PINYIN = re.compile(
    r"^(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|ai|ao|an|ei|en|er|ia|ie|in|iu|ou|ua|ue|ui|un|uo|a|e|i|o|u)"
    r"|ang|eng|ai|an|ao|ei|en|er|ou|a|e|o){1,3}$"  # a syllable without an initial: only these (else y/w is written)
)


# The Prophet's name, the commonest given name on the lists, in its Latin spellings and the abbreviations people
# write on documents: Mohd and Muhd (Malaysia, the Gulf), Md (Bangladesh), Mhd (Syria). The lists' own aliases
# write one person so ("FAIZ, Mohd Karim Yusop" / "FAIZ, Mohammed Karim Yusop"; "SHAH, Mohd Yusuf"). Mohamud and
# Mahmud are Mahmoud, another name; Mehmet is written Mehmet: neither is folded.
_MUHAMMAD = re.compile(r"^(?:m(?:u|o|ou)h[ae]?m{1,2}[ae]d|mohd|muhd|mhd|md)$")
MUHAMMAD_SKELETON = "muhamad"


@functools.lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """The token with transliteration-dependent spellings folded: "Djeenho" and "Jinho" agree."""
    if _MUHAMMAD.match(token):
        return MUHAMMAD_SKELETON
    text = _syllable(token)
    if text == token and ("ye" in text or text.endswith("j")):  # what the patterns need (most words: neither)
        for pattern, replacement in _RUSSIAN:
            text = pattern.sub(replacement, text)
    if _PINYIN.match(text):  # a Chinese word is never Belarusian ("Zhou" is not "Zhov")
        if "zh" in text:
            text = text.replace("zh", "Z")  # kept apart from j (and from z): no rule below folds a capital
    else:
        text = _belarusian(text)
    for old, new in _SKELETON_RULES:
        text = text.replace(old, new)
    return _DOUBLED.sub(r"\1", text)


@functools.lru_cache(maxsize=131072)
def sound(token: str) -> str:
    """Metaphone, once per token (a listed token is compared with many applicants' tokens)."""
    import jellyfish

    return jellyfish.metaphone(token)


@functools.lru_cache(maxsize=131072)
def token_forms(word: str) -> tuple[tuple[str, str, str, str], ...]:
    """The word, its form without a glued particle (unglued) and without "Abd" (without_abd), each as (word,
    form, skeleton, Metaphone); the
    Metaphone is empty when shorter than three letters (the matcher does not call such words alike). What
    screening compares a listed word by (similarity.near_pairs); made for every listed word when the index is
    filed, so that an applicant's screening only looks them up."""
    found = []
    for form in (word, unglued(word), without_abd(word)):
        if form:
            metaphone = sound(form)
            found.append((word, form, skeleton(form), metaphone if len(metaphone) >= 3 else ""))
    return tuple(found)


@functools.lru_cache(maxsize=65536)
def phonetic_keys(token: str) -> tuple[str, ...]:
    """Sound-alike keys of one token (Metaphone, NYSIIS, skeleton): "Mohammed" and "Muhammad" share them."""
    if len(token) < 2:
        return ()
    import jellyfish

    keys = {"m:" + jellyfish.metaphone(token), "n:" + jellyfish.nysiis(token)}
    keys = {k for k in keys if len(k) > 3}
    keys.add("s:" + skeleton(token))
    return tuple(sorted(keys))


@functools.lru_cache(maxsize=65536)
def typo_keys(token: str) -> tuple[str, ...]:
    """The token with one letter deleted: two tokens one typo apart share one of these."""
    base = token
    if len(base) < 3:
        return ()
    return tuple(sorted({"d:" + base[:i] + base[i + 1 :] for i in range(len(base))} | {"d:" + base}))

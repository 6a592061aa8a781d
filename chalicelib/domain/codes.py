"""Country codes: ISO 3166-1 and the codes of ICAO Doc 9303 Part 3.

A regular expression lets ``ZZ``, ``XK`` or ``ZZZ`` through; a bank must refuse
what is not a country (or, for nationality, an ICAO-listed status) at the edge,
before it reaches a check, a reviewer or a report. Pure data, no dependency:
the 249 officially assigned ISO 3166-1 entries (alpha-2 + alpha-3 pairs).
"""

from __future__ import annotations

_ISO_3166_PAIRS = """
    ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA AZAZE BABIH
    BBBRB BDBGD BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN BLBLM BMBMU BNBRN BOBOL BQBES BRBRA BSBHS BTBTN BVBVT
    BWBWA BYBLR BZBLZ CACAN CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK CLCHL CMCMR CNCHN COCOL CRCRI CUCUB
    CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU DJDJI DKDNK DMDMA DODOM DZDZA ECECU EEEST EGEGY EHESH ERERI ESESP
    ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA GAGAB GBGBR GDGRD GEGEO GFGUF GGGGY GHGHA GIGIB GLGRL GMGMB
    GNGIN GPGLP GQGNQ GRGRC GSSGS GTGTM GUGUM GWGNB GYGUY HKHKG HMHMD HNHND HRHRV HTHTI HUHUN IDIDN IEIRL
    ILISR IMIMN ININD IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM JOJOR JPJPN KEKEN KGKGZ KHKHM KIKIR KMCOM
    KNKNA KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA LILIE LKLKA LRLBR LSLSO LTLTU LULUX LVLVA LYLBY
    MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ MRMRT MSMSR MTMLT
    MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM NCNCL NENER NFNFK NGNGA NINIC NLNLD NONOR NPNPL NRNRU NUNIU
    NZNZL OMOMN PAPAN PEPER PFPYF PGPNG PHPHL PKPAK PLPOL PMSPM PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT
    REREU ROROU RSSRB RURUS RWRWA SASAU SBSLB SCSYC SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR
    SNSEN SOSOM SRSUR SSSSD STSTP SVSLV SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS
    TMTKM TNTUN TOTON TRTUR TTTTO TVTUV TWTWN TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN
    VGVGB VIVIR VNVNM VUVUT WFWLF WSWSM YEYEM YTMYT ZAZAF ZMZMB ZWZWE
"""

#: Officially assigned ISO 3166-1 alpha-2 codes (user-assigned ones such as XK, and ZZ, are not).
ISO_ALPHA2: frozenset[str] = frozenset(p[:2] for p in _ISO_3166_PAIRS.split())
#: Officially assigned ISO 3166-1 alpha-3 codes.
ISO_ALPHA3: frozenset[str] = frozenset(p[2:] for p in _ISO_3166_PAIRS.split())
ALPHA2_TO_ALPHA3: dict[str, str] = {p[:2]: p[2:] for p in _ISO_3166_PAIRS.split()}

#: Codes ICAO 9303 Part 3 adds for travel documents: Germany's "D", the British
#: nationality classes, UN bodies, other issuing organisations, and the
#: stateless/refugee/unspecified markers.
ICAO_EXTRA: frozenset[str] = frozenset(
    {
        "D",
        "GBD",
        "GBN",
        "GBO",
        "GBP",
        "GBS",
        "UNO",
        "UNA",
        "UNK",
        "EUE",
        "XBA",
        "XIM",
        "XCC",
        "XCE",
        "XCO",
        "XDC",
        "XEC",
        "XES",
        "XMP",
        "XOM",
        "XPO",
        "XXA",
        "XXB",
        "XXC",
        "XXX",
        "UTO",  # ICAO's specimen state (Utopia): specimen documents must reach the identity check to be judged
    }
)


def _unpad(code: str) -> str:
    """MRZ fields pad short codes with '<' ("D<<" is Germany)."""
    return code.rstrip("<")


def is_iso_country(code: str) -> bool:
    """An assigned ISO 3166-1 alpha-2 code (a residential address country)."""
    return code in ISO_ALPHA2


def is_icao_nationality(code: str) -> bool:
    """A nationality or issuing-state code an ICAO 9303 document may carry."""
    bare = _unpad(code)
    return bare in ISO_ALPHA3 or bare in ICAO_EXTRA

"""The certificate holder of a certificate request: the holder's legal name, without its
address, its "c/o" line or a lender's ISAOA/ATIMA.

People name the holder in a labelled block ("Certificate Holder:", "Interested Party:",
"titular del certificado"), in a sentence ("a COI for Lakeshore Medical Office Partners
LP", "please name Acme as holder", "made out to ...", "The Borough of Eastfield needs a new
certificate"), in a forwarded requirements letter, or in a voicemail. The insured itself, a
street, a weekday or a pronoun is never the holder.
"""

from __future__ import annotations

import re

from sheets_ops.rules.directory import name_key

_BLOCK = re.compile(
    r"(?im)^[^\n:]{0,240}?\b(?:certificate\s+holder(?:\s+and\s+additional\s+insured)?|cert\s+holder|"
    r"holder|titular(?:\s+del\s+certificado)?|interested\s+party|additional\s+interest|"
    r"(?:the\s+)?following\s+as\s+(?:the\s+)?(?:interested\s+party|certificate\s+holder)|"
    r"mortgagee(?:\s+clause)?|lender(?:'s)?\s+clause|their\s+clause|los\s+datos(?:\s+que\s+me\s+"
    r"dieron)?(?:\s+son)?)\b[^:\n]{0,60}:[ \t]*(?P<rest>[^\n]*)$"
)
_INLINE = [
    re.compile(
        r"(?i:\b(?:certificate\s+)?holder\s*(?:is|:|-|will\s+be|should\s+be)?\s+)(?P<name>[A-Z0-9])"
    ),
    re.compile(
        r"(?i:\b(?:naming|name|list|listing|showing|show|add(?:ing)?)\s+)(?P<name>[A-Z\"“])"
        r"(?=[^.\n]{0,80}?\b(?i:as\s+(?:the\s+)?(?:certificate\s+)?(?:holder|additional\s+insured)))"
    ),
    re.compile(r"(?i:\bmade\s+(?:out\s+)?(?:to|for)\s+)(?P<name>[A-Z0-9])"),
]
# A certificate word, then the first "for" or "to" after it that names someone.
_CERT_WORD = re.compile(
    r"(?i)\b(?:certificates?|certs?|cois?|certificados?|comprobante|evidence|proof|prueba|"
    r"constancia|evidencia)\b"
)
_DESCRIPTOR = (
    r"(?i:(?:(?:our|my|a|an|the|their|new|nuestr[oa]|nuev[oa]|el|la|mi|su)\s+){0,3}"
    r"(?:(?:customer|client|cliente|landlord|tenant|shipper|gc|general\s+contractor|vendor|"
    r"venue|lender|owner|property\s+manager|school|hospital|"
    r"due[ñn][oa](?:\s+del?\s+(?:local|edificio|propiedad|la\s+casa))?|arrendador|"
    r"propietari[oa]|caser[oa]|contratista|banco)\s*,?\s+)?)"
)
_TO_WHOM = re.compile(rf"(?i:\b(?:for|to|para|naming|with)\s+){_DESCRIPTOR}(?P<name>[A-Z0-9])")
_SUBJECT = re.compile(
    r"(?i:^\s*(?:coi|certs?|certificates?(?:\s+of\s+insurance)?|certificate\s+request)\s*"
    r"(?:[-\u2013:]|for|needed\s+for)\s+)(?P<name>[A-Z0-9])"
)
_NEEDS = re.compile(
    rf"(?:^|[.!?]\s+|\n){_DESCRIPTOR}(?P<name>[A-Z][\w&.'\u2019-]*"
    r"(?:\s+(?:of|the|and|&|de|del|[A-Z][\w&.'\u2019-]*)){0,8})"
    r",?\s+(?i:(?:(?:(?:says|said|told\s+(?:us|me))\s+(?:that\s+)?(?:they|it)\s+)?"
    r"(?:needs?|requires?|wants?|is\s+asking\s+for|are\s+asking\s+for|asked\s+for)\s+"
    r"(?:a|an|the|their|our)?\s*(?:new\s+|updated\s+|current\s+)?"
    r"(?:certificate|cert|coi|proof|evidence))|needs?\s+to\s+be\s+(?:added|named|listed|shown))"
)
_QUOTES = "\"\u201c\u201d'\u2018\u2019(),;:"
_NAME_WORD = re.compile(r"[A-Z0-9][\w&.'\u2019-]*|&|(?i:of|the|and|de|del|la|at|for)\b")
_STOP_WORDS = frozenset(
    (
        "i we you they he she it our us me my your their this that these please thanks thank "
        "hi hello dear also just still now so can need needs and but then monday tuesday "
        "wednesday thursday friday saturday sunday lunes martes miércoles jueves viernes "
        "sábado domingo insurance certificate certificates coi cert general liability workers "
        "comp auto umbrella additional insured yes no vendor file policy gl ca wc bop the a an "
        "requirements email attn attention asap urgent urgente eod cob today tomorrow hoy mañana "
        "es para por landlord tenant bank lender gc contractor customer client owner dueño "
        "banco arrendador"
    ).split()
)
_LEGAL_TAIL = re.compile(r"(?i),?\s*\b(isaoa|atima|isaoa/atima|its successors.*)$")


def _name_at(text: str, start: int) -> str:
    """The name that starts at `start`: capitalised words and connectors, up to a comma,
    an address, a line end or the end of the sentence."""
    out: list[str] = []
    for m in re.finditer(r"\S+", text[start : start + 160]):
        word = m.group(0)
        if "\n" in text[start : start + m.start()]:
            break
        clean = word.strip(_QUOTES + "?!¿¡")
        if not clean:
            break
        if clean[0].isdigit() and out:
            break  # an address starts
        if not _NAME_WORD.fullmatch(clean.rstrip(".")) and not (
            clean[0].isupper() or clean[0].isdigit()
        ):
            break
        if clean[0].islower() and clean.lower() not in (
            "of",
            "the",
            "and",
            "de",
            "del",
            "la",
            "at",
            "for",
        ):
            break
        out.append(clean)
        if word.endswith((",", ";", ":", ")", '"', "”", "?", "!")) or (
            word.endswith(".") and not _abbreviation(clean)
        ):
            break
    while out and out[-1].lower() in ("of", "the", "and", "&", "de", "del", "la", "at", "for"):
        out.pop()
    name = " ".join(out).strip(" .,")
    name = _LEGAL_TAIL.sub("", name).strip(" ,")
    if name.lower().startswith("the "):
        name = name[4:]
    return name


# A period inside a name that goes on ("St. Brendan's"); after Inc., LLC or LP it ends.
_GOES_ON = frozenset(("st", "mt", "ft", "dr", "n", "s", "e", "w"))


def _abbreviation(word: str) -> bool:
    return word.rstrip(".").lower() in _GOES_ON


def _good(name: str, insured: str) -> bool:
    if len(name) < 3 or name.lower() in _STOP_WORDS or name.split()[0].lower() in _STOP_WORDS:
        return False
    if "@" in name or name.isdigit() or re.match(r"(?i)(GL|WC|CA|BOP|PKG|CPP|UMB)[ -]?\d", name):
        return False
    if insured and name_key(name) and name_key(name) in (name_key(insured),):
        return False
    if _STREET.fullmatch(name):
        return False  # "1200 N Water St": where the holder is, not who
    return not re.fullmatch(r"[\d\s,.-]+", name)


_STREET = re.compile(
    r"(?i)\d[\w-]*\s+(?:[NSEW]\.?\s+)?(?:[\w.'-]+\s+){0,3}"
    r"(?:st|street|ave|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|way|ct|court|pl|place|"
    r"pkwy|parkway|hwy|highway|calle|avenida)\.?"
)


def _block(text: str, insured: str) -> str:
    for m in _BLOCK.finditer(text):
        rest = m.group("rest").strip()
        if rest:
            name = _name_at(rest, 0)
        else:
            following = text[m.end() :].lstrip("\n")
            line = following.split("\n", 1)[0].strip(" \t>*•-")
            name = _name_at(line, 0) if line else ""
        if _good(name, insured):
            return name
    return ""


def certificate_holder(text: str, subject: str = "", insured: str = "") -> str:
    """The holder's name when the text gives one, else ""."""
    return holder_of(text, subject, insured)[0]


# A name that ends like a legal entity ("… Partners LLC", "… County", "… Bank") is a holder's
# name whatever shape of sentence brought it.
_ENTITY = re.compile(
    r"(?i)\b(llc|l\.l\.c\.|inc\.?|corp\.?|corporation|company|co\.|ltd\.?|lp|llp|pllc|"
    r"partners|associates|association|assoc\.?|trust|bank|credit\s+union|county|district|"
    r"authority|university|college|school|church|hospital|foundation|properties|realty|"
    r"management|group|holdings|builders|construction|contractors?|s\.?a\.?(?:\s+de\s+c\.?v\.?)?)$"
)


def holder_of(text: str, subject: str = "", insured: str = "") -> tuple[str, bool]:
    """The holder's name and whether the text says outright that it is the holder (a
    labelled block, "holder X", "naming X as holder", "made out to X", "X needs a
    certificate"); a name only read from "a certificate for X" or the subject is a guess."""
    if name := _block(text, insured):
        return name, True
    for place in (text, subject):
        for name, sure in _named(place, insured):
            # A subject's short form ("Condo Assoc") is given as the body writes it in full.
            if place is not text:
                name = _longest(name, text)
            return name, sure or (place is text and bool(_ENTITY.search(name)))
    return "", True


def _named(place: str, insured: str) -> list[tuple[str, bool]]:
    """Names the sentence shapes give, best first, and whether the shape says "holder":
    "X needs a certificate", "holder X", "naming X as holder", "made out to X", then a
    certificate "for X" or "to X"."""
    names = []
    for m in _NEEDS.finditer(place):
        name = m.group("name").strip()
        names.append((name[4:] if name.lower().startswith("the ") else name, True))
    for pattern in _INLINE:
        names += [(_name_at(place, m.start("name")), True) for m in pattern.finditer(place)]
    names += [(_name_at(place, m.start("name")), False) for m in _SUBJECT.finditer(place)]
    for cert in _CERT_WORD.finditer(place):
        window = place[cert.end() : cert.end() + 90]
        for m in _TO_WHOM.finditer(window):
            names.append((_name_at(window, m.start("name")), False))
    return [(n, sure) for n, sure in names if _good(n, insured)][:1]


def _longest(name: str, text: str) -> str:
    """A short form ("Willow Creek Condo Assoc") the body writes in full elsewhere
    ("Willow Creek Condominium Association") is given in full."""
    words = name.split()
    if len(words) < 2:
        return name
    head = re.escape(" ".join(words[:2]))
    for m in re.finditer(rf"\b{head}\b", text):
        longer = _name_at(text, m.start())
        if len(longer) > len(name) and longer.split()[:2] == words[:2]:
            return longer
    return name

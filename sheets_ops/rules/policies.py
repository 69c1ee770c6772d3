"""Policy numbers in the words people use, written as the Accounts tab writes them.

Clients write a policy number every way but the agency's: without its prefix ("775182204"
for HO3 77-518-2204), with other spaces or dashes ("GL-8830172", "HO6 78 220 3317"), spelled
out by a caller ("W C zero one one zero eight seven three"), or by its last digits ("the one
ending in 0613"). A number counts as a policy number when it is one of the agency's, in any of
these spellings; a number the agency does not have counts only when the sender calls it a
policy number. VINs, claim, loan, police-report, check and licence numbers and phone numbers
are never policy numbers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sheets_ops.rules.calls import spoken_digits
from sheets_ops.rules.directory import Account, Directory, policy_key

# A candidate: letters (or letters spelled one by one: "W C"), then digits that may hold
# spaces and dashes; or digits alone.
_CANDIDATE = re.compile(
    r"(?<![\w@/$.-])"
    r"(?P<prefix>[A-Za-z]{1,5}\d?|[A-Za-z](?:[ .][A-Za-z]){1,3})?"
    r"(?P<gap>[ \t]?[-#:.]?[ \t]?)"
    r"(?P<number>\d(?:[\d]|[ \t-](?=\d)){3,18})"
    r"(?![\w-]*\d)(?![\w@/])"
)
_ENDING = re.compile(
    r"(?i)\b(?:ending|ends|that ends|terminad[oa]|que termina)\s*(?:in|with|en|con)?\s*"
    r"(?:#\s*)?(\d{3,6})\b"
)
_NOT_POLICY = re.compile(
    r"(?i)\b(vin|claim|loan|report|police|reporte|check|cheque|license|licence|licencia|dl|"
    r"account|acct|routing|invoice|factura|order|ticket|case|confirmation|ref|reference|"
    r"phone|cell|tel|fax|ext|suite|ste|unit|apt|box|zip|bid|lot|serial|hull|id)\b"
    r"\s*(?:#|no\.?|num\.?|number|n[úu]mero)?\s*[#:.]?\s*$"
)
_CALLED_POLICY = re.compile(
    r"(?i)\b(policy|p[oó]liza|pol)\b(?:\s*(?:number|no|num|#))?\s*[#:.]?\s*$"
)


_NOT_PREFIXES = frozenset(
    ("dl vin id no nr num tel ph po ext apt ste box rt route hwy us cg dob ssn ein zip req").split()
)
_NUMBER_WORDS = frozenset(("no", "nr", "num", "nro"))
STATES = frozenset(
    (
        "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
        "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC"
    ).split()
)


@dataclass(frozen=True)
class Found:
    """A policy named in the text: as Accounts writes it, the account, where it was."""

    policy: str
    account: Account | None
    at: int


def _number_part(policy: str) -> str:
    """The digits after a policy's line prefix: `HO3 77-518-2204` -> 775182204."""
    m = re.match(r"\s*[A-Za-z]+\d?(?=[\s.-])", policy)
    rest = policy[m.end() :] if m else policy
    return re.sub(r"\D", "", rest)


@dataclass(frozen=True)
class _Known:
    policy: str
    account: Account
    key: str  # letters and digits
    number: str  # the digits after the prefix
    digits: str  # every digit


def _known(directory: Directory) -> tuple[_Known, ...]:
    return _known_of(directory.accounts)


@functools.lru_cache(maxsize=8)
def _known_of(accounts: tuple[Account, ...]) -> tuple[_Known, ...]:
    """Every policy of the agency in each spelling it is matched by, once per directory."""
    return tuple(
        _Known(p, a, policy_key(p), _number_part(p), re.sub(r"\D", "", p))
        for a in accounts
        for p in a.policies
        if policy_key(p)
    )


def _matches(prefix: str, number: str, known: Sequence[_Known]) -> list[_Known]:
    letters = re.sub(r"[^A-Za-z0-9]", "", prefix).upper()
    digits = re.sub(r"\D", "", number)
    whole = letters + digits
    hits = [k for k in known if k.key == whole]
    if not hits and len(digits) >= 5:
        hits = [k for k in known if digits in (k.number, k.digits)]
    return hits


def policies_in(text: str, directory: Directory, client: Account | None = None) -> list[Found]:
    """Every policy the text names, in order: the agency's own (as Accounts writes them),
    then numbers the sender calls a policy number that the agency does not have."""
    text = spoken_digits(text)
    known = _known(directory)
    found: list[Found] = []
    for m in _CANDIDATE.finditer(text):
        before = text[max(0, m.start() - 24) : m.start()]
        prefix, number = m.group("prefix") or "", m.group("number")
        if prefix.lower() in _NUMBER_WORDS:  # "policy no. 7781234": a label, not a prefix
            before = text[max(0, m.start("number") - 24) : m.start("number")]
            prefix = ""
        if _NOT_POLICY.search(before) or _is_phone(number) or _is_vin(text, m):
            continue
        if prefix.lower() in _NOT_PREFIXES:
            continue
        hits = _matches(prefix, number, known) or (_matches("", number, known) if prefix else [])
        if client is not None and len(hits) > 1:
            hits = [h for h in hits if h.account == client] or hits
        if hits:
            found.append(Found(hits[0].policy, hits[0].account, m.start()))
        elif _CALLED_POLICY.search(before) or (prefix and prefix.isupper() and len(prefix) > 1):
            digits = re.sub(r"\D", "", number)
            is_zip = prefix.upper() in STATES and len(digits) == 5
            if len(digits) >= 5 and not is_zip:
                written = f"{prefix.upper()} {number}".strip() if prefix else number
                found.append(Found(written, None, m.start()))
    for m in _ENDING.finditer(text):
        tail = m.group(1)
        pool = [k for k in known if client is None or k.account == client]
        hits = [k for k in pool if k.digits.endswith(tail)]
        if len(hits) == 1:
            found.append(Found(hits[0].policy, hits[0].account, m.start()))
    found.sort(key=lambda f: f.at)
    return found


def _is_phone(number: str) -> bool:
    digits = re.sub(r"\D", "", number)
    grouped = re.fullmatch(r"\d{3}[ .-]\d{3}[ .-]\d{4}", number.strip())
    return bool(grouped) or (len(digits) == 11 and digits.startswith("1"))


def _is_vin(text: str, m: re.Match[str]) -> bool:
    start = m.start()
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    end = m.end()
    while end < len(text) and text[end].isalnum():
        end += 1
    return end - start == 17  # a VIN is 17 letters and digits


def pick(found: Iterable[Found], client: Account | None) -> str:
    """The policy a request is about: the first the sender names, the client's own first."""
    found = list(found)
    own = [f for f in found if client is not None and f.account == client]
    agency = [f for f in found if f.account is not None]
    for group in (own, agency, found):
        if group:
            return group[0].policy
    return ""

"""Who the client is: by the strongest evidence first. The sender's address, then their
whole domain (the Accounts tab lists business domains, never a shared webmail one), the
caller's or texter's phone in any format, a policy number the message names, and last the
client's name in the text, the signature or the caller ID, read with rapidfuzz so that
"Dutchmans Auto" is Dutchman's Auto Repair, Inc. and "KELLER VOSS PRE" is Keller & Voss
Precision Machining, Inc.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from sheets_ops.rules.directory import Account, Directory, digits, name_key, policy_key

# Words too common in business and family names to tell one client from another.
_COMMON = frozenset(
    (
        "summit general first national american central united premier family quality "
        "professional golden royal city new north south east west services service group "
        "company church auto repair insurance properties property management home homes llc "
        "inc co and the of st saint center centre community partners associates holdings "
        "enterprises solutions systems construction builders contractors heating cooling "
        "plumbing electric electrical landscape landscaping design salon daycare tacos lines "
        "transportation precision machining residential restaurant hay cattle farm farms"
    ).split()
)


@dataclass(frozen=True)
class Match:
    account: Account
    by: str  # address, domain, phone, policy, name


def _tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", name_key(text).replace(" s ", " ")) if len(t) > 1]


def match_name(text: str, directory: Directory) -> Match | None:
    """The one client whose distinctive name words the text holds (spelling forgiven)."""
    words = sorted(set(_tokens(text)))
    if not words:
        return None
    best: list[tuple[int, Account]] = []
    for account in directory.accounts:
        own = [t for t in _tokens(account.name) if t not in _COMMON] or _tokens(account.name)
        hits = 0
        for token in own:
            found = process.extractOne(token, words, scorer=fuzz.ratio, score_cutoff=86)
            hits += found is not None
        needed = 2 if len(own) >= 2 else 1
        if hits >= needed and (len(own) > 1 or len(own[0]) >= 5):
            best.append((hits, account))
    if not best:
        return None
    best.sort(key=lambda ha: -ha[0])
    if len(best) > 1 and best[0][0] == best[1][0]:
        return None  # two clients fit as well: leave it to the CSR
    return Match(best[0][1], "name")


def match_client(
    sender: str,
    phone: str,
    policies: Sequence[str],
    text: str,
    directory: Directory,
    signed: str = "",
) -> Match | None:
    """The client, by the strongest evidence first. `signed`: the signature and the sender's
    name, read for a name before the rest of the text."""
    sender = sender.lower()
    if sender:
        for account in directory.accounts:
            if sender in account.emails:
                return Match(account, "address")
        domain = sender.rsplit("@", 1)[-1]
        for account in directory.accounts:
            if domain in account.domains:
                return Match(account, "domain")
    if phone and (number := digits(phone)):
        for account in directory.accounts:
            if number in account.phones:
                return Match(account, "phone")
    keys = {policy_key(p) for p in policies}
    for account in directory.accounts:
        if keys & {policy_key(p) for p in account.policies}:
            return Match(account, "policy")
    # Who signs is the sender; other names in the body may be a holder or a neighbour.
    return (match_name(signed, directory) if signed else None) or match_name(text, directory)


def addresses_in(text: str) -> list[str]:
    """Email addresses written in the text (a bounce names the address it could not reach)."""
    return [a.lower() for a in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)]


def as_written_in_accounts(policy: str, directory: Directory) -> str:
    """A policy number a person typed, as Accounts writes it when the agency has it."""
    for account in directory.accounts:
        for known in account.policies:
            if policy_key(known) == policy_key(policy):
                return known
    return policy.strip()

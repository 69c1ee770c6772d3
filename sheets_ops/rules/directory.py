"""What intake knows of the agency, read from the sheet: accounts, the Rules tab, Routing.

The owner edits all of it in the sheet. The Rules tab starts with DEFAULT_RULES (init seeds
them); a kind of rule missing from the tab falls back to its defaults. Type, Complex,
Voicemail Sender and Text Gateway rows are the owner's own words, weighed above what intake
understands by itself; rows an earlier version seeded (LEGACY_RULES) are not the owner's.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sheets_ops.model import (
    ACCOUNTS,
    DEFAULT_RULES,
    ROUTING,
    RULES,
    CellValue,
    RequestType,
    is_blank,
)
from sheets_ops.rules.calls import phone_key
from sheets_ops.rules.legacy import LEGACY_RULES
from sheets_ops.sheet import Snapshot, Tab, header_problems, normalize_header

if TYPE_CHECKING:
    from sheets_ops.rules.learning import Learned

_LEGAL = re.compile(
    r"\b(llc|l\.l\.c|inc|incorporated|co|corp|corporation|company|ltd|group|center|the)\b\.?"
)


def digits(text: str) -> str:
    """A phone number as its national digits, read by phonenumbers in any format (+1,
    dots, an extension), or its bare digits when it is not a phone number."""
    return phone_key(text) or re.sub(r"\D", "", text)


def policy_key(text: str) -> str:
    """A policy number as letters and digits only: `GL 4481920` and `gl-4481920` are one."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def name_key(name: str) -> str:
    words = re.sub(r"[^a-z0-9 ]", " ", _LEGAL.sub(" ", name.lower().replace("&", " and ")))
    return " ".join(w for w in words.split() if w != "and")


@dataclass(frozen=True)
class Pattern:
    """One entry of a Rules cell: a word or phrase (whole words, any case), or /a regex/."""

    text: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> Pattern:
        text = text.strip()
        if len(text) > 2 and text.startswith("/") and text.endswith("/"):
            return cls(text, re.compile(text[1:-1], re.IGNORECASE))
        words = r"\s+".join(re.escape(w) for w in text.split())
        return cls(text, re.compile(rf"(?<![\w-]){words}(?![\w-])", re.IGNORECASE))


_ENTRY = re.compile(r"\s*(/(?:\\.|[^/\\])+/|[^,]+?)\s*(?:,|$)")


def split_patterns(cell: str) -> list[Pattern]:
    """A Rules Pattern cell: comma-separated entries; a /regex/ may itself hold commas."""
    return [Pattern.parse(m.group(1)) for m in _ENTRY.finditer(cell) if m.group(1).strip()]


@dataclass(frozen=True)
class Rule:
    kind: str
    patterns: tuple[Pattern, ...]
    result: str
    shipped: bool = False  # seeded by sheets-ops (now or by an earlier version)


@dataclass(frozen=True)
class Account:
    name: str
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()  # ten digits
    policies: tuple[str, ...] = ()  # as the agency writes them
    owner: str = ""
    instructions: str = ""

    @property
    def key(self) -> str:
        return name_key(self.name)

    def knows(self, sender: str) -> bool:
        """Whether the sender is one of this client's known contacts."""
        sender = sender.lower()
        return sender in self.emails or sender.rsplit("@", 1)[-1] in self.domains


@dataclass(frozen=True)
class Directory:
    accounts: tuple[Account, ...] = ()
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # Type -> fields
    # What the sheet's history taught intake (rules/learning.py), loaded on first use.
    history: Callable[[], Learned | None] | None = field(default=None, compare=False)

    def learned(self) -> Learned | None:
        return self.history() if self.history is not None else None

    def of(self, kind: str) -> list[Rule]:
        mine = [r for r in self.rules if normalize_header(r.kind) == normalize_header(kind)]
        return mine or [r for r in default_rules() if r.kind == kind]

    def owner_rules(self, kind: str) -> list[Rule]:
        """The rows of a kind the owner wrote (not those sheets-ops seeded)."""
        return [
            r
            for r in self.rules
            if normalize_header(r.kind) == normalize_header(kind) and not r.shipped
        ]

    @property
    def policy_keys(self) -> frozenset[str]:
        return frozenset(policy_key(p) for a in self.accounts for p in a.policies)

    def account(self, name: str) -> Account | None:
        for a in self.accounts:
            if a.name == name:
                return a
        return None


@functools.cache
def default_rules() -> tuple[Rule, ...]:
    """The Rules tab's defaults, compiled once."""
    return tuple(Rule(k, tuple(split_patterns(p)), r) for k, p, r in DEFAULT_RULES)


def _split(cell: CellValue) -> list[str]:
    """A '; '-separated cell (commas forgiven) as its entries."""
    if is_blank(cell):
        return []
    return [p.strip() for p in re.split(r"[;,]", str(cell)) if p.strip()]


def account_from(record: Mapping[str, CellValue]) -> Account | None:
    """One Accounts row (by normalized header) as an Account; None for a blank row."""
    name = str(record.get("client") or "").strip()
    if not name:
        return None
    emails, domains = set(), set()
    for entry in _split(record.get("contact emails")):
        entry = entry.lower()
        if entry.startswith("@"):
            domains.add(entry[1:])
        elif "@" in entry:
            emails.add(entry)
    phones = {key for p in _split(record.get("phone")) if len(key := digits(p)) >= 7}
    return Account(
        name=name,
        emails=frozenset(emails),
        domains=frozenset(domains),
        phones=frozenset(phones),
        policies=tuple(_split(record.get("policies"))),
        owner=str(record.get("account owner") or "").strip(),
        instructions=str(record.get("special instructions") or "").strip(),
    )


def _records(tab: Tab | None) -> Iterable[dict[str, CellValue]]:
    if tab is None:
        return []
    return [rec for _row, rec in tab.records()]


def from_snapshot(snapshot: Snapshot) -> Directory:
    """The directory from the tracker. Broken reference tabs count as empty (the cycle
    reports them); intake then falls back to its defaults."""
    accounts_tab = snapshot.tab(ACCOUNTS.name)
    rules_tab = snapshot.tab(RULES.name)
    routing_tab = snapshot.tab(ROUTING.name)
    if accounts_tab is not None and header_problems(accounts_tab, ACCOUNTS):
        accounts_tab = None
    if rules_tab is not None and header_problems(rules_tab, RULES):
        rules_tab = None
    if routing_tab is not None and header_problems(routing_tab, ROUTING):
        routing_tab = None
    accounts = tuple(a for rec in _records(accounts_tab) if (a := account_from(rec)))
    rules = []
    shipped = LEGACY_RULES | set(DEFAULT_RULES)
    for rec in _records(rules_tab):
        kind, pattern = str(rec.get("rule") or "").strip(), str(rec.get("pattern") or "")
        result = str(rec.get("result") or "")
        if kind and pattern.strip():
            seeded = (kind, pattern.strip(), result.strip()) in shipped
            rules.append(Rule(kind, tuple(split_patterns(pattern)), result, seeded))
    required = {}
    for rec in _records(routing_tab):
        kind = str(rec.get("type") or "").strip()
        if kind:
            required[kind] = tuple(_split(rec.get("required info")))
    return Directory(accounts, tuple(rules), required)


def from_accounts_csv(path: Path, base: Directory | None = None) -> Directory:
    """Accounts from a CSV with the Accounts tab's headers, other knowledge from `base`."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [
            h
            for h in ACCOUNTS.headers
            if normalize_header(h) not in {normalize_header(x) for x in reader.fieldnames or []}
        ]
        if missing:
            raise ValueError(
                f"{path}: missing column {missing[0]!r} (use the Accounts tab's headers)"
            )
        accounts = []
        for row in reader:
            record = {normalize_header(k): v for k, v in row.items() if k is not None}
            if (account := account_from(record)) is not None:
                accounts.append(account)
    return replace(base or Directory(), accounts=tuple(accounts))


REQUEST_TYPES = tuple(t.value for t in RequestType)

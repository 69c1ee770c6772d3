"""The escalation ladder, as the owner writes it in the Escalation tab.

Each row is a rung: a Level (1, 2 or 3), When (conditions, any of which raises it) and Notify
(who is told). `init` seeds the tab with DEFAULT_LADDER, which is what sheets-ops did before
the tab existed. A row that cannot be read is one line naming its cell, and the default rung of
that level stands in for it. A missing tab is the defaults.

When, comma- or "or"-separated, in the order they are checked:
  `client deadline passed`, `overdue`, `due soon`, `the client followed up` (not while it
  waits on the client or carrier), `idle ≥ N×` (N times the Type's Escalate After Idle;
  `>=` and `x` do too).
Notify, `;`-separated: `Owner of the request`, a Role (CSR, Account Manager, Ops Manager,
Owner; `Agency Owner` is Owner), `Escalation Recipients` (the setting), a Team name or an email
address. When nobody is found, the request's owner is told.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sheets_ops.model import ESCALATION, CellValue, Role
from sheets_ops.rules.team import Member
from sheets_ops.sheet import Snapshot, as_number, cell_text, header_problems

DEADLINE_PASSED, OVERDUE, DUE_SOON, FOLLOWED_UP, IDLE = (
    "client deadline passed",
    "overdue",
    "due soon",
    "the client followed up",
    "idle",
)
REQUEST_OWNER = "Owner of the request"
RECIPIENTS = "Escalation Recipients"
_CONDITIONS = (
    (DEADLINE_PASSED, re.compile(r"(?i)^(?:the\s+)?client\s+deadline\s+(?:passed|missed)$")),
    (OVERDUE, re.compile(r"(?i)^overdue$")),
    (DUE_SOON, re.compile(r"(?i)^due\s+soon$")),
    (FOLLOWED_UP, re.compile(r"(?i)^(?:the\s+)?client\s+followed\s+up$")),
    (
        IDLE,
        re.compile(
            r"(?i)^idle\s*(?:≥|>=|=>|at\s+least)?\s*(\d+(?:\.\d+)?)\s*(?:×|x|times)?"
            r"(?:\s*(?:the\s+)?escalate\s+after\s+idle)?$"
        ),
    ),
)
_SPLIT = re.compile(r"(?i)\s*(?:,|;|\bor\b)\s*")
_ROLES = {r.value.lower(): r.value for r in Role} | {"agency owner": Role.OWNER.value}


@dataclass(frozen=True)
class Condition:
    kind: str
    times: float = 0.0  # for idle: the multiple of Escalate After Idle


@dataclass(frozen=True)
class Rung:
    level: int
    when: tuple[Condition, ...]
    notify: tuple[str, ...]


def conditions(text: str) -> tuple[tuple[Condition, ...], str]:
    """The conditions a When cell names, and the first piece it does not understand."""
    found = []
    for piece in _SPLIT.split(text.strip()):
        if not piece:
            continue
        for kind, pattern in _CONDITIONS:
            m = pattern.match(piece)
            if m:
                found.append(Condition(kind, float(m.group(1)) if m.groups() else 0.0))
                break
        else:
            return tuple(found), piece
    return tuple(found), ""


def _rung(level: str, when: str, notify: str) -> Rung:
    read, _bad = conditions(when)
    names = tuple(n.strip() for n in notify.split(";") if n.strip())
    return Rung(int(level), read, names)


DEFAULT_LADDER: tuple[Rung, ...] = tuple(_rung(*row) for row in ESCALATION.seed)


def ladder_from(snapshot: Snapshot, team: Sequence[Member]) -> tuple[tuple[Rung, ...], list[str]]:
    """The rungs the Escalation tab sets, highest level first, and one line per broken cell."""
    tab = snapshot.tab(ESCALATION.name)
    if tab is None:
        return _highest_first(DEFAULT_LADDER), []
    if problems := header_problems(tab, ESCALATION):
        return _highest_first(DEFAULT_LADDER), [f"{problems[0]}; the default ladder applies"]
    rungs: dict[int, Rung] = {}
    lines: list[str] = []
    known = {m.name.lower() for m in team}
    for row, rec in tab.records():
        rung, line = _read_row(row, rec, known)
        if line:
            lines.append(line)
        if rung is not None and rung.level not in rungs:
            rungs[rung.level] = rung
    if not rungs:  # an empty tab: the defaults, as init would seed them
        return _highest_first(DEFAULT_LADDER), lines
    return _highest_first(tuple(rungs.values())), lines


def _read_row(row: int, rec: Mapping[str, CellValue], known: set[str]) -> tuple[Rung | None, str]:
    level_text = cell_text(rec.get("level"))
    number = as_number(level_text)
    if number not in (1.0, 2.0, 3.0):
        return None, (
            f'Escalation tab, row {row}, Level: "{level_text}" is not 1, 2 or 3; write the '
            "level the row raises; the row is left out"
        )
    level = int(number or 0)
    default = next(r for r in DEFAULT_LADDER if r.level == level)
    when_text = cell_text(rec.get("when"))
    when, bad = conditions(when_text)
    if bad or not when:
        what = f'"{bad}" is not a condition' if bad else "empty"
        return default, (
            f"Escalation tab, row {row}, When: {what}; write conditions like "
            f'"overdue, idle ≥ 2×, or the client followed up"; the default for '
            f"level {level} applies"
        )
    names = [n.strip() for n in cell_text(rec.get("notify")).split(";") if n.strip()]
    unknown = [n for n in names if not _recognised(n, known)]
    if not names or unknown:
        what = f'"{unknown[0]}" is not on Team' if unknown else "empty"
        return default, (
            f"Escalation tab, row {row}, Notify: {what}; write {REQUEST_OWNER}, a Role, "
            f"{RECIPIENTS}, a Team name or an email address; the default for level {level} "
            "applies"
        )
    return Rung(level, when, tuple(names)), ""


def _recognised(name: str, known: set[str]) -> bool:
    low = name.lower()
    return (
        low in (REQUEST_OWNER.lower(), RECIPIENTS.lower()) or low in _ROLES or low in known
    ) or "@" in name


def _highest_first(rungs: Sequence[Rung]) -> tuple[Rung, ...]:
    return tuple(sorted(rungs, key=lambda r: -r.level))


def notified(
    rung: Rung,
    owner: str,
    team: Sequence[Member],
    recipients: Sequence[str],
) -> tuple[str, ...]:
    """The names (or addresses) a rung tells, in the order written, each once; the request's
    owner when nobody else is found."""
    names: list[str] = []
    for entry in rung.notify:
        low = entry.lower()
        if low == REQUEST_OWNER.lower():
            found = [owner] if owner else []
        elif low == RECIPIENTS.lower():
            found = list(recipients)
        elif low in _ROLES:
            found = [m.name for m in team if m.role.lower() == _ROLES[low].lower()]
        else:
            found = [entry]
        names += [n for n in found if n not in names]
    return tuple(names) or ((owner,) if owner else ())

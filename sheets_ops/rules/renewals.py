"""The renewal pipeline: each cycle's look at the Renewals tab, as small steps over one
renewal (open, key dates, milestones, exceptions, the client) composed in `review_renewal`.
Pure: rows and settings in, changes out; `today` is a parameter. Exports: rules/exports.py.

A renewal opens Renewal Open Days before expiration (Stage: Upcoming) and gets its key dates
from the offsets for its line. A key date that passes while the stage has not reached what it
calls for climbs the escalation ladder; a new exception is told in the next digest; the client
is reminded at the Renewal Reminder Days and followed up when a presented renewal sits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sheets_ops.model import (
    BY_JOB,
    LOG,
    RENEWALS,
    CellValue,
    RenewalException,
    Stage,
    is_blank,
)
from sheets_ops.rules.directory import Directory, policy_key
from sheets_ops.rules.exports import parse_date, same_value
from sheets_ops.rules.history import ESCALATED
from sheets_ops.rules.steps import Escalation
from sheets_ops.rules.team import Member
from sheets_ops.sheet import Batch, CellWrite, NewRow, Tab, cell_text, counted

STAGES = [s.value for s in Stage]
OPENED, RENEWAL_REMINDER, RENEWAL_EXCEPTION, BASELINE = (
    "Renewal opened",
    "Renewal reminder",
    "Renewal exception",
    "Renewal baseline",  # late before sheets-ops knew it: the level it stood at, not escalated
)
# What each key date calls for: the stage the renewal should have reached by then.
MILESTONES = (
    ("Carrier Submission Deadline", Stage.QUOTE_REQUESTED),
    ("Quote Deadline", Stage.QUOTE_RECEIVED),
    ("Client Decision Deadline", Stage.BOUND),
    ("Effective Date", Stage.BOUND),
)
NEXT_STEP = {
    Stage.UPCOMING: "Submit to carriers by {submission}",
    Stage.QUOTE_REQUESTED: "Quotes due {quote}",
    Stage.QUOTE_RECEIVED: "Present to the client",
    Stage.PRESENTED: "Client decides by {decision}",
    Stage.BOUND: "Invoice",
    Stage.INVOICED: "Close when paid",
    Stage.DONE: "",
}


def offsets(setting: str, line: str) -> dict[str, int]:
    """Days before expiration of each key date for a line ("WC: quote 60, ..."), else the
    default entry, else 60/45/21."""
    table: dict[str, dict[str, int]] = {}
    for part in setting.split(";"):
        name, _, spec = part.partition(":")
        values = dict(re.findall(r"(submission|quote|decision)\s+(\d+)", spec.lower()))
        if name.strip() and values:
            table[name.strip().lower()] = {k: int(v) for k, v in values.items()}
    base = {"submission": 60, "quote": 45, "decision": 21, **table.get("default", {})}
    line_key = line.strip().lower()
    for name, values in table.items():
        if name != "default" and (line_key == name or line_key.startswith(name)):
            return {**base, **values}
    return base


@dataclass(frozen=True)
class RenewalReminder:
    key: str
    policy: str
    client: str
    to: str
    expiration: date
    days: int  # days left, or 0 for a presented follow-up
    owner: str


@dataclass
class RenewalReview:
    batch: Batch = field(default_factory=Batch)
    escalations: list[Escalation] = field(default_factory=list)
    reminders: list[RenewalReminder] = field(default_factory=list)


@dataclass(frozen=True)
class Pipeline:
    """The Settings the pipeline follows, read once a cycle."""

    open_days: int = 120
    reminder_days: tuple[int, ...] = (90, 30)  # longest first
    follow_days: int = 7
    offsets: str = ""

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Pipeline:
        days = {int(d) for d in re.findall(r"\d+", settings.get("renewal reminder days", "90; 30"))}
        return cls(
            open_days=int(float(settings.get("renewal open days") or 120)),
            reminder_days=tuple(sorted(days, reverse=True)),
            follow_days=int(float(settings.get("presented follow-up days") or 7)),
            offsets=settings.get("renewal offsets", ""),
        )


@dataclass
class Told:
    """What the Log already says of renewals: (What, Old) lines written, and the ladder level
    each policy has reached. Kept current as this cycle adds lines."""

    lines: set[tuple[str, str]] = field(default_factory=set)
    levels: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_log(cls, log: Tab | None) -> Told:
        told = cls()
        for _row, cells in log.records() if log is not None else []:
            what, old = cell_text(cells.get("what")), cell_text(cells.get("old"))
            told.lines.add((what, old))
            if what.startswith(ESCALATED) or what == BASELINE:
                policy = cell_text(cells.get("request"))
                raised = (old if what == BASELINE else what.removeprefix(ESCALATED)).strip()
                raised = raised.lstrip("L")
                if raised.isdigit():
                    told.levels[policy] = max(told.levels.get(policy, 0), int(raised))
        return told


@dataclass(frozen=True)
class Renewal:
    """One row of the Renewals tab, read once: a read-only view the steps look at."""

    row: int
    policy: str
    expiration: date
    stage: str
    exception: str
    owner: str
    client: str
    line: str
    cells: Mapping[str, CellValue]  # by normalized header

    def held(self, column: str) -> CellValue:
        return self.cells.get(column.lower())


def renewals_in(tab: Tab) -> list[Renewal]:
    """The rows with a policy number and an expiration date (the others wait for them)."""
    found = (renewal_from(row, cells) for row, cells in tab.records())
    return [r for r in found if r is not None]


def renewal_from(row: int, cells: Mapping[str, CellValue]) -> Renewal | None:
    """One row (cells by normalized header) as a Renewal; None without a policy number or an
    expiration date."""
    policy = cell_text(cells.get("policy #"))
    expiration = parse_date(cells.get("expiration"))
    if not policy or expiration is None:
        return None
    return Renewal(
        row,
        policy,
        expiration,
        cell_text(cells.get("stage")),
        cell_text(cells.get("exception")),
        cell_text(cells.get("owner")),
        cell_text(cells.get("client")),
        cell_text(cells.get("line")),
        cells,
    )


@dataclass
class Moves:
    """What one step wants for one renewal: cells to set (column, value, what it holds,
    whether it is a person's cell), Log lines (What, Old, New), escalations, reminders."""

    cells: list[tuple[str, CellValue, CellValue, bool]] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    reminders: list[RenewalReminder] = field(default_factory=list)

    def set(self, column: str, value: CellValue, current: CellValue, human: bool = False) -> None:
        if not same_value(value, current):
            self.cells.append((column, value, current, human))

    def note(self, what: str, old: str, new: str) -> None:
        self.log.append((what, old, new))

    def add(self, other: Moves) -> None:
        self.cells += other.cells
        self.log += other.log
        self.escalations += other.escalations
        self.reminders += other.reminders


def opening(renewal: Renewal, pipeline: Pipeline, today: date) -> tuple[Moves, Renewal | None]:
    """A renewal without a stage opens (Upcoming) Renewal Open Days before expiration;
    before then it is not the pipeline's yet (None)."""
    moves = Moves()
    if renewal.stage:
        return moves, renewal
    days_left = (renewal.expiration - today).days
    if days_left > pipeline.open_days:
        return moves, None
    moves.set("Stage", Stage.UPCOMING.value, None, human=True)
    opened = f"{renewal.policy} {renewal.expiration.isoformat()}"
    moves.note(OPENED, opened, f"{counted(days_left, 'day')} before expiration")
    return moves, replace(renewal, stage=Stage.UPCOMING.value)


def key_dates(renewal: Renewal, pipeline: Pipeline) -> dict[str, date]:
    """The renewal's key dates, from the offsets for its line."""
    days = offsets(pipeline.offsets, renewal.line)
    expiration = renewal.expiration
    return {
        "Carrier Submission Deadline": expiration - timedelta(days=days["submission"]),
        "Quote Deadline": expiration - timedelta(days=days["quote"]),
        "Client Decision Deadline": expiration - timedelta(days=days["decision"]),
        "Effective Date": expiration,
    }


def dated(renewal: Renewal, dates: Mapping[str, date]) -> Moves:
    """The key date cells and the Next Step the stage calls for."""
    moves = Moves()
    for column, day in dates.items():
        moves.set(column, day, renewal.held(column))
    step = NEXT_STEP.get(Stage(renewal.stage), "") if renewal.stage in STAGES else ""
    step = step.format(
        submission=f"{dates['Carrier Submission Deadline']:%m/%d}",
        quote=f"{dates['Quote Deadline']:%m/%d}",
        decision=f"{dates['Client Decision Deadline']:%m/%d}",
    )
    moves.set("Next Step", step, renewal.held("next step"))
    return moves


def milestone(
    renewal: Renewal, dates: Mapping[str, date], told: Told, team: list[Member], today: date
) -> Moves:
    """A key date that passed before the stage got there climbs the ladder: the owner of the
    renewal, then the ops managers (over 5 days late), then the agency owner (over 14 days,
    or at the effective date)."""
    moves = Moves()
    reached = STAGES.index(renewal.stage) if renewal.stage in STAGES else 0
    missed = [
        (c, dates[c])
        for c, need in MILESTONES
        if dates[c] < today and reached < STAGES.index(need.value)
    ]
    if not missed:
        return moves
    column, day = missed[-1]
    late = (today - day).days
    level = 3 if column == "Effective Date" or late > 14 else 2 if late > 5 else 1
    before = told.levels.get(renewal.policy, 0)
    if level <= before:
        return moves
    owner = renewal.owner
    managers = [m.name for m in team if m.role.lower() == "ops manager"]
    owners = [m.name for m in team if m.role.lower() == "owner"]
    to = [owner] if level == 1 and owner else managers if level == 2 else owners
    to = [n for n in to if n] or ([owner] if owner else [])
    emails = {m.name.lower(): m.email for m in team}
    reason = f"{column.lower()} {day.isoformat()} passed at stage {renewal.stage}"
    addresses = tuple(emails.get(n.lower(), "") for n in to)
    moves.escalations.append(Escalation(renewal.policy, level, reason, tuple(to), addresses))
    was = f"L{before}" if before else ""
    moves.note(f"{ESCALATED} L{level}", was, f"{reason} → {', '.join(to) or 'nobody'}")
    return moves


def exception_noted(renewal: Renewal, told: Told) -> Moves:
    """A new exception (a lost account, a late carrier) is told once, in the next digest."""
    moves = Moves()
    key = f"{renewal.policy} {renewal.exception}"
    if renewal.exception and (RENEWAL_EXCEPTION, key) not in told.lines:
        owner = renewal.owner or "nobody"
        moves.note(RENEWAL_EXCEPTION, key, f"{renewal.client}: {renewal.exception} → {owner}")
    return moves


REMINDED_STAGES = (
    Stage.UPCOMING.value,
    Stage.QUOTE_REQUESTED.value,
    Stage.QUOTE_RECEIVED.value,
    Stage.PRESENTED.value,
)


def client_contact(
    renewal: Renewal, pipeline: Pipeline, address: str, told: Told, today: date
) -> Moves:
    """The client: a reminder at each Renewal Reminder Days before expiration, and a
    follow-up when a presented renewal sits Presented Follow-up Days without contact."""
    moves = Moves()
    policy, expiration, stage = renewal.policy, renewal.expiration, renewal.stage
    held = renewal.held("last client contact")
    last = parse_date(held)
    days_left = (expiration - today).days
    due = [d for d in pipeline.reminder_days if days_left <= d]
    if stage in REMINDED_STAGES and due:
        key = f"renewal-{policy_key(policy)}-{expiration:%Y%m%d}-{min(due)}d"
        if (RENEWAL_REMINDER, key) not in told.lines and address:
            moves.reminders.append(
                RenewalReminder(
                    key, policy, renewal.client, address, expiration, days_left, renewal.owner
                )
            )
            moves.note(
                RENEWAL_REMINDER,
                key,
                f"to {address}: {counted(days_left, 'day')} before expiration",
            )
            moves.set("Last Client Contact", today, held)
            last = today
    if stage != Stage.PRESENTED.value:
        return moves
    if last is None:
        moves.set("Last Client Contact", today, None)  # presenting is a contact
    elif address and (today - last).days >= pipeline.follow_days:
        key = f"renewal-{policy_key(policy)}-presented-{last:%Y%m%d}"
        if (RENEWAL_REMINDER, key) not in told.lines:
            moves.reminders.append(
                RenewalReminder(key, policy, renewal.client, address, expiration, 0, renewal.owner)
            )
            moves.note(RENEWAL_REMINDER, key, f"to {address}: following up on the proposal")
            moves.set("Last Client Contact", today, held)
    return moves


def review_renewal(
    renewal: Renewal,
    pipeline: Pipeline,
    told: Told,
    directory: Directory,
    team: list[Member],
    today: date,
) -> Moves:
    """One renewal's changes this cycle, step by step."""
    moves, opened = opening(renewal, pipeline, today)
    if opened is None:
        return moves
    if opened.stage == Stage.DONE.value or opened.exception == RenewalException.LOST.value:
        moves.set("Next Step", "", opened.held("next step"))
        return moves
    dates = key_dates(opened, pipeline)
    moves.add(dated(opened, dates))
    moves.add(milestone(opened, dates, told, team, today))
    moves.add(exception_noted(opened, told))
    moves.add(
        client_contact(opened, pipeline, _client_address(directory, opened.client), told, today)
    )
    return moves


def baseline(
    renewals: Iterable[Renewal],
    settings: Mapping[str, str],
    team: list[Member],
    today: date,
    told: Told | None = None,
) -> list[tuple[str, int, str]]:
    """(Policy #, level, why) of each renewal already past a key date: what a first import
    (or one with --baseline) records as known, so the pipeline starts without escalating
    what was late before the tool existed. A later, higher level still escalates."""
    pipeline = Pipeline.from_settings(settings)
    out = []
    for renewal in renewals:
        opened = replace(renewal, stage=renewal.stage or Stage.UPCOMING.value)
        if opened.stage == Stage.DONE.value or opened.exception == RenewalException.LOST.value:
            continue
        moves = milestone(opened, key_dates(opened, pipeline), told or Told(), team, today)
        for escalation in moves.escalations:
            out.append((renewal.policy, escalation.level, escalation.reason))
    return out


def review_renewals(
    renewals: Tab,
    log: Tab | None,
    settings: Mapping[str, str],
    directory: Directory,
    team: list[Member],
    today: date,
    now: datetime,
) -> RenewalReview:
    """Each cycle's changes to the Renewals tab, escalations and client reminders."""
    result = RenewalReview()
    if not any(any(not is_blank(v) for v in row) for row in renewals.rows):
        return result  # no pipeline yet: the Log is not read for it
    pipeline = Pipeline.from_settings(settings)
    told = Told.from_log(log)
    for renewal in renewals_in(renewals):
        moves = review_renewal(renewal, pipeline, told, directory, team, today)
        for column, value, current, human in moves.cells:
            only = {"only_if": current} if human else {}
            result.batch.cells.append(
                CellWrite(RENEWALS.name, renewal.policy, renewal.row, column, value, **only)
            )
        for what, old, new in moves.log:
            cells: dict[str, CellValue] = {
                "When": now,
                "Request": renewal.policy,
                "What": what,
                "Old": old,
                "New": new,
                "By": BY_JOB,
            }
            result.batch.rows.append(NewRow(LOG.name, cells))
            told.lines.add((what, old))
        for escalation in moves.escalations:
            told.levels[renewal.policy] = escalation.level
        result.escalations += moves.escalations
        result.reminders += moves.reminders
    return result


def _client_address(directory: Directory, client: str) -> str:
    account = directory.account(client) if client else None
    if account is None or not account.emails:
        return ""
    return sorted(account.emails)[0]

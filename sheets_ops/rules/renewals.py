"""The renewal pipeline: importing a policy export, and each cycle's look at the Renewals tab.
Pure: rows and settings in, changes out; `today` is a parameter.

A renewal opens Renewal Open Days before expiration (Stage: Upcoming) and gets its key dates
from the offsets for its line. A key date that passes while the stage has not reached what it
calls for climbs the escalation ladder; a new exception is told in the next digest; the client
is reminded at the Renewal Reminder Days and followed up when a presented renewal sits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
from sheets_ops.rules.history import ESCALATED
from sheets_ops.rules.steps import Escalation
from sheets_ops.rules.team import Member
from sheets_ops.sheet import Batch, CellWrite, NewRow, Tab, cell_text, normalize_header

STAGES = [s.value for s in Stage]
OPENED, RENEWAL_REMINDER, RENEWAL_EXCEPTION = (
    "Renewal opened",
    "Renewal reminder",
    "Renewal exception",
)
IMPORTED = ("Client", "Carrier", "Line", "Expiration", "Expiring Premium")
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

_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%Y-%m-%d",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y%m%d",
)


def parse_date(value: CellValue) -> date | None:
    """A date as exports write them: 1/15/2027, 2027-01-15, 15-Jan-2027, Jan 15, 2027, a
    spreadsheet serial, a date-time. None when it is none of those."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20000 < value < 80000:
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = str(value or "").strip()
    if not text:
        return None
    text = re.sub(r"[T ]\d{1,2}:\d{2}(:\d{2})?(\.\d+)?$", "", text)
    if text.isdigit() and 20000 < int(text) < 80000 and len(text) == 5:
        return date(1899, 12, 30) + timedelta(days=int(text))
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_amount(value: CellValue) -> float | None:
    """ "$1,234.50", "1234", "(250.00)", "USD 1 234" -> a number; "" -> None.
    Raises ValueError for text that is no amount."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value or "").strip()
    if not text:
        return None
    negative = (text.startswith("(") and text.endswith(")")) or text.startswith("-")
    cleaned = re.sub(r"(?i)usd|[$€£,\s()+-]", "", text)
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise ValueError(f"{text!r} is not an amount")
    amount = float(cleaned)
    return -amount if negative else amount


def column_map(setting: str) -> dict[str, list[str]]:
    """ "Client=Named Insured, Insured; ..." -> {Renewals column: [export headers]}."""
    out: dict[str, list[str]] = {}
    for part in setting.split(";"):
        column, _, headers = part.partition("=")
        if column.strip() and headers.strip():
            out[column.strip()] = [h.strip() for h in headers.split(",") if h.strip()]
    return out


@dataclass
class ImportResult:
    batch: Batch = field(default_factory=Batch)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # line, reason


def plan_import(
    header: list[str],
    lines: Iterable[tuple[int, list[str]]],
    mapping: Mapping[str, list[str]],
    renewals: Tab,
) -> ImportResult:
    """What an export changes in the Renewals tab: new policies added, changed ones updated
    (found by Policy #), unchanged ones left alone; unreadable lines reported, not guessed."""
    result = ImportResult()
    wanted = {normalize_header(h): i for i, h in enumerate(header)}
    where: dict[str, int] = {}
    for column, names in mapping.items():
        for name in names:
            if normalize_header(name) in wanted:
                where[column] = wanted[normalize_header(name)]
                break
    for needed in ("Policy #", "Expiration"):
        if needed not in where:
            tried = ", ".join(mapping.get(needed, []))
            raise ValueError(
                f"the export has no column for {needed} (tried {tried}); "
                "add its header to Settings, Renewal Columns"
            )
    existing: dict[str, tuple[int, dict[str, CellValue]]] = {}
    for row, rec in renewals.records():
        key = policy_key(cell_text(rec.get("policy #")))
        if key:
            existing[key] = (row, rec)
    seen: dict[str, int] = {}
    for line, values in lines:

        def get(column: str, values: list[str] = values) -> str:
            i = where.get(column)
            return values[i].strip() if i is not None and i < len(values) else ""

        policy = get("Policy #")
        if not policy:
            result.problems.append((line, "no policy number"))
            continue
        key = policy_key(policy)
        if key in seen:
            result.problems.append(
                (line, f"{policy} is also on line {seen[key]}; that one is kept")
            )
            continue
        seen[key] = line
        expiration = parse_date(get("Expiration"))
        if expiration is None:
            result.problems.append((line, f"expiration {get('Expiration')!r} is not a date"))
            continue
        try:
            premium = parse_amount(get("Expiring Premium"))
        except ValueError as e:
            result.problems.append((line, f"premium: {e}"))
            continue
        cells: dict[str, CellValue] = {
            "Client": get("Client") or None,
            "Carrier": get("Carrier") or None,
            "Line": get("Line") or None,
            "Expiration": expiration,
            "Expiring Premium": premium,
        }
        owner = get("Owner")
        if key not in existing:
            new: dict[str, CellValue] = {"Policy #": policy}
            new.update({k: v for k, v in cells.items() if v is not None})
            if owner:
                new["Owner"] = owner
            result.batch.rows.append(NewRow(RENEWALS.name, new, dedupe="Policy #"))
            result.added += 1
            continue
        row, rec = existing[key]
        ref = cell_text(rec.get("policy #"))
        changes = [
            c for c, v in cells.items() if v is not None and not _same(v, rec.get(c.lower()))
        ]
        for column in changes:
            result.batch.cells.append(CellWrite(RENEWALS.name, ref, row, column, cells[column]))
        if owner and is_blank(rec.get("owner")):
            result.batch.cells.append(
                CellWrite(RENEWALS.name, ref, row, "Owner", owner, only_if=None)
            )
            changes.append("Owner")
        if changes:
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def _same(new: CellValue, old: CellValue) -> bool:
    """Whether an imported value is what the sheet holds (a workbook gives dates back as
    date-times, and numbers as floats)."""
    if isinstance(new, date):
        return parse_date(old) == new
    if isinstance(new, float):
        return isinstance(old, int | float) and abs(float(old) - new) < 0.005
    return cell_text(new) == cell_text(old)


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
    open_days = int(float(settings.get("renewal open days") or 120))
    reminder_days = sorted(
        {int(d) for d in re.findall(r"\d+", settings.get("renewal reminder days", "90; 30"))},
        reverse=True,
    )
    follow_days = int(float(settings.get("presented follow-up days") or 7))
    offsets_setting = settings.get("renewal offsets", "")
    done: set[tuple[str, str]] = set()  # (What, Old) already in the Log
    levels: dict[str, int] = {}
    for _row, rec in log.records() if log is not None else []:
        what, old = cell_text(rec.get("what")), cell_text(rec.get("old"))
        done.add((what, old))
        if what.startswith(ESCALATED):
            rid = cell_text(rec.get("request"))
            raised = what.removeprefix(ESCALATED).strip().lstrip("L")
            if raised.isdigit():
                levels[rid] = max(levels.get(rid, 0), int(raised))
    emails = {m.name.lower(): m.email for m in team}
    managers = [m.name for m in team if m.role.lower() == "ops manager"]
    owners = [m.name for m in team if m.role.lower() == "owner"]

    def write(
        policy: str,
        row: int,
        column: str,
        value: CellValue,
        current: CellValue,
        human: bool = False,
    ) -> None:
        if not _same(value, current):
            extra = {"only_if": current} if human else {}
            result.batch.cells.append(CellWrite(RENEWALS.name, policy, row, column, value, **extra))

    def log_row(policy: str, what: str, old: str, new: str) -> None:
        cells: dict[str, CellValue] = {
            "When": now,
            "Request": policy,
            "What": what,
            "Old": old,
            "New": new,
            "By": BY_JOB,
        }
        result.batch.rows.append(NewRow(LOG.name, cells))
        done.add((what, old))

    for row, rec in renewals.records():
        policy = cell_text(rec.get("policy #"))
        expiration = parse_date(rec.get("expiration"))
        if not policy or expiration is None:
            continue
        stage = cell_text(rec.get("stage"))
        exception = cell_text(rec.get("exception"))
        owner = cell_text(rec.get("owner"))
        client = cell_text(rec.get("client"))
        days_left = (expiration - today).days
        if not stage:
            if days_left > open_days:
                continue  # not open yet
            stage = Stage.UPCOMING.value
            write(policy, row, "Stage", stage, None, human=True)
            log_row(
                policy,
                OPENED,
                f"{policy} {expiration.isoformat()}",
                f"{days_left} days before expiration",
            )
        if stage == Stage.DONE.value or exception == RenewalException.LOST.value:
            write(policy, row, "Next Step", "", rec.get("next step"))
            continue
        o = offsets(offsets_setting, cell_text(rec.get("line")))
        dates = {
            "Carrier Submission Deadline": expiration - timedelta(days=o["submission"]),
            "Quote Deadline": expiration - timedelta(days=o["quote"]),
            "Client Decision Deadline": expiration - timedelta(days=o["decision"]),
            "Effective Date": expiration,
        }
        for column, day in dates.items():
            write(policy, row, column, day, rec.get(column.lower()))
        step = NEXT_STEP.get(Stage(stage), "") if stage in STAGES else ""
        step = step.format(
            submission=f"{dates['Carrier Submission Deadline']:%m/%d}",
            quote=f"{dates['Quote Deadline']:%m/%d}",
            decision=f"{dates['Client Decision Deadline']:%m/%d}",
        )
        write(policy, row, "Next Step", step, rec.get("next step"))

        # A key date passed before the stage got there: the ladder.
        reached = STAGES.index(stage) if stage in STAGES else 0
        missed = [
            (c, dates[c])
            for c, need in MILESTONES
            if dates[c] < today and reached < STAGES.index(need.value)
        ]
        if missed:
            column, day = missed[-1]
            late = (today - day).days
            level = 3 if column == "Effective Date" or late > 14 else 2 if late > 5 else 1
            if level > levels.get(policy, 0):
                to = [owner] if level == 1 and owner else managers if level == 2 else owners
                to = [n for n in to if n] or ([owner] if owner else [])
                reason = f"{column.lower()} {day.isoformat()} passed at stage {stage}"
                result.escalations.append(
                    Escalation(
                        policy,
                        level,
                        reason,
                        tuple(to),
                        tuple(emails.get(n.lower(), "") for n in to),
                    )
                )
                log_row(
                    policy,
                    f"{ESCALATED} L{level}",
                    f"L{levels.get(policy, 0)}" if levels.get(policy) else "",
                    f"{reason} → {', '.join(to) or 'nobody'}",
                )
                levels[policy] = level
        if exception and (RENEWAL_EXCEPTION, f"{policy} {exception}") not in done:
            log_row(
                policy,
                RENEWAL_EXCEPTION,
                f"{policy} {exception}",
                f"{client}: {exception} → {owner or 'nobody'}",
            )

        # The client: reminders before expiration, and a follow-up on a presented renewal.
        address = _client_address(directory, client)
        last = parse_date(rec.get("last client contact"))
        due_reminders = [d for d in reminder_days if days_left <= d]
        if (
            stage
            in (
                Stage.UPCOMING.value,
                Stage.QUOTE_REQUESTED.value,
                Stage.QUOTE_RECEIVED.value,
                Stage.PRESENTED.value,
            )
            and due_reminders
        ):
            days = min(due_reminders)
            key = f"renewal-{policy_key(policy)}-{expiration:%Y%m%d}-{days}d"
            if (RENEWAL_REMINDER, key) not in done and address:
                result.reminders.append(
                    RenewalReminder(key, policy, client, address, expiration, days_left, owner)
                )
                log_row(
                    policy,
                    RENEWAL_REMINDER,
                    key,
                    f"to {address}: {days_left} days before expiration",
                )
                write(policy, row, "Last Client Contact", today, rec.get("last client contact"))
                last = today
        if stage == Stage.PRESENTED.value and last is None:
            write(policy, row, "Last Client Contact", today, None)  # presenting is a contact
        elif (
            stage == Stage.PRESENTED.value
            and address
            and last is not None
            and (today - last).days >= follow_days
        ):
            key = f"renewal-{policy_key(policy)}-presented-{last:%Y%m%d}"
            if (RENEWAL_REMINDER, key) not in done:
                result.reminders.append(
                    RenewalReminder(key, policy, client, address, expiration, 0, owner)
                )
                log_row(
                    policy, RENEWAL_REMINDER, key, f"to {address}: following up on the proposal"
                )
                write(policy, row, "Last Client Contact", today, rec.get("last client contact"))
    return result


def _client_address(directory: Directory, client: str) -> str:
    account = directory.account(client) if client else None
    if account is None or not account.emails:
        return ""
    return sorted(account.emails)[0]

"""Each cycle's look at every open request: who owns it, how old and how idle it is, when it
is due, where its SLA stands, and whether someone must be reminded. Pure: a function of
(tracker snapshot, settings, calendar, now, the human cells seen last cycle).

Routing fills Owner only while it is blank. Change detection compares the human columns with
the last cycle's (kept by the caller in STATE_DIR; without it, this cycle is the baseline):
an edit sets Last Touched and is logged (By = sheet edit). The SLA clock runs in business
hours and stops while a request waits on the client or the carrier. The escalation ladder
raises each level at most once per request, and returns Escalation records for the sender.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sheets_ops.model import (
    BY_JOB,
    DEFAULT_CHECKLISTS,
    LOG,
    REQUESTS,
    ROUTING,
    TEAM,
    CellValue,
    Owner,
    Role,
    SlaState,
    Status,
    is_blank,
    parse_id,
)
from sheets_ops.rules.clock import Calendar
from sheets_ops.rules.directory import Directory
from sheets_ops.rules.kinds import is_complex
from sheets_ops.sheet import (
    Batch,
    CellWrite,
    NewRow,
    Snapshot,
    Tab,
    cell_text,
    header_problems,
    normalize_header,
)

HUMAN_COLUMNS = tuple(
    c.name for c in REQUESTS.columns + REQUESTS.optional if c.owner is not Owner.JOB
)
CLOSED = (Status.DONE.value, Status.CANCELLED.value)
AGE_BUCKETS = ("under 1 day", "1 to 3 days", "3 to 7 days", "over 7 days")


def age_bucket(days: float) -> str:
    """Which of AGE_BUCKETS an age in business days falls in."""
    return AGE_BUCKETS[0 if days < 1 else 1 if days < 3 else 2 if days < 7 else 3]


WAITING = (Status.WAITING_ON_CLIENT.value, Status.WAITING_ON_CARRIER.value)
SHEET_EDIT = "sheet edit"
ESCALATED = "Escalated"
CARRIER_CHASE = "Carrier chase"
STEPS_MISSING = "Done with steps missing"
FIRST_RESPONSE = "First response"
ROUTED = "Routed"
# Plain strings for the hot loop (an Enum's .value costs a descriptor call each time).
_SLASTATE_CLOSED = SlaState.CLOSED.value
_SLASTATE_DUE_SOON = SlaState.DUE_SOON.value
_SLASTATE_ON_TRACK = SlaState.ON_TRACK.value
_SLASTATE_OVERDUE = SlaState.OVERDUE.value
_SLASTATE_PAUSED = SlaState.PAUSED.value
_STATUS_DONE = Status.DONE.value
_STATUS_NEW = Status.NEW.value
_STATUS_WAITING_ON_CARRIER = Status.WAITING_ON_CARRIER.value
TICKED = {"yes", "y", "x", "✓", "✔", "done", "true", "1"}


@dataclass(frozen=True)
class Member:
    name: str
    email: str
    role: str
    on_duty: bool
    out_until: date | None
    backup: str


@dataclass(frozen=True)
class Route:
    route_to: str = "On-duty CSR"
    complex_route_to: str = ""
    sla: float = 24.0
    idle: float | None = None
    checklist: tuple[str, ...] = ()


@dataclass(frozen=True)
class Escalation:
    """A reminder to send: the notifications send these, the tracker records them first."""

    request_id: str
    level: int  # 1 owner, 2 ops manager, 3 agency owner; 0 for a carrier chase
    reason: str
    to: tuple[str, ...]  # Team names
    emails: tuple[str, ...]


@dataclass
class Review:
    batch: Batch = field(default_factory=Batch)
    escalations: list[Escalation] = field(default_factory=list)
    seen: dict[str, dict[str, str]] = field(default_factory=dict)  # human cells, for next time
    edits: int = 0
    problems: list[str] = field(default_factory=list)  # one line each, for the output


def _day(value: CellValue) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _moment(value: CellValue) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, str) and value.strip():
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _number(value: CellValue) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip()) if not is_blank(value) else None
    except ValueError:
        return None


def team_from(snapshot: Snapshot) -> list[Member]:
    tab = snapshot.tab(TEAM.name)
    if tab is None or header_problems(tab, TEAM):
        return []
    members = []
    for _row, rec in tab.records():
        name = cell_text(rec.get("name"))
        if name:
            members.append(
                Member(
                    name,
                    cell_text(rec.get("email")).lower(),
                    cell_text(rec.get("role")),
                    cell_text(rec.get("on duty")).lower() in ("yes", "y", "true", "1", "x"),
                    _day(rec.get("out until")),
                    cell_text(rec.get("backup")),
                )
            )
    return members


def routes_from(snapshot: Snapshot, default_idle: float) -> dict[str, Route]:
    tab = snapshot.tab(ROUTING.name)
    if tab is None or header_problems(tab, ROUTING):
        return {}
    routes = {}
    for _row, rec in tab.records():
        kind = cell_text(rec.get("type"))
        if not kind:
            continue
        listed = cell_text(rec.get("close checklist")).split(";")
        steps = tuple(s.strip() for s in listed if s.strip())
        routes[kind] = Route(
            route_to=cell_text(rec.get("route to")) or "On-duty CSR",
            complex_route_to=cell_text(rec.get("complex route to")),
            sla=_number(rec.get("sla")) or 24.0,
            idle=_number(rec.get("escalate after idle")) or default_idle,
            # blank: the defaults for the Type; "none": no checklist at all
            checklist=(
                ()
                if [s.lower() for s in steps] == ["none"]
                else steps or DEFAULT_CHECKLISTS.get(kind, ())
            ),
        )
    return routes


class Assigner:
    """Owners from Routing, Accounts and Team; counts what it hands out, to balance load."""

    def __init__(
        self, team: list[Member], directory: Directory, today: date, open_load: Mapping[str, int]
    ) -> None:
        self.team = {m.name.lower(): m for m in team}
        self.directory = directory
        self.today = today
        self.load = {name.lower(): n for name, n in open_load.items()}

    def available(self, name: str) -> Member | None:
        """The person, or whoever covers for them (Backup, and the backup's backup)."""
        seen: set[str] = set()
        member = self.team.get(name.strip().lower())
        while member is not None and member.name.lower() not in seen:
            if member.out_until is None or member.out_until <= self.today:
                return member
            seen.add(member.name.lower())
            member = self.team.get(member.backup.strip().lower())
        return None

    def least_loaded(self, members: Iterable[Member]) -> Member | None:
        ready = [m for m in members if self.available(m.name) is m]
        if not ready:
            return None
        return min(ready, key=lambda m: (self.load.get(m.name.lower(), 0), m.name.lower()))

    def on_duty_csr(self) -> Member | None:
        csrs = [m for m in self.team.values() if m.role.lower() == Role.CSR.lower() and m.on_duty]
        return self.least_loaded(csrs) or self.least_loaded(
            m for m in self.team.values() if m.role.lower() == Role.CSR.lower()
        )

    def target(self, how: str, client: str) -> tuple[Member | None, str]:
        how = how.strip()
        if how.lower() == "account owner":
            account = self.directory.account(client) if client else None
            if account is None:
                return self.on_duty_csr(), "client not in Accounts: on-duty CSR"
            if not account.owner:
                return self.on_duty_csr(), f"{client} has no Account Owner: on-duty CSR"
            member = self.available(account.owner)
            if member is None:
                return self.on_duty_csr(), f"{account.owner} and their backups are out"
            return member, "account owner" if member.name == account.owner else (
                f"covering for {account.owner}"
            )
        if how.lower() in ("on-duty csr", "on duty csr", ""):
            return self.on_duty_csr(), "on-duty CSR"
        role = [m for m in self.team.values() if m.role.lower() == how.lower()]
        if role:
            return self.least_loaded(role), how
        member = self.available(how)
        if member is None:
            return self.on_duty_csr(), f"{how} is out or not in Team: on-duty CSR"
        return member, how if member.name.lower() == how.lower() else f"covering for {how}"

    def assign(
        self, kind: str, client: str, complex_: bool, routes: Mapping[str, Route]
    ) -> tuple[str, str]:
        route = routes.get(kind) or routes.get("Other") or Route()
        how = route.complex_route_to if complex_ and route.complex_route_to else route.route_to
        member, why = self.target(how, client)
        if member is None:
            return "", "nobody in Team can take it"
        if not client and how.lower() != "on-duty csr":
            why += "; client not matched"
        self.load[member.name.lower()] = self.load.get(member.name.lower(), 0) + 1
        return member.name, why


@dataclass
class History:
    """What the Log says about one request."""

    status_changes: list[tuple[datetime, str, str]] = field(default_factory=list)  # when, old, new
    levels: set[int] = field(default_factory=set)
    chased: set[str] = field(default_factory=set)
    flagged_steps: bool = False
    responded: bool = False


def histories(log: Tab | None) -> dict[str, History]:
    out: dict[str, History] = {}
    if log is None or header_problems(log, LOG):
        return out
    for _row, rec in log.records():
        rid = cell_text(rec.get("request"))
        if parse_id(rid) is None:
            continue
        what = cell_text(rec.get("what"))
        h = out.setdefault(rid, History())
        if what == "Status changed":
            when = _moment(rec.get("when"))
            if when is not None:
                old, new = cell_text(rec.get("old")), cell_text(rec.get("new"))
                h.status_changes.append((when, old, new))
        elif what.startswith(ESCALATED):
            level = what.removeprefix(ESCALATED).strip().lstrip("L")
            if level.isdigit():
                h.levels.add(int(level))
        elif what == CARRIER_CHASE:
            h.chased.add(cell_text(rec.get("old")))
        elif what == STEPS_MISSING:
            h.flagged_steps = True
        elif what == FIRST_RESPONSE:
            h.responded = True
    return out


def paused_hours(
    calendar: Calendar,
    received: datetime,
    status: str,
    last_change: datetime,
    changes: list[tuple[datetime, str, str]],
    now: datetime,
) -> float:
    """Business hours the request spent waiting on the client or the carrier."""
    total = 0.0
    waiting_since: datetime | None = None
    for when, old, new in sorted(changes):
        if old in WAITING and waiting_since is not None:
            total += calendar.hours_between(waiting_since, when)
            waiting_since = None
        if new in WAITING:
            waiting_since = when
    if status in WAITING:
        start = waiting_since or last_change or received
        total += calendar.hours_between(start, now)
    return total


def review(
    snapshot: Snapshot,
    requests: Tab,
    directory: Directory,
    calendar: Calendar,
    settings: Mapping[str, str],
    now: datetime,
    seen_before: Mapping[str, Mapping[str, str]] | None,
    new_requests: Sequence[dict[str, CellValue]] = (),
    job_wrote: Mapping[str, Mapping[str, str]] | None = None,
    refresh_aging: bool = True,
) -> Review:
    """Every change this cycle makes to existing requests, and the Owner, Due and SLA of the
    `new_requests` intake is adding (their cells are filled in place). `now` is agency
    wall-clock time. `job_wrote`: what a cycle that did not finish was writing into people's
    columns; a cell holding that value is the job's, not a person's edit. `refresh_aging`:
    whether Age (h) and Idle (h) are rewritten on rows that change nothing else."""
    job_wrote = job_wrote or {}
    result = Review()
    today = now.date()
    default_idle = _number(settings.get("escalate after idle")) or 24.0
    due_soon = _number(settings.get("due soon hours")) or 4.0
    chase_days = int(_number(settings.get("carrier follow-up days")) or 3)
    recipients = [
        r.strip() for r in settings.get("escalation recipients", "").split(";") if r.strip()
    ]
    team = team_from(snapshot)
    routes = routes_from(snapshot, default_idle)
    log = snapshot.tab(LOG.name)
    log_ok = log is not None and not header_problems(log, LOG)
    history = histories(log)
    has = {c: requests.col(c) is not None for c in (*HUMAN_COLUMNS, "Last Touched")}
    rows = list(requests.records())
    human_keys = [(c, c.lower()) for c in HUMAN_COLUMNS if has[c]]
    clock_now = calendar.elapsed(now)  # business seconds at `now`, measured once
    load: dict[str, int] = {}
    for _row, rec in rows:
        if cell_text(rec.get("status")) not in CLOSED and cell_text(rec.get("owner")):
            load[cell_text(rec.get("owner"))] = load.get(cell_text(rec.get("owner")), 0) + 1
    assigner = Assigner(team, directory, today, load)
    by_role: dict[str, list[Member]] = {}
    for m in team:
        by_role.setdefault(m.role.lower(), []).append(m)
    emails = {m.name.lower(): m.email for m in team}

    blanked = _blanked_columns(rows, human_keys, seen_before)
    for column, count in blanked.items():
        result.problems.append(
            f'Requests tab: every "{column}" cell is blank since the last cycle ({count} rows '
            "held one): treated as a broken column, not as edits; undo the change, or rename "
            "back the column it was moved to"
        )

    target: list[dict[str, CellValue] | None] = [None]  # a new request's cells, or None

    def write(
        rid: str, row: int, column: str, value: CellValue, current: CellValue, human: bool = False
    ) -> None:
        if value == current or cell_text(value) == cell_text(current) or column in blanked:
            return
        if target[0] is not None:  # a request intake is adding: fill its row directly
            target[0][column] = value
            return
        only = {"only_if": current} if human else {}
        result.batch.cells.append(CellWrite(REQUESTS.name, rid, row, column, value, **only))

    def log_row(rid: str, what: str, old: str, new: str, by: str = BY_JOB) -> None:
        if log_ok:
            cells: dict[str, CellValue] = {
                "When": now,
                "Request": rid,
                "What": what,
                "Old": old or None,
                "New": new or None,
                "By": by,
            }
            result.batch.rows.append(NewRow(LOG.name, cells))

    def assess(row: int, rec: Mapping[str, CellValue]) -> None:
        """One request: its edits, closing, owner, clock, carrier chase and ladder."""
        rid = cell_text(rec.get("id"))
        if parse_id(rid) is None:
            return
        written_before = len(result.batch.cells)
        h = history.get(rid, History())
        status = cell_text(rec.get("status")) or _STATUS_NEW
        received = _moment(rec.get("received")) or now
        last_touched = _moment(rec.get("last touched"))
        current = {c: cell_text(rec.get(key)) for c, key in human_keys}
        before = seen_before.get(rid) if seen_before is not None else None
        for column in blanked:  # a broken column: last cycle's view stands
            current[column] = (before or {}).get(column, "")
        result.seen[rid] = current

        # 1. What people changed since last cycle.
        ours = job_wrote.get(rid, {})
        touched = False
        if before is not None:
            for column, value in current.items():
                old = before.get(column, "")
                if value == old or (column in ours and value == ours[column]):
                    continue
                touched = True
                result.edits += 1
                if column == "Status":
                    log_row(rid, "Status changed", old, value, SHEET_EDIT)
                    h.status_changes.append((now, old, value))
                    if old in ("", _STATUS_NEW) and not h.responded:
                        log_row(rid, FIRST_RESPONSE, old, value)
                        h.responded = True
                else:
                    log_row(rid, f"{column} changed", old, value, SHEET_EDIT)
        if touched:
            last_touched = now
            write(rid, row, "Last Touched", now, rec.get("last touched"))

        # 2. Closed when Done or Cancelled, with every step ticked.
        kind = cell_text(rec.get("type")) or "Other"
        route = routes.get(kind) or Route(
            idle=default_idle, checklist=DEFAULT_CHECKLISTS.get(kind, ())
        )
        steps = [s for s in route.checklist if requests.col(s) is not None]
        unticked = [s for s in steps if cell_text(rec.get(s.lower())).lower() not in TICKED]
        closed = status in CLOSED and not (status == _STATUS_DONE and unticked)
        missing_note = cell_text(rec.get("missing info"))
        if status == _STATUS_DONE and unticked:
            wanted = f"Before closing: {'; '.join(unticked)}"
            write(rid, row, "Missing Info", wanted, rec.get("missing info"))
            if not h.flagged_steps:
                log_row(rid, STEPS_MISSING, "", "; ".join(unticked))
        elif missing_note.startswith("Before closing:"):
            write(rid, row, "Missing Info", None, rec.get("missing info"))
        if closed:  # stamped once, then left alone: closed requests cost nothing
            if is_blank(rec.get("closed")):
                write(rid, row, "Closed", now, None)
                age_at_close = round(calendar.hours_between(received, now), 1)
                write(rid, row, "Age (h)", age_at_close, rec.get("age (h)"))
            write(rid, row, "SLA", _SLASTATE_CLOSED, rec.get("sla"))
            return
        if not is_blank(rec.get("closed")):  # reopened
            write(rid, row, "Closed", None, rec.get("closed"))

        # 3. Owner, only while blank.
        owner = cell_text(rec.get("owner"))
        if not owner:
            complex_ = is_complex(
                kind, cell_text(rec.get("summary")), cell_text(rec.get("context")), directory
            )
            owner, why = assigner.assign(kind, cell_text(rec.get("client")), complex_, routes)
            if owner:
                write(rid, row, "Owner", owner, None, human=True)
                log_row(rid, ROUTED, "", f"{owner} ({why})")

        # 4. The clock.
        since = last_touched or received
        last_change = max((w for w, _o, _n in h.status_changes), default=since)
        paused = paused_hours(calendar, received, status, last_change, h.status_changes, now)
        due = calendar.add_hours(received, route.sla + paused)
        deadline = _day(rec.get("client deadline"))
        if deadline is not None:
            due = min(due, calendar.close_of(deadline))
        age = max(0, clock_now - calendar.elapsed(received)) / 3600
        idle = max(0, clock_now - calendar.elapsed(since)) / 3600
        if status in WAITING:
            state = _SLASTATE_PAUSED
        elif now > due:
            state = _SLASTATE_OVERDUE
        elif (calendar.elapsed(due) - clock_now) / 3600 <= due_soon:
            state = _SLASTATE_DUE_SOON
        else:
            state = _SLASTATE_ON_TRACK
        write(rid, row, "Due", due.replace(second=0, microsecond=0), rec.get("due"))
        write(rid, row, "SLA", state, rec.get("sla"))

        # 5. Chasing the carrier.
        if status == _STATUS_WAITING_ON_CARRIER:
            follow = _day(rec.get("next follow-up"))
            if follow is None:
                follow = calendar.add_days(last_change.date(), chase_days)
                write(rid, row, "Next Follow-up", follow, None, human=True)
            elif follow <= today and follow.isoformat() not in h.chased:
                chase_to: tuple[str, ...] = (owner,) if owner else ()
                result.escalations.append(
                    Escalation(
                        rid,
                        0,
                        f"carrier to chase (follow-up was due {follow.isoformat()})",
                        chase_to,
                        tuple(emails.get(n.lower(), "") for n in chase_to),
                    )
                )
                log_row(rid, CARRIER_CHASE, follow.isoformat(), f"remind {owner or 'nobody'}")

        # 6. The ladder: the highest level whose condition holds, once.
        threshold = route.idle or default_idle
        followed_up = "client followed up" in cell_text(rec.get("thread")).lower()
        level, reason = 0, ""
        if deadline is not None and now > calendar.close_of(deadline):
            level, reason = 3, f"client deadline {deadline.isoformat()} passed"
        elif idle >= 3 * threshold:
            level, reason = 3, f"untouched {idle:.0f} business hours"
        elif state == _SLASTATE_OVERDUE:
            level, reason = 2, f"overdue since {due:%Y-%m-%d %H:%M}"
        elif idle >= 2 * threshold:
            level, reason = 2, f"untouched {idle:.0f} business hours"
        elif followed_up and status not in WAITING:
            level, reason = 2, "the client followed up"
        elif idle >= threshold:
            level, reason = 1, f"untouched {idle:.0f} business hours"
        elif state == _SLASTATE_DUE_SOON:
            level, reason = 1, f"due {due:%Y-%m-%d %H:%M}"
        raised = max(h.levels | {_level_of(cell_text(rec.get("escalation")))}, default=0)
        if level > raised:
            if level == 1:
                to_names = [owner] if owner else []
            elif level == 2:
                to_names = [m.name for m in by_role.get(Role.OPS_MANAGER.lower(), [])]
                to_names += [r for r in recipients if r not in to_names]
            else:
                to_names = [m.name for m in by_role.get(Role.OWNER.lower(), [])]
            to: tuple[str, ...] = tuple(to_names) or ((owner,) if owner else ())
            result.escalations.append(
                Escalation(
                    rid,
                    level,
                    reason,
                    to,
                    tuple(emails.get(n.lower(), n if "@" in n else "") for n in to),
                )
            )
            cell = f"L{level} → {', '.join(to) or 'nobody'} {now:%Y-%m-%d %H:%M}"
            write(rid, row, "Escalation", cell, rec.get("escalation"))
            log_row(
                rid,
                f"{ESCALATED} L{level}",
                f"L{raised}" if raised else "",
                f"{reason} → {', '.join(to) or 'nobody'}",
            )

        # 7. Aging, refreshed every Aging Refresh Minutes, or with any other change to the row:
        # a quiet desk costs a read and no write.
        changed = len(result.batch.cells) > written_before or target[0] is not None
        if refresh_aging or changed or is_blank(rec.get("age (h)")):
            write(rid, row, "Age (h)", round(age, 1), rec.get("age (h)"))
            write(rid, row, "Idle (h)", round(idle, 1), rec.get("idle (h)"))

    for row, rec in rows:
        assess(row, rec)
    for cells in new_requests:
        target[0] = cells
        assess(0, {normalize_header(k): v for k, v in cells.items()})
    target[0] = None
    return result


BLANKED_AT_LEAST = 5  # rows that held a value, for a column emptied at once to be "broken"


def _blanked_columns(
    rows: Sequence[tuple[int, Mapping[str, CellValue]]],
    human_keys: Sequence[tuple[str, str]],
    seen_before: Mapping[str, Mapping[str, str]] | None,
) -> dict[str, int]:
    """People's columns that held values on many rows last cycle and are blank on every row
    now: a column cleared, or renamed and replaced by an empty one, not hundreds of edits."""
    if not seen_before:
        return {}
    held = dict.fromkeys((c for c, _k in human_keys), 0)
    still = dict.fromkeys(held, 0)
    for _row, rec in rows:
        before = seen_before.get(cell_text(rec.get("id")))
        if before is None:
            continue
        for column, key in human_keys:
            if before.get(column):
                held[column] += 1
                still[column] += bool(cell_text(rec.get(key)))
    return {c: n for c, n in held.items() if n >= BLANKED_AT_LEAST and still[c] == 0}


def _level_of(cell: str) -> int:
    return int(cell[1]) if len(cell) > 1 and cell[0] == "L" and cell[1].isdigit() else 0

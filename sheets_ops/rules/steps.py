"""The review's steps, each a small pure function of one request (a read-only Look) and the
cycle's shared Desk, returning the Changes it wants: what people edited, whether it may
close, its owner, its clock, the carrier chase, the ladder, its aging. `review` composes them
and decides where the changes go."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sheets_ops.model import BY_JOB, DEFAULT_CHECKLISTS, CellValue, is_blank
from sheets_ops.rules.clock import Calendar
from sheets_ops.rules.directory import Directory
from sheets_ops.rules.history import (
    CARRIER_CHASE,
    CLOSED,
    ESCALATED,
    FIRST_RESPONSE,
    ROUTED,
    SHEET_EDIT,
    SLA_CLOSED,
    SLA_DUE_SOON,
    SLA_ON_TRACK,
    SLA_OVERDUE,
    SLA_PAUSED,
    STATUS_CHANGED,
    STATUS_DONE,
    STATUS_IN_PROGRESS,
    STATUS_NEW,
    STATUS_WAITING_ON_CARRIER,
    STEPS_MISSING,
    TICKED,
    WAITING,
    History,
    paused_hours,
)
from sheets_ops.rules.kinds import is_complex
from sheets_ops.rules.ladder import (
    DEADLINE_PASSED,
    DUE_SOON,
    FOLLOWED_UP,
    IDLE,
    OVERDUE,
    Rung,
    notified,
)
from sheets_ops.rules.learning import complexity_said
from sheets_ops.rules.pilot import Pilot
from sheets_ops.rules.team import Assigner, Member, Route
from sheets_ops.sheet import as_day, cell_text, normalize_header


@dataclass(frozen=True)
class Escalation:
    """A reminder to send: the notifications send these, the tracker records them first."""

    request_id: str
    level: int  # 1 owner, 2 ops manager, 3 agency owner; 0 for a carrier chase
    reason: str
    to: tuple[str, ...]  # Team names
    emails: tuple[str, ...]


@dataclass(frozen=True)
class Desk:
    """What every request's review shares this cycle: the moment, the calendar, the
    settings read once, the team and its routes, the ladder."""

    now: datetime
    calendar: Calendar
    directory: Directory
    routes: Mapping[str, Route]
    ladder: tuple[Rung, ...]
    team: tuple[Member, ...]
    recipients: tuple[str, ...]
    assigner: Assigner
    columns: frozenset[str]  # the Requests tab's headers, normalized
    blanked: frozenset[str]  # people's columns emptied at once: left alone this cycle
    default_idle: float = 24.0
    due_soon: float = 4.0
    chase_days: int = 3
    clock_now: float = 0.0  # business seconds at `now`, measured once
    pilot: Pilot | None = None  # while one is on, only its types are worked by the job

    def route(self, kind: str) -> Route:
        found = self.routes.get(kind)
        return found or Route(idle=self.default_idle, checklist=DEFAULT_CHECKLISTS.get(kind, ()))

    def email_of(self, name: str) -> str:
        for member in self.team:
            if member.name.lower() == name.lower():
                return member.email
        return name if "@" in name else ""


@dataclass(frozen=True)
class Look:
    """One request as the review reads it: its cells, what the Log says of it, its status."""

    rid: str
    cells: Mapping[str, CellValue]  # by normalized header
    history: History
    status: str
    received: datetime
    last_touched: datetime | None
    kind: str
    route: Route

    def text(self, column: str) -> str:
        return cell_text(self.cells.get(column))


@dataclass
class Changes:
    """What one step wants: cells to set (column, value, what it holds now, whether it is a
    person's cell to fill only while blank), Log lines, escalations, people's edits seen."""

    cells: list[tuple[str, CellValue, CellValue, bool]] = field(default_factory=list)
    log: list[tuple[str, str, str, str]] = field(default_factory=list)  # what, old, new, by
    escalations: list[Escalation] = field(default_factory=list)
    edits: int = 0

    def set(self, column: str, value: CellValue, current: CellValue, human: bool = False) -> None:
        if value == current or cell_text(value) == cell_text(current):
            return
        self.cells.append((column, value, current, human))

    def note(self, what: str, old: str = "", new: str = "", by: str = BY_JOB) -> None:
        self.log.append((what, old, new, by))

    def __bool__(self) -> bool:
        return bool(self.cells or self.log or self.escalations or self.edits)

    def add(self, other: Changes) -> None:
        self.cells += other.cells
        self.log += other.log
        self.escalations += other.escalations
        self.edits += other.edits


def people_edits(
    look: Look,
    current: Mapping[str, str],
    before: Mapping[str, str] | None,
    ours: Mapping[str, str],
    now: datetime,
) -> tuple[Changes, Look]:
    """What people changed since the last cycle, each logged as a sheet edit (the job's own
    unfinished writes in `ours` are not edits); the first move off New is the first
    response. An edit sets Last Touched."""
    changes = Changes()
    if before is None:
        return changes, look
    status_changes = list(look.history.status_changes)
    responded = look.history.responded
    for column, value in current.items():
        old = before.get(column, "")
        if value == old or (column in ours and value == ours[column]):
            continue
        changes.edits += 1
        if column == "Status":
            changes.note(STATUS_CHANGED, old, value, SHEET_EDIT)
            status_changes.append((now, old, value))
            if old in ("", STATUS_NEW) and not responded:
                changes.note(FIRST_RESPONSE, old, value)
                responded = True
        else:
            changes.note(f"{column} changed", old, value, SHEET_EDIT)
    if not changes.edits:
        return changes, look
    changes.set("Last Touched", now, look.cells.get("last touched"))
    history = replace(look.history, status_changes=status_changes, responded=responded)
    return changes, replace(look, history=history, last_touched=now)


def closing(look: Look, desk: Desk) -> tuple[Changes, bool]:
    """Done means done: a request is closed when Cancelled, or Done with every step of its
    close checklist ticked; Done with a step unticked is set back to In Progress, Missing
    Info saying what is left, and logged. Closed is stamped once."""
    changes = Changes()
    steps = [s for s in look.route.checklist if normalize_header(s) in desk.columns]
    unticked = [s for s in steps if look.text(s.lower()).lower() not in TICKED]
    done = look.status == STATUS_DONE
    closed = look.status in CLOSED and not (done and unticked)
    if done and unticked:  # not done yet: back to In Progress, saying what is left
        wanted = f"Before closing: {'; '.join(unticked)}"
        changes.set("Status", STATUS_IN_PROGRESS, look.cells.get("status"), human=True)
        changes.set("Missing Info", wanted, look.cells.get("missing info"))
        changes.note(STEPS_MISSING, STATUS_DONE, "; ".join(unticked))
    elif look.text("missing info").startswith("Before closing:"):
        changes.set("Missing Info", None, look.cells.get("missing info"))
    if closed:  # stamped once, then left alone: closed requests cost nothing
        if is_blank(look.cells.get("closed")):
            changes.set("Closed", desk.now, None)
            age_at_close = round(desk.calendar.hours_between(look.received, desk.now), 1)
            changes.set("Age (h)", age_at_close, look.cells.get("age (h)"))
        changes.set("SLA", SLA_CLOSED, look.cells.get("sla"))
    elif not is_blank(look.cells.get("closed")):  # reopened
        changes.set("Closed", None, look.cells.get("closed"))
    return changes, closed


def routing(look: Look, desk: Desk) -> tuple[Changes, str]:
    """The owner: a blank Owner is filled from Routing (complex requests by Complex Route
    To), Accounts and Team; a filled one is the person's choice and stays. One who is not on
    Team is left in the cell, and the request is routed as if it were blank."""
    changes = Changes()
    typed = look.text("owner")
    if typed and (not desk.team or typed.lower() in {m.name.lower() for m in desk.team}):
        return changes, typed
    context = look.text("context")
    said = complexity_said(context)  # history decided it at intake: the Check line says so
    complex_ = (
        said
        if said is not None
        else is_complex(look.kind, look.text("summary"), context, desk.directory)
    )
    if desk.pilot is not None and desk.pilot.csrs:  # the assigner's team is the pilot CSRs
        owner, why = desk.assigner.anyone("pilot")
    else:
        owner, why = desk.assigner.assign(look.kind, look.text("client"), complex_, desk.routes)
    if typed:  # not on Team (a Problem says so): routed as if blank, the cell left as typed
        return changes, owner
    if owner:
        changes.set("Owner", owner, None, human=True)
        changes.note(ROUTED, "", f"{owner} ({why})")
    return changes, owner


@dataclass(frozen=True)
class Clock:
    """Where a request stands in time: business hours old and idle, when it is due (its SLA
    plus time spent waiting, or the client's deadline if sooner), and its SLA state. `drift`:
    what moves only because time passed (the Due of a request waiting on someone), written
    with Age (h) and Idle (h) rather than every cycle."""

    changes: Changes
    drift: Changes
    age: float
    idle: float
    due: datetime
    state: str
    deadline: date | None
    last_change: datetime


def clock(look: Look, desk: Desk) -> Clock:
    calendar, now = desk.calendar, desk.now
    since = look.last_touched or look.received
    changes_ = look.history.status_changes
    last_change = max((w for w, _o, _n in changes_), default=since)
    paused = paused_hours(calendar, look.received, look.status, last_change, changes_, now)
    due = calendar.add_hours(look.received, look.route.sla + paused)
    deadline = as_day(look.cells.get("client deadline"))
    if deadline is not None:
        due = min(due, calendar.close_of(deadline))
    age = max(0, desk.clock_now - calendar.elapsed(look.received)) / 3600
    idle = max(0, desk.clock_now - calendar.elapsed(since)) / 3600
    if look.status in WAITING:
        state = SLA_PAUSED
    elif now > due:
        state = SLA_OVERDUE
    elif (calendar.elapsed(due) - desk.clock_now) / 3600 <= desk.due_soon:
        state = SLA_DUE_SOON
    else:
        state = SLA_ON_TRACK
    changes, drift = Changes(), Changes()
    held_due = look.cells.get("due")
    moving = state == SLA_PAUSED and not is_blank(held_due)  # the clock stopped: Due slides
    (drift if moving else changes).set("Due", due.replace(second=0, microsecond=0), held_due)
    changes.set("SLA", state, look.cells.get("sla"))
    return Clock(changes, drift, age, idle, due, state, deadline, last_change)


def carrier_chase(look: Look, timing: Clock, owner: str, desk: Desk) -> Changes:
    """A request waiting on the carrier gets a Next Follow-up (Carrier Follow-up Days after
    it started waiting); on that day its owner is reminded, once."""
    changes = Changes()
    if look.status != STATUS_WAITING_ON_CARRIER:
        return changes
    follow = as_day(look.cells.get("next follow-up"))
    if follow is None:
        follow = desk.calendar.add_days(timing.last_change.date(), desk.chase_days)
        changes.set("Next Follow-up", follow, None, human=True)
    elif follow <= desk.now.date() and follow.isoformat() not in look.history.chased:
        to: tuple[str, ...] = (owner,) if owner else ()
        reason = f"carrier to chase (follow-up was due {follow.isoformat()})"
        emails = tuple(desk.email_of(n) for n in to)
        changes.escalations.append(Escalation(look.rid, 0, reason, to, emails))
        changes.note(CARRIER_CHASE, follow.isoformat(), f"remind {owner or 'nobody'}")
    return changes


def rung_reached(look: Look, timing: Clock, desk: Desk) -> tuple[Rung | None, str]:
    """The highest rung of the ladder whose condition holds, and why, in the ladder's words."""
    threshold = look.route.idle or desk.default_idle
    followed_up = "client followed up" in look.text("thread").lower()
    deadline, due = timing.deadline, timing.due
    for rung in desk.ladder:
        for condition in rung.when:
            kind = condition.kind
            if kind == DEADLINE_PASSED and deadline and desk.now > desk.calendar.close_of(deadline):
                return rung, f"client deadline {deadline.isoformat()} passed"
            if kind == IDLE and timing.idle >= condition.times * threshold:
                return rung, f"untouched {timing.idle:.0f} business hours"
            if kind == OVERDUE and timing.state == SLA_OVERDUE:
                return rung, f"overdue since {due:%Y-%m-%d %H:%M}"
            if kind == FOLLOWED_UP and followed_up and look.status not in WAITING:
                return rung, "the client followed up"
            if kind == DUE_SOON and timing.state == SLA_DUE_SOON:
                return rung, f"due {due:%Y-%m-%d %H:%M}"
    return None, ""


def climb(look: Look, timing: Clock, owner: str, desk: Desk) -> Changes:
    """The ladder: the highest level whose condition holds is raised, once per request
    (the Log and the Escalation cell remember), and the people its row names are told."""
    changes = Changes()
    rung, reason = rung_reached(look, timing, desk)
    raised = max(look.history.levels | {_level_of(look.text("escalation"))}, default=0)
    if rung is None or rung.level <= raised:
        return changes
    to = notified(rung, owner, desk.team, desk.recipients)
    emails = tuple(desk.email_of(n) for n in to)
    changes.escalations.append(Escalation(look.rid, rung.level, reason, to, emails))
    told = ", ".join(to) or "nobody"
    cell = f"L{rung.level} → {told} {desk.now:%Y-%m-%d %H:%M}"
    changes.set("Escalation", cell, look.cells.get("escalation"))
    changes.note(f"{ESCALATED} L{rung.level}", f"L{raised}" if raised else "", f"{reason} → {told}")
    return changes


def aging(look: Look, timing: Clock) -> Changes:
    """Age (h) and Idle (h), in business hours."""
    changes = Changes()
    changes.set("Age (h)", round(timing.age, 1), look.cells.get("age (h)"))
    changes.set("Idle (h)", round(timing.idle, 1), look.cells.get("idle (h)"))
    return changes


def _level_of(cell: str) -> int:
    return int(cell[1]) if len(cell) > 1 and cell[0] == "L" and cell[1].isdigit() else 0


# -- until when a request has nothing new to say --------------------------------------------

QUIET_AT_MOST = timedelta(minutes=15)  # a request is looked at again at least this often


@dataclass(frozen=True)
class Quiet:
    """Until when a request whose review changed nothing would change nothing again, while
    its cells and its Log lines stay as they are: the first wall-clock moment (`until`) or
    business-second count (`until_clock`, from the calendar's origin) at which one of the
    thresholds it is measured against is crossed."""

    since: datetime  # agency wall clock: when it was found (a replay of earlier looks again)
    until: datetime
    until_clock: float | None = None

    def holds(self, now: datetime, clock_now: float) -> bool:
        before = self.until_clock is None or clock_now < self.until_clock
        return self.since <= now < self.until and before


def quiet_until(look: Look, timing: Clock | None, desk: Desk) -> Quiet:
    """Until when `look` stays as this cycle left it, at the latest QUIET_AT_MOST from now
    and the next midnight (a pilot's days, a carrier follow-up's day). Every condition a
    request is measured against only turns true as time passes (its idle hours grow, its
    Due and its client deadline pass), so the earliest threshold still ahead is the first
    moment its review can differ. `timing`: None for a request with no clock running
    (closed, or outside the pilot). A second is taken off each business-hours threshold
    against rounding."""
    now, calendar = desk.now, desk.calendar
    walls = [now + QUIET_AT_MOST, datetime.combine(now.date() + timedelta(days=1), time())]
    clocks: list[float] = []
    if timing is not None:
        if look.status not in WAITING:  # a waiting request stays Paused, its Due sliding
            walls.append(timing.due)  # Overdue after it
            clocks.append(calendar.elapsed(timing.due) - desk.due_soon * 3600 - 1)
        since = calendar.elapsed(look.last_touched or look.received)
        threshold = look.route.idle or desk.default_idle
        for rung in desk.ladder:
            for condition in rung.when:
                if condition.kind == IDLE:
                    clocks.append(since + condition.times * threshold * 3600 - 1)
                elif condition.kind == DEADLINE_PASSED and timing.deadline is not None:
                    walls.append(calendar.close_of(timing.deadline))
    ahead = [c for c in clocks if c > desk.clock_now]
    return Quiet(now, min(w for w in walls if w > now), min(ahead) if ahead else None)

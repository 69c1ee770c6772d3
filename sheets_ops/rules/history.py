"""What the Log says about each request (status changes, levels raised, carrier chases, the
first response), the words it says it with, and the time a request spent waiting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sheets_ops.model import LOG, SlaState, Status, parse_id
from sheets_ops.rules.clock import Calendar
from sheets_ops.sheet import Tab, as_moment, cell_text, header_problems

CLOSED = (Status.DONE.value, Status.CANCELLED.value)
WAITING = (Status.WAITING_ON_CLIENT.value, Status.WAITING_ON_CARRIER.value)
SHEET_EDIT = "sheet edit"
ESCALATED = "Escalated"
CARRIER_CHASE = "Carrier chase"
STEPS_MISSING = "Done with steps missing"  # set back to In Progress
FIRST_RESPONSE = "First response"
ROUTED = "Routed"
STATUS_CHANGED = "Status changed"
KEPT = frozenset((STATUS_CHANGED, CARRIER_CHASE, STEPS_MISSING, FIRST_RESPONSE))  # and Escalated…
# Plain strings for the hot loop (an Enum's .value costs a descriptor call each time).
SLA_CLOSED = SlaState.CLOSED.value
SLA_DUE_SOON = SlaState.DUE_SOON.value
SLA_ON_TRACK = SlaState.ON_TRACK.value
SLA_OVERDUE = SlaState.OVERDUE.value
SLA_PAUSED = SlaState.PAUSED.value
STATUS_DONE = Status.DONE.value
STATUS_IN_PROGRESS = Status.IN_PROGRESS.value
STATUS_NEW = Status.NEW.value
STATUS_WAITING_ON_CARRIER = Status.WAITING_ON_CARRIER.value
TICKED = {"yes", "y", "x", "✓", "✔", "done", "true", "1"}


@dataclass
class History:
    """What the Log says about one request."""

    status_changes: list[tuple[datetime, str, str]] = field(default_factory=list)  # when, old, new
    levels: set[int] = field(default_factory=set)
    chased: set[str] = field(default_factory=set)
    flagged_steps: bool = False
    responded: bool = False


def histories(log: Tab | None) -> dict[str, History]:
    """Each request's History, from the Log lines that say something one keeps (a request
    the Log says nothing kept about has no entry). Read by column index: the Log is the
    biggest tab an idle cycle reads, and most of its lines (Created, Assigned, sheet edits)
    are passed over on their What alone."""
    out: dict[str, History] = {}
    if log is None or header_problems(log, LOG):
        return out
    lines = log.picked("When", "Request", "What", "Old", "New")
    for logged, request, what_cell, old, new in lines or ():
        what = cell_text(what_cell)
        if what not in KEPT and not what.startswith(ESCALATED):
            continue
        rid = cell_text(request)
        if parse_id(rid) is None:
            continue
        h = out.get(rid)
        if h is None:
            h = out[rid] = History()
        if what == STATUS_CHANGED:
            when = as_moment(logged)
            if when is not None:
                h.status_changes.append((when, cell_text(old), cell_text(new)))
        elif what == CARRIER_CHASE:
            h.chased.add(cell_text(old))
        elif what == STEPS_MISSING:
            h.flagged_steps = True
        elif what == FIRST_RESPONSE:
            h.responded = True
        else:
            level = what.removeprefix(ESCALATED).strip().lstrip("L")
            if level.isdigit():
                h.levels.add(int(level))
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

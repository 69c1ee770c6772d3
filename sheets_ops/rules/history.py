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
            when = as_moment(rec.get("when"))
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

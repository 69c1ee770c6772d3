"""Each cycle's look at every open request: who owns it, how old and how idle it is, when it
is due, where its SLA stands, and whether someone must be reminded. Pure: a function of
(tracker snapshot, settings, calendar, now, the human cells seen last cycle). The steps are
in `steps`; this module reads the cycle's Desk once, runs every request through the steps
in order (`assess`), and decides once where each request's changes go (`_apply`).

Routing fills Owner only while it is blank. Change detection compares the human columns with
the last cycle's (kept by the caller in STATE_DIR; without it, this cycle is the baseline):
an edit sets Last Touched and is logged (By = sheet edit). The SLA clock runs in business
hours and stops while a request waits on the client or the carrier. The escalation ladder
raises each level at most once per request, and returns Escalation records for the sender.
A request that changed nothing, on a tracker still as the last cycle read it, is not run
through the steps again until its Quiet ends (steps.quiet_until).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sheets_ops.model import LOG, REQUESTS, CellValue, Owner, is_blank, parse_id
from sheets_ops.rules.clock import Calendar
from sheets_ops.rules.directory import Directory
from sheets_ops.rules.history import CLOSED, STATUS_NEW, History, histories
from sheets_ops.rules.ladder import ladder_from
from sheets_ops.rules.pilot import OUTSIDE_PILOT, pilot_from
from sheets_ops.rules.steps import (
    Changes,
    Desk,
    Escalation,
    Look,
    Quiet,
    aging,
    carrier_chase,
    climb,
    clock,
    closing,
    people_edits,
    quiet_until,
    routing,
)
from sheets_ops.rules.team import Assigner, routes_from, team_from
from sheets_ops.sheet import (
    Batch,
    CellWrite,
    NewRow,
    Snapshot,
    Tab,
    as_moment,
    as_number,
    cell_text,
    counted,
    header_problems,
    normalize_header,
)

HUMAN_COLUMNS = tuple(
    c.name for c in REQUESTS.columns + REQUESTS.optional if c.owner is not Owner.JOB
)
AGE_BUCKETS = ("under 1 day", "1 to 3 days", "3 to 7 days", "over 7 days")


def age_bucket(days: float) -> str:
    """Which of AGE_BUCKETS an age in business days falls in."""
    return AGE_BUCKETS[0 if days < 1 else 1 if days < 3 else 2 if days < 7 else 3]


@dataclass
class Review:
    batch: Batch = field(default_factory=Batch)
    escalations: list[Escalation] = field(default_factory=list)
    seen: dict[str, dict[str, str]] = field(default_factory=dict)  # human cells, for next time
    edits: int = 0
    problems: list[str] = field(default_factory=list)  # one line each, for the output
    fills: dict[str, dict[str, CellValue]] = field(default_factory=dict)  # new request -> cells
    quiet: dict[str, Quiet] = field(default_factory=dict)  # requests that changed nothing


def assess(
    look: Look,
    desk: Desk,
    current: Mapping[str, str],
    before: Mapping[str, str] | None,
    ours: Mapping[str, str],
    refresh_aging: bool,
) -> tuple[Changes, Quiet | None]:
    """One request through every step, in order. Aging (and the Due of a request waiting on
    someone, which slides while its clock is stopped) is rewritten every Aging Refresh
    Minutes, or with any other change to the row: a quiet desk costs a read and no write.
    With the changes, until when the request would say nothing new if it changed nothing
    now (None when that cannot be known: a request the job routes, one with no Received)."""
    changes, look = people_edits(look, current, before, ours, desk.now)
    closed_changes, closed = closing(look, desk)
    changes.add(closed_changes)
    if closed:
        return changes, quiet_until(look, None, desk)
    if desk.pilot is not None and not desk.pilot.covers(look.kind):
        changes.set("SLA", OUTSIDE_PILOT, look.cells.get("sla"))  # left to people, as before
        return changes, quiet_until(look, None, desk)
    assigned, owner = routing(look, desk)
    changes.add(assigned)
    timing = clock(look, desk)
    changes.add(timing.changes)
    changes.add(carrier_chase(look, timing, owner, desk))
    changes.add(climb(look, timing, owner, desk))
    changed = any(column not in desk.blanked for column, *_ in changes.cells)
    if refresh_aging or changed or is_blank(look.cells.get("age (h)")):
        changes.add(timing.drift)
        changes.add(aging(look, timing))
    # one the job routes depends on everyone's load; one with no Received, on `now` itself
    kept = owner and owner == look.text("owner") and as_moment(look.cells.get("received"))
    return changes, quiet_until(look, timing, desk) if kept else None


def look_at(cells: Mapping[str, CellValue], history: Mapping[str, History], desk: Desk) -> Look:
    rid = cell_text(cells.get("id"))
    kind = cell_text(cells.get("type")) or "Other"
    return Look(
        rid=rid,
        cells=cells,
        history=history.get(rid, History()),
        status=cell_text(cells.get("status")) or STATUS_NEW,
        received=as_moment(cells.get("received")) or desk.now,
        last_touched=as_moment(cells.get("last touched")),
        kind=kind,
        route=desk.route(kind),
    )


def desk_for(
    snapshot: Snapshot,
    requests: Tab,
    rows: Sequence[tuple[int, Mapping[str, CellValue]]],
    directory: Directory,
    calendar: Calendar,
    settings: Mapping[str, str],
    now: datetime,
    blanked: Iterable[str],
) -> tuple[Desk, list[str]]:
    """The cycle's shared view, and one line per broken Escalation tab cell."""
    default_idle = as_number(settings.get("escalate after idle")) or 24.0
    team = tuple(team_from(snapshot))
    load: dict[str, int] = {}
    for _row, rec in rows:
        owner = cell_text(rec.get("owner"))
        if owner and cell_text(rec.get("status")) not in CLOSED:
            load[owner] = load.get(owner, 0) + 1
    ladder, problems = ladder_from(snapshot, team)
    listed = settings.get("escalation recipients", "").split(";")
    pilot = pilot_from(settings, now.date())
    working = list(team)  # who the job hands requests to: the pilot CSRs while one is on
    if pilot is not None and pilot.csrs:
        named = {n.lower() for n in pilot.csrs}
        working = [m for m in team if m.name.lower() in named] or working
    desk = Desk(
        now=now,
        calendar=calendar,
        directory=directory,
        routes=routes_from(snapshot, default_idle),
        ladder=ladder,
        team=team,
        recipients=tuple(r.strip() for r in listed if r.strip()),
        assigner=Assigner(working, directory, now.date(), load),
        columns=frozenset(requests.columns()),
        blanked=frozenset(blanked),
        default_idle=default_idle,
        due_soon=as_number(settings.get("due soon hours")) or 4.0,
        chase_days=int(as_number(settings.get("carrier follow-up days")) or 3),
        clock_now=calendar.elapsed(now),
        pilot=pilot,
    )
    return desk, problems


def review(
    snapshot: Snapshot,
    requests: Tab,
    directory: Directory,
    calendar: Calendar,
    settings: Mapping[str, str],
    now: datetime,
    seen_before: Mapping[str, Mapping[str, str]] | None,
    new_requests: Sequence[Mapping[str, CellValue]] = (),
    job_wrote: Mapping[str, Mapping[str, str]] | None = None,
    refresh_aging: bool = True,
    quiet: Mapping[str, Quiet] | None = None,
) -> Review:
    """Every change this cycle makes to existing requests (`batch`), and the Owner, Due and
    SLA of the `new_requests` intake is adding (`fills`, by ID: they go in with the row).
    `now` is agency wall-clock time. `job_wrote`: what a cycle that did not finish was
    writing into people's columns; a cell holding that value is the job's, not a person's
    edit. `refresh_aging`: whether Age (h) and Idle (h) are rewritten on rows that change
    nothing else. `quiet`: what the last cycle found for requests that changed nothing,
    given only when the tracker holds exactly what that cycle read: one whose cells are
    still as seen is not looked at again until its Quiet ends (`Review.quiet`, for the
    next cycle)."""
    result = Review()
    rows = list(requests.records())
    human_keys = [(c, c.lower()) for c in HUMAN_COLUMNS if requests.col(c) is not None]
    people = [{c: cell_text(cells.get(key)) for c, key in human_keys} for _r, cells in rows]
    blanked = _blanked_columns(rows, people, seen_before)
    result.problems += [_blanked_line(column, count) for column, count in blanked.items()]
    desk, ladder_problems = desk_for(
        snapshot, requests, rows, directory, calendar, settings, now, blanked
    )
    result.problems += ladder_problems
    log = snapshot.tab(LOG.name)
    log_ok = log is not None and not header_problems(log, LOG)
    history = histories(log)
    targets: list[tuple[int, Mapping[str, CellValue]]] = list(rows)
    for fresh in new_requests:
        adding = {normalize_header(k): v for k, v in fresh.items()}
        targets.append((0, adding))
        people.append({c: cell_text(adding.get(key)) for c, key in human_keys})
    settled = quiet if quiet and not refresh_aging else {}
    for (row, cells), current in zip(targets, people, strict=True):
        rid = cell_text(cells.get("id"))
        if parse_id(rid) is None:
            continue
        before = seen_before.get(rid) if seen_before is not None else None
        for column in blanked:  # a broken column: last cycle's view stands
            current[column] = (before or {}).get(column, "")
        result.seen[rid] = current
        ours = (job_wrote or {}).get(rid, {})
        held = settled.get(rid) if row and not ours and current == before else None
        if held is not None and held.holds(desk.now, desk.clock_now):
            result.quiet[rid] = held
            continue
        changes, until = assess(
            look_at(cells, history, desk), desk, current, before, ours, refresh_aging or not row
        )
        if until is not None and row and not changes:
            result.quiet[rid] = until
        _apply(changes, rid, row, desk, result, log_ok)
    return result


def _apply(
    changes: Changes,
    rid: str,
    row: int,
    desk: Desk,
    result: Review,
    log_ok: bool,
) -> None:
    """Where one request's changes go, decided once: into the fills of a row intake is
    adding (`row` 0), or as cell writes to an existing row (a person's cell only while
    still what it was)."""
    for column, value, current, human in changes.cells:
        if column in desk.blanked:
            continue
        if not row:
            result.fills.setdefault(rid, {})[column] = value
            continue
        only = {"only_if": current} if human else {}
        result.batch.cells.append(CellWrite(REQUESTS.name, rid, row, column, value, **only))
    if log_ok:
        for what, old, new, by in changes.log:
            cells: dict[str, CellValue] = {
                "When": desk.now,
                "Request": rid,
                "What": what,
                "Old": old or None,
                "New": new or None,
                "By": by,
            }
            result.batch.rows.append(NewRow(LOG.name, cells))
    result.escalations += changes.escalations
    result.edits += changes.edits


def _blanked_line(column: str, count: int) -> str:
    return (
        f'Requests tab: every "{column}" cell is blank since the last cycle '
        f"({counted(count, 'row')} held one): treated as a broken column, not as edits; "
        "undo the change, or rename back the column it was moved to"
    )


BLANKED_AT_LEAST = 5  # rows that held a value, for a column emptied at once to be "broken"


def _blanked_columns(
    rows: Sequence[tuple[int, Mapping[str, CellValue]]],
    people: Sequence[Mapping[str, str]],
    seen_before: Mapping[str, Mapping[str, str]] | None,
) -> dict[str, int]:
    """People's columns that held values on many rows last cycle and are blank on every row
    now: a column cleared, or renamed and replaced by an empty one, not hundreds of edits.
    `people`: each row's people's cells, as text."""
    if not seen_before or not people:
        return {}
    ids = [cell_text(rec.get("id")) for _row, rec in rows]
    out: dict[str, int] = {}
    for column in people[0]:
        held = 0  # rows that held a value, each blank now: the first still holding one ends it
        for rid, current in zip(ids, people, strict=True):
            before = seen_before.get(rid)
            if before is None or not before.get(column):
                continue
            if current[column]:
                break
            held += 1
        else:
            if held >= BLANKED_AT_LEAST:
                out[column] = held
    return out

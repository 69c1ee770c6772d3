"""The Health tab: what the owner reads to know the job is alive, written with the rest of
a cycle's changes so it says the cycle went well only if it did. Pure: the snapshot and the
values in, the writes out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sheets_ops.model import HEALTH, CellValue
from sheets_ops.sheet import (
    Batch,
    CellWrite,
    NewRow,
    Snapshot,
    as_moment,
    cell_text,
    header_problems,
)

# Values that move on their own (each `run --once` is a new process, so "Running since"
# is new every time): refreshed with the quarter hour, not a reason to write.
CLOCK_LIKE = frozenset({"Last good cycle", "Cycles since start", "Running since"})
HEALTH_EVERY = timedelta(minutes=15)  # how stale "Last good cycle" may get when nothing changes
AGING_REFRESHED = "Aging refreshed"  # a Health key: when Age (h) and Idle (h) were last written
PROBLEMS_SHOWN = 30  # Problem lines on the Health tab; doctor lists them all


def _held(snapshot: Snapshot) -> dict[str, tuple[int, CellValue]] | None:
    """Key -> (sheet row, Value) of the Health tab; None when the tab is missing or broken."""
    tab = snapshot.tab(HEALTH.name)
    if tab is None or header_problems(tab, HEALTH):
        return None
    return {cell_text(cells.get("key")): (row, cells.get("value")) for row, cells in tab.records()}


def health_writes(snapshot: Snapshot, values: Mapping[str, CellValue], busy: bool) -> Batch:
    """The Health values to write. When nothing else is written (`busy` false) and nothing
    but the clock changed, they are refreshed every quarter of an hour, so a quiet desk does
    not cost a write every cycle."""
    rows = _held(snapshot)
    if rows is None:
        return Batch()

    def held(key: str, like: CellValue) -> str:
        """The Health value as text, a moment read back as one (Google answers a number)."""
        value = rows.get(key, (0, None))[1]
        return cell_text(as_moment(value) if isinstance(like, datetime) else value)

    last = as_moment(rows.get("Last good cycle", (0, None))[1])
    now = values.get("Last good cycle")
    stale = (
        last is None
        or not isinstance(now, datetime)
        or (now.replace(tzinfo=None) - last >= HEALTH_EVERY)
    )
    changed = any(held(k, v) != cell_text(v) for k, v in values.items() if k not in CLOCK_LIKE)
    batch = Batch()
    if not (busy or stale or changed):
        return batch
    for key, value in values.items():
        if key in rows:
            batch.cells.append(CellWrite(HEALTH.name, key, rows[key][0], "Value", value))
        else:
            batch.rows.append(NewRow(HEALTH.name, {"Key": key, "Value": value}, dedupe="Key"))
    return batch


def aging_due(snapshot: Snapshot, minutes_text: str, wall: datetime) -> bool:
    """Whether this cycle rewrites every open row's Age (h) and Idle (h): when the Health tab
    says they were last written Aging Refresh Minutes ago or more, or does not say."""
    try:
        every = timedelta(minutes=max(0.0, float(minutes_text or 15)))
    except ValueError:
        every = timedelta(minutes=15)
    rows = _held(snapshot)
    if rows is None or AGING_REFRESHED not in rows:
        return True
    last = as_moment(rows[AGING_REFRESHED][1])
    return last is None or not timedelta(0) <= wall - last < every


def mailbox_line(snapshot: Snapshot, error: str, wall: datetime) -> str:
    """The Health tab's Mailbox line: "ok", or since when it has been down and why."""
    if not error:
        return "ok"
    tab = snapshot.tab(HEALTH.name)
    before = ""
    for _row, cells in tab.records() if tab is not None else ():
        if cell_text(cells.get("key")) == "Mailbox":
            before = cell_text(cells.get("value"))
    since = before.split(" — ", 1)[0] if before.startswith("down since") else ""
    return f"{since or f'down since {wall:%Y-%m-%d %H:%M}'} — {error}"


def problem_values(snapshot: Snapshot, lines: list[str]) -> dict[str, CellValue]:
    """The Health tab's Problems section: how many, then one "Problem N" line each (tab and
    cell, what is wrong, how to fix it). Lines left from problems since fixed are emptied."""
    shown = lines[:PROBLEMS_SHOWN]
    if len(lines) > PROBLEMS_SHOWN:
        shown.append(f"and {len(lines) - PROBLEMS_SHOWN} more: `sheets-ops doctor` lists them all")
    held = _held(snapshot) or {}
    before = sum(1 for key in held if key.startswith("Problem ") and key[8:].isdigit())
    values: dict[str, CellValue] = {
        "Problems": f"{len(lines)}: see the Problem lines below" if lines else "none"
    }
    for n in range(max(len(shown), before)):
        values[f"Problem {n + 1}"] = shown[n] if n < len(shown) else None
    return values

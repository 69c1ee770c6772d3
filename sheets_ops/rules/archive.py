"""Archiving: Done and Cancelled requests leave Requests once they are old enough.

Once a day (the first cycle of the day that finds any), every request closed at least
Archive After Days ago moves, whole, to the Archive tab, in the cycle's one write, with a
Log line saying how many. Requests stays small; metrics and intake read both tabs, so no
figure changes and no ID or message is taken twice.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sheets_ops.model import ARCHIVE, BY_JOB, LOG, REQUESTS
from sheets_ops.rules.history import CLOSED
from sheets_ops.sheet import Move, NewRow, Snapshot, cell_text, counted, header_problems

ARCHIVED = "Archived"


def archive_days(text: str) -> int | None:
    """Archive After Days: a whole number of days, or None for never (Off, 0, blank)."""
    text = text.strip().lower()
    return int(text) if text.isdigit() and int(text) > 0 else None


def plan_archive(
    snapshot: Snapshot, setting: str, now: datetime, keep: Collection[str] = ()
) -> tuple[list[Move], list[NewRow]]:
    """The moves due now (agency wall clock), and the Log line that records them. `keep`:
    IDs that stay, like requests this cycle reopens (a close-checklist step missing)."""
    days = archive_days(setting)
    requests, archive, log = (snapshot.tab(t.name) for t in (REQUESTS, ARCHIVE, LOG))
    if days is None or requests is None or archive is None or log is None:
        return [], []
    if header_problems(archive, ARCHIVE) or header_problems(log, LOG):
        return [], []
    today = now.date().isoformat()
    if any(
        r.get("what") == ARCHIVED and cell_text(r.get("old")) == today for _x, r in log.records()
    ):
        return [], []
    cutoff = now - timedelta(days=days)
    moves = [
        Move(REQUESTS.name, cell_text(rec.get("id")), ARCHIVE.name)
        for _row, rec in requests.records()
        if cell_text(rec.get("status")) in CLOSED
        and isinstance(rec.get("closed"), datetime)
        and rec["closed"] <= cutoff  # type: ignore[operator]
        and cell_text(rec.get("id"))
        and cell_text(rec.get("id")) not in keep
    ]
    if not moves:
        return [], []
    record = NewRow(
        LOG.name,
        {
            "When": now,
            "What": ARCHIVED,
            "Old": today,
            "New": f"{counted(len(moves), 'request')} closed before {cutoff:%Y-%m-%d} "
            "moved to Archive",
            "By": BY_JOB,
        },
    )
    return moves, [record]

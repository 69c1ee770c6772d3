"""Archiving: Done and Cancelled requests leave Requests once they are old enough.

Once a day (the first cycle of the day that finds any), every request closed at least
Archive After Days ago leaves Requests, whole, with a Log line saying how many. Where it
goes is Settings → Archive Location: by default a workbook a year beside the tracker
(`Archive 2026.xlsx`, with its Requests and Log tabs; `sync/archives.py`), taking the
request's Log lines along, so the tracker holds the open work and what it needs, and a
cycle's cost follows that rather than the agency's history; or, with `Tracker`, the
tracker's own Archive tab, in the cycle's one write.

Moving out is copy first, then delete: the archive takes the rows (by ID, so a retried copy
adds nothing), and only the IDs it holds are dropped from the tracker, in the cycle's write.
A cycle killed in between leaves the rows in both; the next one copies nothing more and
drops them. At most CHUNK requests leave a cycle, so the first cycle over an old tracker
with 50,000 closed requests is bounded too; the next cycles go on until none is left.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Container, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sheets_ops.model import ARCHIVE, BY_JOB, LOG, REQUESTS, CellValue, parse_id
from sheets_ops.rules.history import CLOSED
from sheets_ops.sheet import (
    Drop,
    Move,
    NewRow,
    Snapshot,
    Tab,
    cell_text,
    counted,
    header_problems,
)

ARCHIVED = "Archived"
HISTORY_MOVED = "History moved"  # rows an earlier version kept in the Archive tab, moved out
MORE = "; more next cycle"
CHUNK = 10_000  # requests that leave the tracker in one cycle, at most
IN_TRACKER = "tracker"  # Archive Location: the tracker's own Archive tab


def archive_days(text: str) -> int | None:
    """Archive After Days: a whole number of days, or None for never (Off, 0, blank)."""
    text = text.strip().lower()
    return int(text) if text.isdigit() and int(text) > 0 else None


def plan_archive(
    snapshot: Snapshot,
    setting: str,
    now: datetime,
    keep: Collection[str] = (),
    where: str = "Archive",
    limit: int = CHUNK,
) -> tuple[list[Move], list[NewRow]]:
    """The requests due to leave now (agency wall clock), as moves to the Archive tab, and
    the Log line that records them. `keep`: IDs that stay, like requests this cycle reopens
    (a close-checklist step missing). `where`: what the Log line says they moved to."""
    days = archive_days(setting)
    requests, archive, log = (snapshot.tab(t.name) for t in (REQUESTS, ARCHIVE, LOG))
    if days is None or requests is None or log is None or header_problems(log, LOG):
        return [], []
    if archive is None or header_problems(archive, ARCHIVE):
        return [], []
    cutoff = now - timedelta(days=days)
    due = [rid for rid in _closed_by(requests, cutoff) if rid not in keep]
    today = now.date().isoformat()
    if not due or _archived_today(log, today):
        return [], []
    moves = [Move(REQUESTS.name, rid, ARCHIVE.name) for rid in due[:limit]]
    more = MORE if len(due) > limit else ""
    what = f"{counted(len(moves), 'request')} closed before {cutoff:%Y-%m-%d} moved to {where}"
    return moves, [_line(now, ARCHIVED, today, what + more)]


def _closed_by(requests: Tab, cutoff: datetime) -> list[str]:
    """The IDs of Done and Cancelled requests closed at `cutoff` or before."""
    i, s, c = (requests.col(name) for name in ("ID", "Status", "Closed"))
    if i is None or s is None or c is None:
        return []
    out = []
    for row in requests.rows:
        if max(i, s, c) >= len(row):
            continue
        closed, rid = row[c], cell_text(row[i])
        if (
            isinstance(closed, datetime)
            and closed <= cutoff
            and cell_text(row[s]) in CLOSED
            and rid
        ):
            out.append(rid)
    return out


def _archived_today(log: Tab, today: str) -> bool:
    """Whether today's archiving is done (an Archived line without "more next cycle")."""
    w, o, n = (log.col(name) for name in ("What", "Old", "New"))
    if w is None or o is None:
        return False
    for row in reversed(log.rows):  # today's line is near the end
        if len(row) <= max(w, o) or row[w] != ARCHIVED or cell_text(row[o]) != today:
            continue
        if not (n is not None and n < len(row) and cell_text(row[n]).endswith(MORE)):
            return True
    return False


def ever_archived(log: Tab | None) -> bool:
    """Whether the Log says requests ever left the tracker (an Archived or History moved
    line: those have no Request, so they stay in the tracker's Log)."""
    j = log.col("What") if log is not None else None
    return (
        log is not None
        and j is not None
        and any(j < len(row) and row[j] in (ARCHIVED, HISTORY_MOVED) for row in log.rows)
    )


def _line(now: datetime, what: str, old: str, new: str) -> NewRow:
    return NewRow(LOG.name, {"When": now, "What": what, "Old": old, "New": new, "By": BY_JOB})


@dataclass
class Leaving:
    """What leaves the tracker for the archive this cycle, by header, as the cycle read it:
    the requests, and every Log line about them."""

    requests: list[dict[str, CellValue]] = field(default_factory=list)
    log: list[dict[str, CellValue]] = field(default_factory=list)
    from_requests: set[str] = field(default_factory=set)
    from_archive_tab: set[str] = field(default_factory=set)
    record: list[NewRow] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.requests)

    def recorded(self, kept: Collection[str]) -> list[NewRow]:
        """The Log lines saying what moved; "more next cycle" when the archive took only
        part (a big copy to Google goes over several cycles), so the next cycle goes on."""
        if not kept:
            return []
        if len(set(kept)) >= len(self.from_requests | self.from_archive_tab):
            return list(self.record)
        return [
            replace(r, cells={**r.cells, "New": f"{cell_text(r.cells.get('New'))}{MORE}"})
            if not cell_text(r.cells.get("New")).endswith(MORE)
            else r
            for r in self.record
        ]

    def drops(self, kept: Collection[str]) -> list[Drop]:
        """Deleting from the tracker what the archive now holds (`kept`), and nothing else:
        a request reopened since the read stays in Requests."""
        out = [
            Drop(REQUESTS.name, "ID", frozenset(self.from_requests & set(kept)), ("Status", _SHUT)),
            Drop(ARCHIVE.name, "ID", frozenset(self.from_archive_tab & set(kept))),
            Drop(LOG.name, "Request", frozenset(set(kept))),
        ]
        return [d for d in out if d.keys]


_SHUT = frozenset(CLOSED)


def leaving(
    snapshot: Snapshot,
    moves: Iterable[Move],
    record: list[NewRow],
    now: datetime,
    chunk: int = CHUNK,
) -> Leaving:
    """The rows `moves` name (from Requests), then, while the tracker's Archive tab still
    holds rows (an earlier version kept them there), as many of those as make `chunk`; and
    the Log lines whose Request is one of them."""
    out = Leaving(record=list(record))
    requests, archive, log = (snapshot.tab(t.name) for t in (REQUESTS, ARCHIVE, LOG))
    wanted = {m.key for m in moves if m.tab == REQUESTS.name}
    if requests is not None and wanted:
        for cells in _rows(requests):
            rid = cell_text(cells.get("ID"))
            if rid in wanted and rid not in out.from_requests:
                out.requests.append(cells)
                out.from_requests.add(rid)
    room = chunk - len(out.requests)
    if archive is not None and not header_problems(archive, ARCHIVE) and room > 0:
        held = [c for c in _rows(archive) if cell_text(c.get("ID"))]
        taken = held[:room]
        for cells in taken:
            out.requests.append(cells)
            out.from_archive_tab.add(cell_text(cells.get("ID")))
        if taken:
            more = MORE if len(held) > room else ""
            what = f"{counted(len(taken), 'request')} moved from the Archive tab to the archive"
            out.record.append(_line(now, HISTORY_MOVED, now.date().isoformat(), what + more))
    ids = out.from_requests | out.from_archive_tab
    if log is not None and ids and not header_problems(log, LOG):
        out.log = [c for c in _rows(log) if cell_text(c.get("Request")) in ids]
    return out


def _rows(tab: Tab) -> Iterable[dict[str, CellValue]]:
    """A tab's non-empty rows by header, as the sheet spells it."""
    for row in tab.rows:
        if any(cell_text(v) for v in row):
            yield {h: (row[j] if j < len(row) else None) for j, h in enumerate(tab.header) if h}


class Past:
    """What a cycle needs of the archived history, read only when asked: the highest ID ever
    given, and the Sources already taken (an archived request's message is as taken as any
    other). `load` reads them (sync/archives.py: an index in STATE_DIR, rebuilt from the
    archive when missing); a cycle that takes no new message never calls it."""

    def __init__(self, load: Callable[[], tuple[int, Container[str]]] | None = None) -> None:
        self._load = load
        self._facts: tuple[int, Container[str]] | None = None if load else (0, frozenset())

    def _known(self) -> tuple[int, Container[str]]:
        if self._facts is None:
            assert self._load is not None
            self._facts = self._load()
        return self._facts

    @property
    def highest(self) -> int:
        return self._known()[0]

    def __contains__(self, source: object) -> bool:
        return source in self._known()[1]


@dataclass
class Facts:
    """What is known of archived requests without reading them: the highest ID, every Source,
    and the latest Received or Closed moment (what a period's figures need them for)."""

    highest: int = 0
    sources: set[str] = field(default_factory=set)
    latest: datetime | None = None

    def add(self, rows: Iterable[dict[str, CellValue]]) -> Facts:
        for cells in rows:
            n = parse_id(cells.get("ID"))
            if n is not None and n > self.highest:
                self.highest = n
            if source := cell_text(cells.get("Source")):
                self.sources.add(source)
            for column in ("Received", "Closed"):
                moment = cells.get(column)
                if isinstance(moment, datetime) and (self.latest is None or moment > self.latest):
                    self.latest = moment
        return self

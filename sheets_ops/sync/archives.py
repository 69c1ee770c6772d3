"""The archive outside the tracker: a workbook a year (`Archive 2026.xlsx`, with its Requests
and Log tabs) beside the tracker, or in the folder Settings → Archive Location names.

A request goes into the workbook of the year it was closed (received, when it has no Closed
date). Each workbook is written the way the tracker is (`XlsxTracker`: waits for a person
who has it open, saves atomically), rows deduplicated by ID, so a copy retried after a kill
adds nothing. What the cycle needs of the history (the highest ID, the Sources taken) is
kept in STATE_DIR (`archive-index.json`) with each workbook's size and modification time,
and rebuilt from the workbooks when it is missing or a workbook changed. Reports read the
workbooks on demand with python-calamine, cached by modification time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sheets_ops.model import ARCHIVE, LOG, REQUESTS, CellValue, TabSpec
from sheets_ops.rules.archive import IN_TRACKER, Facts, Past
from sheets_ops.sheet import (
    ADDED,
    PRESENT,
    Batch,
    NewRow,
    Snapshot,
    Tab,
    TrackerError,
    cell_text,
    normalize_header,
)
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.xlsx import XlsxTracker

INDEX = "archive-index.json"
VOLUME = re.compile(r"^Archive (\d{4})\.xlsx$")
VOLUME_TABS: tuple[TabSpec, ...] = (replace(REQUESTS, name="Requests"), LOG)

Stamp = tuple[int, int]
_CACHE: dict[Path, tuple[Stamp, Snapshot]] = {}  # workbook -> (its stamp, its values)


class WorkbookArchive:
    """A workbook a year in `folder`."""

    def __init__(
        self,
        folder: Path,
        state: StateDir | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.folder = folder
        self.state = state
        self.say = say or (lambda _line: None)

    @property
    def name(self) -> str:
        return str(self.folder / "Archive YYYY.xlsx")

    def path(self, year: int) -> Path:
        return self.folder / f"Archive {year}.xlsx"

    def volumes(self) -> dict[int, Path]:
        found = {}
        with contextlib.suppress(OSError):
            for p in self.folder.iterdir():
                if m := VOLUME.match(p.name):
                    found[int(m.group(1))] = p
        return dict(sorted(found.items()))

    # writing -----------------------------------------------------------------------------

    def add(
        self, requests: Sequence[dict[str, CellValue]], log: Sequence[dict[str, CellValue]]
    ) -> set[str]:
        """Copy archived requests and their Log lines in; the IDs the archive now holds (added
        now, or there already from a copy that was not followed by its drop)."""
        before = self._index() if requests else None
        by_year: dict[int, list[dict[str, CellValue]]] = {}
        year_of: dict[str, int] = {}
        for cells in requests:
            year = _year(cells)
            by_year.setdefault(year, []).append(cells)
            year_of[cell_text(cells.get("ID"))] = year
        lines: dict[int, list[dict[str, CellValue]]] = {}
        for cells in log:
            if (found := year_of.get(cell_text(cells.get("Request")))) is not None:
                lines.setdefault(found, []).append(cells)
        held: set[str] = set()
        for year, rows in by_year.items():
            held |= self._add_year(year, rows, lines.get(year, []))
        if before is not None:  # the index, brought up to date without reading it all again
            self._save_index(before.add(requests))
        return held

    def _add_year(
        self, year: int, rows: list[dict[str, CellValue]], lines: list[dict[str, CellValue]]
    ) -> set[str]:
        volume = XlsxTracker(self.path(year), say=self.say)
        if not volume.path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            volume.init(VOLUME_TABS)
            self.say(f"created {volume.path}")
        batch = Batch(rows=[NewRow("Requests", cells, dedupe="ID") for cells in rows])
        at = {cell_text(r.get("ID")): i for i, r in enumerate(rows)}
        for cells in lines:  # with the request they belong to: written once, with it
            batch.rows.append(NewRow("Log", cells, after=at[cell_text(cells.get("Request"))]))
        report = volume.write(batch)
        if report.skipped:
            raise TrackerError(f"{volume.path}: {report.skipped[0]}; nothing left the tracker")
        outcomes = report.row_outcomes[: len(rows)]
        return {
            cell_text(cells.get("ID"))
            for cells, outcome in zip(rows, outcomes, strict=True)
            if outcome in (ADDED, PRESENT)
        }

    # reading -----------------------------------------------------------------------------

    def past(self) -> Past:
        """The highest ID and the Sources taken, read when a cycle first asks."""

        def load() -> tuple[int, set[str]]:
            facts = self._index()
            return facts.highest, facts.sources

        return Past(load)

    def reaches(self, since: datetime) -> bool:
        """Whether any archived request was received or closed at `since` or later: only then
        do a period's figures need the archive read."""
        latest = self._index().latest
        return latest is not None and latest >= since

    def snapshot(self, since: datetime | None = None) -> Snapshot:
        """Every workbook's Requests and Log rows (those of years from `since` on) as one
        snapshot with an Archive and a Log tab, the way metrics read the tracker."""
        archive = Tab(ARCHIVE.name, [c.name for c in REQUESTS.columns + REQUESTS.optional])
        log = Tab(LOG.name, [c.name for c in LOG.columns])
        for year, path in self.volumes().items():
            if since is not None and year < since.year:
                continue
            values = _read(path)
            for tab, into in ((values.tab("Requests"), archive), (values.tab("Log"), log)):
                if tab is not None:
                    into.rows += _aligned(tab, into.header)
        return Snapshot({ARCHIVE.name: archive, LOG.name: log})

    def joined(self, snapshot: Snapshot, since: datetime | None = None) -> Snapshot:
        """The tracker's snapshot with the archived requests and Log lines added: what the
        figures of a period reaching back to `since` read. An archived ID the tracker still
        holds (a copy not yet dropped) counts once, as the tracker has it. Read only when the
        archive reaches `since` (the index says); the snapshot as it is otherwise."""
        if since is not None and not self.reaches(since):
            return snapshot
        past = self.snapshot(since)
        held = {
            cell_text(v)
            for name in (REQUESTS.name, ARCHIVE.name)
            if (t := snapshot.tab(name)) is not None
            for v in t.values("ID")
        }
        tabs = dict(snapshot.tabs)
        for name, extra in past.tabs.items():
            mine = snapshot.tab(name)
            if mine is None:
                continue
            rows = _aligned(extra, mine.header)
            j = extra.col("ID" if name == ARCHIVE.name else "Request")
            rows = [r for r, x in zip(rows, extra.rows, strict=True) if _id(x, j) not in held]
            tabs[mine.title] = Tab(mine.title, mine.header, mine.rows + rows)
        return Snapshot(tabs)

    # the index ---------------------------------------------------------------------------

    def _index(self) -> Facts:
        stamps = self._stamps()
        if self.state is not None:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                data = json.loads((self.state.folder / INDEX).read_text("utf-8"))
                if data["stamps"] == {k: list(v) for k, v in stamps.items()}:
                    latest = data["latest"]
                    return Facts(
                        int(data["highest"]),
                        set(data["sources"]),
                        datetime.fromisoformat(latest) if latest else None,
                    )
        facts = Facts()
        for path in self.volumes().values():
            tab = _read(path).tab("Requests")
            if tab is not None:
                facts.add(dict(zip(tab.header, r, strict=False)) for r in tab.rows)
        self._save_index(facts)
        return facts

    def _save_index(self, facts: Facts) -> None:
        if self.state is None:
            return
        data = {
            "stamps": {k: list(v) for k, v in self._stamps().items()},
            "highest": facts.highest,
            "sources": sorted(facts.sources),
            "latest": facts.latest.isoformat() if facts.latest else "",
        }
        folder = self.state.folder
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{INDEX}.{os.getpid()}.tmp"
        try:
            tmp.write_text(json.dumps(data), "utf-8")
            os.replace(tmp, folder / INDEX)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _stamps(self) -> dict[str, Stamp]:
        out = {}
        for path in self.volumes().values():
            if (stamp := _stamp(path)) is not None:
                out[path.name] = stamp
        return out


def archive_for(
    tracker: Tracker,
    location: str,
    state: StateDir | None,
    say: Callable[[str], None] | None = None,
) -> WorkbookArchive | None:
    """Where archived requests go for this tracker and Settings → Archive Location: None for
    the tracker's own Archive tab (`Tracker`, or a tracker that is not a workbook)."""
    if not isinstance(tracker, XlsxTracker) or location.strip().lower() == IN_TRACKER:
        return None
    folder = Path(location.strip()).expanduser() if location.strip() else tracker.path.parent
    if not folder.is_absolute():
        folder = tracker.path.parent / folder
    return WorkbookArchive(folder, state, say)


def _year(cells: dict[str, CellValue]) -> int:
    for column in ("Closed", "Received"):
        value = cells.get(column)
        if isinstance(value, datetime):
            return value.year
    return datetime.now().year


def _id(row: list[CellValue], j: int | None) -> str:
    return cell_text(row[j]) if j is not None and j < len(row) else ""


def _aligned(tab: Tab, header: list[str]) -> list[list[CellValue]]:
    """A tab's non-empty rows, its columns put in the order of `header` (by name)."""
    index = tab.columns()
    where = [index.get(normalize_header(h)) for h in header]
    return [
        [row[j] if j is not None and j < len(row) else None for j in where]
        for row in tab.rows
        if any(cell_text(v) for v in row)
    ]


def _read(path: Path) -> Snapshot:
    """A workbook's values, read again only when it changed."""
    stamp = _stamp(path)
    cached = _CACHE.get(path)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return cached[1]
    values = XlsxTracker(path).read()
    if stamp is not None:
        _CACHE[path] = (stamp, values)
    return values


def _stamp(path: Path) -> Stamp | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)

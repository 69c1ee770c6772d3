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
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sheets_ops.model import ARCHIVE, LOG, REQUESTS, CellValue, TabSpec
from sheets_ops.rules.archive import IN_TRACKER, Facts, Past, ever_archived
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

if TYPE_CHECKING:  # gspread loads only for a Google tracker
    from sheets_ops.sync.google import GoogleTracker

INDEX = "archive-index.json"
LATEST = "archive-latest.json"  # the index's latest moment alone: what a report asks first
GOOGLE_VOLUME = re.compile(r"^Archive (\d{4})$")
VOLUME = re.compile(r"^Archive (\d{4})\.xlsx$")
VOLUME_TABS: tuple[TabSpec, ...] = (replace(REQUESTS, name="Requests"), LOG)

Stamp = tuple[int, int]
_CACHE: dict[Path, tuple[Stamp, Snapshot]] = {}  # workbook -> (its stamp, its values)


class Archive:
    """What every archive does (the workbooks a year, the Google tabs a year): copy archived
    requests in by year, answer from the index, join itself to the tracker for reports. A
    kind of archive says where a year's volume is (`_volume`), makes one (`_create`), lists
    them (`years`), reads them (`_values`) and stamps them (`_stamps`)."""

    def __init__(self, state: StateDir | None, say: Callable[[str], None] | None) -> None:
        self.state = state
        self.say = say or (lambda _line: None)

    @property
    def name(self) -> str:
        return "the archive"

    def years(self) -> list[int]:
        raise NotImplementedError

    def _volume(self, year: int) -> tuple[Tracker, str, str]:
        """The tracker holding a year, and its Requests and Log tab names; made if missing."""
        raise NotImplementedError

    def _values(self, years: list[int]) -> dict[int, tuple[Tab | None, Tab | None]]:
        """Each year's Requests and Log tabs as they are."""
        raise NotImplementedError

    def _stamps(self) -> dict[str, Stamp]:
        """What says a volume changed since the index was written ({} when nothing can)."""
        return {}

    def _fitting(
        self, requests: Sequence[dict[str, CellValue]], log: Sequence[dict[str, CellValue]]
    ) -> Sequence[dict[str, CellValue]]:
        """The requests one copy takes (all of them, unless a kind of archive says less)."""
        return requests

    # writing -----------------------------------------------------------------------------

    def add(
        self, requests: Sequence[dict[str, CellValue]], log: Sequence[dict[str, CellValue]]
    ) -> set[str]:
        """Copy archived requests and their Log lines in; the IDs the archive now holds (added
        now, or there already from a copy that was not followed by its drop)."""
        requests = self._fitting(requests, log)
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
        volume, requests_tab, log_tab = self._volume(year)
        batch = Batch(rows=[NewRow(requests_tab, cells, dedupe="ID") for cells in rows])
        keyed = archive_keys(lines)
        batch.rows += [NewRow(log_tab, cells, dedupe="Key") for cells in keyed]
        report = volume.write(batch)  # Google may write a big copy over several cycles
        if report.skipped:
            raise TrackerError(f"{volume.name}: {report.skipped[0]}; nothing left the tracker")
        landed = {ADDED, PRESENT}
        outcomes = report.row_outcomes
        whole = {
            cell_text(c.get("ID")) for c, o in zip(rows, outcomes, strict=False) if o in landed
        }
        for cells, outcome in zip(keyed, outcomes[len(rows) :], strict=True):
            if outcome not in landed:  # a Log line not there yet: its request stays too
                whole.discard(cell_text(cells.get("Request")))
        return whole

    # reading -----------------------------------------------------------------------------

    def empty(self, snapshot: Snapshot) -> bool:
        """Whether nothing was ever archived here, known without reading the archive."""
        return not self.years()

    def past(self, snapshot: Snapshot) -> Past:
        """The highest ID and the Sources taken, read when a cycle first asks."""
        if self.empty(snapshot):
            return Past()

        def load() -> tuple[int, set[str]]:
            facts = self._index()
            return facts.highest, facts.sources

        return Past(load)

    def reaches(self, since: datetime) -> bool:
        """Whether any archived request was received or closed at `since` or later: only then
        do a period's figures need the archive read."""
        latest = self._latest()
        return latest is not None and latest >= since

    def _latest(self) -> datetime | None:
        """The index's latest moment, from its small file when it is current (the index
        itself holds every archived Source: a Dashboard refresh should not read them)."""
        if self.state is not None:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                data = json.loads((self.state.folder / LATEST).read_text("utf-8"))
                if data["stamps"] == {k: list(v) for k, v in self._stamps().items()}:
                    return datetime.fromisoformat(data["latest"]) if data["latest"] else None
        return self._index().latest

    def snapshot(self, since: datetime | None = None) -> Snapshot:
        """Every workbook's Requests and Log rows (those of years from `since` on) as one
        snapshot with an Archive and a Log tab, the way metrics read the tracker."""
        archive = Tab(ARCHIVE.name, [c.name for c in REQUESTS.columns + REQUESTS.optional])
        log = Tab(LOG.name, [c.name for c in LOG.columns])
        years = [y for y in self.years() if since is None or y >= since.year]
        for requests_tab, log_tab in self._values(years).values():
            for tab, into in ((requests_tab, archive), (log_tab, log)):
                if tab is not None:
                    into.rows += _aligned(tab, into.header)
        return Snapshot({ARCHIVE.name: archive, LOG.name: log})

    def joined(self, snapshot: Snapshot, since: datetime | None = None) -> Snapshot:
        """The tracker's snapshot with the archived requests and Log lines added: what the
        figures of a period reaching back to `since` read. An archived ID the tracker still
        holds (a copy not yet dropped) counts once, as the tracker has it. Read only when the
        archive reaches `since` (the index says); the snapshot as it is otherwise."""
        if self.empty(snapshot) or (since is not None and not self.reaches(since)):
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
        for tab, _log in self._values(self.years()).values():
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
        small = {"stamps": data["stamps"], "latest": data["latest"]}
        for name, content in ((INDEX, data), (LATEST, small)):
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            try:
                tmp.write_text(json.dumps(content), "utf-8")
                os.replace(tmp, folder / name)
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()


class WorkbookArchive(Archive):
    """A workbook a year in `folder`: `Archive 2026.xlsx`, with its Requests and Log tabs."""

    def __init__(
        self,
        folder: Path,
        state: StateDir | None = None,
        say: Callable[[str], None] | None = None,
        *,
        beside: bool = False,  # the tracker's own folder: said so rather than by its path
    ) -> None:
        super().__init__(state, say)
        self.folder = folder
        self.beside = beside

    @property
    def name(self) -> str:
        if self.beside:
            return "Archive YYYY.xlsx, beside the tracker (a workbook a year)"
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

    def years(self) -> list[int]:
        return list(self.volumes())

    def _volume(self, year: int) -> tuple[Tracker, str, str]:
        volume = XlsxTracker(self.path(year), say=self.say)
        if not volume.path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            volume.init(VOLUME_TABS)
            self.say(f"created {volume.path}")
        return volume, "Requests", "Log"

    def _values(self, years: list[int]) -> dict[int, tuple[Tab | None, Tab | None]]:
        out = {}
        for year in years:
            values = _read(self.path(year))
            out[year] = (values.tab("Requests"), values.tab("Log"))
        return out

    def _stamps(self) -> dict[str, Stamp]:
        out = {}
        for path in self.volumes().values():
            if (stamp := _stamp(path)) is not None:
                out[path.name] = stamp
        return out


class GoogleArchive(Archive):
    """Two tabs a year, `Archive 2026` and `Archive 2026 Log`, in the tracker's spreadsheet
    or in the one Archive Location names (shared with the job like the tracker). The cycle's
    read asks for the contract's tabs by name, so these are never read but for a report
    that reaches them, or once a day to copy requests in."""

    def __init__(
        self,
        sheet: GoogleTracker,
        state: StateDir | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(state, say)
        self.sheet = sheet
        self._years: list[int] | None = None  # asked of Google once a cycle at most

    @property
    def name(self) -> str:
        return f"the Archive YYYY tabs of {self.sheet.name}"

    def years(self) -> list[int]:
        if self._years is None:
            titles = self.sheet.titles()
            self._years = sorted(
                int(m.group(1)) for t in titles if (m := GOOGLE_VOLUME.match(t.strip()))
            )
        return self._years

    def _fitting(
        self, requests: Sequence[dict[str, CellValue]], log: Sequence[dict[str, CellValue]]
    ) -> Sequence[dict[str, CellValue]]:
        """As many requests, whole with their Log lines, as one cycle's writes carry (half
        of `max_chunks` requests of `chunk_bytes`): the rest leave in the next cycles."""
        budget = self.sheet.chunk_bytes * self.sheet.max_chunks // 2
        lines: dict[str, int] = {}
        for cells in log:
            rid = cell_text(cells.get("Request"))
            lines[rid] = lines.get(rid, 0) + _size(cells)
        taken: list[dict[str, CellValue]] = []
        spent = 0
        for cells in requests:
            cost = _size(cells) + lines.get(cell_text(cells.get("ID")), 0)
            if taken and spent + cost > budget:
                break
            taken.append(cells)
            spent += cost
        return taken

    def empty(self, snapshot: Snapshot) -> bool:
        """Nothing was archived while the tracker's Log has no line saying so (those lines
        stay in the tracker): known without asking Google for the spreadsheet's tabs."""
        return not ever_archived(snapshot.tab(LOG.name))

    def _specs(self, year: int) -> tuple[TabSpec, TabSpec]:
        return (
            replace(REQUESTS, name=f"Archive {year}"),
            replace(LOG, name=f"Archive {year} Log"),
        )

    def _volume(self, year: int) -> tuple[Tracker, str, str]:
        requests_spec, log_spec = self._specs(year)
        if year not in self.years():
            self.sheet.init([requests_spec, log_spec], dashboard=False)
            self._years = None
            self.say(f"created tabs {requests_spec.name} and {log_spec.name}")
        return self.sheet, requests_spec.name, log_spec.name

    def _values(self, years: list[int]) -> dict[int, tuple[Tab | None, Tab | None]]:
        specs = [spec for year in years for spec in self._specs(year)]
        tabs = self.sheet.read_tabs(specs)
        return {
            year: (tabs.get(f"Archive {year}"), tabs.get(f"Archive {year} Log")) for year in years
        }


def archive_for(
    tracker: Tracker,
    location: str,
    state: StateDir | None,
    say: Callable[[str], None] | None = None,
) -> Archive | None:
    """Where archived requests go for this tracker and Settings → Archive Location: None for
    the tracker's own Archive tab (`Tracker`, or a tracker in memory). On Google, blank is
    the tracker's spreadsheet and anything else the key of another one."""
    where = location.strip()
    if where.lower() == IN_TRACKER:
        return None
    if tracker.identity.startswith("google:"):
        from sheets_ops.sync.google import GoogleTracker

        assert isinstance(tracker, GoogleTracker)
        sheet = tracker if not where else GoogleTracker(tracker.http, where, tracker.account)
        return GoogleArchive(sheet, state, say)
    if not isinstance(tracker, XlsxTracker):
        return None
    folder = Path(where).expanduser() if where else tracker.path.parent
    if not folder.is_absolute():
        folder = tracker.path.parent / folder
    beside = folder.resolve() == tracker.path.parent.resolve()
    return WorkbookArchive(folder, state, say, beside=beside)


def archive_keys(lines: Sequence[dict[str, CellValue]]) -> list[dict[str, CellValue]]:
    """Archived Log lines, each with a Key that names it (its own, or one made of what it
    says and its place among lines that say the same), so a copy made again, whole or in
    part, adds each line once."""
    seen: dict[str, int] = {}
    out = []
    for cells in lines:
        key = cell_text(cells.get("Key"))
        if not key:
            said = "|".join(cell_text(cells.get(c)) for c in ("When", "Request", "What", "Old"))
            digest = hashlib.sha1((said + "|" + cell_text(cells.get("New"))).encode()).hexdigest()
            seen[digest] = seen.get(digest, 0) + 1
            key = f"archived {digest[:16]}.{seen[digest]}"
        out.append({**cells, "Key": key})
    return out


def _size(cells: dict[str, CellValue]) -> int:
    """About what a row costs in a write request (as `sync/chunks.py` counts it)."""
    return 32 + sum(96 + 2 * len(cell_text(v)) for v in cells.values() if v is not None)


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

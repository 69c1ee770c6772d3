"""The embedded tracker: a local `.xlsx` workbook, through openpyxl.

Safe beside a person: a write re-opens the workbook as it is on disk, relocates rows by ID,
keeps any cell a person changed, and saves through a temporary file and `os.replace`, so the
workbook is never half-written. While Excel or LibreOffice has the workbook open (their lock
files), a write waits, says so, and gives up with one clear line rather than overwrite the
person's copy.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import re
import secrets
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from glob import escape as glob_escape
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from python_calamine import CalamineError, CalamineWorkbook

from sheets_ops.model import (
    BASELINE,
    BASELINE_CHART,
    DASHBOARD,
    TabSpec,
)
from sheets_ops.sheet import (
    Batch,
    SetupError,
    Snapshot,
    Tab,
    TrackerError,
    tab_from_rows,
)
from sheets_ops.sync.tracker import (
    TabPlan,
    WriteReport,
    merge_report,
    plan_batch,
)

if TYPE_CHECKING:  # openpyxl (about 0.15 s to import) loads only when a cycle writes
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

T = TypeVar("T")


def lock_files(path: Path) -> list[Path]:
    """The lock files Excel and LibreOffice leave beside a workbook they have open."""
    name = path.name
    candidates = [f".~lock.{name}#", f"~${name}", f"~${name[2:]}"]
    return [path.parent / c for c in dict.fromkeys(candidates) if (path.parent / c).exists()]


def describe_lock(lock: Path) -> str:
    app = "LibreOffice" if lock.name.startswith(".~lock.") else "Excel"
    who = ""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        fields = lock.read_text(encoding="utf-8", errors="strict").split(",")
        if app == "LibreOffice" and len(fields) > 2 and fields[1].strip():
            who = f" by {fields[1].strip()}"
    return f"open in {app}{who} ({lock.name})"


class XlsxTracker:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_wait: float = 60.0,
        poll: float = 1.0,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.lock_wait = lock_wait
        self.poll = poll
        self.say = say or (lambda _line: None)

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def identity(self) -> str:
        return str(self.path.expanduser().resolve())

    # reading -----------------------------------------------------------------------------

    def read(self) -> Snapshot:
        """Every tab's values, through python-calamine (a Rust reader, about twenty times
        faster than openpyxl here); openpyxl opens the workbook only to write."""
        if not self.path.exists():
            raise self._missing()
        try:
            before = _identity(self.path)
            book = CalamineWorkbook.from_path(str(self.path))
            tabs = {
                name: tab_from_rows(name, _calamine_rows(book, name), converted=True)
                for name in book.sheet_names
            }
            after = _identity(self.path)
        except (CalamineError, zipfile.BadZipFile, OSError, ValueError) as e:
            raise self._unreadable(e) from e
        return Snapshot(tabs, revision=after if after == before else None)

    # writing -----------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteReport:
        if not batch:
            return WriteReport()

        from sheets_ops.sync.xlsx_layout import put, sheet_named

        def edit(wb: Workbook) -> WriteReport:
            def tab_for(name: str) -> Tab | None:
                ws = sheet_named(wb, name)
                return tab_from_rows(ws.title, ws.iter_rows(values_only=True)) if ws else None

            plans = plan_batch(batch, tab_for)
            for name, plan in plans.items():
                ws = sheet_named(wb, name)
                assert ws is not None
                _apply(ws, plan)
            for name, grid in batch.grids.items():
                ws = sheet_named(wb, name) or wb.create_sheet(name)
                for i, values in enumerate(grid):
                    for j, value in enumerate(values):
                        put(ws.cell(row=i + 1, column=j + 1), value)
            return merge_report(WriteReport(), batch, plans)

        return self._edit(edit, create=False)

    def link(self, row: int) -> str:
        return ""  # a workbook on a disk has no address to a row that every mail client opens

    def init(self, tabs: Sequence[TabSpec]) -> list[str]:
        from sheets_ops.sync.xlsx_layout import init_workbook

        return self._edit(lambda wb: init_workbook(wb, tabs), create=True)

    # the safe edit: wait for people, reload, change, save atomically ---------------------

    def _edit(self, change: Callable[[Workbook], T], *, create: bool) -> T:
        from openpyxl import Workbook

        from sheets_ops.sync.xlsx_layout import draw_charts, sheet_named

        for _attempt in range(3):
            self._wait_until_closed()
            before = _stamp(self.path)
            if before is None:
                if not create:
                    raise self._missing()
                wb = Workbook()
                wb.remove(wb.active)  # type: ignore[arg-type]
            else:
                wb = self._load(read_only=False)
            result = change(wb)
            dashboard = sheet_named(wb, DASHBOARD)
            if dashboard is not None:  # openpyxl drops charts it loads: draw them again
                draw_charts(dashboard)
            baseline = sheet_named(wb, BASELINE)
            if baseline is not None:
                draw_charts(baseline, (BASELINE_CHART,))
            tmp = self.path.with_name(
                f".{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}"
            )
            _remove_stale_temporaries(self.path)
            try:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    wb.save(tmp)
                    with open(tmp, "rb+") as f:
                        os.fsync(f.fileno())
                except OSError as e:
                    raise TrackerError(
                        f"{self.path} could not be saved ({e.strerror or e}); the workbook is "
                        "as it was, nothing was acknowledged, and the next cycle tries again"
                    ) from e
                if _stamp(self.path) != before or lock_files(self.path):
                    # Someone saved or opened the workbook while we worked: start over
                    # from their version rather than overwrite it.
                    self.say(f"{self.path} changed while sheets-ops was writing; retrying")
                    continue
                os.replace(tmp, self.path)
                _sync_folder(self.path.parent)
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            return result
        raise TrackerError(
            f"{self.path} kept changing while sheets-ops tried to save it; nothing was written"
        )

    def _missing(self) -> TrackerError:
        return SetupError(
            f"{self.path} does not exist; run `sheets-ops init` to create the tracker"
        )

    def _wait_until_closed(self) -> None:
        locks = lock_files(self.path)
        if not locks:
            return
        what = describe_lock(locks[0])
        self.say(f"{self.path.name} is {what}; waiting up to {self.lock_wait:g} s for it to close")
        deadline = time.monotonic() + self.lock_wait
        while locks and time.monotonic() < deadline:
            time.sleep(self.poll)
            locks = lock_files(self.path)
        if locks:
            raise TrackerError(
                f"{self.path.name} is {what}: close it and run again "
                "(nothing was written, no message was acknowledged); "
                f"if nobody has it open, delete {locks[0]}"
            )

    def _load(self, *, read_only: bool) -> Workbook:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            return load_workbook(self.path, read_only=read_only, data_only=False)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as e:
            raise self._unreadable(e) from e

    def _unreadable(self, e: Exception) -> TrackerError:
        return TrackerError(
            f"{self.path} is not a readable .xlsx workbook ({type(e).__name__}: {e}); "
            "restore it from a backup or point TRACKER at another file"
        )


def _identity(path: Path) -> str:
    """What changes whenever the file is written, by anything: a save (ours replaces the
    file, Excel rewrites it) changes its size, modification or status-change time, or its
    inode; the status-change time cannot be set back."""
    st = path.stat()
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _calamine_rows(book: CalamineWorkbook, name: str) -> Iterator[list[object]]:
    """A sheet's rows from A1 as openpyxl gives them: None for an empty cell, whole numbers
    as int, a date cell as a datetime at midnight (the values every rule was written for)."""
    for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False):
        yield [  # text and moments as they are, the few others converted
            (v or None) if type(v) is str else v if type(v) is datetime else _as_openpyxl(v)
            for v in row
        ]


def _as_openpyxl(value: object) -> object:
    if value == "":
        return None
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is date:
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str | int | float | bool | datetime):
        return value
    return str(value)  # a time of day, a duration: as openpyxl's reading gives them


TMP_SUFFIX = ".sheets-ops-tmp"
STALE_AFTER = 600.0  # seconds: older temporaries beside the workbook were left by a killed run


def _remove_stale_temporaries(path: Path) -> None:
    """A run killed mid-save leaves its temporary file (`.NAME.PID-TOKEN.sheets-ops-tmp`):
    each is unique to its process, so none is ever reused, and old ones are removed here."""
    with contextlib.suppress(OSError):
        for old in path.parent.glob(f".{glob_escape(path.name)}.*{TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if time.time() - old.stat().st_mtime > STALE_AFTER:
                    old.unlink()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable: a power cut must not bring the old workbook back."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a folder; the rename is still atomic
    finally:
        os.close(fd)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


ROW_HEIGHT = 45  # points: a new request's row shows the first three lines of its Context


def _apply(ws: Worksheet, plan: TabPlan) -> None:
    from sheets_ops.sync.xlsx_layout import put

    wrapped = {  # Context: its first lines, at the top of the cell
        j for j, cell in enumerate(ws[1]) if str(cell.value or "").strip().lower() == "context"
    }
    for index, j, value in plan.updates:
        put(ws.cell(row=index + 2, column=j + 1), value, wrap=j in wrapped)
    for k, values in enumerate(plan.appends):
        r = plan.append_at + 2 + k
        for j, value in enumerate(values):
            if value is not None:
                put(ws.cell(row=r, column=j + 1), value, wrap=j in wrapped)
        if wrapped:
            ws.row_dimensions[r].height = ROW_HEIGHT  # three lines of Context, not all of it
    if plan.appends and ws.auto_filter.ref:
        last = plan.append_at + 1 + len(plan.appends)
        first, _, end = ws.auto_filter.ref.partition(":")
        end_col = re.sub(r"\d+", "", end or first)
        ws.auto_filter.ref = f"{first}:{end_col}{max(last, 2)}"
    if plan.deletes:  # rows moved to another tab, or out to the archive
        delete_rows(ws, {i + 2 for i in plan.deletes})


def delete_rows(ws: Worksheet, gone: set[int]) -> None:
    """Delete sheet rows `gone` (1-based), closing the gaps, in one pass over the cells.
    openpyxl's `delete_rows` moves every cell below for each block, which is quadratic when
    the rows are scattered (the Log lines of a day's archived requests); heights go along."""
    if not gone:
        return
    order = sorted(gone)
    first = order[0]
    cells = ws._cells  # openpyxl keeps them in a private dict
    below = sorted((k for k in cells if k[0] >= first), key=lambda k: k[0])
    heights = {r: d.height for r, d in ws.row_dimensions.items() if r >= first}
    for r in heights:
        del ws.row_dimensions[r]
    for row, column in below:
        cell = cells.pop((row, column))
        if row in gone:
            continue
        cell.row = row - bisect.bisect_left(order, row)
        cells[(cell.row, column)] = cell
    for r, height in heights.items():
        if r not in gone and height is not None:
            ws.row_dimensions[r - bisect.bisect_left(order, r)].height = height
    ws._current_row = ws.max_row  # type: ignore[attr-defined]  # where openpyxl's own append would go next, as it keeps it

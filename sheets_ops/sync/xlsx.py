"""The embedded tracker: a local `.xlsx` workbook, through openpyxl.

Safe beside a person: a write re-opens the workbook as it is on disk, relocates rows by ID,
keeps any cell a person changed, and saves through a temporary file and `os.replace`, so the
workbook is never half-written. While Excel or LibreOffice has the workbook open (their lock
files), a write waits, says so, and gives up with one clear line rather than overwrite the
person's copy.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from glob import escape as glob_escape
from pathlib import Path
from typing import TypeVar

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sheets_ops.model import (
    DASHBOARD,
    DASHBOARD_CHARTS,
    DASHBOARD_COLUMNS,
    FILL_NOTE,
    JOB_NOTE,
    CellValue,
    Owner,
    SlaState,
    TabSpec,
    is_blank,
)
from sheets_ops.sheet import (
    Batch,
    Snapshot,
    Tab,
    TrackerError,
    normalize_header,
    renamed_as,
    renamed_line,
    seed_rows,
)
from sheets_ops.sync.tracker import (
    TabPlan,
    WriteReport,
    last_used_row,
    merge_report,
    plan_batch,
    runs,
)

MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
# Characters that XML 1.0 (and so .xlsx) cannot hold.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORMULA_LEADS = ("=", "+", "-", "@")

HEADER_FILLS = {Owner.JOB: "E7E6E6", Owner.FILL: "DDEBF7", Owner.HUMAN: "E2EFDA"}
SLA_FILLS = {
    SlaState.OVERDUE: "F4CCCC",
    SlaState.DUE_SOON: "FCE8B2",
    SlaState.ON_TRACK: "D9EAD3",
    SlaState.PAUSED: "E6E6E6",
}
LAST_ROW = 1_048_576  # dropdowns and colours cover the whole column

T = TypeVar("T")


def text_cell(value: str) -> str:
    """What a workbook can hold of a string: no XML-illegal characters, Excel's length cap."""
    value = _ILLEGAL.sub("", value)
    if len(value) > MAX_CELL_CHARS:
        value = value[: MAX_CELL_CHARS - 1] + "…"
    return value


def put(cell: Cell | MergedCell, value: CellValue) -> None:
    """Write one value so that it stays what it is: text is never taken for a formula."""
    if isinstance(value, str):
        value = text_cell(value)
        cell.value = value
        if value.startswith(_FORMULA_LEADS):
            cell.data_type = "s"  # openpyxl would otherwise store "=..." as a live formula
            cell.quotePrefix = True  # and Excel would re-read it as one on the next edit
        return
    cell.value = value
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"


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
        if not self.path.exists():
            raise self._missing()
        wb = self._load(read_only=True)
        try:
            tabs = {}
            for ws in wb.worksheets:
                ws.reset_dimensions()  # some writers record a wrong used range
                tabs[ws.title] = _tab_from_rows(ws.title, ws.iter_rows(values_only=True))
            return Snapshot(tabs)
        finally:
            wb.close()

    # writing -----------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteReport:
        if not batch:
            return WriteReport()

        def edit(wb: Workbook) -> WriteReport:
            def tab_for(name: str) -> Tab | None:
                ws = _sheet(wb, name)
                return _tab_from_rows(ws.title, ws.iter_rows(values_only=True)) if ws else None

            plans = plan_batch(batch, tab_for)
            for name, plan in plans.items():
                ws = _sheet(wb, name)
                assert ws is not None
                _apply(ws, plan)
            for name, grid in batch.grids.items():
                ws = _sheet(wb, name) or wb.create_sheet(name)
                for i, values in enumerate(grid):
                    for j, value in enumerate(values):
                        put(ws.cell(row=i + 1, column=j + 1), value)
            return merge_report(WriteReport(), batch, plans)

        return self._edit(edit, create=False)

    def link(self, row: int) -> str:
        return ""  # a workbook on a disk has no address to a row that every mail client opens

    def init(self, tabs: Sequence[TabSpec]) -> list[str]:
        return self._edit(lambda wb: _init_workbook(wb, tabs), create=True)

    # the safe edit: wait for people, reload, change, save atomically ---------------------

    def _edit(self, change: Callable[[Workbook], T], *, create: bool) -> T:
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
            dashboard = _sheet(wb, DASHBOARD)
            if dashboard is not None:  # openpyxl drops charts it loads: draw them again
                draw_charts(dashboard)
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
        return TrackerError(
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
        try:
            return load_workbook(self.path, read_only=read_only, data_only=False)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as e:
            raise TrackerError(
                f"{self.path} is not a readable .xlsx workbook ({type(e).__name__}: {e}); "
                "restore it from a backup or point TRACKER at another file"
            ) from e


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


def cell_value(value: object) -> CellValue:
    """What openpyxl read, as one of the types a tracker cell holds."""
    if value is None or isinstance(value, str | int | float | bool | datetime | date):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)  # rich text, a time of day, a duration, an array formula


def _tab_from_rows(title: str, rows: Iterable[Sequence[object]]) -> Tab:
    it = iter(rows)
    first = next(it, ())
    header = ["" if v is None else str(v).strip() for v in first]
    while header and not header[-1]:
        header.pop()
    values: list[list[CellValue]] = [[cell_value(v) for v in r] for r in it]
    tab = Tab(title, header, values)
    while tab.rows and all(is_blank(v) for v in tab.rows[-1]):
        tab.rows.pop()
    return tab


def _sheet(wb: Workbook, title: str) -> Worksheet | None:
    for ws in wb.worksheets:
        if normalize_header(ws.title) == normalize_header(title):
            return ws
    return None


def draw_charts(ws: Worksheet) -> None:
    """The Dashboard's charts, over its fixed ranges (model.DASHBOARD_CHARTS)."""
    ws._charts = []  # type: ignore[attr-defined]  # openpyxl keeps them in a private list
    for spec in DASHBOARD_CHARTS:
        chart = BarChart()
        chart.title = spec.title
        chart.style = 10
        chart.height, chart.width = 7, 13
        chart.legend = chart.legend if spec.series > 1 else None
        data = Reference(
            ws, min_col=2, max_col=1 + spec.series, min_row=spec.header, max_row=spec.last
        )
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=spec.header + 1, max_row=spec.last))
        ws.add_chart(chart, spec.anchor)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["C"].width = 14
    for row in (1, 3, *(spec.header for spec in DASHBOARD_CHARTS)):
        for cell in ws[row][:DASHBOARD_COLUMNS]:
            cell.font = Font(bold=True)


def _apply(ws: Worksheet, plan: TabPlan) -> None:
    for index, j, value in plan.updates:
        put(ws.cell(row=index + 2, column=j + 1), value)
    for k, values in enumerate(plan.appends):
        r = plan.append_at + 2 + k
        for j, value in enumerate(values):
            if value is not None:
                put(ws.cell(row=r, column=j + 1), value)
    if plan.appends and ws.auto_filter.ref:
        last = plan.append_at + 1 + len(plan.appends)
        first, _, end = ws.auto_filter.ref.partition(":")
        end_col = re.sub(r"\d+", "", end or first)
        ws.auto_filter.ref = f"{first}:{end_col}{max(last, 2)}"
    for start, count in runs(plan.deletes):  # rows moved to another tab
        ws.delete_rows(start + 2, count)


# init ------------------------------------------------------------------------------------


def _init_workbook(wb: Workbook, tabs: Sequence[TabSpec]) -> list[str]:
    done: list[str] = []
    for spec in tabs:
        ws = _sheet(wb, spec.name)
        if ws is None:
            ws = wb.create_sheet(spec.name)
            done.append(f"created tab {spec.name}")
        done += _init_sheet(ws, spec)
    if _sheet(wb, DASHBOARD) is None:  # the job fills it; its charts are drawn at each save
        wb.create_sheet(DASHBOARD)
        done.append(f"created tab {DASHBOARD}")
    return done


def _init_sheet(ws: Worksheet, spec: TabSpec) -> list[str]:
    done: list[str] = []
    header = [cell_value(ws.cell(row=1, column=j).value) for j in range(1, ws.max_column + 1)]
    have = {normalize_header(h): j + 1 for j, h in enumerate(header) if not is_blank(h)}
    used = max((j for j in have.values()), default=0)
    fresh = not have  # a tab init just created: report it once, not header by header
    positions: dict[str, int] = {}
    sample = [
        [cell_value(v) for v in r] for r in ws.iter_rows(min_row=2, max_row=501, values_only=True)
    ]
    for column in spec.columns + spec.optional:
        j = have.get(normalize_header(column.name))
        renamed = renamed_as(header, sample, spec, column.name) if j is None else None
        if renamed is not None:  # no empty twin beside the column a person renamed
            j = have[normalize_header(renamed)]
            done.append(renamed_line(spec, renamed, column.name) + "; init added no column")
        elif j is None:
            used += 1
            j = used
            ws.cell(row=1, column=j).value = column.name
            ws.column_dimensions[get_column_letter(j)].width = column.width
            if not fresh:
                done.append(f'added header "{column.name}" to {spec.name}')
        positions[column.name] = j
        cell = ws.cell(row=1, column=j)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILLS[column.owner])
        cell.alignment = Alignment(vertical="center", wrap_text=False)
        note = {Owner.JOB: JOB_NOTE, Owner.FILL: FILL_NOTE}.get(column.owner)
        text = f"{column.meaning}.\n{note}" if note else f"{column.meaning}."
        if cell.comment is None or cell.comment.author == "sheets-ops":
            comment = Comment(text, "sheets-ops")
            comment.width, comment.height = 260, 90
            cell.comment = comment
    if ws.freeze_panes is None:
        ws.freeze_panes = "A2"
    last_col = get_column_letter(max(used, 1))
    last_row = max(ws.max_row, 2)
    if not ws.auto_filter.ref:
        ws.auto_filter.ref = f"A1:{last_col}{last_row}"
        if not fresh:
            done.append(f"added filters to {spec.name}")
    _dropdowns(ws, spec, positions)
    if spec.name == "Requests":
        _sla_colours(ws, positions["SLA"])
    tab = _tab_from_rows(ws.title, ws.iter_rows(values_only=True))
    rows, said = seed_rows(spec, tab)
    start = last_used_row(tab) + 2
    for i, row in enumerate(rows):
        for name, value in row.items():
            put(ws.cell(row=start + i, column=positions[name]), value)
    if said:
        done.append(said)
    return done


def _dropdowns(ws: Worksheet, spec: TabSpec, positions: dict[str, int]) -> None:
    listed = [c for c in spec.columns + spec.optional if c.choices]
    ours = {'"' + ",".join(c.choices) + '"' for c in listed}
    for dv in list(ws.data_validations.dataValidation):
        if dv.formula1 in ours:  # laid by an earlier init: lay them anew where the columns are
            ws.data_validations.dataValidation.remove(dv)
    for column in listed:
        formula = '"' + ",".join(column.choices) + '"'
        letter = get_column_letter(positions[column.name])
        dv = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=column.name,
            error=f"{column.name} is usually one of: {', '.join(column.choices)}.",
        )
        dv.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.add_data_validation(dv)


def _sla_colours(ws: Worksheet, j: int) -> None:
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if any(f'"{SlaState.OVERDUE}"' in (f or "") for f in rule.formula or []):
                return  # laid by an earlier init
    letter = get_column_letter(j)
    for state, colour in SLA_FILLS.items():
        ws.conditional_formatting.add(
            f"{letter}2:{letter}{LAST_ROW}",
            CellIsRule(  # type: ignore[no-untyped-call]
                operator="equal",
                formula=[f'"{state}"'],
                fill=PatternFill("solid", fgColor=colour, bgColor=colour),
            ),
        )

"""How a workbook holds the contract: a value written so it stays what it is (text never a
formula, nothing Excel cannot hold) and `init`'s layout of a
tab (headers with notes and fills, filters, drop-downs, SLA colours, seeds) and of the
Dashboard's charts. xlsx.py opens, locks and saves the workbook."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from sheets_ops.model import (
    DASHBOARD,
    DASHBOARD_CHARTS,
    DASHBOARD_COLUMNS,
    FILL_NOTE,
    JOB_NOTE,
    CellValue,
    Column,
    DashboardChart,
    Owner,
    SlaState,
    TabSpec,
    is_blank,
)
from sheets_ops.sheet import (
    cell_value,
    normalize_header,
    renamed_as,
    renamed_line,
    seed_rows,
    tab_from_rows,
)
from sheets_ops.sync.tracker import last_used_row

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
STATUS_FILLS = {  # where a request stands, at a glance
    "New": "DDEBF7",
    "Needs Info": "FCE8B2",
    "Waiting on Client": "E6E6E6",
    "Waiting on Carrier": "E6E6E6",
    "Done": "D9EAD3",
    "Cancelled": "EFEFEF",
}
LAST_ROW = 1_048_576  # dropdowns and colours cover the whole column
TEAM_NAMES = "=Team!$A$2:$A$500"  # the Owner drop-down: the names on the Team tab
WRAP = Alignment(wrap_text=True, vertical="top")


def text_cell(value: str) -> str:
    """What a workbook can hold of a string: no XML-illegal characters, Excel's length cap."""
    value = _ILLEGAL.sub("", value)
    if len(value) > MAX_CELL_CHARS:
        value = value[: MAX_CELL_CHARS - 1] + "…"
    return value


def put(cell: Cell | MergedCell, value: CellValue, wrap: bool = False) -> None:
    """Write one value so that it stays what it is: text is never taken for a formula.
    `wrap`: the text wraps, its first lines at the top of the cell."""
    if wrap:
        cell.alignment = WRAP
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


def sheet_named(wb: Workbook, title: str) -> Worksheet | None:
    for ws in wb.worksheets:
        if normalize_header(ws.title) == normalize_header(title):
            return ws
    return None


def draw_charts(ws: Worksheet, charts: Sequence[DashboardChart] = DASHBOARD_CHARTS) -> None:
    """A job-owned tab's charts, over its fixed ranges (model.DASHBOARD_CHARTS, or the
    Baseline tab's BASELINE_CHART)."""
    ws._charts = []  # type: ignore[attr-defined]  # openpyxl keeps them in a private list
    for spec in charts:
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
    for row in (1, 3, *(spec.header for spec in charts)):
        for cell in ws[row][:DASHBOARD_COLUMNS]:
            cell.font = Font(bold=True)


# init ------------------------------------------------------------------------------------


def init_workbook(wb: Workbook, tabs: Sequence[TabSpec]) -> list[str]:
    done: list[str] = []
    for spec in tabs:
        ws = sheet_named(wb, spec.name)
        if ws is None:
            ws = wb.create_sheet(spec.name)
            done.append(f"created tab {spec.name}")
        done += _init_sheet(ws, spec)
    if sheet_named(wb, DASHBOARD) is None:  # the job fills it; its charts are drawn at each save
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
    for column in spec.laid_out:
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
        _header_style(ws.cell(row=1, column=j), column)
    if ws.freeze_panes is None:
        ws.freeze_panes = "B2" if spec.name == "Requests" else "A2"  # the ID stays in view
    last_col = get_column_letter(max(used, 1))
    last_row = max(ws.max_row, 2)
    if not ws.auto_filter.ref:
        ws.auto_filter.ref = f"A1:{last_col}{last_row}"
        if not fresh:
            done.append(f"added filters to {spec.name}")
    _dropdowns(ws, spec, positions)
    if spec.name == "Requests":
        _requests_layout(ws, positions)
    tab = tab_from_rows(ws.title, ws.iter_rows(values_only=True))
    rows, said = seed_rows(spec, tab)
    start = last_used_row(tab) + 2
    for i, row in enumerate(rows):
        for name, value in row.items():
            put(ws.cell(row=start + i, column=positions[name]), value)
    if said:
        done.append(said)
    return done


def _header_style(cell: Cell | MergedCell, column: Column) -> None:
    """A header: bold, filled by who owns the column, with a note saying what it holds (a
    note a person wrote there is kept)."""
    cell.font = Font(bold=True)
    cell.fill = PatternFill("solid", fgColor=HEADER_FILLS[column.owner])
    cell.alignment = Alignment(vertical="center", wrap_text=True)  # long headers in two lines
    note = column.note or {Owner.JOB: JOB_NOTE, Owner.FILL: FILL_NOTE}.get(column.owner)
    text = f"{column.meaning}.\n{note}" if note else f"{column.meaning}."
    if cell.comment is None or cell.comment.author == "sheets-ops":
        comment = Comment(text, "sheets-ops")
        comment.width, comment.height = 260, 90
        cell.comment = comment


def _dropdowns(ws: Worksheet, spec: TabSpec, positions: dict[str, int]) -> None:
    listed = [c for c in spec.columns + spec.optional if c.choices]
    ours = {'"' + ",".join(c.choices) + '"' for c in listed}
    for dv in list(ws.data_validations.dataValidation):
        if dv.formula1 in ours:  # laid by an earlier init: lay them anew where the columns are
            ws.data_validations.dataValidation.remove(dv)
    for column in listed:
        formula = '"' + ",".join(column.choices) + '"'
        usually = f"{column.name} is usually one of: {', '.join(column.choices)}."
        _drop_down(ws, positions[column.name], formula, column.name, usually)


def _drop_down(ws: Worksheet, j: int, formula: str, title: str, usually: str) -> None:
    """A list drop-down over column j that warns, never refuses, on other text."""
    letter = get_column_letter(j)
    dv = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle=title,
        error=usually,
    )
    dv.add(f"{letter}2:{letter}{LAST_ROW}")
    ws.add_data_validation(dv)


def _requests_layout(ws: Worksheet, positions: dict[str, int]) -> None:
    """What the Requests tab adds: SLA and Status colours, the Owner drop-down from Team,
    Context wrapped at the top of its cell, and a landscape print fit to the page's width
    with the header on every page."""
    _colours(ws, positions["SLA"], {str(k): v for k, v in SLA_FILLS.items()})
    _colours(ws, positions["Status"], STATUS_FILLS)
    if not any(dv.formula1 == TEAM_NAMES for dv in ws.data_validations.dataValidation):
        usually = "Owner is usually a name on the Team tab."
        _drop_down(ws, positions["Owner"], TEAM_NAMES, "Owner", usually)
    ws.row_dimensions[1].height = 30  # room for a header in two lines
    context = get_column_letter(positions["Context"])
    ws.column_dimensions[context].alignment = WRAP
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"


def _colours(ws: Worksheet, j: int, fills: dict[str, str]) -> None:
    """A fill for each value of column j, unless an earlier init laid them."""
    letter = get_column_letter(j)
    for cf in ws.conditional_formatting:
        if str(cf.sqref).startswith(f"{letter}2:"):
            for rule in cf.rules:
                if any(f'"{next(iter(fills))}"' in (f or "") for f in rule.formula or []):
                    return
    for value, colour in fills.items():
        ws.conditional_formatting.add(
            f"{letter}2:{letter}{LAST_ROW}",
            CellIsRule(  # type: ignore[no-untyped-call]
                operator="equal",
                formula=[f'"{value}"'],
                fill=PatternFill("solid", fgColor=colour, bgColor=colour),
            ),
        )

"""How a Google Sheet holds the contract: a value as Sheets CellData, and the requests that
lay out a tab (`sheets-ops init`): its headers with their notes and colours, choice lists,
widths, the frozen header and filters, the SLA colours of Requests, seed rows, and the
Dashboard's charts. Each piece is its own function; `layout` composes them for one tab.
Only requests are built here: google.py sends them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from gspread.utils import a1_to_rowcol

from sheets_ops.model import (
    BASELINE,
    BASELINE_CHART,
    DASHBOARD,
    DASHBOARD_CHARTS,
    FILL_NOTE,
    JOB_NOTE,
    CellValue,
    Column,
    DashboardChart,
    Owner,
    SlaState,
    TabSpec,
)
from sheets_ops.sheet import Tab, normalize_header, renamed_as, renamed_line, seed_rows

Request = dict[str, Any]  # one request of a spreadsheets:batchUpdate

MAX_CELL_CHARS = 50_000  # Google's limit for one cell
SERIAL_EPOCH = datetime(1899, 12, 30)  # day 0 of spreadsheet date serial numbers
VALUE_FIELDS = "userEnteredValue,userEnteredFormat.numberFormat"
DATETIME_PATTERN = "yyyy-mm-dd hh:mm"
DATE_PATTERN = "yyyy-mm-dd"
HEADER_COLOURS = {  # the same colours as the workbook's header row
    Owner.JOB: {"red": 0.906, "green": 0.902, "blue": 0.902},
    Owner.FILL: {"red": 0.867, "green": 0.922, "blue": 0.969},
    Owner.HUMAN: {"red": 0.886, "green": 0.937, "blue": 0.855},
}
STATUS_COLOURS = {  # where a request stands, at a glance (the workbook's STATUS_FILLS)
    "New": {"red": 0.867, "green": 0.922, "blue": 0.969},
    "Needs Info": {"red": 0.988, "green": 0.91, "blue": 0.698},
    "Waiting on Client": {"red": 0.902, "green": 0.902, "blue": 0.902},
    "Waiting on Carrier": {"red": 0.902, "green": 0.902, "blue": 0.902},
    "Done": {"red": 0.851, "green": 0.918, "blue": 0.827},
    "Cancelled": {"red": 0.937, "green": 0.937, "blue": 0.937},
}
TEAM_NAMES = "=Team!A2:A"  # the Owner drop-down: the names on the Team tab
PROTECTED = "Filled by sheets-ops: change it here only if you mean to"
SLA_COLOURS = {
    SlaState.OVERDUE: {"red": 0.957, "green": 0.8, "blue": 0.8},
    SlaState.DUE_SOON: {"red": 0.988, "green": 0.91, "blue": 0.698},
    SlaState.ON_TRACK: {"red": 0.851, "green": 0.918, "blue": 0.827},
    SlaState.PAUSED: {"red": 0.902, "green": 0.902, "blue": 0.902},
}


def to_serial(value: datetime | date) -> float:
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    return (moment.replace(tzinfo=None) - SERIAL_EPOCH) / timedelta(days=1)


def from_serial(value: float, kind: str) -> datetime | date:
    moment = SERIAL_EPOCH + timedelta(seconds=round(value * 86_400))
    return moment.date() if kind == "date" else moment


def cell_data(value: CellValue) -> dict[str, Any]:
    """One value as Sheets CellData. Text is always stringValue: stored as typed, never parsed."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    if isinstance(value, datetime | date):
        pattern, kind = (
            (DATETIME_PATTERN, "DATE_TIME")
            if isinstance(value, datetime)
            else (DATE_PATTERN, "DATE")
        )
        return {
            "userEnteredValue": {"numberValue": to_serial(value)},
            "userEnteredFormat": {"numberFormat": {"type": kind, "pattern": pattern}},
        }
    text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return {"userEnteredValue": {"stringValue": text}}


def _columns(sheet_id: int, j: int, first_row: int = 1) -> dict[str, int]:
    """The range of column j from `first_row` (0-based) down."""
    return {
        "sheetId": sheet_id,
        "startRowIndex": first_row,
        "startColumnIndex": j,
        "endColumnIndex": j + 1,
    }


# -- one tab ----------------------------------------------------------------------------------


@dataclass
class Placement:
    """Where each contract column of a tab is (0-based), which of them init adds, and how
    wide the header row gets."""

    positions: dict[str, int] = field(default_factory=dict)
    added: list[int] = field(default_factory=list)
    used: int = 0


def place_columns(
    spec: TabSpec, values: list[list[Any]], fresh: bool, done: list[str]
) -> Placement:
    """Each column found by its header; a missing one added after the last used column,
    except one a person renamed (no empty twin beside it)."""
    header = [str(h) for h in values[0]] if values else []
    have = {normalize_header(h): j for j, h in enumerate(header) if h.strip()}
    placement = Placement(used=max(have.values(), default=-1) + 1)
    sample = [list(r) for r in values[1:]]
    for column in spec.laid_out:
        j = have.get(normalize_header(column.name))
        renamed = renamed_as(header, sample, spec, column.name) if j is None else None
        if renamed is not None:
            j = have[normalize_header(renamed)]
            done.append(renamed_line(spec, renamed, column.name) + "; init added no column")
        elif j is None:
            j, placement.used = placement.used, placement.used + 1
            placement.added.append(j)
            if not fresh:
                done.append(f'added header "{column.name}" to {spec.name}')
        placement.positions[column.name] = j
    return placement


def widen(sheet_id: int, width: int, used: int) -> list[Request]:
    """More columns when the header now needs more than the grid has."""
    if used <= width:
        return []
    return [
        {"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS", "length": used - width}}
    ]


def header_cell(sheet_id: int, j: int, text: str, column: Column) -> Request:
    """A header: bold, coloured by who owns the column, with a note saying what it holds."""
    note = column.note or {Owner.JOB: JOB_NOTE, Owner.FILL: FILL_NOTE}.get(column.owner)
    value = {
        "userEnteredValue": {"stringValue": text},
        "userEnteredFormat": {
            "textFormat": {"bold": True},
            "backgroundColor": HEADER_COLOURS[column.owner],
        },
        "note": f"{column.meaning}.\n{note}" if note else f"{column.meaning}.",
    }
    return {
        "updateCells": {
            "range": {**_columns(sheet_id, j, 0), "endRowIndex": 1},
            "rows": [{"values": [value]}],
            "fields": "userEnteredValue,userEnteredFormat.textFormat.bold,"
            "userEnteredFormat.backgroundColor,note",
        }
    }


def choice_list(sheet_id: int, j: int, column: Column) -> list[Request]:
    """A drop-down of the column's choices (a warning, not a refusal, for other text)."""
    if not column.choices:
        return []
    condition = {
        "type": "ONE_OF_LIST",
        "values": [{"userEnteredValue": c} for c in column.choices],
    }
    rule = {"condition": condition, "strict": False, "showCustomUi": True}
    return [{"setDataValidation": {"range": _columns(sheet_id, j), "rule": rule}}]


def column_width(sheet_id: int, j: int, column: Column) -> Request:
    return {
        "updateDimensionProperties": {
            "range": {
                "sheetId": sheet_id,
                "dimension": "COLUMNS",
                "startIndex": j,
                "endIndex": j + 1,
            },
            "properties": {"pixelSize": column.width * 7},
            "fields": "pixelSize",
        }
    }


def frozen_header(sheet_id: int, grid: Mapping[str, Any], columns: int = 0) -> list[Request]:
    """The header row frozen, and the first `columns` columns (the Requests tab's ID)."""
    wanted = {}
    if not grid.get("frozenRowCount"):
        wanted["frozenRowCount"] = 1
    if columns and not grid.get("frozenColumnCount"):
        wanted["frozenColumnCount"] = columns
    if not wanted:
        return []
    fields = ",".join(f"gridProperties.{k}" for k in wanted)
    return [
        {
            "updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "gridProperties": wanted},
                "fields": fields,
            }
        }
    ]


def filters(sheet_id: int, sheet: Mapping[str, Any]) -> list[Request]:
    if "basicFilter" in sheet:
        return []
    return [{"setBasicFilter": {"filter": {"range": {"sheetId": sheet_id}}}}]


def colours(
    sheet_id: int, j: int, sheet: Mapping[str, Any], fills: Mapping[str, Mapping[str, float]]
) -> list[Request]:
    """Column j coloured by its value, unless an earlier init coloured it."""
    first = next(iter(fills))
    for rule in sheet.get("conditionalFormats", []):
        condition = rule.get("booleanRule", {}).get("condition", {})
        on = [r.get("startColumnIndex") for r in rule.get("ranges", [])]
        if j in on and any(v.get("userEnteredValue") == first for v in condition.get("values", [])):
            return []
    out = []
    for value, colour in fills.items():
        condition = {"type": "TEXT_EQ", "values": [{"userEnteredValue": str(value)}]}
        rule = {
            "ranges": [_columns(sheet_id, j)],
            "booleanRule": {"condition": condition, "format": {"backgroundColor": colour}},
        }
        out.append({"addConditionalFormatRule": {"index": 0, "rule": rule}})
    return out


def wrapped(sheet_id: int, j: int) -> Request:
    """Column j wraps, its first lines at the top of the cell (the Requests tab's Context)."""
    fmt = {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}
    return {
        "repeatCell": {
            "range": _columns(sheet_id, j),
            "cell": {"userEnteredFormat": fmt},
            "fields": "userEnteredFormat.wrapStrategy,userEnteredFormat.verticalAlignment",
        }
    }


def owner_list(sheet_id: int, j: int) -> Request:
    """The Owner drop-down: the names on the Team tab (a warning, not a refusal)."""
    condition = {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": TEAM_NAMES}]}
    rule = {"condition": condition, "strict": False, "showCustomUi": True}
    return {"setDataValidation": {"range": _columns(sheet_id, j), "rule": rule}}


def protections(
    sheet_id: int, sheet: Mapping[str, Any], spec: TabSpec, placement: Placement
) -> list[Request]:
    """A warning-only protection on each column the job fills every cycle: a CSR is asked
    before typing over it, never stopped."""
    if any(p.get("description") == PROTECTED for p in sheet.get("protectedRanges", [])):
        return []
    out = []
    for column in spec.laid_out:
        if column.owner is Owner.JOB and not column.note:
            j = placement.positions[column.name]
            protected = {
                "range": _columns(sheet_id, j),
                "description": PROTECTED,
                "warningOnly": True,
            }
            out.append({"addProtectedRange": {"protectedRange": protected}})
    return out


def seeds(
    spec: TabSpec, sheet_id: int, values: list[list[Any]], placement: Placement, done: list[str]
) -> list[Request]:
    """The rows a new tab starts with (Settings defaults, the ladder), as seed_rows says."""
    header = [str(h) for h in values[0]] if values else []
    rows_to_add, said = seed_rows(spec, Tab(spec.name, header, [list(r) for r in values[1:]]))
    if not rows_to_add:
        return []
    rows = []
    for seed in rows_to_add:
        row: list[CellValue] = [None] * placement.used
        for name, value in seed.items():
            row[placement.positions[name]] = value
        rows.append({"values": [cell_data(v) for v in row]})
    done.append(said)
    return [{"appendCells": {"sheetId": sheet_id, "rows": rows, "fields": VALUE_FIELDS}}]


def layout(
    spec: TabSpec, sheet: dict[str, Any], values: list[list[Any]], fresh: bool, done: list[str]
) -> list[Request]:
    """Every request that brings one tab to the contract, leaving what people wrote alone;
    what it changed on an existing tab is said in `done`."""
    sheet_id = sheet["properties"]["sheetId"]
    grid = sheet["properties"].get("gridProperties", {})
    header = [str(h) for h in values[0]] if values else []
    placement = place_columns(spec, values, fresh, done)
    out = widen(sheet_id, grid.get("columnCount", 26), placement.used)
    columns = spec.laid_out
    for column in columns:
        j = placement.positions[column.name]
        text = header[j] if j < len(header) and header[j].strip() else column.name
        out.append(header_cell(sheet_id, j, text, column))
        out += choice_list(sheet_id, j, column)
    for j in placement.added:
        column = next(c for c in columns if placement.positions[c.name] == j)
        out.append(column_width(sheet_id, j, column))
    requests_tab = spec.name == "Requests"
    out += frozen_header(sheet_id, grid, columns=1 if requests_tab else 0)
    if (added_filters := filters(sheet_id, sheet)) and not fresh:
        done.append(f"added filters to {spec.name}")
    out += added_filters
    if requests_tab:
        at = placement.positions
        out += colours(sheet_id, at["SLA"], sheet, {str(k): v for k, v in SLA_COLOURS.items()})
        out += colours(sheet_id, at["Status"], sheet, STATUS_COLOURS)
        out += [owner_list(sheet_id, at["Owner"]), wrapped(sheet_id, at["Context"])]
        out += protections(sheet_id, sheet, spec, placement)
    return out + seeds(spec, sheet_id, values, placement, done)


def new_tab(spec: TabSpec, sheet_id: int) -> tuple[Request, dict[str, Any]]:
    """The request that adds a missing contract tab, and the tab as `layout` then sees it."""
    columns = max(26, len(spec.columns) + len(spec.optional))
    grid = {"columnCount": columns, "frozenRowCount": 1}
    properties = {"sheetId": sheet_id, "title": spec.name}
    request = {
        "addSheet": {"properties": {**properties, "gridProperties": {"rowCount": 1000, **grid}}}
    }
    return request, {"properties": {**properties, "gridProperties": grid}}


# -- job-owned tabs -----------------------------------------------------------------------------


def new_grid_tab(name: str, sheet_id: int) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = [
        {"addSheet": {"properties": {"sheetId": sheet_id, "title": name}}}
    ]
    if name == DASHBOARD:
        body += [add_chart(sheet_id, spec) for spec in DASHBOARD_CHARTS]
    if name == BASELINE:
        body.append(add_chart(sheet_id, BASELINE_CHART))
    return body


def add_chart(sheet_id: int, spec: DashboardChart) -> dict[str, Any]:
    """A native column chart over one of the Dashboard's fixed ranges: rewriting the
    values refreshes it, so it is added once, with the tab."""

    def rows(column: int, first: int) -> dict[str, Any]:
        return {
            "sourceRange": {
                "sources": [
                    {
                        "sheetId": sheet_id,
                        "startRowIndex": first - 1,
                        "endRowIndex": spec.last,
                        "startColumnIndex": column,
                        "endColumnIndex": column + 1,
                    }
                ]
            }
        }

    row, col = a1_to_rowcol(spec.anchor)
    return {
        "addChart": {
            "chart": {
                "spec": {
                    "title": spec.title,
                    "basicChart": {
                        "chartType": "COLUMN",
                        "legendPosition": "BOTTOM_LEGEND" if spec.series > 1 else "NO_LEGEND",
                        "headerCount": 1,
                        "domains": [{"domain": rows(0, spec.header)}],
                        "series": [
                            {"series": rows(1 + k, spec.header), "targetAxis": "LEFT_AXIS"}
                            for k in range(spec.series)
                        ],
                    },
                },
                "position": {
                    "overlayPosition": {
                        "anchorCell": {
                            "sheetId": sheet_id,
                            "rowIndex": row - 1,
                            "columnIndex": col - 1,
                        },
                        "widthPixels": 480,
                        "heightPixels": 260,
                    }
                },
            }
        }
    }

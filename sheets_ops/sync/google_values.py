"""A Google Sheet's values as the sheet model sees them, and back: tabs from a values
answer or the grid data of a look, and the batchUpdate requests of a planned write (cell
changes, appended rows, deleted rows, whole job-owned grids). Pure: JSON in, JSON out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sheets_ops.model import CellValue, TabSpec, is_blank
from sheets_ops.sheet import Batch, Tab, normalize_header, spec_for
from sheets_ops.sync.google_layout import VALUE_FIELDS, cell_data, from_serial, new_grid_tab
from sheets_ops.sync.tracker import TabPlan, runs

GRID_SHEET_ID = 905_000_000  # the sheetId a job-owned tab gets when the job adds it


def quote_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def effective(cell: Mapping[str, Any]) -> CellValue:
    value = cell.get("effectiveValue") or {}
    for kind in ("stringValue", "numberValue", "boolValue"):
        if kind in value:
            found: CellValue = value[kind]
            return found
    return None


@dataclass
class View:
    """What a write needs to know of the sheet right now."""

    ids: dict[str, int] = field(default_factory=dict)  # normalized title -> sheetId
    tabs: dict[str, Tab] = field(default_factory=dict)  # normalized title -> partial tab

    def tab(self, name: str) -> Tab | None:
        return self.tabs.get(normalize_header(name))


def tab_from_values(title: str, values: list[list[Any]], spec: TabSpec | None = None) -> Tab:
    """A tab from what Google answers; dates by the columns `spec` (or the contract) names."""
    header = [str(h).strip() for h in values[0]] if values else []
    while header and not header[-1]:
        header.pop()
    spec = spec or spec_for(title)
    kinds: dict[int, str] = {}
    if spec is not None:
        index = {normalize_header(h): j for j, h in enumerate(header)}
        for column in spec.columns + spec.optional:
            j = index.get(normalize_header(column.name))
            if j is not None and column.kind in ("datetime", "date"):
                kinds[j] = column.kind
    rows: list[list[CellValue]] = []
    for raw in values[1:]:
        row: list[CellValue] = []
        for j, v in enumerate(raw):
            if v == "":
                row.append(None)
            elif j in kinds and isinstance(v, int | float) and not isinstance(v, bool):
                row.append(from_serial(float(v), kinds[j]))
            else:
                row.append(v)
        rows.append(row)
    return Tab(title, header, rows)


def header_from(grids: list[dict[str, Any]]) -> list[str]:
    """Row 1, from the widest first row among the fetched ranges (the `1:1` range; a column
    range such as `A:A` starts at the same cell but holds only its own header)."""
    header: list[str] = []
    for grid in grids:
        if grid.get("startRow", 0) == 0 and grid.get("startColumn", 0) == 0:
            rows = grid.get("rowData", [])
            cells = rows[0].get("values", []) if rows else []
            if len(cells) > len(header):
                header = [
                    "" if is_blank(effective(c)) else str(effective(c)).strip() for c in cells
                ]
    while header and not header[-1]:
        header.pop()
    return header


def partial_tab(title: str, header: list[str], grids: list[dict[str, Any]]) -> Tab:
    """A tab holding only the fetched ranges; every other cell reads as blank."""
    rows: list[list[CellValue]] = []
    for grid in grids:
        top, left = grid.get("startRow", 0), grid.get("startColumn", 0)
        for i, row in enumerate(grid.get("rowData", [])):
            sheet_row = top + i
            if sheet_row == 0:
                continue  # the header
            while len(rows) < sheet_row:
                rows.append([None] * len(header))
            for k, cell in enumerate(row.get("values", [])):
                if left + k < len(header):
                    rows[sheet_row - 1][left + k] = effective(cell)
    return Tab(title, header, rows)


def write_requests(plans: dict[str, TabPlan], view: View) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    for name, plan in plans.items():
        sheet_id = view.ids[normalize_header(name)]
        by_column: dict[int, list[tuple[int, CellValue]]] = {}
        for index, j, value in plan.updates:
            by_column.setdefault(j, []).append((index, value))
        for j, cells in sorted(by_column.items()):
            cells.sort()
            run: list[tuple[int, CellValue]] = []
            for index, value in [*cells, (-2, None)]:  # the sentinel closes the last run
                if run and index != run[-1][0] + 1:
                    start = run[0][0] + 1  # sheet row index: Tab.rows[0] is row 2
                    body.append(
                        {
                            "updateCells": {
                                "range": {
                                    "sheetId": sheet_id,
                                    "startRowIndex": start,
                                    "endRowIndex": start + len(run),
                                    "startColumnIndex": j,
                                    "endColumnIndex": j + 1,
                                },
                                "rows": [{"values": [cell_data(v)]} for _i, v in run],
                                "fields": VALUE_FIELDS,
                            }
                        }
                    )
                    run = []
                run.append((index, value))
        if plan.appends:
            body.append(
                {
                    "appendCells": {
                        "sheetId": sheet_id,
                        "rows": [{"values": [cell_data(v) for v in row]} for row in plan.appends],
                        "fields": VALUE_FIELDS,
                    }
                }
            )
    return body


def delete_requests(plans: dict[str, TabPlan], view: View) -> list[dict[str, Any]]:
    """Rows moved to another tab, deleted last and from the bottom up, so that every other
    request of the batch still points at the row it was planned for."""
    body: list[dict[str, Any]] = []
    for name, plan in plans.items():
        sheet_id = view.ids[normalize_header(name)]
        for start, count in runs(plan.deletes):
            body.append(
                {
                    "deleteDimension": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "ROWS",
                            "startIndex": start + 1,
                            "endIndex": start + 1 + count,
                        }
                    }
                }
            )
    return body


def grid_requests(batch: Batch, view: View) -> list[dict[str, Any]]:
    """Job-owned tabs rewritten whole from A1; a missing one is added, with its charts.
    B2 holds the moment it was written (the Dashboard's "Updated")."""
    body: list[dict[str, Any]] = []
    for name, grid in batch.grids.items():
        sheet_id = view.ids.get(normalize_header(name))
        there = view.tab(name)
        if there is not None and there.rows and there.rows[0][1:2] == grid[1][1:2]:
            continue  # the same stamp in B2: a retried write that went through already
        if sheet_id is None:
            sheet_id = GRID_SHEET_ID + len(body)
            body += new_grid_tab(name, sheet_id)
        body.append(
            {
                "updateCells": {
                    "range": {
                        "sheetId": sheet_id,
                        "startRowIndex": 0,
                        "endRowIndex": len(grid),
                        "startColumnIndex": 0,
                        "endColumnIndex": max(len(r) for r in grid),
                    },
                    "rows": [{"values": [cell_data(v) for v in row]} for row in grid],
                    "fields": VALUE_FIELDS,
                }
            }
        )
    return body

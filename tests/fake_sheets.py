"""An HTTP-level fake of the Google Sheets v4 endpoints sheets-ops uses, for `responses`.

The real gspread client and google-auth talk to it over `requests`, exactly as they would to
Google: a service-account token from the OAuth endpoint, then `values:batchGet`,
`spreadsheets.get` (with grid data), `spreadsheets:batchUpdate`, `values:batchUpdate`,
`values:append` and `values.update`. It keeps cell state, records every call with the bytes
sent and received, injects faults, lets a test act as a person between two calls, and flags
every write that would let text become a formula (USER_ENTERED text, `formulaValue`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import responses
from gspread.utils import a1_range_to_grid_range

API = "https://sheets.googleapis.com/v4/spreadsheets"
TOKEN_URL = "https://oauth2.googleapis.com/token"
KEY = "1FakeSheetsOpsTrackerKey_0123456789abcdefXYZ"
MAX_PAYLOAD = 10_485_760  # bytes: Google refuses any request body larger than this
MAX_CELL = 50_000  # characters in one cell


class Formula(str):
    """A cell holding a live formula (only USER_ENTERED or formulaValue writes make one)."""


@dataclass
class Sheet:
    sheet_id: int
    title: str
    rows: int = 1000
    columns: int = 26
    frozen: int = 0
    grid: list[list[Any]] = field(default_factory=list)  # values; None is blank
    formats: dict[tuple[int, int], Any] = field(default_factory=dict)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    validations: list[dict[str, Any]] = field(default_factory=list)
    conditional: list[dict[str, Any]] = field(default_factory=list)
    basic_filter: dict[str, Any] | None = None
    widths: dict[int, int] = field(default_factory=dict)
    charts: list[dict[str, Any]] = field(default_factory=list)
    frozen_columns: int = 0
    protected: list[dict[str, Any]] = field(default_factory=list)
    repeated: list[dict[str, Any]] = field(default_factory=list)  # repeatCell formats

    def get(self, r: int, c: int) -> Any:
        if r < len(self.grid) and c < len(self.grid[r]):
            return self.grid[r][c]
        return None

    def put(self, r: int, c: int, value: Any) -> None:
        while len(self.grid) <= r:
            self.grid.append([])
        row = self.grid[r]
        if len(row) <= c:
            row.extend([None] * (c + 1 - len(row)))
        row[c] = value

    def last_row_with_data(self) -> int:
        """Number of rows up to the last one holding a value."""
        n = len(self.grid)
        while n and all(v in (None, "") for v in self.grid[n - 1]):
            n -= 1
        return n


@dataclass(frozen=True)
class Fault:
    kind: str | None
    status: int  # 0: no answer (a time-out)
    applied: bool
    headers: dict[str, str]


@dataclass
class Call:
    kind: str  # batchGet, get, batchUpdate, values.batchUpdate, values.append, values.update
    method: str
    url: str
    params: dict[str, list[str]]
    body: Any
    sent: int  # bytes of URL and body
    received: int  # bytes of the answer
    status: int


class ApiError(Exception):
    def __init__(self, status: int, message: str, reason: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


class FakeSheets:
    def __init__(self, key: str = KEY, title: str = "Agency tracker") -> None:
        self.key = key
        self.title = title
        self.sheets: list[Sheet] = [Sheet(0, "Sheet1")]
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.hooks: list[tuple[str, Callable[[], None]]] = []
        self.formula_writes: list[str] = []  # every write that would make text a formula
        self.slept: list[float] = []  # the client's backoff waits, when a test records them

    # what a test does -----------------------------------------------------------------

    def install(self, mock: responses.RequestsMock) -> None:
        mock.add_callback(responses.POST, TOKEN_URL, callback=self._token)
        pattern = re.compile(re.escape(API) + r"/.*")
        for method in (responses.GET, responses.POST, responses.PUT):
            mock.add_callback(method, pattern, callback=self._serve)

    def fail(
        self,
        status: int,
        times: int = 1,
        kind: str | None = None,
        *,
        applied: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` calls (of `kind`, or any) answer `status`; with `applied`, the
        call does its work first (the answer was lost, not the request)."""
        self.faults += [Fault(kind, status, applied, headers or {})] * times

    def time_out(self, times: int = 1, kind: str | None = None, *, applied: bool = False) -> None:
        """The next `times` calls (of `kind`, or any) get no answer in time; with `applied`,
        the call does its work first (the answer was lost on the way back)."""
        self.faults += [Fault(kind, 0, applied, {})] * times

    def after(self, kind: str, action: Callable[[], None]) -> None:
        """Run `action` (a person at the sheet) right after the next call of `kind`."""
        self.hooks.append((kind, action))

    def sheet(self, title: str) -> Sheet:
        for s in self.sheets:
            if s.title == title:
                return s
        raise KeyError(title)

    def values(self, title: str) -> list[list[Any]]:
        """The tab's values as a person sees them, trailing blanks trimmed."""
        sheet = self.sheet(title)
        out = [list(r) for r in sheet.grid[: sheet.last_row_with_data()]]
        for row in out:
            while row and row[-1] in (None, ""):
                row.pop()
        return out

    def set_values(self, title: str, rows: list[list[Any]]) -> None:
        """A person rewrites the tab (sorting, typing, moving columns)."""
        sheet = self.sheet(title)
        sheet.grid = [list(r) for r in rows]
        sheet.rows = max(sheet.rows, len(rows))
        sheet.columns = max([sheet.columns, *(len(r) for r in rows)])

    def calls_of(self, *kinds: str) -> list[Call]:
        return [c for c in self.calls if c.kind in kinds]

    def clear_calls(self) -> None:
        self.calls.clear()

    def largest_request(self) -> int:
        """Bytes of the largest request body sent so far."""
        return max((c.sent for c in self.calls), default=0)

    # the token endpoint -----------------------------------------------------------------

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = {"access_token": "fake-token", "expires_in": 3600, "token_type": "Bearer"}
        return 200, {}, json.dumps(body)

    # the Sheets API ---------------------------------------------------------------------

    def _serve(self, request: Any) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url)
        path = unquote(url.path)[len("/v4/spreadsheets/") :]
        params = parse_qs(url.query, keep_blank_values=True)
        raw = request.body or b""
        raw = raw.encode() if isinstance(raw, str) else raw
        body = json.loads(raw) if raw else None
        kind = self._kind(request.method, path)
        status, answer, headers = 200, {}, {}
        if len(raw) > MAX_PAYLOAD:  # what Google answers, whatever the request
            self.calls.append(
                Call(kind, request.method, request.url, params, None, len(raw), 0, 400)
            )
            message = f"Request payload size exceeds the limit: {MAX_PAYLOAD} bytes."
            return 400, {}, json.dumps(_error(400, message, "INVALID_ARGUMENT"))
        fault = next((f for f in self.faults if f.kind in (None, kind)), None)
        if fault is not None:
            self.faults.remove(fault)
        if fault is None or fault.applied:
            try:
                if not path.startswith(self.key):
                    raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
                answer = self._handle(kind, params, body, path)
            except ApiError as e:
                status, answer = e.status, _error(e.status, e.message, e.reason)

        def record(received: int, answered: int) -> None:
            sent = len(request.url) + len(raw)
            self.calls.append(
                Call(kind, request.method, request.url, params, body, sent, received, answered)
            )

        if fault is not None:
            if fault.status == 0:
                record(0, 0)
                raise requests.exceptions.ReadTimeout("the fake Sheets API did not answer")
            status, headers = fault.status, fault.headers
            answer = _error(fault.status, "injected fault", _reason(fault.status))
        text = json.dumps(answer)
        record(len(text), status)
        if status == 200:
            for i, (hook_kind, action) in enumerate(self.hooks):
                if hook_kind == kind:
                    del self.hooks[i]
                    action()
                    break
        return status, headers, text

    @staticmethod
    def _kind(method: str, path: str) -> str:
        if path.endswith("/values:batchGet"):
            return "batchGet"
        if path.endswith("/values:batchUpdate"):
            return "values.batchUpdate"
        if path.endswith(":append"):
            return "values.append"
        if path.endswith(":batchUpdate"):
            return "batchUpdate"
        if "/values/" in path:
            return "values.update" if method == "PUT" else "values.get"
        return "get"

    def _handle(self, kind: str, params: dict[str, list[str]], body: Any, path: str) -> Any:
        if kind == "batchGet":
            return self._batch_get(params)
        if kind == "get":
            return self._get(params)
        if kind == "batchUpdate":
            return self._batch_update(body)
        if kind == "values.batchUpdate":
            option = body.get("valueInputOption", "")
            for data in body.get("data", []):
                self._write_values(data["range"], data["values"], option)
            return {"spreadsheetId": self.key}
        if kind == "values.update":
            a1 = path.split("/values/", 1)[1]
            self._write_values(a1, body["values"], params.get("valueInputOption", [""])[0])
            return {"spreadsheetId": self.key, "updatedRange": a1}
        if kind == "values.get":
            a1 = path.split("/values/", 1)[1]
            [entry] = self._batch_get({**params, "ranges": [a1]})["valueRanges"]
            return entry
        if kind == "values.append":
            a1 = path.split("/values/", 1)[1].removesuffix(":append")
            sheet, _grid = self._range(a1)
            start = sheet.last_row_with_data()
            sheet.rows = max(sheet.rows, start + len(body["values"]))
            self._write_values(
                f"{_quote(sheet.title)}!A{start + 1}",
                body["values"],
                params.get("valueInputOption", [""])[0],
            )
            return {"spreadsheetId": self.key}
        raise ApiError(400, f"the fake does not serve {kind}")

    def _range(self, a1: str) -> tuple[Sheet, dict[str, int]]:
        title, cells = a1.rsplit("!", 1) if "!" in a1 else (a1, "")
        if title.startswith("'") and title.endswith("'"):
            title = title[1:-1].replace("''", "'")
        for sheet in self.sheets:
            if sheet.title == title:
                grid = a1_range_to_grid_range(cells) if cells else {}
                return sheet, grid
        raise ApiError(400, f"Unable to parse range: {a1}")

    def _batch_get(self, params: dict[str, list[str]]) -> Any:
        serial = params.get("dateTimeRenderOption", [""])[0] == "SERIAL_NUMBER"
        unformatted = params.get("valueRenderOption", [""])[0] == "UNFORMATTED_VALUE"
        ranges = []
        for a1 in params.get("ranges", []):
            sheet, grid = self._range(a1)
            top, left = grid.get("startRowIndex", 0), grid.get("startColumnIndex", 0)
            bottom = grid.get("endRowIndex", sheet.last_row_with_data())
            right = grid.get("endColumnIndex", sheet.columns)
            values = []
            for r in range(top, min(bottom, sheet.last_row_with_data())):
                row = [_render(sheet.get(r, c), unformatted, serial) for c in range(left, right)]
                while row and row[-1] == "":
                    row.pop()
                values.append(row)
            while values and not values[-1]:
                values.pop()
            entry: dict[str, Any] = {"range": a1, "majorDimension": "ROWS"}
            if values:
                entry["values"] = values
            ranges.append(entry)
        return {"spreadsheetId": self.key, "valueRanges": ranges}

    def _get(self, params: dict[str, list[str]]) -> Any:
        with_data = params.get("includeGridData", ["false"])[0] == "true"
        wanted: dict[int, list[dict[str, int]]] = {}
        for a1 in params.get("ranges", []):
            sheet, grid = self._range(a1)
            wanted.setdefault(sheet.sheet_id, []).append(grid)
        out = []
        for index, sheet in enumerate(self.sheets):
            if params.get("ranges") and sheet.sheet_id not in wanted:
                continue
            entry: dict[str, Any] = {
                "properties": {
                    "sheetId": sheet.sheet_id,
                    "title": sheet.title,
                    "index": index,
                    "sheetType": "GRID",
                    "gridProperties": {
                        "rowCount": sheet.rows,
                        "columnCount": sheet.columns,
                        **({"frozenRowCount": sheet.frozen} if sheet.frozen else {}),
                        **(
                            {"frozenColumnCount": sheet.frozen_columns}
                            if sheet.frozen_columns
                            else {}
                        ),
                    },
                }
            }
            if sheet.protected:
                entry["protectedRanges"] = copy.deepcopy(sheet.protected)
            if sheet.conditional:
                entry["conditionalFormats"] = copy.deepcopy(sheet.conditional)
            if sheet.basic_filter is not None:
                entry["basicFilter"] = copy.deepcopy(sheet.basic_filter)
            if with_data:
                entry["data"] = [self._grid_data(sheet, g) for g in wanted.get(sheet.sheet_id, [])]
            out.append(entry)
        return {"spreadsheetId": self.key, "properties": {"title": self.title}, "sheets": out}

    def _grid_data(self, sheet: Sheet, grid: dict[str, int]) -> dict[str, Any]:
        top, left = grid.get("startRowIndex", 0), grid.get("startColumnIndex", 0)
        bottom = min(grid.get("endRowIndex", sheet.rows), sheet.last_row_with_data())
        right = grid.get("endColumnIndex", sheet.columns)
        rows = []
        for r in range(top, bottom):
            cells = [_cell(sheet.get(r, c)) for c in range(left, right)]
            while cells and not cells[-1]:
                cells.pop()
            rows.append({"values": cells} if cells else {})
        data: dict[str, Any] = {"rowData": rows}
        if top:
            data["startRow"] = top
        if left:
            data["startColumn"] = left
        return data

    def _write_values(self, a1: str, values: list[list[Any]], option: str) -> None:
        sheet, grid = self._range(a1)
        top, left = grid.get("startRowIndex", 0), grid.get("startColumnIndex", 0)
        if top + len(values) > sheet.rows:
            raise ApiError(
                400,
                f"Range ({a1}) exceeds grid limits. Max rows: {sheet.rows}, "
                f"max columns: {sheet.columns}",
            )
        for i, row in enumerate(values):
            for k, value in enumerate(row):
                if option == "USER_ENTERED" and isinstance(value, str):
                    self.formula_writes.append(f"USER_ENTERED {a1}: {value}")
                    if value.startswith("="):
                        value = Formula(value)
                sheet.put(top + i, left + k, None if value == "" else value)

    # spreadsheets:batchUpdate -----------------------------------------------------------

    def _by_id(self, sheet_id: int) -> Sheet:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def _batch_update(self, body: Any) -> Any:
        saved = [_copy(sheet) for sheet in self.sheets]  # all apply together, or none does
        try:
            for request in body.get("requests", []):
                [(name, args)] = request.items()
                getattr(self, f"_do_{name}")(args)
        except ApiError:
            self.sheets = saved
            raise
        return {"spreadsheetId": self.key, "replies": [{} for _ in body.get("requests", [])]}

    def _do_addSheet(self, args: Any) -> None:
        props = args["properties"]
        if any(s.title == props["title"] for s in self.sheets):
            raise ApiError(400, f'A sheet with the name "{props["title"]}" already exists.')
        sheet_id = props.get("sheetId", max(s.sheet_id for s in self.sheets) + 1)
        grid = props.get("gridProperties", {})
        self.sheets.append(
            Sheet(
                sheet_id,
                props["title"],
                grid.get("rowCount", 1000),
                grid.get("columnCount", 26),
                grid.get("frozenRowCount", 0),
            )
        )

    def _set_cell(self, sheet: Sheet, r: int, c: int, data: dict[str, Any], fields: str) -> None:
        if r >= sheet.rows or c >= sheet.columns:
            raise ApiError(
                400,
                f"Range exceeds grid limits. Max rows: {sheet.rows}, max columns: {sheet.columns}",
            )
        masks = fields.split(",")
        if "userEnteredValue" in masks or "*" in masks:
            value = data.get("userEnteredValue", {})
            if "formulaValue" in value:
                self.formula_writes.append(f"formulaValue: {value['formulaValue']}")
                sheet.put(r, c, Formula(value["formulaValue"]))
            elif "stringValue" in value:
                if len(value["stringValue"]) > MAX_CELL:
                    raise ApiError(
                        400,
                        "Your input contains more than the maximum of 50000 characters in a "
                        "single cell.",
                    )
                sheet.put(r, c, value["stringValue"] or None)
            elif "numberValue" in value:
                sheet.put(r, c, value["numberValue"])
            elif "boolValue" in value:
                sheet.put(r, c, value["boolValue"])
            else:
                sheet.put(r, c, None)
        if any(m.startswith("userEnteredFormat") for m in masks):
            sheet.formats[(r, c)] = data.get("userEnteredFormat")
        if "note" in masks:
            sheet.notes[(r, c)] = data.get("note", "")

    def _do_updateCells(self, args: Any) -> None:
        where = args.get("range") or args["start"]
        sheet = self._by_id(where["sheetId"])
        top = where.get("startRowIndex", where.get("rowIndex", 0))
        left = where.get("startColumnIndex", where.get("columnIndex", 0))
        for i, row in enumerate(args.get("rows", [])):
            for k, data in enumerate(row.get("values", [])):
                self._set_cell(sheet, top + i, left + k, data, args["fields"])

    def _do_appendCells(self, args: Any) -> None:
        sheet = self._by_id(args["sheetId"])
        start = sheet.last_row_with_data()
        rows = args.get("rows", [])
        sheet.rows = max(sheet.rows, start + len(rows))  # appendCells grows the grid
        for i, row in enumerate(rows):
            for k, data in enumerate(row.get("values", [])):
                self._set_cell(sheet, start + i, k, data, args["fields"])

    def _do_addChart(self, args: Any) -> None:
        chart = args["chart"]
        anchor = chart["position"]["overlayPosition"]["anchorCell"]
        sheet = self._by_id(anchor["sheetId"])
        basic = chart["spec"]["basicChart"]
        ranges = [basic["domains"][0]["domain"]] + [s["series"] for s in basic["series"]]
        for source in (r["sourceRange"]["sources"][0] for r in ranges):
            self._by_id(source["sheetId"])  # a chart over a sheet that is not there: 400
            if source["endRowIndex"] - source["startRowIndex"] < 1:
                raise ApiError(400, "Invalid chart range")
        sheet.charts.append(copy.deepcopy(chart))

    def _do_deleteDimension(self, args: Any) -> None:
        where = args["range"]
        sheet = self._by_id(where["sheetId"])
        assert where["dimension"] == "ROWS", "the fake deletes rows only"
        start, end = where["startIndex"], where["endIndex"]
        if not 0 <= start < end <= sheet.rows:
            raise ApiError(400, "Invalid deleteDimension range")
        del sheet.grid[start:end]
        sheet.rows -= end - start

    def _do_appendDimension(self, args: Any) -> None:
        sheet = self._by_id(args["sheetId"])
        if args["dimension"] == "COLUMNS":
            sheet.columns += args["length"]
        else:
            sheet.rows += args["length"]

    def _do_updateSheetProperties(self, args: Any) -> None:
        props = args["properties"]
        sheet = self._by_id(props["sheetId"])
        frozen = props.get("gridProperties", {}).get("frozenRowCount")
        if frozen is not None:
            sheet.frozen = frozen
        columns = props.get("gridProperties", {}).get("frozenColumnCount")
        if columns is not None:
            sheet.frozen_columns = columns

    def _do_repeatCell(self, args: Any) -> None:
        where = args.get("range")
        if not where or "sheetId" not in where or not args.get("fields"):
            raise ApiError(400, "Invalid requests[0].repeatCell: range and fields are required")
        sheet = self._by_id(where["sheetId"])
        if where.get("endColumnIndex", 0) > sheet.columns:
            raise ApiError(400, "Invalid requests[0].repeatCell: range out of the grid")
        sheet.repeated.append(copy.deepcopy(args))

    def _do_addProtectedRange(self, args: Any) -> None:
        protected = args["protectedRange"]
        where = protected.get("range")
        if not where or "sheetId" not in where:
            raise ApiError(400, "Invalid requests[0].addProtectedRange: range is required")
        sheet = self._by_id(where["sheetId"])
        if where.get("endColumnIndex", 0) > sheet.columns:
            raise ApiError(400, "Invalid requests[0].addProtectedRange: range out of the grid")
        sheet.protected.append(copy.deepcopy(protected))

    def _do_setDataValidation(self, args: Any) -> None:
        sheet = self._by_id(args["range"]["sheetId"])
        sheet.validations = [v for v in sheet.validations if v["range"] != args["range"]]
        sheet.validations.append(copy.deepcopy(args))

    def _do_addConditionalFormatRule(self, args: Any) -> None:
        sheet = self._by_id(args["rule"]["ranges"][0]["sheetId"])
        sheet.conditional.insert(args.get("index", len(sheet.conditional)), args["rule"])

    def _do_setBasicFilter(self, args: Any) -> None:
        self._by_id(args["filter"]["range"]["sheetId"]).basic_filter = args["filter"]

    def _do_updateDimensionProperties(self, args: Any) -> None:
        where = args["range"]
        sheet = self._by_id(where["sheetId"])
        for j in range(where["startIndex"], where["endIndex"]):
            sheet.widths[j] = args["properties"]["pixelSize"]


def _copy(sheet: Sheet) -> Sheet:
    """A copy to roll back to. Requests replace values, formats and notes whole and never
    change them in place, so a copy of each container is enough."""
    return Sheet(
        sheet.sheet_id,
        sheet.title,
        sheet.rows,
        sheet.columns,
        sheet.frozen,
        [list(row) for row in sheet.grid],
        dict(sheet.formats),
        dict(sheet.notes),
        copy.deepcopy(sheet.validations),
        copy.deepcopy(sheet.conditional),
        copy.deepcopy(sheet.basic_filter),
        dict(sheet.widths),
        copy.deepcopy(sheet.charts),
        sheet.frozen_columns,
        copy.deepcopy(sheet.protected),
        copy.deepcopy(sheet.repeated),
    )


def _quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _reason(status: int) -> str:
    return {
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }.get(status, "UNKNOWN")


def _error(status: int, message: str, reason: str) -> dict[str, Any]:
    if status == 403:
        message = "The caller does not have permission"
    return {"error": {"code": status, "message": message, "status": reason}}


def _render(value: Any, unformatted: bool, serial: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return value if unformatted else str(value).upper()
    if isinstance(value, int | float):
        if unformatted:
            return int(value) if float(value).is_integer() else value
        return f"{value:g}"
    return str(value)


def _cell(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"effectiveValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"effectiveValue": {"numberValue": value}}
    return {"effectiveValue": {"stringValue": str(value)}}

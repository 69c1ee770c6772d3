"""The production tracker: a Google Sheet, through gspread's HTTP client and google-auth.

A cycle costs a fixed handful of Sheets API calls, whatever the number of rows:

- `read()`: one `values:batchGet` of every contract tab;
- `write(batch)`: one `spreadsheets.get` of the header rows and the few columns the write
  depends on (the ID column, Source, any cell a person may have filled), which also gives the
  sheet ids; then one `spreadsheets:batchUpdate` holding every cell change (`updateCells`) and
  every new row (`appendCells`), which Google applies atomically. Nothing to write: no call.

Untrusted text is sent as `stringValue`, which Sheets stores as text exactly like a RAW write:
a subject such as `=HYPERLINK(...)` never becomes a formula. gspread's `update_cell` (which
writes USER_ENTERED) is never used.

Faults: `RetryingHTTPClient` retries with jittered exponential backoff, bounded (gspread 6.2.1's
own BackOffHTTPClient never gives up on 429). Reads are retried on 408, 429, 5xx and time-outs.
A write is resent by the HTTP client only when Google certainly did not apply it (408, 429);
after an ambiguous failure (5xx, time-out) the tracker looks again and re-plans, so a row that
did land is found by its Source and not appended twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import requests
from google.oauth2.service_account import Credentials
from gspread import Client
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.utils import rowcol_to_a1

from sheets_ops.config import ConfigError
from sheets_ops.model import (
    DASHBOARD,
    TABS,
    TabSpec,
)
from sheets_ops.sheet import (
    NOT_WRITTEN,
    Batch,
    SetupError,
    Snapshot,
    Tab,
    TrackerError,
    normalize_header,
    spec_for,
)
from sheets_ops.sync.chunks import (
    CHUNK_BYTES,
    Chunk,
    chunk_batch,
    fold,
    part_of,
    request_keys,
    whole,
)
from sheets_ops.sync.google_http import RETRY_STATUS, RetryingHTTPClient
from sheets_ops.sync.google_layout import (
    layout,
    new_grid_tab,
    new_tab,
)
from sheets_ops.sync.google_values import (
    View,
    delete_requests,
    grid_requests,
    header_from,
    partial_tab,
    quote_title,
    tab_from_values,
    write_requests,
)
from sheets_ops.sync.tracker import WriteReport, merge_report, plan_batch

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
MAX_CHUNKS = 8  # write requests a cycle may send: 16 calls with their looks, at most 14 MB
MAX_REQUEST_BYTES = 2_000_000  # never more in one request: what Google advises
APPEND_ONLY = frozenset({"log"})  # tabs whose dedupe column is looked at only at the end
TAIL = 200  # rows of an append-only tab looked at above where it ended at read time


def open_google(
    key: str,
    credentials: Path | None,
    say: Callable[[str], None] | None = None,
    *,
    timeout: float = 60.0,
) -> GoogleTracker:
    """The Google tracker for a sheet key, authenticated as the service account."""
    if credentials is None:
        raise ConfigError(
            "GOOGLE_APPLICATION_CREDENTIALS: set it to the service account's JSON key file "
            "to use a Google Sheet as TRACKER"
        )
    try:
        creds = Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            str(credentials), scopes=SCOPES
        )
    except (ValueError, KeyError, OSError, json.JSONDecodeError) as e:
        raise ConfigError(
            f"GOOGLE_APPLICATION_CREDENTIALS: {credentials} is not a service account key "
            f"({type(e).__name__}); download a JSON key for the service account"
        ) from None
    client = Client(auth=creds, http_client=RetryingHTTPClient)
    client.http_client.set_timeout((10.0, timeout))
    return GoogleTracker(client.http_client, key, creds.service_account_email, say=say)


class _TooBig(Exception):
    """A chunk's request came out larger than MAX_REQUEST_BYTES."""


READ = {  # values as they are: numbers unformatted, dates as serial numbers
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}


class GoogleTracker:
    chunk_bytes = CHUNK_BYTES  # per write request, an upper bound
    max_chunks = MAX_CHUNKS  # write requests a cycle

    def __init__(
        self,
        http: HTTPClient,
        key: str,
        account: str = "",
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.http = http
        self.key = key
        self.account = account
        self.say = say or (lambda _line: None)
        self._headers: dict[str, tuple[str, list[str]]] = {}  # normalized -> (title, header)
        self._rows: dict[str, int] = {}  # normalized title -> rows at the last read
        self._gids: dict[str, int] = {}  # normalized title -> sheetId, once a write has looked

    @property
    def name(self) -> str:
        return f"Google Sheet {self.key}"

    @property
    def identity(self) -> str:
        return f"google:{self.key}"

    # reading -----------------------------------------------------------------------------

    def read(self) -> Snapshot:
        """Every contract tab in one values:batchGet; the form tabs named in Settings (Form
        Tabs) in one more, only when there are any."""
        try:
            tabs = self._read(
                [*(spec.name for spec in TABS), DASHBOARD],
                keep=lambda t: spec_for(t) is not None or normalize_header(t) == "dashboard",
            )
            settings = Snapshot(tabs).tab("Settings")
            forms: list[str] = []
            if settings is not None:
                for _row, rec in settings.records():
                    if normalize_header(rec.get("key")) == "form tabs":
                        forms = [t.strip() for t in str(rec.get("value") or "").split(";")]
            forms = [t for t in forms if t and Snapshot(tabs).tab(t) is None]
            if forms:
                wanted = {normalize_header(t) for t in forms}
                tabs.update(self._read(forms, keep=lambda t: normalize_header(t) in wanted))
        except (APIError, requests.RequestException) as e:
            raise self._error(e) from e
        return Snapshot(tabs)

    def _read(self, titles: list[str], keep: Callable[[str], bool]) -> dict[str, Tab]:
        params = READ
        try:
            answer = self.http.values_batch_get(
                self.key, [quote_title(t) for t in titles], params=dict(params)
            )
        except APIError as e:
            if e.response.status_code != 400:
                raise
            # A tab is missing or named differently: ask which tabs there are.
            titles = [t for t in self._titles() if keep(t)]
            if not titles:
                return {}
            answer = self.http.values_batch_get(
                self.key, [quote_title(t) for t in titles], params=dict(params)
            )
        tabs = {}
        for title, value_range in zip(titles, answer.get("valueRanges", []), strict=False):
            tabs[title] = tab_from_values(title, value_range.get("values", []))
            self._headers[normalize_header(title)] = (title, list(tabs[title].header))
            self._rows[normalize_header(title)] = len(tabs[title].rows)
        return tabs

    def _titles(self) -> list[str]:
        meta = self.http.fetch_sheet_metadata(
            self.key, params={"fields": "sheets.properties(sheetId,title)"}
        )
        return [s["properties"]["title"] for s in meta.get("sheets", [])]

    # writing -----------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteReport:
        """Every change, in requests Google accepts: a batch too big for one request goes in
        ordered chunks (`chunk_bytes` each, an upper bound), each on a fresh look at the
        sheet, at most `max_chunks` a cycle; what is left is planned again, and written, by
        the next cycles."""
        if not batch:
            return WriteReport()
        chunks = chunk_batch(batch, self.chunk_bytes)
        report = self._write_chunks(batch, chunks[: self.max_chunks], self.chunk_bytes)
        if len(chunks) > self.max_chunks:
            total = request_keys(batch, chunks)
            done = total - request_keys(batch, chunks[self.max_chunks :])  # nothing left
            report.catching_up = (len(done), len(total))
            self.say(
                f"catching up: {len(done):,} of {len(total):,} rows this cycle; "
                "the next cycles write the rest"
            )
        return report

    def _write_chunks(self, batch: Batch, chunks: Sequence[Chunk], limit: int) -> WriteReport:
        if len(chunks) == 1 and chunks[0] == whole(batch):
            try:
                return self._write_once(batch)
            except _TooBig:
                if limit < 20_000:
                    raise TrackerError(
                        f"a single change to {self.key} is larger than Google accepts"
                    ) from None
                return self._write_chunks(batch, chunk_batch(batch, limit // 2), limit // 2)
        report = WriteReport(row_outcomes=[NOT_WRITTEN] * len(batch.rows))
        for chunk in chunks:
            part = part_of(batch, chunk, dict(enumerate(report.row_outcomes)), report.cells_done)
            fold(report, part, self._write_chunks(part.batch, [whole(part.batch)], limit))
        return report

    def _write_once(self, batch: Batch) -> WriteReport:
        """One look, one plan, one batchUpdate; after an ambiguous failure the look and the
        plan are made again, so what did land is recognised by its key and not doubled."""
        if not batch:
            return WriteReport(row_outcomes=[])
        for attempt in range(1, 4):
            try:
                view = self._look(batch)
                plans = plan_batch(batch, view.tab)
                body = write_requests(plans, view) + grid_requests(batch, view)
                body += delete_requests(plans, view)
                if len(json.dumps({"requests": body})) > MAX_REQUEST_BYTES:
                    raise _TooBig  # the estimate was short: halve the chunk
                if body:
                    self.http.batch_update(self.key, {"requests": body})
                return merge_report(WriteReport(), batch, plans)
            except APIError as e:
                if e.response.status_code in RETRY_STATUS and attempt < 3:
                    self.say(f"Google Sheets answered {e.code} to a write; looking again")
                    continue
                raise self._error(e) from e
            except requests.RequestException as e:
                if attempt < 3:
                    self.say(
                        f"no answer from Google Sheets to a write ({type(e).__name__}); "
                        "looking again"
                    )
                    continue
                raise self._error(e) from e
        raise AssertionError("unreachable")

    def _look(self, batch: Batch) -> View:
        """One spreadsheets.get: sheet ids, header rows, and the columns the plan checks."""
        grid_tabs = {normalize_header(g) for g in batch.grids}
        for _ in range(2):
            ranges, wanted = self._ranges(batch)
            meta = self.http.fetch_sheet_metadata(
                self.key,
                params={
                    "ranges": ranges,
                    "includeGridData": "true",
                    "fields": "sheets(properties(sheetId,title),"
                    "data(startRow,startColumn,rowData(values(effectiveValue))))",
                },
            )
            view = View()
            changed = False
            for sheet in meta.get("sheets", []):
                title = sheet["properties"]["title"]
                view.ids[normalize_header(title)] = sheet["properties"]["sheetId"]
                self._gids[normalize_header(title)] = sheet["properties"]["sheetId"]
                grids = sheet.get("data", [])
                header = header_from(grids)
                if normalize_header(title) in grid_tabs:  # no columns to find: no header
                    view.tabs[normalize_header(title)] = partial_tab(title, header, grids)
                    continue
                known = self._headers.get(normalize_header(title))
                self._headers[normalize_header(title)] = (title, header)
                if known is None or known[1] != header:
                    changed = True
                view.tabs[normalize_header(title)] = partial_tab(title, header, grids)
            if not changed or all(not cols for cols in wanted.values()):
                return view
            # Someone moved columns since the read: fetch again by the new letters.
        return view

    def _ranges(self, batch: Batch) -> tuple[list[str], dict[str, set[str]]]:
        wanted: dict[str, set[str]] = {name: set() for name in batch.tabs()}
        # a grid tab the read saw: one cell, for its sheetId; one it did not see is added
        known = [g for g in batch.grids if normalize_header(g) in self._headers]
        typed_rows: dict[str, set[int]] = {name: set() for name in batch.tabs()}
        for c in batch.cells:
            spec = spec_for(c.tab)
            if spec and spec.key:
                wanted[c.tab].add(spec.key)
            if c.key == "":  # a row typed without an ID: the plan checks the whole row
                typed_rows[c.tab].add(c.row)
            elif c.guarded:  # the row may have moved: the whole column, to find it by ID
                wanted[c.tab].add(c.column)
        tails: dict[str, set[str]] = {name: set() for name in batch.tabs()}
        for r in batch.rows:
            if normalize_header(r.tab) in APPEND_ONLY:  # its new lines can only be at the end
                tails[r.tab].update(x for x in (r.dedupe, r.unique) if x)
            else:
                wanted[r.tab].update(x for x in (r.dedupe, r.unique) if x)
        for d in batch.drops:  # found by their column's value, checked against `still`
            wanted[d.tab].update([d.column, *(d.still[:1] if d.still else ())])
        whole = set()
        for m in batch.moves:  # moved rows are copied as they are now: every column
            whole.add(m.tab)
            for name in (m.tab, m.to):
                spec = spec_for(name)
                if spec and spec.key:
                    wanted[name].add(spec.key)
        ranges = []
        for name, columns in wanted.items():
            title, header = self._headers.get(normalize_header(name), (name, []))
            q = quote_title(title)
            ranges.append(f"{q}!1:1" if name not in whole else f"{q}!A:ZZ")
            ranges += [f"{q}!{r}:{r}" for r in sorted(typed_rows[name])]
            index = {normalize_header(h): j for j, h in enumerate(header)}
            for column in sorted(columns):
                j = index.get(normalize_header(column))
                if j is not None:
                    letter = rowcol_to_a1(1, j + 1).rstrip("0123456789")
                    ranges.append(f"{q}!{letter}:{letter}")
            start = max(2, self._rows.get(normalize_header(name), 0) + 2 - TAIL)
            for column in sorted(tails[name] - columns):
                j = index.get(normalize_header(column))
                if j is not None:
                    letter = rowcol_to_a1(1, j + 1).rstrip("0123456789")
                    ranges.append(f"{q}!{letter}{start}:{letter}")
        ranges += [f"{quote_title(self._headers[normalize_header(g)][0])}!A1:B2" for g in known]
        return ranges, wanted

    def link(self, row: int) -> str:
        base = f"https://docs.google.com/spreadsheets/d/{self.key}/edit"
        gid = self._gids.get("requests")
        return f"{base}#gid={gid}&range=A{row}" if gid is not None else base

    # init --------------------------------------------------------------------------------

    def init(self, tabs: Sequence[TabSpec], *, dashboard: bool = True) -> list[str]:
        """`dashboard`: add the Dashboard tab when it is missing (not in an archive)."""
        try:
            return self._init(tabs, dashboard)
        except (APIError, requests.RequestException) as e:
            raise self._error(e) from e

    def titles(self) -> list[str]:
        """The names of the spreadsheet's tabs, in one call."""
        try:
            return self._titles()
        except (APIError, requests.RequestException) as e:
            raise self._error(e) from e

    def read_tabs(self, specs: Sequence[TabSpec]) -> dict[str, Tab]:
        """Tabs outside the contract (an archive's), by their own specs, in one call."""
        if not specs:
            return {}
        try:
            answer = self.http.values_batch_get(
                self.key, [quote_title(s.name) for s in specs], params=dict(READ)
            )
        except (APIError, requests.RequestException) as e:
            raise self._error(e) from e
        ranges = answer.get("valueRanges", [])
        return {
            spec.name: tab_from_values(spec.name, vr.get("values", []), spec)
            for spec, vr in zip(specs, ranges, strict=False)
        }

    def _init(self, tabs: Sequence[TabSpec], dashboard: bool = True) -> list[str]:
        meta = self.http.fetch_sheet_metadata(
            self.key,
            params={"fields": "sheets(properties,conditionalFormats,basicFilter,protectedRanges)"},
        )
        sheets = {normalize_header(s["properties"]["title"]): s for s in meta.get("sheets", [])}
        existing = [s["properties"]["title"] for s in sheets.values()]
        top: dict[str, list[list[Any]]] = {}
        contract = [t for t in existing if spec_for(t) is not None]
        if contract:
            answer = self.http.values_batch_get(
                self.key, [f"{quote_title(t)}!1:200" for t in contract]
            )
            for title, vr in zip(contract, answer.get("valueRanges", []), strict=False):
                top[normalize_header(title)] = vr.get("values", [])
        next_id = max((s["properties"]["sheetId"] for s in sheets.values()), default=0) + 1
        requests_: list[dict[str, Any]] = []
        done: list[str] = []
        for spec in tabs:
            sheet = sheets.get(normalize_header(spec.name))
            if sheet is None:
                add, sheet = new_tab(spec, next_id)
                next_id += 1
                requests_.append(add)
                done.append(f"created tab {spec.name}")
                values: list[list[Any]] = []
                fresh = True
            else:
                values = top.get(normalize_header(sheet["properties"]["title"]), [])
                fresh = False
            requests_ += layout(spec, sheet, values, fresh, done)
        if dashboard and normalize_header(DASHBOARD) not in sheets:
            requests_ += new_grid_tab(DASHBOARD, next_id)
            done.append(f"created tab {DASHBOARD}")
        self.http.batch_update(self.key, {"requests": requests_})
        return done

    # errors ------------------------------------------------------------------------------

    def _error(self, e: Exception) -> TrackerError:
        if isinstance(e, APIError):
            status = e.response.status_code
            message = str(e.error.get("message", "")).split("\n")[0]
            if status == 403:
                who = self.account or "the service account"
                return SetupError(
                    f"{who} may not open the Google Sheet {self.key} (403): open the sheet, "
                    f"Share, and add {who} as Editor"
                )
            if status == 404:
                return SetupError(f"no Google Sheet has the key {self.key} (404): check TRACKER")
            if status == 429:
                return TrackerError(
                    f"Google Sheets quota exceeded for {self.key} even after backing off; "
                    "nothing was acknowledged and the next cycle will try again"
                )
            return TrackerError(
                f"Google Sheets answered {status} for {self.key}: {message}; "
                "nothing was acknowledged and the next cycle will try again"
            )
        return TrackerError(
            f"no answer from Google Sheets for {self.key} ({type(e).__name__}); "
            "nothing was acknowledged and the next cycle will try again"
        )

"""Sheets API calls and bytes per cycle on a Google tracker, by tracker size.

    .venv/bin/python -m benchmarks.google_calls [ROWS ...]      (default: 1000 10000 50000)

Each size starts from the same sheet (ROWS closed requests) and the same work: 50 new emails
and one row a CSR typed in. Three ways to do it, measured in the same run against the fake
Sheets API of the tests (real gspread and google-auth clients, HTTP-level fake):

- sheets-ops: one `run_cycle`;
- cell by cell: a gspread loop writing each new cell with `update_cell`;
- whole sheet: read every value, add the rows, write the whole tab back with `update`.

It prints API calls, bytes sent and received, and the minutes of the Sheets write quota
(60 writes a minute per user) the writes alone would take. Nothing is asserted.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gspread import service_account

from sheets_ops.cycle import run_cycle
from sheets_ops.model import REQUESTS, TABS
from sheets_ops.sync.google import open_google
from sheets_ops.sync.mailbox import FolderMailbox
from tests.conftest import make_eml
from tests.fake_sheets import FakeSheets

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
NEW = 50
WRITES = ("batchUpdate", "values.batchUpdate", "values.append", "values.update")


def key_file(folder: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = folder / "service-account.json"
    info = {
        "type": "service_account",
        "project_id": "bench",
        "private_key_id": "1",
        "private_key": pem,
        "client_email": "bench@bench.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info))
    return path


def sheet_with(rows: int, mock: responses.RequestsMock, key: Path) -> FakeSheets:
    fake = FakeSheets()
    fake.install(mock)
    open_google(fake.key, key).init(TABS)
    header = list(REQUESTS.headers)
    grid: list[list[Any]] = [header]
    for n in range(1, rows + 1):
        row: list[Any] = [None] * len(header)
        row[0], row[1], row[2] = f"REQ-{n:06d}", 46000 + n / 100, "Email"
        row[3], row[7], row[11] = f"old{n}@example.com", f"older request {n}", "Done"
        row[-1] = f"<old-{n}@example.com>"
        grid.append(row)
    typed: list[Any] = [None] * len(header)
    typed[7] = "Called: add a driver"
    grid.append(typed)
    fake.set_values("Requests", grid)
    fake.sheet("Requests").rows = rows + 2000  # room for the naive ways, which cannot grow it
    fake.sheet("Log").rows = 2000
    fake.clear_calls()
    return fake


def new_rows() -> tuple[list[list[Any]], list[list[Any]]]:
    """The cells the work adds, as the naive ways would write them."""
    requests_rows, log = [], []
    for n in range(NEW):
        requests_rows.append(
            [
                f"REQ-{n + 1:06d}",
                "2026-11-27 08:30",
                "Email",
                f"client{n}@example.com",
                None,
                None,
                None,
                f"Request {n}",
                None,
                None,
                None,
                "New",
            ]
            + [None] * 12
            + [f"<msg-{n}@example.com>"]
        )
        log.append(
            [
                "2026-11-30 09:00",
                f"REQ-{n + 1:06d}",
                "Captured",
                None,
                f"Email from client{n}@example.com",
                "sheets-ops",
            ]
        )
    return requests_rows, log


def ours(fake: FakeSheets, key: Path, folder: Path) -> None:
    inbox = folder / "inbox"
    inbox.mkdir(exist_ok=True)
    for n in range(NEW):
        (inbox / f"{n:03d}.eml").write_bytes(make_eml(n))
    run_cycle(open_google(fake.key, key), FolderMailbox(inbox), NOW)


def cell_by_cell(fake: FakeSheets, key: Path) -> None:
    spreadsheet = service_account(filename=str(key)).open_by_key(fake.key)
    requests_rows, log = new_rows()
    for title, rows in (("Requests", requests_rows), ("Log", log)):
        ws = spreadsheet.worksheet(title)
        start = len(fake.values(title)) + 1
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if value is not None:
                    ws.update_cell(start + i, j + 1, value)


def whole_sheet(fake: FakeSheets, key: Path) -> None:
    spreadsheet = service_account(filename=str(key)).open_by_key(fake.key)
    requests_rows, log = new_rows()
    for title, rows in (("Requests", requests_rows), ("Log", log)):
        ws = spreadsheet.worksheet(title)
        values = ws.get_all_values()
        ws.update([[("" if v is None else v) for v in r] for r in values + rows], "A1")


def measure(rows: int, key: Path) -> None:
    for label in ("sheets-ops", "cell by cell", "whole sheet"):
        with (
            responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
            tempfile.TemporaryDirectory() as folder,
        ):
            fake = sheet_with(rows, mock, key)
            if label == "sheets-ops":
                ours(fake, key, Path(folder))
            elif label == "cell by cell":
                cell_by_cell(fake, key)
            else:
                whole_sheet(fake, key)
            calls = [c for c in fake.calls]
            writes = sum(c.kind in WRITES for c in calls)
            sent = sum(c.sent for c in calls) / 1024
            received = sum(c.received for c in calls) / 1024
            print(
                f"{rows:>7} rows  {label:<13} {len(calls):>5} calls ({writes:>4} writes)  "
                f"sent {sent:>9,.1f} KiB  received {received:>9,.1f} KiB  "
                f"write quota {writes / 60:6.2f} min"
            )


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1_000, 10_000, 50_000]
    print(f"one cycle's work on a Google tracker: {NEW} new emails and 1 typed-in row")
    with tempfile.TemporaryDirectory() as folder:
        key = key_file(Path(folder))
        for rows in sizes:
            measure(rows, key)


if __name__ == "__main__":
    main(sys.argv[1:])

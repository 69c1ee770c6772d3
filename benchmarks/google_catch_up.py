"""How a first cycle over a big imported sheet lands on Google Sheets: requests and cycles.

    .venv/bin/python -m benchmarks.google_catch_up [ROWS ...]      (default: 20000 50000)

Each size is a sheet an agency pasted from its old spreadsheet: ROWS open requests with only
ID, Received, Status, Summary and Source filled, so the first cycles route every one, start
its clock and escalate what is late. A new email arrives before each cycle. Against the fake
Sheets API of the tests (real gspread and google-auth clients, HTTP-level fake, which refuses
a request over 10,485,760 bytes as Google does), it prints the cycles it takes until nothing
is left to catch up, the largest request sent, the bytes sent, and whether each new email
landed in its own cycle. Beside it, the floor: the same changes as one request, the way a
single batchUpdate would send them (and Google would refuse them). Nothing is asserted.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import responses

from benchmarks.google_calls import key_file
from sheets_ops.cycle import run_cycle
from sheets_ops.model import REQUESTS, TABS
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.google import open_google
from sheets_ops.sync.mailbox import FolderMailbox
from tests.conftest import make_eml
from tests.fake_sheets import MAX_PAYLOAD, FakeSheets

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def imported(fake: FakeSheets, count: int) -> None:
    header = list(REQUESTS.headers)
    rows = []
    for n in range(1, count + 1):
        row: list[Any] = [None] * len(header)
        row[0] = f"REQ-{n:06d}"
        row[header.index("Received")] = 46300 + n / (count / 40)  # spread over October
        row[header.index("Status")] = "In Progress" if n % 3 else "Waiting on Carrier"
        row[header.index("Summary")] = f"request {n} from the old sheet"
        row[header.index("Source")] = f"old:{n}"
        rows.append(row)
    fake.set_values("Requests", [header, *rows])
    fake.sheet("Requests").rows = count + 1000


def catch_up(count: int, folder: Path, key: Path) -> str:
    fake = FakeSheets()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        tracker = open_google(fake.key, key)
        tracker.http.sleep = lambda _s: None  # type: ignore[attr-defined]
        tracker.init(TABS)
        team = [("Tom Becker", "CSR"), ("Ana Cruz", "CSR"), ("Dana Ruiz", "Owner")]
        tracker.write(
            Batch(rows=[NewRow("Team", {"Name": n, "Role": r, "On Duty": "Yes"}) for n, r in team])
        )
        imported(fake, count)
        inbox = folder / f"inbox-{count}"
        inbox.mkdir()
        box = FolderMailbox(inbox)
        fake.clear_calls()
        cycles, landed, started = 0, 0, time.perf_counter()
        floor = 0
        while cycles < 40:
            cycles += 1
            (inbox / f"{cycles}.eml").write_bytes(make_eml(cycles))
            result = run_cycle(tracker, box, NOW + timedelta(minutes=2 * cycles))
            if cycles == 1:  # the same changes as one request: what the floor would send
                floor = len(json.dumps(result.plan.batch.cells, default=str)) + len(
                    json.dumps([r.cells for r in result.plan.batch.rows], default=str)
                )
            landed += result.new == 1
            if result.report.catching_up is None:
                break
        writes = fake.calls_of("batchUpdate")
        largest = max(c.sent for c in writes)
        sent = sum(c.sent for c in writes)
        refused = sum(c.status == 400 for c in fake.calls)
        return (
            f"{count:>7,} rows  {cycles:>3} cycles  largest request {largest / 1e6:5.2f} MB  "
            f"{len(writes):>4} writes, {sent / 1e6:6.1f} MB in all  refused {refused}  "
            f"new mail landed {landed}/{cycles}  {time.perf_counter() - started:6.0f} s here  "
            f"| one request: at least {floor / 1e6:5.1f} MB "
            f"({'refused' if floor > MAX_PAYLOAD else 'accepted'} by Google)"
        )


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [20_000, 50_000]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        key = key_file(folder)
        for count in sizes:
            print(catch_up(count, folder, key), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

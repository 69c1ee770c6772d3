"""How long a cycle takes on the embedded tracker, by tracker size.

    .venv/bin/python -m benchmarks.cycle_xlsx [ROWS ...]

For each size it builds a workbook holding ROWS requests, drops 50 new messages into a folder
inbox and times one `run_cycle` (read, parse, write, acknowledge), then a second cycle with
nothing new. It prints seconds and the workbook's size; nothing is asserted.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sheets_ops.cycle import run_cycle
from sheets_ops.model import TABS
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.xlsx import XlsxTracker

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
NEW_MESSAGES = 50


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"client{n}@example.com"
    msg["Subject"] = f"Certificate request {n}"
    msg["Date"] = format_datetime(NOW - timedelta(minutes=n))
    msg["Message-ID"] = f"<bench-{n}@example.com>"
    msg.set_content("Please send a certificate of insurance for our GL policy.")
    return bytes(msg)


def existing_rows(count: int) -> Batch:
    received = datetime(2026, 1, 1, 9, 0)
    return Batch(
        rows=[
            NewRow(
                "Requests",
                {
                    "ID": f"REQ-{n:06d}",
                    "Received": received + timedelta(hours=n % 5000),
                    "Channel": "Email",
                    "From": f"old{n}@example.com",
                    "Summary": f"An older request number {n}",
                    "Status": "Done",
                    "Source": f"<old-{n}@example.com>",
                },
            )
            for n in range(1, count + 1)
        ]
    )


def measure(rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tracker = XlsxTracker(Path(folder) / "tracker.xlsx")
        tracker.init(TABS)
        tracker.write(existing_rows(rows))
        inbox = Path(folder) / "inbox"
        inbox.mkdir()
        for n in range(NEW_MESSAGES):
            (inbox / f"{n:04d}.eml").write_bytes(message(n))
        mailbox = FolderMailbox(inbox)
        started = time.perf_counter()
        result = run_cycle(tracker, mailbox, NOW)
        with_mail = time.perf_counter() - started
        started = time.perf_counter()
        run_cycle(tracker, mailbox, NOW)
        idle = time.perf_counter() - started
        size = tracker.path.stat().st_size / 1024
        print(
            f"{rows:>7} rows  {result.new:>3} new: {with_mail:6.2f} s   "
            f"nothing new: {idle:6.2f} s   workbook {size:,.0f} KiB"
        )


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1_000, 10_000]
    print(f"one cycle on the xlsx tracker, {NEW_MESSAGES} new messages")
    for rows in sizes:
        measure(rows)


if __name__ == "__main__":
    main(sys.argv[1:])

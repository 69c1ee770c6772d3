"""How long the owner's figures take over a big tracker: metrics for a week, and the whole
weekly report (this week, the week before, four charts), over N requests (default 100,000).

    .venv/bin/python -m benchmarks.metrics_speed [N]

The tracker is built in memory: N requests of every type, channel and status received over
the past two years, half of them in Requests and half in Archive, closed ones with a Closed
time, each with a Due; one first response in the Log per request. Prints the best of three
runs; the goal is under 5 s for the report on a 2-core machine. Nothing is asserted.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta

from sheets_ops.model import ARCHIVE, TABS
from sheets_ops.reports.metrics import compute
from sheets_ops.reports.weekly import build, week_before
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Batch, NewRow, Snapshot
from sheets_ops.sync.memory import MemoryTracker

NOW = datetime(2026, 11, 30, 10, 0)
TYPES = ["COI", "Endorsement", "Billing", "Claim", "Renewal", "Cancellation", "Other"]
CHANNELS = ["Email", "Voicemail", "Text", "Form", "Manual"]
STATUSES = ["New", "In Progress", "Waiting on Carrier", "Done", "Done", "Done", "Cancelled"]
OWNERS = ["Tom Becker", "Alicia Gomez", "Sam Ortiz", "Priya Shah"]


def tracker(n: int) -> Snapshot:
    rng = random.Random(11)
    t = MemoryTracker()
    t.init((*TABS, ARCHIVE))
    batch = Batch()
    for i in range(n):
        received = NOW - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        status = rng.choice(STATUSES)
        closed = received + timedelta(hours=rng.randrange(1, 200))
        cells = {
            "ID": f"REQ-{i + 1:06d}",
            "Received": received,
            "Channel": rng.choice(CHANNELS),
            "Type": rng.choice(TYPES),
            "Owner": rng.choice(OWNERS),
            "Status": status,
            "Due": received + timedelta(hours=rng.choice([8, 24, 40])),
            "Closed": closed if status in ("Done", "Cancelled") and closed < NOW else None,
            "Source": f"<m{i}@x>",
        }
        batch.rows.append(NewRow("Archive" if i % 2 else "Requests", cells))
        batch.rows.append(
            NewRow(
                "Log",
                {
                    "When": received + timedelta(hours=rng.randrange(1, 30)),
                    "Request": cells["ID"],
                    "What": "First response",
                },
            )
        )
    t.write(batch)
    return t.read()


def best(fn: object, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    snapshot = tracker(n)
    calendar = read_settings(snapshot).calendar
    start, end = week_before(NOW)
    one = best(lambda: compute(snapshot, calendar, start, end))
    report = best(lambda: build(snapshot, calendar, start, end))
    print(f"metrics for one week over {n:,} requests: {one:.2f} s")
    print(f"weekly report (two weeks, four charts) over {n:,} requests: {report:.2f} s")


if __name__ == "__main__":
    main()

"""How long the rules take over a big tracker: routing, change detection, the SLA clock and
the escalation ladder over N requests (default 50,000), as one cycle's review does.

    .venv/bin/python -m benchmarks.rules_speed [N]

The tracker is built in memory: a team, accounts, routing, a month of holidays, and N requests
of every type and status received over the past year, a third of them open and a few with
blank owners; people's cells from "last cycle" differ on 1% of rows. Prints the best of three
runs; the goal is under 1.5 s on a 2-core machine. Nothing is asserted.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, datetime, timedelta

from sheets_ops.model import REQUESTS, TABS
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.review import HUMAN_COLUMNS, review
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Batch, NewRow, cell_text, check_tab
from sheets_ops.sync.memory import MemoryTracker

NOW = datetime(2026, 11, 30, 10, 0)
TYPES = ["COI", "Endorsement", "Billing", "Claim", "Renewal", "Cancellation", "Other"]
STATUSES = [
    "New",
    "In Progress",
    "Needs Info",
    "Waiting on Client",
    "Waiting on Carrier",
    "Done",
    "Done",
    "Done",
    "Cancelled",
]
PEOPLE = [
    ("Dana Ruiz", "Owner"),
    ("Marcus Lee", "Ops Manager"),
    ("Priya Shah", "Account Manager"),
    ("Tom Becker", "CSR"),
    ("Alicia Gomez", "CSR"),
    ("Sam Ortiz", "CSR"),
]


def build(n: int) -> MemoryTracker:
    rng = random.Random(7)
    tracker = MemoryTracker()
    tracker.init(TABS)
    batch = Batch()
    for name, role in PEOPLE:
        batch.rows.append(
            NewRow(
                "Team",
                {
                    "Name": name,
                    "Email": f"{name.split()[0].lower()}@a.example",
                    "Role": role,
                    "On Duty": "Yes" if role == "CSR" else "No",
                },
            )
        )
    for i in range(200):
        batch.rows.append(
            NewRow(
                "Accounts",
                {
                    "Client": f"Client {i}",
                    "Contact Emails": f"@c{i}.example",
                    "Policies": f"GL-{100000 + i}",
                    "Account Owner": "Priya Shah",
                },
            )
        )
    for kind in TYPES:
        batch.rows.append(
            NewRow(
                "Routing",
                {
                    "Type": kind,
                    "Route To": "Account Owner",
                    "Complex Route To": "Account Manager",
                    "SLA": 16,
                    "Escalate After Idle": 24,
                },
            )
        )
    for day in range(20):
        batch.rows.append(NewRow("Holidays", {"Date": date(2026, 1, 1) + timedelta(days=day * 17)}))
    for i in range(1, n + 1):
        received = NOW - timedelta(minutes=rng.randrange(60, 365 * 24 * 60))
        status = rng.choice(STATUSES)
        cells = {
            "ID": f"REQ-{i:06d}",
            "Received": received,
            "Channel": "Email",
            "From": f"x{i}@c{i % 200}.example",
            "Client": f"Client {i % 200}",
            "Type": rng.choice(TYPES),
            "Summary": f"request {i}",
            "Status": status,
            "Owner": "" if i % 50 == 0 else rng.choice(PEOPLE)[0],
            "Last Touched": received + timedelta(hours=rng.randrange(0, 48)),
            "Source": f"<m{i}@x>",
        }
        if status in ("Done", "Cancelled"):
            cells.update({"Closed": received + timedelta(days=2), "SLA": "Closed"})
        batch.rows.append(NewRow("Requests", cells))
    tracker.write(batch)
    return tracker


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 50_000
    tracker = build(n)
    snapshot = tracker.read()
    requests = check_tab(snapshot, REQUESTS)
    settings = read_settings(snapshot)
    directory = directory_.from_snapshot(snapshot)
    seen = {}
    for i, (_row, rec) in enumerate(requests.records()):
        cells = {c: cell_text(rec.get(c.lower())) for c in HUMAN_COLUMNS}
        if i % 100 == 0:
            cells["Status"] = "New"  # someone changed it since
        seen[cell_text(rec.get("id"))] = cells
    best, result = float("inf"), None
    for _ in range(3):
        started = time.perf_counter()
        result = review(
            snapshot, requests, directory, settings.calendar, settings.values, NOW, seen
        )
        best = min(best, time.perf_counter() - started)
    assert result is not None
    print(
        f"rules over {n:,} requests: {best:.2f} s  ({len(result.batch.cells):,} cells, "
        f"{len(result.batch.rows):,} log rows, {len(result.escalations):,} escalations)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

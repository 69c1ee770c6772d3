"""What intake costs as the agency's history grows: 250 new messages on an empty tracker,
and on one that has taken ROWS requests (every one of the 25 columns filled, two Log lines
each), side by side: as sheets-ops keeps it (1,000 open in the tracker, the rest archived
outside it, known to intake through the archive's index), and with everything in Requests
(Archive After Days Off).

    .venv/bin/python -m benchmarks.intake_scaling [ROWS ...]     (default: 10000 50000)

It times `plan_intake` alone (parse, understand, thread, Context), in memory, the median of
three runs: the part of a cycle that grows with the messages. Nothing is asserted.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from benchmarks.cycle_scaling import NOW, log_rows, request_row
from sheets_ops.model import LOG, REQUESTS, TABS
from sheets_ops.rules.archive import Past
from sheets_ops.rules.intake import plan_intake
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Tab, check_tab
from sheets_ops.sync.mailbox import MailItem
from sheets_ops.sync.memory import MemoryTracker
from tests.conftest import make_eml

MESSAGES = 250


OPEN = 1_000


def tracker_with(rows: int, first: int = 1) -> MemoryTracker:
    """A tracker holding requests `first` to `rows`: one in fifty open, the rest closed."""
    tracker = MemoryTracker()
    tracker.init(TABS)
    requests, log = tracker.tabs[REQUESTS.name], tracker.tabs[LOG.name]
    for n in range(first, rows + 1):
        row = request_row(n, closed=n % 50 != 0 and n <= rows - OPEN)
        requests.rows.append([row.get(h) for h in requests.header])
        log.rows += log_rows(row)
    tracker.tabs[REQUESTS.name] = Tab(REQUESTS.name, requests.header, requests.rows)
    return tracker


def messages() -> list[MailItem]:
    sent = NOW.replace(tzinfo=UTC) - timedelta(hours=1)
    return [
        MailItem(
            f"m{n}",
            make_eml(
                n,
                subject=f"COI needed for job {n}",
                sender=f"client{n % 3000}@client{n % 700}.example",
                date=sent + timedelta(seconds=n),
                message_id=f"<intake-{n}@client.example>",
            ),
            None,
        )
        for n in range(MESSAGES)
    ]


def measure(rows: int, archived: int = 0) -> float:
    """Seconds to take the messages in; `archived` of the `rows` are outside the tracker."""
    snapshot = tracker_with(rows, first=archived + 1).read()
    sources = {str(request_row(n, closed=True)["Source"]) for n in range(1, archived + 1)}

    def index() -> tuple[int, set[str]]:  # what the archive's index in STATE_DIR answers
        return archived, sources

    requests = check_tab(snapshot, REQUESTS)
    settings = read_settings(snapshot)
    items = messages()
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        plan = plan_intake(snapshot, requests, items, settings, now, past=Past(index))
        times.append(time.perf_counter() - started)
    assert len(plan.created) == MESSAGES
    return statistics.median(times)


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10_000, 50_000]
    print(f"intake of {MESSAGES} new messages (plan_intake, median of 3)")
    base = measure(0)
    print(f"{'an empty tracker':>44}: {base:5.2f} s ({MESSAGES / base:,.0f} messages/s)")
    for rows in sizes:
        for archived, how in ((rows - OPEN, "history archived"), (0, "all in Requests")):
            seconds = measure(rows, archived)
            print(
                f"{rows:>7,} requests taken, {how:>16}: {seconds:5.2f} s "
                f"({MESSAGES / seconds:,.0f} messages/s, {seconds / base:.2f}x empty)",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])

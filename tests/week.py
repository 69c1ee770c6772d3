"""A week of requests whose figures were worked out by hand (tests/test_metrics.py).

The agency: Chicago, 08:00-17:00, Monday to Friday. The week: Mon 16 to Mon 23 November 2026.

| ID | received    | channel   | type        | owner  | status      | closed      | due         |
|----|-------------|-----------|-------------|--------|-------------|-------------|-------------|
| R1 | Mon 16 09:00| Email     | COI         | Tom    | Done        | Mon 16 15:00| Mon 16 17:00|
| R2 | Mon 16 10:00| Email     | Endorsement | Priya  | Done        | Wed 18 10:00| Tue 17 10:00|
| R3 | Tue 17 08:00| Voicemail | Claim       | Tom    | Cancelled   | Tue 17 12:00| Tue 17 12:00|
| R4 | Wed 18 09:00| Text      | COI         | Alicia | In Progress |             | Thu 19 09:00|
| R5 | Fri 20 16:00| Email     | Billing     | Tom    | New         |             | Mon 23 16:00
| R6 | Mon  2 09:00| Email     | Other       | Priya  | In Progress |             | Mon  2 17:00
| R7 | Tue 17 13:00| Email     | COI         | Alicia | Done, Archive | Thu 19 13:00| Wed 18 13:00|

Received in the week: R1-R5 and R7 = 6 (Email 4, Voicemail 1, Text 1; COI 3, Endorsement,
Claim, Billing 1 each). Closed in the week: R1, R2, R3, R7 = 4, of which R1 and R3 by their due
time: 50%. Resolution in business hours: R1 6, R2 7+9+2 = 18, R3 4, R7 4+9+5 = 18: median 12,
p90 18 (linear, between 18 and 18). Tom: 6 and 4, median 5. First responses logged in the week:
R1 2 h, R2 6 h, R4 8+2 = 10 h: median 6, p90 6 + 0.8 x 4 = 9.2. Open at the end: R4 (26
business hours, 2.9 days: 1 to 3; escalated on 11/19), R5 (1 hour: under 1 day),
R6 (134 hours: over 7 days); overdue 2 (R4, R6: Due before the end), escalated 1 (R4); one
each for Alicia, Tom and Priya. One client follow-up logged in the week (one more before it).

As of Wed 18 09:30, open work is what was received and not yet closed then, whatever Status
says now: R2 (closed at 10:00), R4, R6 and R7 = 4; past Due then: R2 and R6 = 2.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sheets_ops.rules.clock import Calendar
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.tracker import Tracker

D = datetime
WEEK = (D(2026, 11, 16), D(2026, 11, 23))
CAL = Calendar(ZoneInfo("America/Chicago"))
T = TypeVar("T", bound=Tracker)


def request(
    rid: str,
    received: datetime,
    channel: str,
    kind: str,
    owner: str,
    status: str,
    closed: datetime | None = None,
    due: datetime | None = None,
    sla: str = "",
    escalation: str = "",
) -> dict[str, Any]:
    return {
        "ID": rid,
        "Received": received,
        "Channel": channel,
        "Type": kind,
        "Owner": owner,
        "Status": status,
        "Closed": closed,
        "Due": due,
        "SLA": sla,
        "Escalation": escalation,
        "Source": f"<{rid}@x>",
    }


def fill_week(tracker: T) -> T:
    """The week above, written into any tracker (init with TABS first)."""
    rows = [
        request(
            "R1",
            D(2026, 11, 16, 9),
            "Email",
            "COI",
            "Tom",
            "Done",
            D(2026, 11, 16, 15),
            D(2026, 11, 16, 17),
            "Closed",
        ),
        request(
            "R2",
            D(2026, 11, 16, 10),
            "Email",
            "Endorsement",
            "Priya",
            "Done",
            D(2026, 11, 18, 10),
            D(2026, 11, 17, 10),
            "Closed",
        ),
        request(
            "R3",
            D(2026, 11, 17, 8),
            "Voicemail",
            "Claim",
            "Tom",
            "Cancelled",
            D(2026, 11, 17, 12),
            D(2026, 11, 17, 12),
            "Closed",
        ),
        request(
            "R4",
            D(2026, 11, 18, 9),
            "Text",
            "COI",
            "Alicia",
            "In Progress",
            due=D(2026, 11, 19, 9),
            sla="Overdue",
            escalation="L2 → Marcus",
        ),
        request(
            "R5",
            D(2026, 11, 20, 16),
            "Email",
            "Billing",
            "Tom",
            "New",
            due=D(2026, 11, 23, 16),
            sla="On track",
        ),
        request(
            "R6",
            D(2026, 11, 2, 9),
            "Email",
            "Other",
            "Priya",
            "In Progress",
            due=D(2026, 11, 2, 17),
            sla="Overdue",
        ),
    ]
    batch = Batch(
        rows=[NewRow("Requests", {k: v for k, v in r.items() if v is not None}) for r in rows]
    )
    archived = request(
        "R7",
        D(2026, 11, 17, 13),
        "Email",
        "COI",
        "Alicia",
        "Done",
        D(2026, 11, 19, 13),
        D(2026, 11, 18, 13),
        "Closed",
    )
    batch.rows.append(NewRow("Archive", archived))
    for rid, when, what in [
        ("R1", D(2026, 11, 16, 11), "First response"),
        ("R2", D(2026, 11, 16, 16), "First response"),
        ("R4", D(2026, 11, 19, 10), "First response"),
        ("R6", D(2026, 11, 3, 9), "First response"),
        ("R4", D(2026, 11, 19, 12), "Client follow-up"),
        ("R6", D(2026, 11, 10, 12), "Client follow-up"),
        ("R4", D(2026, 11, 19, 9, 30), "Escalated L2"),
        ("R5", D(2026, 11, 24, 9), "Escalated L1"),  # after the week ended: not counted in it
    ]:
        batch.rows.append(NewRow("Log", {"When": when, "Request": rid, "What": what}))
    tracker.write(batch)
    return tracker

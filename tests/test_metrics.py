"""The owner's figures, on a week whose answers were worked out by hand.

The agency: Chicago, 08:00-17:00, Monday to Friday. The week: Mon 16 to Mon 23 November 2026.

| ID | received    | channel   | type        | owner  | status      | closed      | due         |
|----|-------------|-----------|-------------|--------|-------------|-------------|-------------|
| R1 | Mon 16 09:00| Email     | COI         | Tom    | Done        | Mon 16 15:00| Mon 16 17:00|
| R2 | Mon 16 10:00| Email     | Endorsement | Priya  | Done        | Wed 18 10:00| Tue 17 10:00|
| R3 | Tue 17 08:00| Voicemail | Claim       | Tom    | Cancelled   | Tue 17 12:00| Tue 17 12:00|
| R4 | Wed 18 09:00| Text      | COI         | Alicia | In Progress |             |(Overdue, escal.)
| R5 | Fri 20 16:00| Email     | Billing     | Tom    | New         |             | (On track)
| R6 | Mon  2 09:00| Email     | Other       | Priya  | In Progress |             | (Overdue)
| R7 | Tue 17 13:00| Email     | COI         | Alicia | Done, Archive | Thu 19 13:00| Wed 18 13:00

Received in the week: R1-R5 and R7 = 6 (Email 4, Voicemail 1, Text 1; COI 3, Endorsement,
Claim, Billing 1 each). Closed in the week: R1, R2, R3, R7 = 4, of which R1 and R3 by their due
time: 50%. Resolution in business hours: R1 6, R2 7+9+2 = 18, R3 4, R7 4+9+5 = 18: median 12,
p90 18 (linear, between 18 and 18). Tom: 6 and 4, median 5. First responses logged in the week:
R1 2 h, R2 6 h, R4 8+2 = 10 h: median 6, p90 6 + 0.8 x 4 = 9.2. Open at the end: R4 (26
business hours, 2.9 days: 1 to 3), R5 (1 hour: under 1 day), R6 (134 hours: over 7 days);
overdue 2 (R4, R6), escalated 1 (R4); one each for Alicia, Tom and Priya. One client follow-up
logged in the week (another was logged before it).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sheets_ops.model import TABS
from sheets_ops.reports.metrics import compute
from sheets_ops.rules.clock import Calendar
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.tracker import Batch, NewRow, Tab

D = datetime
WEEK = (D(2026, 11, 16), D(2026, 11, 23))
CAL = Calendar(ZoneInfo("America/Chicago"))


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
) -> dict[str, object]:
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


@pytest.fixture
def week() -> MemoryTracker:
    tracker = MemoryTracker()
    tracker.init(TABS)
    tracker.tabs["Archive"] = Tab("Archive", list(tracker.tabs["Requests"].header))
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
            sla="Overdue",
            escalation="L2 → Marcus",
        ),
        request("R5", D(2026, 11, 20, 16), "Email", "Billing", "Tom", "New", sla="On track"),
        request("R6", D(2026, 11, 2, 9), "Email", "Other", "Priya", "In Progress", sla="Overdue"),
    ]
    batch = Batch(
        rows=[NewRow("Requests", {k: v for k, v in r.items() if v is not None}) for r in rows]
    )  # type: ignore[misc]
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
    batch.rows.append(NewRow("Archive", archived))  # type: ignore[arg-type]
    for rid, when, what in [
        ("R1", D(2026, 11, 16, 11), "First response"),
        ("R2", D(2026, 11, 16, 16), "First response"),
        ("R4", D(2026, 11, 19, 10), "First response"),
        ("R6", D(2026, 11, 3, 9), "First response"),
        ("R4", D(2026, 11, 19, 12), "Client follow-up"),
        ("R6", D(2026, 11, 10, 12), "Client follow-up"),
    ]:
        batch.rows.append(NewRow("Log", {"When": when, "Request": rid, "What": what}))
    tracker.write(batch)
    return tracker


def test_volume_by_channel_and_type(week: MemoryTracker) -> None:
    m = compute(week.read(), CAL, *WEEK)
    assert m.received == 6
    assert m.by_channel == {"Email": 4, "Voicemail": 1, "Text": 1}
    assert m.by_type == {"COI": 3, "Endorsement": 1, "Claim": 1, "Billing": 1}


def test_completion_rate_counts_archived_requests_too(week: MemoryTracker) -> None:
    m = compute(week.read(), CAL, *WEEK)
    assert (m.closed, m.closed_in_sla, m.completion_rate) == (4, 2, 0.5)


def test_resolution_and_first_response_in_business_hours(week: MemoryTracker) -> None:
    m = compute(week.read(), CAL, *WEEK)
    assert m.resolution == {"median": 12.0, "p90": 18.0, "count": 4}
    assert m.resolution_by_owner["Tom"] == {"median": 5.0, "p90": 5.8, "count": 2}
    assert m.resolution_by_type["COI"] == {"median": 12.0, "p90": 16.8, "count": 2}
    assert m.first_response == {"median": 6.0, "p90": 9.2, "count": 3}


def test_open_work_aging_overdue_escalated_load_and_follow_ups(week: MemoryTracker) -> None:
    m = compute(week.read(), CAL, *WEEK)
    assert m.open == 3
    assert m.aging == {"under 1 day": 1, "1 to 3 days": 1, "3 to 7 days": 0, "over 7 days": 1}
    assert (m.overdue, m.escalated) == (2, 1)
    assert m.load == {"Alicia": 1, "Tom": 1, "Priya": 1}
    assert m.follow_ups == 1

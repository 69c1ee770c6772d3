"""The owner's figures, on the week of tests/week.py, whose answers are worked out there."""

from __future__ import annotations

from datetime import datetime

import pytest

from sheets_ops.model import ARCHIVE, TABS
from sheets_ops.reports.metrics import compute
from sheets_ops.sync.memory import MemoryTracker
from tests.week import CAL, WEEK, fill_week


@pytest.fixture
def week() -> MemoryTracker:
    tracker = MemoryTracker()
    tracker.init((*TABS, ARCHIVE))
    return fill_week(tracker)


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


def test_open_work_is_as_of_the_end_of_the_period_not_as_of_today(week: MemoryTracker) -> None:
    m = compute(week.read(), CAL, WEEK[0], datetime(2026, 11, 18, 9, 30))
    assert (m.open, m.overdue) == (4, 2)
    assert m.load == {"Priya": 2, "Alicia": 2}

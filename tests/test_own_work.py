"""Every CSR hears of their own work: levels 2 and 3 reach the request's owner too, each CSR on
duty gets their own queue each morning, and a digest lists only what still needs doing, at
most DIGEST_CAP per reason. Against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sheets_ops.reports.notify import DIGEST_CAP
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.memory import MemoryTracker
from tests.people import edit_tab, log_rows, set_cell, set_setting
from tests.smtp_server import Recorder
from tests.test_notify import body, cycle, desk, smtp, smtp_outbox

__all__ = ["desk", "smtp"]  # the fixtures, shared with test_notify


def queues(server: Recorder) -> list[str]:
    return [str(m["Message-ID"]) for m in server.messages if ".queue-" in str(m["Message-ID"])]


def on_duty(tracker: MemoryTracker, name: str) -> None:
    def change(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        for row in rows:
            if row[header.index("Name")] == name:
                row[header.index("On Duty")] = "Yes"
        return header, rows

    edit_tab(tracker, "Team", change)


def test_level_two_reaches_the_requests_owner_as_well(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    outbox = smtp_outbox(tmp_path, port)
    first = cycle(desk, inbox, outbox, "08:00")
    [overdue] = [e for e in first.review.escalations if e.request_id == "REQ-000001"]
    assert (overdue.level, overdue.to) == (2, ("Marcus Lee", "Tom Becker"))
    server.messages.clear()
    cycle(desk, inbox, outbox, "08:31")
    tom = body(next(m for m in server.messages if str(m["To"]) == "tom@agency.example"))
    assert "Overdue (1)" in tom and "REQ-000001 Client 1" in tom


def test_each_csr_on_duty_gets_their_own_queue_each_morning_once(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    on_duty(desk, "Tom Becker")
    outbox = smtp_outbox(tmp_path, port)
    cycle(desk, inbox, outbox, "07:55")
    assert not queues(server)  # not before My Queue Time
    cycle(desk, inbox, outbox, "08:00")
    [queue] = [m for m in server.messages if ".queue-" in str(m["Message-ID"])]
    assert str(queue["To"]) == "tom@agency.example"
    text = body(queue)
    assert text.index("Overdue (1)") < text.index("Due today (1)")
    assert "REQ-000001 Client 1 · COI" in text and "REQ-000003 Client 3 · COI" in text
    assert "REQ-000002" not in text  # Priya's
    assert str(queue["Subject"]).startswith("Your queue, Monday November 30: 1 overdue, 1 due")
    server.messages.clear()
    cycle(desk, inbox, outbox, "09:00")
    assert not queues(server)
    assert [r["Old"] for r in log_rows(desk) if r["What"] == "Queue sent"] == ["2026-11-30"]


def test_my_queue_time_off_sends_none(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    on_duty(desk, "Tom Becker")
    set_setting(desk, "My Queue Time", "Off")
    cycle(desk, inbox, smtp_outbox(tmp_path, port), "08:00")
    assert not queues(server)


def test_a_digest_lists_the_most_urgent_of_each_reason_then_how_many_more(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    late = [
        NewRow(
            "Requests",
            {
                "ID": f"REQ-{n:06d}",
                "Received": datetime(2026, 11, 24, 9, 0),
                "Channel": "Email",
                "From": f"c{n}@client.example",
                "Client": f"Client {n}",
                "Type": "COI",
                "Owner": "Tom Becker",
                "Status": "In Progress",
                "Summary": f"certificate {n}",
                "Source": f"<late{n}@x>",
            },
        )
        for n in range(10, 10 + DIGEST_CAP + 12)
    ]
    desk.write(Batch(rows=late))
    outbox = smtp_outbox(tmp_path, port)
    cycle(desk, inbox, outbox, "08:00")
    server.messages.clear()
    cycle(desk, inbox, outbox, "08:31")
    tom = body(next(m for m in server.messages if str(m["To"]) == "tom@agency.example"))
    overdue = tom.split("Overdue (")[1].split("Deadline approaching")[0]
    assert overdue.startswith(f"{DIGEST_CAP + 13})")  # the 32 new ones and REQ-000001
    assert overdue.count("  - REQ-") == DIGEST_CAP
    assert "and 13 more: open the tracker" in overdue


def test_a_digest_leaves_out_what_was_seen_to_before_it_went(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    outbox = smtp_outbox(tmp_path, port)
    cycle(desk, inbox, outbox, "08:00")  # REQ-000001 overdue, REQ-000004 followed up: L2
    set_cell(desk, "REQ-000001", "Status", "Cancelled")  # seen to before the 08:30 digest
    server.messages.clear()
    cycle(desk, inbox, outbox, "08:31")
    marcus = body(next(m for m in server.messages if str(m["To"]) == "marcus@agency.example"))
    assert "REQ-000001" not in marcus and "REQ-000004" in marcus
    assert "Overdue" not in marcus


def test_an_email_sent_line_carries_the_time_it_was_sent(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    _server, port = smtp
    outbox = smtp_outbox(tmp_path, port)
    cycle(desk, inbox, outbox, "08:00")  # the summaries go out
    cycle(desk, inbox, outbox, "09:10")  # and the Log hears of them now
    sent = [r for r in log_rows(desk) if r["What"] == "Email sent"]
    assert sent and {r["When"] for r in sent} == {datetime(2026, 11, 30, 8, 0)}

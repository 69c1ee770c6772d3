"""Digests and emails, delivered exactly once to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from sheets_ops.cli import main
from sheets_ops.cycle import CycleResult, run_cycle
from sheets_ops.model import TABS
from sheets_ops.sheet import Batch, NewRow, counted
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.transport import SmtpTransport, TransportError
from tests.imap_server import free_port
from tests.people import log_rows, set_setting
from tests.smtp_server import Recorder, smtp_server

MONDAY = date(2026, 11, 30)


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    with smtp_server() as (recorder, port):
        yield recorder, port


@pytest.fixture
def desk() -> MemoryTracker:
    """An agency whose requests are due for every kind of reminder on Monday morning."""
    tracker = MemoryTracker()
    tracker.init(TABS)
    team = [
        ("Dana Ruiz", "Owner"),
        ("Marcus Lee", "Ops Manager"),
        ("Priya Shah", "Account Manager"),
        ("Tom Becker", "CSR"),
    ]
    rows = [
        NewRow("Team", {"Name": n, "Role": r, "Email": f"{n.split()[0].lower()}@agency.example"})
        for n, r in team
    ]
    for kind, sla in (("COI", 8), ("Renewal", 40), ("Endorsement", 24)):
        rows.append(
            NewRow(
                "Routing",
                {"Type": kind, "Route To": "On-duty CSR", "SLA": sla, "Escalate After Idle": 24},
            )
        )

    def request(n: int, **cells: Any) -> NewRow:
        base = {
            "ID": f"REQ-{n:06d}",
            "Channel": "Email",
            "From": f"c{n}@client.example",
            "Client": f"Client {n}",
            "Status": "In Progress",
            "Source": f"<r{n}@x>",
        }
        return NewRow("Requests", {**base, **cells})

    rows += [
        # overdue: a COI received last Tuesday
        request(
            1,
            Type="COI",
            Owner="Tom Becker",
            Received=datetime(2026, 11, 24, 9, 0),
            **{
                "Last Touched": datetime(2026, 11, 27, 16, 0),
                "Summary": "<script>alert(1)</script> =cmd|' /C calc'!A0",
            },
        ),
        # untouched 24 business hours, not due yet: a Renewal
        request(
            2,
            Type="Renewal",
            Owner="Priya Shah",
            Received=datetime(2026, 11, 23, 8, 0),
            **{"Summary": "renewal questions"},
        ),
        # due soon: a COI received before the holiday, due at 11:00
        request(
            3,
            Type="COI",
            Owner="Tom Becker",
            Received=datetime(2026, 11, 25, 12, 0),
            **{"Summary": "certificate for the market"},
        ),
        # the client followed up
        request(
            4,
            Type="Renewal",
            Owner="Priya Shah",
            Received=datetime(2026, 11, 30, 7, 30),
            Thread="2 messages; client followed up 2026-11-30 07:45",
            **{"Summary": "where is my quote?"},
        ),
    ]
    tracker.write(Batch(rows=rows))
    holidays = ["2026-11-26", "2026-11-27"]
    tracker.write(
        Batch(rows=[NewRow("Holidays", {"Date": date.fromisoformat(d)}) for d in holidays])
    )
    set_setting(tracker, "Client Emails", "On")
    set_setting(tracker, "Weekly Report", "Off")  # the weekly report has its own tests
    return tracker


def cycle(tracker: MemoryTracker, inbox: FolderMailbox, outbox: Outbox, at: str) -> CycleResult:
    return run_cycle(
        tracker,
        inbox,
        datetime.fromisoformat(f"2026-11-30T{at}"),
        outbox=outbox,
        mail_from="service@agency.example",
    )


def smtp_outbox(tmp_path: Path, port: int) -> Outbox:
    return Outbox(
        tmp_path / "state", SmtpTransport(f"smtp://127.0.0.1:{port}"), sleep=lambda _s: None
    )


def body(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


def test_digests_are_grouped_by_reason_one_per_recipient(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    outbox = smtp_outbox(tmp_path, port)
    first = cycle(desk, inbox, outbox, "08:00")  # escalations recorded; the summary goes out
    assert {(e.request_id, e.level) for e in first.review.escalations} == {
        ("REQ-000001", 2),
        ("REQ-000002", 1),
        ("REQ-000003", 1),
        ("REQ-000004", 2),
    }
    assert server.keys() == [
        "summary-20261130-dana@agency.example",
        "summary-20261130-marcus@agency.example",
    ]
    server.messages.clear()
    cycle(desk, inbox, outbox, "08:31")  # the 08:30 digest
    digests = {str(m["To"]): m for m in server.messages}
    assert sorted(digests) == [
        "marcus@agency.example",
        "priya@agency.example",
        "tom@agency.example",
    ]
    marcus = body(digests["marcus@agency.example"])
    assert marcus.index("Overdue (1)") < marcus.index("Client followed up (1)")
    assert "REQ-000001 Client 1 · COI · owner Tom Becker" in marcus
    assert "Untouched (1)" in body(digests["priya@agency.example"])
    assert "Deadline approaching (1)" in body(digests["tom@agency.example"])
    assert str(digests["marcus@agency.example"]["Subject"]) == "2 requests need you: overdue first"
    assert [r["Old"] for r in log_rows(desk) if r["What"] == "Digest sent"] == ["2026-11-30 08:30"]


def test_a_second_run_sends_nothing_new(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    outbox = smtp_outbox(tmp_path, port)
    cycle(desk, inbox, outbox, "08:00")
    cycle(desk, inbox, outbox, "08:31")
    sent = server.keys()
    cycle(desk, inbox, outbox, "08:45")
    cycle(desk, inbox, outbox, "09:30")
    assert server.keys() == sent
    assert len(sent) == len(set(sent)) == 5
    logged = [r["Old"] for r in log_rows(desk) if r["What"] == "Email sent"]
    assert sorted(logged) == sent  # the Log knows what was delivered


def test_a_run_stopped_between_record_and_send_delivers_each_email_once(
    desk: MemoryTracker, inbox: FolderMailbox, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens yet: recorded, then not sent
    outbox = smtp_outbox(tmp_path, port)
    cycle(desk, inbox, outbox, "08:00")
    second = cycle(desk, inbox, outbox, "08:31")
    assert second.emails == 0 and len(second.delivery.waiting) == 5  # the summaries again
    assert len(outbox.pending()) == 5
    assert [r["What"] for r in log_rows(desk)].count("Digest sent") == 1  # recorded first
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        cycle(desk, inbox, outbox, "08:31:30")  # a retry waits its turn (a minute, then more)
        assert recorder.keys() == []
        cycle(desk, inbox, outbox, "09:00")
        cycle(desk, inbox, outbox, "09:30")
    finally:
        controller.stop()
    assert len(recorder.keys()) == len(set(recorder.keys())) == 5
    assert outbox.pending() == []


def test_markup_and_formulas_from_clients_arrive_escaped(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    outbox = smtp_outbox(tmp_path, port)
    cycle(desk, inbox, outbox, "08:00")
    cycle(desk, inbox, outbox, "08:31")
    [marcus] = [
        m
        for m in server.messages
        if m["To"] == "marcus@agency.example" and str(m["X-Sheets-Ops-Key"]).startswith("digest")
    ]
    html = body(marcus, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; =cmd|&#39; /C calc&#39;!A0" in html
    assert "<script>alert(1)</script> =cmd|' /C calc'!A0" in body(marcus)  # plain text as is


def test_a_421_then_250_is_retried(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    server.replies = ["421 4.3.0 Try again later"]
    outbox = smtp_outbox(tmp_path, port)
    result = cycle(desk, inbox, outbox, "08:00")
    assert result.emails == 2 and result.delivery.waiting == []
    assert len(server.keys()) == 2


def test_a_permanent_failure_is_logged_and_told_in_the_next_digest(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    server.replies = ["550 5.1.1 No such user"]
    outbox = smtp_outbox(tmp_path, port)
    first = cycle(desk, inbox, outbox, "08:00")
    assert [k for k, _why in first.delivery.failed] == ["summary-20261130-dana@agency.example"]
    cycle(desk, inbox, outbox, "08:31")
    [failed] = [r for r in log_rows(desk) if r["What"] == "Email failed"]
    assert failed["Old"] == "summary-20261130-dana@agency.example"
    assert "550 5.1.1 No such user" in failed["New"]
    [marcus] = [
        m
        for m in server.messages
        if m["To"] == "marcus@agency.example" and "digest" in str(m["X-Sheets-Ops-Key"])
    ]
    assert "Emails that failed" in body(marcus)


def test_a_login_is_never_sent_in_clear(smtp: tuple[Recorder, int]) -> None:
    _server, port = smtp
    transport = SmtpTransport(f"smtp://127.0.0.1:{port}", "service@agency.example", "secret")
    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = "a@b.example", "c@d.example", "hi"
    with pytest.raises(TransportError) as e:
        transport.send("k", message)
    assert e.value.permanent and "offers no STARTTLS" in str(e.value)


def as_workbook(desk: MemoryTracker, path: Path) -> None:
    """The same agency in a workbook, for the command line."""
    from sheets_ops.sync.xlsx import XlsxTracker

    tracker = XlsxTracker(path)
    tracker.init(TABS)
    tabs = desk.read().tabs
    rows = [
        NewRow(name, dict(zip(tab.header, r, strict=False)))
        for name, tab in tabs.items()
        if name != "Settings"
        for r in tab.rows
    ]
    tracker.write(Batch(rows=rows))
    set_setting(tracker, "Weekly Report", "Off")


def test_digest_preview_writes_every_email_as_html_and_sends_nothing(
    agency: Path, capsys: pytest.CaptureFixture[str], desk: MemoryTracker
) -> None:
    as_workbook(desk, agency / "tracker.xlsx")
    code = main(["digest", "--preview", str(agency / "preview"), "--now", "2026-11-30T08:31"])
    assert code == 0
    files = sorted(p.name for p in (agency / "preview").iterdir())
    assert "digest-20261130-0830-marcus@agency.example.html" in files
    assert "summary-20261130-dana@agency.example.html" in files
    assert not (agency / "outbox").exists()
    out = capsys.readouterr().out
    assert f"\n{len(files)} emails would go out" in out and "nothing was sent" in out


@pytest.mark.parametrize(
    ("n", "said"), [(0, "0 emails"), (1, "1 email"), (2, "2 emails"), (1487, "1,487 emails")]
)
def test_counts_are_written_as_people_write_them(n: int, said: str) -> None:
    assert counted(n, "email") == said


def test_the_agencys_own_templates_come_first(
    desk: MemoryTracker, inbox: FolderMailbox, smtp: tuple[Recorder, int], tmp_path: Path
) -> None:
    server, port = smtp
    own = tmp_path / "our-templates"
    own.mkdir()
    (own / "daily_summary.subject.txt").write_text("Good morning from Lakeshore: {{ open }} open")
    set_setting(desk, "Template Folder", str(own))
    cycle(desk, inbox, smtp_outbox(tmp_path, port), "08:00")
    assert {str(m["Subject"]) for m in server.messages} == {"Good morning from Lakeshore: 4 open"}
    assert "By status" in body(server.messages[0], "html")  # the rest is the built-in


def test_a_template_folder_that_is_not_there_is_named(
    desk: MemoryTracker, inbox: FolderMailbox, tmp_path: Path
) -> None:
    from sheets_ops.sheet import TrackerError

    set_setting(desk, "Template Folder", "/no/such/folder")
    with pytest.raises(TrackerError, match='Template Folder "/no/such/folder" is not a folder'):
        cycle(desk, inbox, smtp_outbox(tmp_path, free_port()), "08:00")


class Stalling(Recorder):
    """Holds the first message at DATA until the test says what to answer."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.arrived, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        if not self.arrived.is_set():
            self.arrived.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
            return "451 4.3.0 the sender went away"  # never accepted: not delivered
        return await super().handle_DATA(server, session, envelope)


def test_killing_the_job_mid_send_then_rerunning_delivers_each_email_once(
    agency: Path, desk: MemoryTracker
) -> None:
    import os
    import signal
    import subprocess
    import sys

    as_workbook(desk, agency / "tracker.xlsx")
    (agency / "inbox").mkdir()
    server, port = Stalling(), free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        **os.environ,
        "TRACKER": str(agency / "tracker.xlsx"),
        "MAILBOX": str(agency / "inbox"),
        "OUTBOX": f"smtp://127.0.0.1:{port}",
        "MAIL_FROM": "service@agency.example",
        "STATE_DIR": str(agency / "state"),
    }

    def sheets_ops(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "sheets_ops", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    try:
        first = sheets_ops("run", "--once", "--now", "2026-11-30T08:00")
        assert server.arrived.wait(30)  # recorded, handed over, not yet accepted...
        first.send_signal(signal.SIGKILL)  # ...and the job dies
        first.wait(30)
        server.release.set()
        for at in ("08:05", "08:10"):
            rerun = sheets_ops("run", "--once", "--now", f"2026-11-30T{at}")
            _out, err = rerun.communicate(timeout=60)
            assert rerun.returncode == 0, err.decode()
    finally:
        controller.stop()
    assert server.keys() == [
        "summary-20261130-dana@agency.example",
        "summary-20261130-marcus@agency.example",
    ]

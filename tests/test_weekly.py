"""The weekly owner report: figures beside the week before, PNG charts inline, sent once."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from sheets_ops.cli import main
from sheets_ops.cycle import run_cycle
from sheets_ops.model import ARCHIVE, TABS
from sheets_ops.reports.weekly import CHARTS, build, figures, week_before
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.transport import FolderTransport
from sheets_ops.sync.xlsx import XlsxTracker
from tests.people import edit_tab, log_rows
from tests.week import CAL, WEEK, fill_week

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def week() -> MemoryTracker:
    tracker = MemoryTracker()
    tracker.init((*TABS, ARCHIVE))
    fill_week(tracker)
    team = [("Dana Ruiz", "Owner"), ("Marcus Lee", "Ops Manager"), ("Tom", "CSR")]
    tracker.write(
        Batch(
            rows=[
                NewRow("Team", {"Name": n, "Role": r, "Email": f"{n.split()[0].lower()}@a.example"})
                for n, r in team
            ]
        )
    )
    return tracker


def test_last_week_is_monday_to_monday() -> None:
    assert week_before(datetime(2026, 11, 23, 8)) == WEEK
    assert week_before(datetime(2026, 11, 29, 23, 59)) == WEEK


def test_the_week_beside_the_week_before(week: MemoryTracker) -> None:
    report = build(week.read(), CAL, *WEEK)
    rows = {what: (now, before) for what, now, before in figures(report)}
    assert rows["Requests received"] == ("6", "0")
    assert rows["Requests closed"] == ("4", "0")
    assert rows["Closed within SLA"] == ("50%", "-")
    assert rows["Resolution, median"] == ("12 h", "-")
    assert rows["First response, p90"] == ("9.2 h", "-")
    # the week before: R6 alone was open on Monday 16 (received on the 2nd), overdue
    assert rows["Open at the end"] == ("3", "1")
    assert rows['Client "what\'s the status?"'] == ("1", "1")
    assert set(report.charts) == set(CHARTS)
    assert all(png.startswith(PNG) and len(png) > 2000 for png in report.charts.values())


def deliver(tracker: MemoryTracker, tmp_path: Path, at: datetime) -> list[EmailMessage]:
    sent = tmp_path / "sent"
    outbox = Outbox(tmp_path / "state", FolderTransport(sent))
    try:
        run_cycle(
            tracker,
            FolderMailbox(tmp_path / "inbox"),
            at,
            outbox=outbox,
            mail_from="service@agency.example",
        )
    finally:
        outbox.close()
    out = []
    for path in sorted(sent.glob("*.eml")) if sent.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        out.append(message)
        path.unlink()
    return out


def test_the_job_emails_it_once_a_week_with_its_charts_inline(
    week: MemoryTracker, tmp_path: Path
) -> None:
    (tmp_path / "inbox").mkdir()
    assert not [
        m
        for m in deliver(week, tmp_path, datetime(2026, 11, 23, 7, 59))
        if "weekly" in m["X-Sheets-Ops-Key"]
    ]
    sent = [
        m
        for m in deliver(week, tmp_path, datetime(2026, 11, 23, 8, 5))
        if "weekly" in m["X-Sheets-Ops-Key"]
    ]
    assert sorted(m["To"] for m in sent) == ["dana@a.example", "marcus@a.example"]
    message = sent[0]
    assert message["Subject"].startswith("Service desk, week of Nov 16: 6 received, 4 closed")
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    body = html.get_content()
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == len(CHARTS)
    for part in images:
        cid = str(part["Content-ID"]).strip("<>")
        assert f'src="cid:{cid}"' in body
        assert part.get_content().startswith(PNG)
    assert "Closed within SLA" in message.get_body(preferencelist=("plain",)).get_content()
    assert [r["Old"] for r in log_rows(week) if r["What"] == "Weekly report sent"] == ["2026-11-16"]
    later = deliver(week, tmp_path, datetime(2026, 11, 24, 10))  # within the catch-up window
    assert not [m for m in later if "weekly" in m["X-Sheets-Ops-Key"]]


def test_report_writes_one_html_file_with_its_charts(
    week: MemoryTracker, agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = XlsxTracker(agency / "tracker.xlsx")
    book.init((*TABS, ARCHIVE))
    fill_week(book)
    code = main(["report", "--html", "week.html", "--from", "2026-11-16", "--to", "2026-11-22"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Mon 2026-11-16 to Sun 2026-11-22" in out
    html = (agency / "week.html").read_text("utf-8")
    assert html.count('src="data:image/png;base64,') == len(CHARTS)
    assert "50%" in html and "12 h" in html

    assert main(["report", "--now", "2026-11-25T10:00"]) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.startswith("Requests received"))
    assert line.split()[-2:] == ["6", "0"]
    # empty cells read back from the workbook are empty, not "nan": one escalated request
    line = next(x for x in text.splitlines() if x.startswith("Escalated at the end"))
    assert line.split()[-2:] == ["1", "0"]


def test_report_refuses_a_period_that_ends_before_it_starts(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    XlsxTracker(agency / "tracker.xlsx").init(TABS)
    assert main(["report", "--from", "2026-11-16", "--to", "2026-11-10"]) == 2
    assert "--to" in capsys.readouterr().err


def test_report_names_a_broken_requests_header_in_one_line(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = XlsxTracker(agency / "tracker.xlsx")
    book.init(TABS)
    edit_tab(
        book, "Requests", lambda h, rows: ([x if x != "Received" else "Recvd" for x in h], rows)
    )
    assert main(["report"]) == 2  # a configuration error: a person renames it back
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Requests" in err and '"Received"' in err

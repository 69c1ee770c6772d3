"""The renewal pipeline: importing exports, opening renewals, key dates, the ladder, reminders."""

from __future__ import annotations

import email
import email.policy
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sheets_ops.cli import main
from sheets_ops.cycle import run_cycle
from sheets_ops.model import TABS
from sheets_ops.rules.exports import parse_amount, parse_date
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.transport import FolderTransport
from sheets_ops.sync.xlsx import XlsxTracker
from tests.people import log_rows, set_setting

EXPIRES = date(2027, 3, 31)


def export(path: Path, count: int, bad_line: int | None = None) -> None:
    """An AMS export with messy dates and amounts, as agencies get them."""
    rng = random.Random(3)
    formats = ["%m/%d/%Y", "%Y-%m-%d", "%d-%b-%Y", "%b %d, %Y", "%m/%d/%y"]
    lines = ["Named Insured,Policy Number,Company,LOB,Eff Date,Exp Date,Annual Premium,Producer"]
    for n in range(count):
        expires = date(2027, 1, 1) + timedelta(days=rng.randrange(0, 365))
        premium = f"${rng.randrange(500, 90000):,}.{rng.randrange(0, 99):02d}"
        exp = expires.strftime(rng.choice(formats))
        if bad_line is not None and n + 2 == bad_line:
            exp = "sometime in spring"
        lines.append(
            f'"Client {n}, LLC",GL-{100000 + n},Acme Mutual,GL,,"{exp}","{premium}",Priya Shah'
        )
    path.write_text("\n".join(lines) + "\n")


def test_messy_dates_and_amounts_are_read() -> None:
    for text in (
        "3/31/2027",
        "2027-03-31",
        "31-Mar-2027",
        "Mar 31, 2027",
        "03/31/27",
        "2027-03-31 00:00:00",
        "46477",
    ):
        assert parse_date(text) == EXPIRES, text
    assert parse_date("soon") is None
    assert parse_amount("$1,234.50") == 1234.5
    assert parse_amount("(250.00)") == -250.0
    assert parse_amount("USD 1 234") == 1234.0
    assert parse_amount("") is None
    with pytest.raises(ValueError):
        parse_amount("call me")


def test_a_5000_policy_export_imported_twice_changes_nothing_the_second_time(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    export(agency / "policies.csv", 5000, bad_line=2503)
    capsys.readouterr()
    assert main(["renewals", "import", "policies.csv", "--now", "2026-09-01T09:00"]) == 0
    first = capsys.readouterr()
    assert first.out.splitlines() == [
        "4,999 policies: 4,999 added, 0 updated, 0 unchanged",
        "1 line could not be read:",
        "  line 2503: expiration 'sometime in spring' is not a date",
    ]
    assert "read 1,000 lines of policies.csv" in first.err  # progress on large files
    assert main(["renewals", "import", "policies.csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "4,999 policies: 0 added, 0 updated, 4,999 unchanged"
    )
    rows = XlsxTracker(agency / "tracker.xlsx").read().tabs["Renewals"].rows
    assert len([r for r in rows if r[1]]) == 4999
    header = XlsxTracker(agency / "tracker.xlsx").read().tabs["Renewals"].header
    first_row = dict(zip(header, rows[0], strict=False))
    assert (first_row["Client"], first_row["Policy #"], first_row["Owner"]) == (
        "Client 0, LLC",
        "GL-100000",
        "Priya Shah",
    )
    assert isinstance(first_row["Expiring Premium"], float)


def test_the_first_import_sets_the_pipeline_without_escalating_what_was_late_before(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    export(agency / "book.csv", 300)
    capsys.readouterr()
    assert main(["renewals", "import", "book.csv", "--now", "2026-12-15T09:00"]) == 0
    out = capsys.readouterr().out.splitlines()
    tracker = XlsxTracker(agency / "tracker.xlsx")
    known = [r for r in log_rows(tracker) if r["What"] == "Renewal baseline"]
    assert known and out == [
        "300 policies: 300 added, 0 updated, 0 unchanged",
        f"{len(known)} renewals past a key date: recorded as the baseline (the Log's "
        '"Renewal baseline" lines list them), not escalated',
    ]
    (agency / "inbox").mkdir(exist_ok=True)
    assert main(["run", "--once", "--now", "2026-12-15T09:30"]) == 0
    escalated = [r for r in log_rows(tracker) if str(r["What"]).startswith("Escalated")]
    assert {str(r["Request"]) for r in escalated}.isdisjoint({str(r["Request"]) for r in known})
    assert "escalation" not in capsys.readouterr().out
    assert main(["renewals", "import", "book.csv", "--baseline", "--now", "2026-12-15T10:00"]) == 0
    again = [r for r in log_rows(tracker) if r["What"] == "Renewal baseline"]
    assert len(again) == len(known)  # known already: not recorded twice


def test_an_updated_export_updates_rows_and_keeps_peoples_cells(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["init"])
    (agency / "p.csv").write_text(
        "Policy Number,Exp Date,Premium,Producer\nGL-1,3/31/2027,1000,Tom\n"
    )
    main(["renewals", "import", "p.csv"])
    tracker = XlsxTracker(agency / "tracker.xlsx")

    def owner(header: list[Any], rows: list[list[Any]]) -> Any:
        rows[0][header.index("Owner")] = "Alicia"
        return header, rows

    from tests.people import edit_tab

    edit_tab(tracker, "Renewals", owner)
    (agency / "p.csv").write_text(
        "Policy Number,Exp Date,Premium,Producer\nGL 1,3/31/2027,1250,Tom\n"
    )
    capsys.readouterr()
    main(["renewals", "import", "p.csv"])
    assert capsys.readouterr().out.startswith("1 policies: 0 added, 1 updated, 0 unchanged")
    tab = tracker.read().tabs["Renewals"]
    row = dict(zip(tab.header, tab.rows[0], strict=False))
    assert (row["Expiring Premium"], row["Owner"]) == (1250, "Alicia")


@pytest.fixture
def book() -> MemoryTracker:
    tracker = MemoryTracker()
    tracker.init(TABS)
    team = [
        ("Dana Ruiz", "Owner"),
        ("Marcus Lee", "Ops Manager"),
        ("Priya Shah", "Account Manager"),
    ]
    rows = [
        NewRow("Team", {"Name": n, "Role": r, "Email": f"{n.split()[0].lower()}@agency.example"})
        for n, r in team
    ]
    rows.append(
        NewRow(
            "Accounts",
            {
                "Client": "Brightline Electric LLC",
                "Contact Emails": "jen@brightline.example; @brightline.example",
            },
        )
    )
    rows.append(
        NewRow(
            "Renewals",
            {
                "Client": "Brightline Electric LLC",
                "Policy #": "GL-4481920",
                "Line": "GL",
                "Expiration": EXPIRES,
                "Owner": "Priya Shah",
                "Expiring Premium": 12000.0,
            },
        )
    )
    rows.append(
        NewRow(
            "Renewals",
            {
                "Client": "Brightline Electric LLC",
                "Policy #": "WC-2209381",
                "Line": "WC",
                "Expiration": EXPIRES,
                "Owner": "Priya Shah",
            },
        )
    )
    tracker.write(Batch(rows=rows))
    set_setting(tracker, "Client Emails", "On")
    set_setting(tracker, "Digest Times", "")
    set_setting(tracker, "Daily Summary Time", "")
    return tracker


def renewal(tracker: MemoryTracker, policy: str) -> dict[str, Any]:
    tab = tracker.tabs["Renewals"]
    for values in tab.rows:
        row = dict(zip(tab.header, values, strict=False))
        if row["Policy #"] == policy:
            return row
    raise KeyError(policy)


def on(tracker: MemoryTracker, day: date, tmp_path: Path) -> Any:
    inbox = FolderMailbox(tmp_path / "inbox")
    outbox = Outbox(tmp_path / "state", FolderTransport(tmp_path / "outbox"), sleep=lambda _s: None)
    return run_cycle(
        tracker, inbox, datetime.combine(day, datetime.min.time()).replace(hour=9), outbox=outbox
    )


def test_a_renewal_opens_120_days_out_with_key_dates_by_line(
    book: MemoryTracker, tmp_path: Path
) -> None:
    on(book, EXPIRES - timedelta(days=121), tmp_path)
    assert renewal(book, "GL-4481920")["Stage"] is None  # not open yet
    on(book, EXPIRES - timedelta(days=120), tmp_path)
    gl, wc = renewal(book, "GL-4481920"), renewal(book, "WC-2209381")
    assert gl["Stage"] == "Upcoming"
    assert (
        gl["Carrier Submission Deadline"],
        gl["Quote Deadline"],
        gl["Client Decision Deadline"],
        gl["Effective Date"],
    ) == (date(2027, 1, 30), date(2027, 2, 14), date(2027, 3, 10), EXPIRES)
    assert (wc["Carrier Submission Deadline"], wc["Quote Deadline"]) == (
        date(2027, 1, 15),
        date(2027, 1, 30),
    )
    assert gl["Next Step"] == "Submit to carriers by 01/30"
    assert [r["What"] for r in log_rows(book)].count("Renewal opened") == 2


def test_a_missed_milestone_climbs_the_ladder_once_per_level(
    book: MemoryTracker, tmp_path: Path
) -> None:
    on(book, date(2027, 1, 20), tmp_path)  # opened, nothing missed yet (GL)
    result = on(book, date(2027, 1, 31), tmp_path)  # GL submission deadline 1/30 passed
    gl = [(e.level, e.to) for e in result.review.escalations if e.request_id == "GL-4481920"]
    assert gl == [(1, ("Priya Shah",))]
    assert on(book, date(2027, 2, 1), tmp_path).review.escalations == [] or all(
        e.request_id != "GL-4481920"
        for e in on(book, date(2027, 2, 2), tmp_path).review.escalations
    )
    later = on(book, date(2027, 2, 6), tmp_path).review.escalations
    assert [(e.level, e.to) for e in later if e.request_id == "GL-4481920"] == [
        (2, ("Marcus Lee",))
    ]
    last = on(book, date(2027, 4, 1), tmp_path).review.escalations
    assert [(e.level, e.to) for e in last if e.request_id == "GL-4481920"] == [(3, ("Dana Ruiz",))]


def test_moving_the_stage_on_time_escalates_nothing(book: MemoryTracker, tmp_path: Path) -> None:
    on(book, date(2027, 1, 20), tmp_path)
    tab = book.tabs["Renewals"]
    for values in tab.rows:
        values[tab.header.index("Stage")] = "Quote Requested"
    result = on(book, date(2027, 1, 31), tmp_path)
    assert not [e for e in result.review.escalations if e.request_id == "GL-4481920"]
    assert renewal(book, "GL-4481920")["Next Step"] == "Quotes due 02/14"


def test_clients_are_reminded_at_90_and_30_days_once_each(
    book: MemoryTracker, tmp_path: Path
) -> None:
    sent = tmp_path / "outbox"
    on(book, EXPIRES - timedelta(days=100), tmp_path)
    assert not sent.exists() or not list(sent.glob("renewal-*"))
    on(book, EXPIRES - timedelta(days=90), tmp_path)
    on(book, EXPIRES - timedelta(days=89), tmp_path)
    files = sorted(p.name for p in sent.glob("renewal-*"))
    assert files == ["renewal-GL4481920-20270331-90d.eml", "renewal-WC2209381-20270331-90d.eml"]
    msg = email.message_from_bytes((sent / files[0]).read_bytes(), policy=email.policy.default)
    assert msg["To"] == "jen@brightline.example"
    assert str(msg["Subject"]) == "Your GL GL-4481920 renews on March 31, 2027"
    assert renewal(book, "GL-4481920")["Last Client Contact"] == EXPIRES - timedelta(days=90)
    on(book, EXPIRES - timedelta(days=30), tmp_path)
    assert len(list(sent.glob("renewal-*-30d.eml"))) == 2


def test_a_presented_renewal_that_sits_gets_a_follow_up(
    book: MemoryTracker, tmp_path: Path
) -> None:
    on(book, EXPIRES - timedelta(days=60), tmp_path)  # opened, reminded at 90 days' mark
    tab = book.tabs["Renewals"]
    tab.rows[0][tab.header.index("Stage")] = "Presented"
    tab.rows[0][tab.header.index("Last Client Contact")] = EXPIRES - timedelta(days=50)
    on(book, EXPIRES - timedelta(days=44), tmp_path)
    assert not list((tmp_path / "outbox").glob("*presented*"))
    on(book, EXPIRES - timedelta(days=43), tmp_path)
    assert [p.name for p in (tmp_path / "outbox").glob("*presented*")] == [
        "renewal-GL4481920-presented-20270209.eml"
    ]


def test_a_new_exception_reaches_the_owner_in_the_next_digest(
    book: MemoryTracker, tmp_path: Path
) -> None:
    set_setting(book, "Digest Times", "08:30")
    on(book, date(2027, 1, 20), tmp_path)
    tab = book.tabs["Renewals"]
    tab.rows[0][tab.header.index("Exception")] = "Client Shopping"
    on(book, date(2027, 1, 20), tmp_path)  # 09:00: recorded
    on(book, date(2027, 1, 21), tmp_path)  # the 08:30 digest of the 21st
    digests = list((tmp_path / "outbox").glob("digest-20270121-0830-priya*"))
    assert len(digests) == 1
    text = email.message_from_bytes(digests[0].read_bytes(), policy=email.policy.default)
    body = text.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Renewals at risk (" in body and "Client Shopping" in body
    assert [r["What"] for r in log_rows(book)].count("Renewal exception") == 1


def test_the_daily_summary_shows_the_renewal_pipeline(book: MemoryTracker, tmp_path: Path) -> None:
    on(book, date(2027, 2, 26), tmp_path)  # opened, key dates set, milestones already missed
    set_setting(book, "Daily Summary Time", "07:30")
    on(book, date(2027, 3, 1), tmp_path)
    [summary] = list((tmp_path / "outbox").glob("summary-20270301-dana*"))
    text = email.message_from_bytes(summary.read_bytes(), policy=email.policy.default)
    body = text.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "premium at stake $12,000" in body
    assert "March: Upcoming 2" in body
    assert "At risk (2)" in body

"""The two-way contract under real conditions: a big first cycle on Google Sheets, writes
that Google applied but answered badly, the job's own writes read back, a follow-up in the
same fetch as its original, a renamed header, and cron doing what the service does."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from sheets_ops.cli import main
from sheets_ops.cycle import CycleResult, run_cycle
from sheets_ops.model import REQUESTS, TABS
from sheets_ops.sheet import Batch, NewRow, TrackerError
from sheets_ops.sync.google import GoogleTracker, open_google
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.transport import SmtpTransport
from sheets_ops.sync.xlsx import XlsxTracker
from tests.conftest import NOW, make_eml
from tests.fake_sheets import MAX_PAYLOAD, FakeSheets
from tests.people import FAKES, edit_tab, log_rows, requests, set_setting
from tests.smtp_server import Recorder, smtp_server

Drop = Callable[[str, bytes], Path]
TWO_MB = 2 * 1024 * 1024


def staff(tracker: Tracker) -> None:
    """Two CSRs and an owner; certificates need a policy number and a holder."""
    rows = [
        NewRow(
            "Team",
            {
                "Name": n,
                "Role": r,
                "Email": f"{n.split()[0].lower()}@agency.example",
                "On Duty": "Yes",
            },
        )
        for n, r in (("Dana Ruiz", "Owner"), ("Tom Becker", "CSR"), ("Ana Cruz", "CSR"))
    ]
    rows.append(
        NewRow(
            "Routing",
            {
                "Type": "COI",
                "Route To": "On-duty CSR",
                "SLA": 8,
                "Escalate After Idle": 4,
                "Required Info": "Policy #; Certificate Holder",
            },
        )
    )
    tracker.write(Batch(rows=rows))
    set_setting(tracker, "Client Emails", "On")
    set_setting(tracker, "Weekly Report", "Off")


def import_old_sheet(fake: FakeSheets, count: int) -> None:
    """What an agency pastes from its old spreadsheet: ID, Received, Status and Source."""
    header = list(REQUESTS.headers)
    rows = []
    for n in range(1, count + 1):
        row: list[Any] = [None] * len(header)
        row[0] = f"REQ-{n:06d}"
        row[header.index("Received")] = 46300 + n / 1000  # Oct 2026, as a date serial
        row[header.index("Status")] = "In Progress" if n % 3 else "Waiting on Carrier"
        row[header.index("Summary")] = f"request {n} from the old sheet"
        row[header.index("Source")] = f"old:{n}"
        rows.append(row)
    fake.set_values("Requests", [header, *rows])
    fake.sheet("Requests").rows = count + 1000


# Google: a first cycle too big for one request ------------------------------------------


# CI catches up 4,000 imported rows with requests scaled down to match (400 KB, six a
# cycle); `make campaign` runs the 20,000 rows of the issue at Google's real sizes.
FULL = os.environ.get("SHEETS_OPS_CAMPAIGN_ROUNDS", "3") != "3"
CATCH_UP = (20_000, None, None) if FULL else (4_000, 400_000, 6)


@pytest.mark.campaign
def test_an_imported_sheet_catches_up_in_bounded_cycles_and_new_mail_lands_at_once(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox, drop: Drop
) -> None:
    count, chunk_bytes, max_chunks = CATCH_UP
    if chunk_bytes is not None and max_chunks is not None:
        google_tracker.chunk_bytes, google_tracker.max_chunks = chunk_bytes, max_chunks
    limit = min(TWO_MB, int((chunk_bytes or TWO_MB) * 1.2))
    staff(google_tracker)
    set_setting(google_tracker, "Archive After Days", "Off")
    import_old_sheet(sheets_api, count)
    sheets_api.clear_calls()
    cycles = 0
    lines: list[str] = []
    google_tracker.say = lines.append
    while True:
        cycles += 1
        drop(f"{cycles}.eml", make_eml(cycles, body="Please send a certificate."))
        result = run_cycle(google_tracker, inbox, NOW + timedelta(minutes=2 * cycles))
        assert result.new == 1  # the new message lands in every cycle, first
        if result.report.catching_up is None:
            break
        assert cycles < 12
    assert cycles >= 3  # it did not fit one cycle...
    assert lines[0].startswith("catching up: ") and lines[0].endswith(
        f"of {count + 1:,} rows this cycle; the next cycles write the rest"
    )
    writes = sheets_api.calls_of("batchUpdate")
    assert max(c.sent for c in writes) <= limit  # ...and never one request too big
    assert all(c.status == 200 for c in sheets_api.calls)
    rows = requests(google_tracker)
    assert len(rows) == count + cycles
    assert all(r["Owner"] and r["SLA"] and r["Due"] for r in rows)  # every row caught up
    keys = Counter(r["Key"] for r in log_rows(google_tracker))
    assert keys.most_common(1)[0][1] == 1
    routed = Counter(r["Request"] for r in log_rows(google_tracker) if r["What"] == "Routed")
    assert set(routed.values()) == {1} and len(routed) == count + cycles  # each routed once
    print(f"{count:,} rows: {cycles} cycles, largest request {max(c.sent for c in writes):,} B")


def test_the_fake_refuses_a_request_google_would_refuse(
    google_tracker: GoogleTracker, sheets_api: FakeSheets
) -> None:
    """The edge is honest: over 10 MB is a 400, as Google answers it."""
    body = {"requests": [{"x": "y" * 11_000_000}]}
    with pytest.raises(Exception, match="Request payload size exceeds the limit"):
        google_tracker.http.batch_update(sheets_api.key, body)
    assert sheets_api.calls[-1].status == 400 and sheets_api.calls[-1].sent > MAX_PAYLOAD


# Google: a write applied but answered badly ----------------------------------------------


def mail(inbox: Path) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    for n in range(4):  # two complete requests, two missing details (each asks the client)
        body = (
            "Please send a certificate for GL-4481920 naming Riverside Mall LLC as holder."
            if n % 2
            else "Please send a certificate."
        )
        (inbox / f"{n}.eml").write_bytes(make_eml(n, body=body))


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    with smtp_server() as (recorder, port):
        yield recorder, port


def twin(
    tmp_path: Path, name: str, key: Path, port: int
) -> tuple[FakeSheets, GoogleTracker, FolderMailbox, Callable[[datetime], CycleResult]]:
    """An agency on its own fake sheet, inbox, state and outbox."""
    import responses

    fake = FakeSheets(key=f"1Fake{name}Key_0123456789abcdefghijklmnop")
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    fake.install(mock)
    mock.start()
    tracker = open_google(fake.key, key)
    tracker.http.sleep = fake.slept.append  # type: ignore[attr-defined]
    FAKES[tracker] = fake
    tracker.init(TABS)
    staff(tracker)
    mock.stop()
    folder = tmp_path / name
    mail(folder / "inbox")
    box = FolderMailbox(folder / "inbox")
    state = StateDir(folder / "state")

    def cycle(now: datetime) -> CycleResult:
        mock.start()
        try:
            outbox = Outbox(folder / "state", SmtpTransport(f"smtp://127.0.0.1:{port}"))
            try:
                return run_cycle(tracker, box, now, outbox=outbox, state=state)
            finally:
                outbox.close()
        finally:
            mock.stop()

    return fake, tracker, box, cycle


def by_id(fake: FakeSheets, tab: str = "Requests") -> dict[str, dict[str, Any]]:
    header, *rows = fake.values(tab)
    return {str(r[0]): dict(zip(header, r, strict=False)) for r in rows if r}


def log_lines(fake: FakeSheets, when: bool = True) -> list[tuple[Any, ...]]:
    header, *rows = fake.values("Log")
    columns = ("When", "Request", "What", "Old", "New", "By")[0 if when else 1 :]
    keep = [header.index(h) for h in columns]
    return sorted(
        (tuple(r[j] if j < len(r) else None for j in keep) for r in rows if r),
        key=lambda line: tuple(str(v) for v in line),
    )


@pytest.mark.parametrize(
    "fault",
    ["500 after applying", "no answer after applying", "500 after applying, then gives up"],
)
def test_a_write_google_applied_but_answered_badly_ends_as_a_clean_run(
    tmp_path: Path, service_account_key: Path, smtp: tuple[Recorder, int], fault: str
) -> None:
    recorder, port = smtp
    clean, _t1, _b1, clean_cycle = twin(tmp_path, "clean", service_account_key, port)
    faulty, _t2, box, faulty_cycle = twin(tmp_path, "faulty", service_account_key, port)
    moments = [NOW + timedelta(minutes=m) for m in (0, 5, 10, 200)]
    for moment in moments:
        clean_cycle(moment)
    clean_sent = recorder.keys()
    recorder.messages.clear()
    if fault == "500 after applying":
        faulty.fail(500, kind="batchUpdate", applied=True)
    elif fault == "no answer after applying":
        faulty.time_out(kind="batchUpdate", applied=True)
    else:  # applied, then Google stays down for the looks after it: the cycle gives up
        faulty.fail(500, kind="batchUpdate", applied=True)
        faulty.fail(500, times=18, kind="get")  # three looks, each retried six times
    for n, moment in enumerate(moments):
        if n == 0 and fault.endswith("gives up"):
            with pytest.raises(TrackerError, match="answered 500"):
                faulty_cycle(moment)
            assert [p.name for p in box.pending()]  # nothing acknowledged
            continue
        faulty_cycle(moment)
    assert by_id(faulty) == by_id(clean)  # cell by cell, by ID
    # A cycle that gave up sends its emails one cycle later: the same lines, a later When.
    when = not fault.endswith("gives up")
    missing = Counter(log_lines(clean, when)) - Counter(log_lines(faulty, when))
    extra = Counter(log_lines(faulty, when)) - Counter(log_lines(clean, when))
    assert not missing and not extra, (missing, extra)  # every Log line, once
    assert not [line for line in log_lines(faulty) if line[5] == "sheet edit"]
    assert sorted(recorder.keys()) == sorted(clean_sent)  # every email once
    assert len(set(recorder.keys())) == len(recorder.keys())


# every backend: the job's own writes are not people's edits -----------------------------


def test_two_cycles_with_no_person_at_the_sheet_log_no_edit(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop, tmp_path: Path
) -> None:
    staff(tracker)
    drop("a.eml", make_eml(1, body="Certificate for GL-4481920, needed by 12/3 please."))
    state = StateDir(tmp_path / "state")
    run_cycle(tracker, inbox, NOW, state=state)
    edit_tab(  # a person types a phone call in, with no ID, and sets a carrier wait
        tracker,
        "Requests",
        lambda header, rows: (
            header,
            [
                *[
                    [
                        ("Waiting on Carrier" if h == "Status" else v)
                        for h, v in zip(header, r, strict=False)
                    ]
                    for r in rows
                ],
                [("Called: add a driver" if h == "Summary" else None) for h in header],
            ],
        ),
    )
    first = run_cycle(tracker, inbox, NOW + timedelta(minutes=2), state=state)
    assert first.review.edits == 1  # the Status a person set, and nothing else
    [row, typed] = requests(tracker)
    assert row["Client Deadline"] in (date(2026, 12, 3), datetime(2026, 12, 3))
    assert row["Next Follow-up"] and typed["Owner"]  # filled by the job
    for minutes in (4, 6):
        later = run_cycle(tracker, inbox, NOW + timedelta(minutes=minutes), state=state)
        assert later.review.edits == 0
    edits = [r for r in log_rows(tracker) if r["By"] == "sheet edit"]
    assert [(r["What"], r["New"]) for r in edits] == [("Status changed", "Waiting on Carrier")]


def test_a_cycle_that_died_after_its_write_landed_leaves_no_false_edit(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop, tmp_path: Path
) -> None:
    staff(tracker)
    state = StateDir(tmp_path / "state")
    run_cycle(tracker, inbox, NOW, state=state)
    tracker.write(
        Batch(
            rows=[
                NewRow(
                    "Requests",
                    {"ID": "REQ-000001", "Source": "x", "Summary": "cert", "Type": "COI"},
                )
            ]
        )
    )
    run_cycle(tracker, inbox, NOW + timedelta(minutes=1), state=state)  # routed, seen
    drop("a.eml", make_eml(1))
    # The next cycle's write lands, then the process dies before it can save what it saw.
    saved = state.save_seen
    state.save_seen = lambda _seen: None  # type: ignore[method-assign]
    run_cycle(tracker, inbox, NOW + timedelta(minutes=2), state=state)
    state.save_seen = saved  # type: ignore[method-assign]
    after = run_cycle(tracker, inbox, NOW + timedelta(minutes=3), state=state)
    assert after.review.edits == 0
    assert not [r for r in log_rows(tracker) if r["By"] == "sheet edit"]


# every backend: a follow-up in the same fetch as its original ----------------------------


def test_a_follow_up_in_the_same_fetch_as_its_original_lands_on_it(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("1.eml", make_eml(1, subject="Certificate for the Riverside job"))
    follow = make_eml(
        2,
        subject="Re: Certificate for the Riverside job",
        sender="client1@example.com",
        body="Following up... can someone call me?",
    )
    follow = follow.replace(b"To: ", b"In-Reply-To: <msg-1@example.com>\nTo: ", 1)
    drop("2.eml", follow)
    result = run_cycle(tracker, inbox, NOW)
    assert (result.new, len(result.plan.followups)) == (1, 1)
    [row] = requests(tracker)
    assert row["Thread"] == "2 messages; client followed up 2026-11-27 08:30"
    assert "Following up... can someone call me?" in row["Context"]
    assert [p.name for p in inbox.pending()] == []
    [line] = [r for r in log_rows(tracker) if r["What"] == "Client follow-up"]
    assert line["Request"] == row["ID"]


def test_a_follow_up_on_a_request_already_in_the_sheet_shows_in_its_context(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("1.eml", make_eml(1, subject="Certificate for the Riverside job"))
    run_cycle(tracker, inbox, NOW)
    follow = make_eml(
        2,
        subject="Re: Certificate",
        sender="client1@example.com",
        body="Any update? The GC is asking.",
    )
    drop("2.eml", follow.replace(b"To: ", b"In-Reply-To: <msg-1@example.com>\nTo: ", 1))
    run_cycle(tracker, inbox, NOW + timedelta(minutes=5))
    [row] = requests(tracker)
    assert row["Thread"].startswith("2 messages; client followed up")
    assert row["Context"].endswith("Any update? The GC is asking.")


# every backend: a renamed required header ----------------------------------------------


def test_a_renamed_header_is_one_line_and_init_adds_no_empty_twin(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    for n in range(6):
        drop(f"{n}.eml", make_eml(n))
    run_cycle(tracker, inbox, NOW)
    edit_tab(
        tracker, "Requests", lambda h, rows: (["State" if x == "Status" else x for x in h], rows)
    )
    with pytest.raises(TrackerError) as e:
        run_cycle(tracker, inbox, NOW)
    assert str(e.value) == (
        'Requests tab: "State" looks like the renamed "Status" column: rename it back to "Status"'
    )
    done = tracker.init(TABS)
    assert any('"State" looks like the renamed "Status"' in line for line in done)
    header = tracker.read().tabs["Requests"].header
    assert "Status" not in header and "State" in header


def test_a_human_column_emptied_on_every_row_is_a_broken_column_not_edits(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop, tmp_path: Path
) -> None:
    staff(tracker)
    for n in range(6):
        drop(f"{n}.eml", make_eml(n))
    state = StateDir(tmp_path / "state")
    run_cycle(tracker, inbox, NOW, state=state)
    j = tracker.read().tabs["Requests"].header.index("Status")
    edit_tab(
        tracker,
        "Requests",
        lambda h, rows: (h, [[None if k == j else v for k, v in enumerate(r)] for r in rows]),
    )
    result = run_cycle(tracker, inbox, NOW + timedelta(minutes=2), state=state)
    assert result.review.edits == 0
    [line] = result.review.problems
    assert line.startswith(
        'Requests tab: every "Status" cell is blank since the last cycle (6 rows'
    )
    assert not [r for r in log_rows(tracker) if r["By"] == "sheet edit"]


# cron does what the service does ----------------------------------------------------------


class Pings(BaseHTTPRequestHandler):
    count = 0

    def do_GET(self) -> None:
        type(self).count += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def ping_url() -> Iterator[str]:
    Pings.count = 0
    server = HTTPServer(("127.0.0.1", 0), Pings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ping"
    server.shutdown()


def test_run_once_from_cron_keeps_the_health_tab_backs_up_and_pings_like_the_service(
    agency: Path, monkeypatch: pytest.MonkeyPatch, ping_url: str
) -> None:
    from sheets_ops import config
    from sheets_ops.jobs import Jobs
    from sheets_ops.sync import open_mailbox, open_outbox

    tracker = XlsxTracker(agency / "tracker.xlsx")
    tracker.init(TABS)
    (agency / "inbox").mkdir(exist_ok=True)
    (agency / "inbox" / "a.eml").write_bytes(make_eml(1))
    monkeypatch.setenv("HEALTHCHECK_URL", ping_url)
    assert main(["run", "--once", "--now", "2026-11-30T09:00"]) == 0
    health = {r["Key"]: r["Value"] for r in _tab(tracker, "Health")}
    cfg = config.load()
    service = Jobs(cfg, tracker, open_mailbox(cfg), open_outbox(cfg), StateDir(cfg.state_dir))
    assert set(health) == {*service.health(), "Mailbox", "Aging refreshed", "Problems"}
    assert health["Last good cycle"] == datetime(2026, 11, 30, 9, 0)  # the cycle's clock
    assert health["Mailbox"] == "ok" and health["Last error"] == "none"
    assert (agency / ".sheets_ops" / "backups" / "tracker-20261130.xlsx").is_file()
    assert Pings.count == 1
    assert main(["run", "--once", "--now", "2026-11-30T09:02"]) == 0
    assert Pings.count == 2
    assert len(list((agency / ".sheets_ops" / "backups").iterdir())) == 1  # once a day


def _tab(tracker: Tracker, name: str) -> list[dict[str, Any]]:
    tab = tracker.read().tabs[name]
    return [
        {h: (r[j] if j < len(r) else None) for j, h in enumerate(tab.header)}
        for r in tab.rows
        if any(v is not None for v in r)
    ]

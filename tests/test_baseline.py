"""`sheets-ops baseline` on a generated mailbox whose reply times are known: the figures it
prints and writes are the generator's, to the minute."""

from __future__ import annotations

import mailbox
import statistics
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheets_ops.baseline import grid
from sheets_ops.cli import main
from sheets_ops.model import TABS, RequestType
from sheets_ops.rules.baseline import Baseline
from sheets_ops.rules.clock import Calendar
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Batch
from sheets_ops.sync.google import GoogleTracker
from sheets_ops.sync.xlsx import XlsxTracker
from tests.fake_sheets import FakeSheets
from tests.imap_server import PASSWORD, USER, ImapServer, running, servers
from tests.mailbox_gen import NOW, PEOPLE, SAYS, generate


def tracker_with_team(agency: Path) -> tuple[Path, Calendar]:
    assert main(["init"]) == 0
    tracker = agency / "tracker.xlsx"
    wb = load_workbook(tracker)
    for address, name in PEOPLE.items():
        wb["Team"].append([name, address, "CSR", "Yes", None, None])
    wb.save(tracker)
    return tracker, read_settings(XlsxTracker(tracker).read()).calendar


def baseline_rows(tracker: Path) -> list[list[object]]:
    ws = load_workbook(tracker)["Baseline"]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=2)]  # row 1: the moment


def quantiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[-1]


def test_the_baseline_is_the_generators_to_the_minute(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracker, calendar = tracker_with_team(agency)
    box = generate(calendar)
    assert len(box.inbox) + len(box.sent) >= 2000
    (agency / "inbox").mkdir(exist_ok=True)
    (agency / "sent").mkdir()
    for n, raw in enumerate(box.inbox):
        (agency / "inbox" / f"{n:05d}.eml").write_bytes(raw)
    for n, raw in enumerate(box.sent):
        (agency / "sent" / f"{n:05d}.eml").write_bytes(raw)
    before = sorted(p.name for p in (agency / "inbox").iterdir())
    capsys.readouterr()
    at = NOW.isoformat()
    assert (
        main(
            [
                "baseline",
                "--sent",
                "sent",
                "--since",
                "2026-09-01",
                "--now",
                at,
                "--html",
                "baseline.html",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert sorted(p.name for p in (agency / "inbox").iterdir()) == before  # nothing moved

    ws = load_workbook(tracker)["Baseline"]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    table = {r[0]: r for r in cells if r and r[0] in (*SAYS, "All requests")}
    day = calendar.day_seconds / 3600
    for kind in (*SAYS, "All requests"):
        mine = [r for r in box.requests if kind in (r[0], "All requests")]
        waited = [d / 60 for _k, _r, d, _w in mine if d is not None]
        median, p90 = quantiles(waited)
        row = table[kind]
        assert row[5] == len(mine)
        assert abs(row[1] - median) * 60 < 1 and abs(row[2] - p90) * 60 < 1, (kind, row)
        for days, column in ((1, 3), (3, 4)):
            old = [r for r in mine if calendar.hours_between(r[1], NOW) >= days * day]
            late = [r for r in old if r[2] is None or r[2] > days * day * 60]
            assert abs(row[column] - len(late) / len(old)) < 0.001, (kind, days, row)
    assert table["All requests"][6] == box.follow_ups
    assert [r[0] for r in cells[5:12]] == [k.value for k in RequestType]  # the charted rows
    with zipfile.ZipFile(tracker) as book:  # openpyxl does not read charts back: the XML
        charts = [book.read(n) for n in book.namelist() if n.startswith("xl/charts/chart")]
    assert sum(b"Baseline'!$B$6:$B$12" in c for c in charts) == 1  # the medians by type
    by_person = {r[0]: r for r in cells if r and r[0] in PEOPLE.values()}
    for address, name in PEOPLE.items():
        waited = [d / 60 for _k, _r, d, w in box.requests if w == address and d is not None]
        assert by_person[name][5] == len(waited)
        assert abs(by_person[name][1] - quantiles(waited)[0]) * 60 < 1
    assert "hurts most" in out and "Baseline tab" in out
    assert "<table>" in (agency / "baseline.html").read_text("utf-8")

    # the weekly report shows the baseline beside the week
    assert main(["report", "--html", "weekly.html", "--now", at]) == 0
    weekly = (agency / "weekly.html").read_text("utf-8")
    assert "Before sheets-ops (the baseline, from the mailbox, 2026-09-01 to 2026-12-01)" in weekly
    overall = table["All requests"]
    assert f"{overall[1]:g} h" in weekly and f"{overall[3]:.0%}" in weekly
    assert "the pilot" not in weekly
    wb = load_workbook(tracker)  # a pilot on COI: its own baseline beside the overall one
    next(r for r in wb["Settings"].iter_rows(min_row=2) if r[0].value == "Pilot Types")[
        1
    ].value = "COI"
    wb.save(tracker)
    assert main(["report", "--html", "weekly.html", "--now", at]) == 0
    weekly = (agency / "weekly.html").read_text("utf-8")
    assert "COI (the pilot&#39;s)" in weekly or "COI (the pilot's)" in weekly
    assert f"{table['COI'][1]:g} h median" in weekly
    capsys.readouterr()


@pytest.fixture(scope="module", params=servers())
def imap(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ImapServer]:
    yield from running(request.param, tmp_path_factory.mktemp(request.param))


def snapshot_of(imap: ImapServer) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Every folder, and (Message-ID, flags) of what it holds, as a mail client sees it."""
    out = {}
    with imap.admin() as box:
        for info in box.folder.list():
            box.folder.set(info.name, readonly=True)
            out[info.name] = sorted(
                (str(m.obj["Message-ID"]), tuple(sorted(m.flags)))
                for m in box.fetch(mark_seen=False, headers_only=True)
            )
    return out


def test_the_baseline_reads_imap_read_only_and_finds_the_same(
    agency: Path,
    imap: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The inbox and the Sent folder on a real IMAP server: the same figures as from files,
    and no flag, message or folder changed."""
    tracker, calendar = tracker_with_team(agency)
    box = generate(calendar, requests=60, seed=7)
    inbox, sent = imap.new_folder(), imap.new_folder()
    with imap.admin() as admin:
        for n, raw in enumerate(box.inbox):
            admin.append(raw, inbox, flag_set=["\\Seen"] if n % 3 == 0 else None)
        for raw in box.sent:
            admin.append(raw, sent, flag_set=["\\Seen"])
    (agency / "files").mkdir()
    (agency / "sent").mkdir()
    for n, raw in enumerate(box.inbox):
        (agency / "files" / f"{n:04d}.eml").write_bytes(raw)
    for n, raw in enumerate(box.sent):
        (agency / "sent" / f"{n:04d}.eml").write_bytes(raw)
    at = ["--since", "2026-09-01", "--now", NOW.isoformat()]
    monkeypatch.setenv("MAILBOX", str(agency / "files"))
    assert main(["baseline", "--sent", "sent", *at]) == 0
    from_files = baseline_rows(tracker)

    before = snapshot_of(imap)
    monkeypatch.setenv("MAILBOX", imap.url(inbox))
    monkeypatch.setenv("MAILBOX_USER", USER)
    monkeypatch.setenv("MAILBOX_PASSWORD", PASSWORD)
    assert main(["baseline", "--sent", sent, *at]) == 0
    assert snapshot_of(imap) == before  # read-only: nothing moved, flagged or created
    assert baseline_rows(tracker) == from_files
    assert any(r[0] == "COI" and r[5] == 20 for r in from_files)
    capsys.readouterr()


def test_without_a_tracker_the_baseline_still_answers(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sheets_ops.rules.settings import read_settings as settings_of
    from sheets_ops.sheet import Snapshot

    box = generate(settings_of(Snapshot({})).calendar, requests=30, seed=3)
    (agency / "inbox").mkdir(exist_ok=True)
    for n, raw in enumerate(box.inbox):
        (agency / "inbox" / f"{n:03d}.eml").write_bytes(raw)
    (agency / "inbox" / "zzz.eml").write_bytes(b"")  # not mail at all: said, and not counted
    sent = mailbox.mbox(agency / "sent.mbox")  # an mbox file, as a mail program exports it
    for raw in box.sent:
        sent.add(raw)
    sent.flush()
    assert main(["baseline", "--sent", "sent.mbox", "--now", NOW.isoformat()]) == 0
    captured = capsys.readouterr()
    answered = sum(1 for r in box.requests if r[2] is not None)
    assert "All requests       30 requests" in captured.out  # the colleagues' forwards are not
    assert "default business hours" in captured.err
    assert "1 inbox message could not be read as email" in captured.err
    assert answered < 30 and "hurts most" in captured.out


def test_the_baseline_tab_on_google_gets_its_chart(
    google_tracker: object, sheets_api: object
) -> None:
    """Written through gspread to the fake Sheets API: the tab is added with its chart."""

    assert isinstance(google_tracker, GoogleTracker) and isinstance(sheets_api, FakeSheets)
    google_tracker.init(TABS)
    batch = Batch()
    batch.grids["Baseline"] = grid(Baseline(NOW, NOW), "nothing yet")
    google_tracker.write(batch)
    titles = [c["spec"]["title"] for c in sheets_api.sheet("Baseline").charts]
    assert titles == ["First response before sheets-ops (median business hours)"]
    assert sheets_api.values("Baseline")[5][0] == "COI"

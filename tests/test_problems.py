"""Values people type that the job cannot use: each is one line in the cycle's output, a
Problem line on the Health tab and a FAIL in doctor, naming the tab and cell and how to fix
it; the cycle goes on and nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from sheets_ops.cli import main
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.xlsx import XlsxTracker
from tests.conftest import make_eml
from tests.people import edit_tab, requests, set_setting

Grid = tuple[list[Any], list[list[Any]]]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cell(column: str, value: str) -> Callable[[XlsxTracker], None]:
    def change(tracker: XlsxTracker) -> None:
        def edit(header: list[Any], rows: list[list[Any]]) -> Grid:
            rows[0][header.index(column)] = value
            return header, rows

        edit_tab(tracker, "Requests", edit)

    return change


def setting(key: str, value: str) -> Callable[[XlsxTracker], None]:
    return lambda tracker: set_setting(tracker, key, value)


def routing_sla(value: str) -> Callable[[XlsxTracker], None]:
    def change(tracker: XlsxTracker) -> None:
        def edit(header: list[Any], rows: list[list[Any]]) -> Grid:
            row: list[Any] = [None] * len(header)
            row[header.index("Type")], row[header.index("SLA")] = "COI", value
            return header, [*rows, row]

        edit_tab(tracker, "Routing", edit)

    return change


def holiday(value: str) -> Callable[[XlsxTracker], None]:
    def change(tracker: XlsxTracker) -> None:
        def edit(header: list[Any], rows: list[list[Any]]) -> Grid:
            return header, [*rows, [value, "the office party"]]

        edit_tab(tracker, "Holidays", edit)

    return change


def deleted(title: str) -> Callable[[XlsxTracker], None]:
    def change(tracker: XlsxTracker) -> None:
        wb = load_workbook(tracker.path)
        wb.remove(wb[title])
        wb.save(tracker.path)

    return change


CASES = {
    "a Status not one of the seven": (
        cell("Status", "Waiting for carrier"),
        'Requests!L2: REQ-000001: Status "Waiting for carrier" is not one of the seven',
    ),
    "an Owner not on Team": (
        cell("Owner", "Jane Nobody"),
        'Requests!K2: REQ-000001: Owner "Jane Nobody" is not on the Team tab',
    ),
    "a Routing SLA in words": (
        routing_sla("eight"),
        'Routing!D2: SLA "eight" for COI is not a number of hours, so 24 is used',
    ),
    "Digest Times with am": (
        setting("Digest Times", "8:30am"),
        'Digest Times "8:30am" is not a time of day, so 08:30; 13:30 is used',
    ),
    "Cycle Minutes in letters": (
        setting("Cycle Minutes", "abc"),
        'Cycle Minutes "abc" is not a number, so 2 is used',
    ),
    "a Time Zone that is no zone": (
        setting("Time Zone", "Central"),
        'Time Zone "Central" is not a time zone, so America/Chicago is used',
    ),
    "a holiday that is not a date": (
        holiday("Christmas-ish"),
        'Holidays!A2: "Christmas-ish" is not a date, so the clock runs that day',
    ),
    "the Routing tab deleted": (deleted("Routing"), "Routing tab: is missing"),
    "the Settings tab deleted": (deleted("Settings"), "Settings tab: is missing"),
}


@pytest.fixture
def started(agency: Path, capsys: pytest.CaptureFixture[str]) -> XlsxTracker:
    """An agency after one cycle: REQ-000001 in the sheet, Alicia on the Team tab."""
    assert main(["init"]) == 0
    tracker = XlsxTracker(agency / "tracker.xlsx")
    alicia = {"Name": "Alicia Gomez", "Email": "a@x.example", "Role": "CSR", "On Duty": "Yes"}
    tracker.write(Batch(rows=[NewRow("Team", alicia)]))
    (agency / "inbox" / "1.eml").write_bytes(make_eml(1))
    assert main(["run", "--once", "--now", "2026-11-30T09:00"]) == 0
    capsys.readouterr()
    return tracker


def health(tracker: XlsxTracker) -> dict[str, Any]:
    tab = tracker.read().tab("Health")
    assert tab is not None
    return {str(r.get("key")): r.get("value") for _row, r in tab.records()}


@pytest.mark.parametrize("case", list(CASES))
def test_a_value_the_job_cannot_use_is_named_everywhere_and_the_cycle_goes_on(
    case: str, started: XlsxTracker, agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    breaks, expected = CASES[case]
    breaks(started)
    (agency / "inbox" / "2.eml").write_bytes(make_eml(2))
    code, out, err = run(capsys, "run", "--once", "--now", "2026-11-30T10:00")
    assert code == 0, err
    [line] = [x for x in err.splitlines() if x.startswith("problem: ")]
    assert expected in line and "; " in line  # where, what, then how to fix it
    assert "2 new" not in out and len(requests(started)) == 2  # nothing lost
    said = health(started)
    assert said["Problems"] == "1: see the Problem lines below"
    assert said["Problem 1"] == line.removeprefix("problem: ")
    code, out, _err = run(capsys, "doctor")
    assert code == 2 and "all good" not in out
    assert [x for x in out.splitlines() if x.startswith("FAIL ") and expected in x]


def test_a_fixed_value_leaves_the_health_tab(
    started: XlsxTracker, capsys: pytest.CaptureFixture[str]
) -> None:
    cell("Status", "Waiting for carrier")(started)
    cell("Owner", "Jane Nobody")(started)
    assert main(["run", "--once", "--now", "2026-11-30T10:00"]) == 0
    assert health(started)["Problems"] == "2: see the Problem lines below"
    cell("Status", "Waiting on Carrier")(started)
    cell("Owner", "Alicia Gomez")(started)
    assert main(["run", "--once", "--now", "2026-11-30T10:30"]) == 0
    said = health(started)
    assert (said["Problems"], said["Problem 1"], said["Problem 2"]) == ("none", None, None)
    capsys.readouterr()
    assert main(["doctor"]) == 0


def test_what_is_safe_is_done_meanwhile(started: XlsxTracker) -> None:
    cell("Status", "Waiting for carrier")(started)
    cell("Owner", "Jane Nobody")(started)
    set_setting(started, "Cycle Minutes", "abc")
    assert main(["run", "--once", "--now", "2026-12-03T16:00"]) == 0
    [row] = [r for r in requests(started) if r["ID"] == "REQ-000001"]
    assert (row["Status"], row["Owner"]) == ("Waiting for carrier", "Jane Nobody")  # kept
    assert row["SLA"] == "Overdue"  # the clock ran: an unknown Status does not pause it
    assert read_settings(started.read()).get("Cycle Minutes") == "2"
    escalated = [r for r in _log(started) if str(r["What"]).startswith("Escalated")]
    assert escalated and "Alicia Gomez" in str(escalated[-1]["New"])  # routed as if blank


def _log(tracker: XlsxTracker) -> list[dict[str, Any]]:
    tab = tracker.read().tab("Log")
    assert tab is not None
    return [{h: r.get(h.lower()) for h in tab.header} for _row, r in tab.records()]


def test_a_mailbox_folder_that_is_not_there_is_one_line_and_the_sheet_goes_on(
    started: XlsxTracker,
    agency: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MAILBOX", str(agency / "nobox"))
    code, out, err = run(capsys, "run", "--once", "--now", "2026-11-30T10:00")
    assert code == 1
    assert f"MAILBOX: {agency / 'nobox'} does not exist; create it" in err
    assert "Traceback" not in err and "ValueError" not in err
    assert str(health(started)["Mailbox"]).startswith("down since 2026-11-30 10:00")
    code, out, _err = run(capsys, "doctor")
    assert code == 2 and "FAIL mailbox: MAILBOX:" in out


def test_doctor_is_not_all_good_while_the_workbook_is_open_elsewhere(
    started: XlsxTracker, agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (agency / ".~lock.tracker.xlsx#").write_text("user,Alicia Gomez,pc,01.12.2026 09:00,\n")
    code, out, _err = run(capsys, "doctor")
    assert code == 2 and "all good" not in out
    assert "FAIL workbook: tracker.xlsx is open in LibreOffice by Alicia Gomez" in out

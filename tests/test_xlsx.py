"""The embedded tracker: `init` lays out the workbook, saves are atomic, people come first."""

from __future__ import annotations

import csv
import errno
import os
import shutil
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from sheets_ops.model import REQUESTS, TABS
from sheets_ops.sheet import Batch, NewRow, TrackerError
from sheets_ops.sync.xlsx import XlsxTracker, lock_files
from tests.people import edit_tab, requests


def test_init_creates_every_contract_tab_with_its_headers(xlsx_tracker: XlsxTracker) -> None:
    wb = load_workbook(xlsx_tracker.path)
    assert wb.sheetnames == [spec.name for spec in TABS] + ["Dashboard"]
    for spec in TABS:
        header = [c.value for c in wb[spec.name][1]]
        assert header == [c.name for c in spec.laid_out]
    requests = [c.value for c in wb["Requests"][1]]
    status = requests.index("Status")  # the steps to tick sit beside Status
    assert requests[status + 1 : status + 5] == [
        "Carrier Confirmed",
        "Billing Adjusted",
        "Client Notified",
        "Certificate Sent",
    ]


def test_init_lays_dropdowns_colours_frozen_header_filters_and_notes(
    xlsx_tracker: XlsxTracker,
) -> None:
    ws = load_workbook(xlsx_tracker.path)["Requests"]
    letter = {c.value: c.column_letter for c in ws[1]}
    dropdowns = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert dropdowns[f"{letter['Status']}2:{letter['Status']}1048576"] == (
        '"New,In Progress,Needs Info,Waiting on Client,Waiting on Carrier,Done,Cancelled"'
    )
    assert f"{letter['Type']}2:{letter['Type']}1048576" in dropdowns
    assert f"{letter['Channel']}2:{letter['Channel']}1048576" in dropdowns
    sla_rules = [
        (str(cf.sqref), rule.formula[0]) for cf in ws.conditional_formatting for rule in cf.rules
    ]
    sla = f"{letter['SLA']}2:{letter['SLA']}1048576"
    assert {f for ref, f in sla_rules if ref == sla} == {
        '"Overdue"',
        '"Due soon"',
        '"On track"',
        '"Paused"',
    }
    assert ws.freeze_panes == "B2"  # the header row and the ID column stay in view
    assert ws.auto_filter.ref.startswith("A1:")
    assert ws.column_dimensions[letter["Summary"]].width >= 40
    assert ws.column_dimensions[letter["Context"]].width >= 40
    assert ws.column_dimensions[letter["Escalation"]].width >= 30
    assert "replaced" in ws[f"{letter['Age (h)']}1"].comment.text
    assert "kept" in ws[f"{letter['Owner']}1"].comment.text
    assert "not recomputed" in ws[f"{letter['Summary']}1"].comment.text  # the legend is true
    assert "each follow-up adds" in ws[f"{letter['Context']}1"].comment.text
    archive_note = load_workbook(xlsx_tracker.path)["Archive"]["A1"].comment.text
    assert "Archive Location" in archive_note and "Dashboard's C2" in archive_note
    status = f"{letter['Status']}2:{letter['Status']}1048576"
    assert {f for ref, f in sla_rules if ref == status} >= {'"Done"', '"Needs Info"'}
    assert dropdowns[f"{letter['Owner']}2:{letter['Owner']}1048576"] == "=Team!$A$2:$A$500"
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"
    assert ws.sheet_properties.pageSetUpPr.fitToPage


def test_init_again_adds_what_is_missing_and_deletes_nothing(xlsx_tracker: XlsxTracker) -> None:
    xlsx_tracker.write(Batch(rows=[NewRow("Requests", {"ID": "REQ-000001", "Notes": "keep"})]))

    def break_it(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        j = header.index("Context")  # a person deletes the Context column, adds their own
        rows = [[*r[:j], *r[j + 1 : len(header)], "Sam"] for r in rows]
        return [*header[:j], *header[j + 1 :], "Producer"], rows

    edit_tab(xlsx_tracker, "Requests", break_it)
    wb = load_workbook(xlsx_tracker.path)
    del wb["Holidays"]
    wb.create_sheet("Carrier Contacts")["A1"] = "Carrier"
    wb.save(xlsx_tracker.path)

    done = xlsx_tracker.init(TABS)
    assert done == ['added header "Context" to Requests', "created tab Holidays"]
    wb = load_workbook(xlsx_tracker.path)
    assert "Carrier Contacts" in wb.sheetnames
    [row] = requests(xlsx_tracker)
    assert (row["ID"], row["Notes"], row["Producer"], row["Context"]) == (
        "REQ-000001",
        "keep",
        "Sam",
        None,
    )
    assert xlsx_tracker.init(TABS) == []
    ws = load_workbook(xlsx_tracker.path)["Requests"]
    assert len(ws.data_validations.dataValidation) == 8  # laid anew, not stacked (Owner too)


def test_settings_start_with_defaults_and_keep_what_the_owner_wrote(
    xlsx_tracker: XlsxTracker,
) -> None:
    def change(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        return header, [r for r in rows if r[0] != "Time Zone"] + [["Time Zone", "America/Denver"]]

    edit_tab(xlsx_tracker, "Settings", change)
    xlsx_tracker.init(TABS)
    settings = {r[0]: r[1] for r in xlsx_tracker.read().tabs["Settings"].rows}
    assert settings["Time Zone"] == "America/Denver"
    assert settings["Business Hours"] == "08:00-17:00"


def test_a_write_waits_while_the_workbook_is_open_then_saves(tmp_path: Path) -> None:
    said: list[str] = []
    tracker = XlsxTracker(tmp_path / "tracker.xlsx", lock_wait=5, poll=0.05, say=said.append)
    tracker.init(TABS)
    lock = tmp_path / "~$tracker.xlsx"
    lock.write_bytes(b"\x05Dana")
    threading.Timer(0.3, lock.unlink).start()
    started = time.monotonic()
    tracker.write(Batch(rows=[NewRow("Requests", {"ID": "REQ-000001"})]))
    assert time.monotonic() - started >= 0.25
    assert said == [
        "tracker.xlsx is open in Excel (~$tracker.xlsx); waiting up to 5 s for it to close"
    ]
    assert [r["ID"] for r in requests(tracker)] == ["REQ-000001"]


def test_a_lock_that_stays_names_the_file_to_delete(xlsx_tracker: XlsxTracker) -> None:
    lock = xlsx_tracker.path.with_name(".~lock.tracker.xlsx#")
    lock.write_text(",Tom Becker,front-desk,27.11.2026 08:00,file:///x;")
    before = xlsx_tracker.path.read_bytes()
    with pytest.raises(TrackerError) as e:
        xlsx_tracker.write(Batch(rows=[NewRow("Requests", {"ID": "REQ-000001"})]))
    message = str(e.value)
    assert message.startswith("tracker.xlsx is open in LibreOffice by Tom Becker")
    assert str(lock) in message and "\n" not in message
    assert xlsx_tracker.path.read_bytes() == before
    assert lock_files(xlsx_tracker.path) == [lock]


def test_a_failed_save_leaves_the_workbook_as_it_was(
    xlsx_tracker: XlsxTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = xlsx_tracker.path.read_bytes()

    def full_disk(_fd: int) -> None:  # the disk fills up while the workbook is being saved
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(TrackerError, match=r"could not be saved \(No space left on device"):
        xlsx_tracker.write(Batch(rows=[NewRow("Requests", {"ID": "REQ-000001"})]))
    monkeypatch.undo()
    assert xlsx_tracker.path.read_bytes() == before
    assert requests(xlsx_tracker) == []
    assert sorted(p.name for p in xlsx_tracker.path.parent.iterdir()) == ["tracker.xlsx"]


def test_a_save_leaves_no_temporary_file_behind(xlsx_tracker: XlsxTracker) -> None:
    xlsx_tracker.write(Batch(rows=[NewRow("Requests", {"ID": "REQ-000001"})]))
    assert sorted(p.name for p in xlsx_tracker.path.parent.iterdir()) == ["tracker.xlsx"]


def test_a_workbook_that_is_not_xlsx_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "tracker.xlsx"
    path.write_text("id,summary\n1,hello\n")
    with pytest.raises(TrackerError, match=r"tracker.xlsx is not a readable \.xlsx workbook"):
        XlsxTracker(path).read()


def test_a_missing_workbook_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(TrackerError, match="run `sheets-ops init`"):
        XlsxTracker(tmp_path / "nowhere.xlsx").read()


def test_dates_are_real_dates_in_the_workbook(xlsx_tracker: XlsxTracker) -> None:
    row = {"ID": "REQ-000001", "Received": datetime(2026, 11, 27, 8, 30)}
    xlsx_tracker.write(Batch(rows=[NewRow("Requests", row)]))
    ws = load_workbook(xlsx_tracker.path)["Requests"]
    received = ws.cell(row=2, column=REQUESTS.headers.index("Received") + 1)
    assert received.is_date and received.number_format == "yyyy-mm-dd hh:mm"


def libreoffice_csv(workbook: Path, out: Path) -> dict[str, list[list[str]]]:
    """Every sheet as LibreOffice reads it, one CSV each (filter option -1: all sheets)."""
    options = "44,34,UTF8,1,,0,false,true,true,false,false,-1"  # cells as shown
    command = [
        "soffice",
        "--headless",
        "--convert-to",
        f"csv:Text - txt - csv (StarCalc):{options}",
    ]
    subprocess.run(
        [*command, "--outdir", str(out), str(workbook)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    tables = {}
    for path in out.glob(f"{workbook.stem}-*.csv"):
        with open(path, newline="", encoding="utf-8") as f:
            tables[path.stem.removeprefix(f"{workbook.stem}-")] = list(csv.reader(f))
    return tables


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_demo_workbook_with_every_tab_and_row(tmp_path: Path) -> None:
    from sheets_ops.demo import build_demo
    from sheets_ops.demo_data import SAMPLES

    build_demo(tmp_path / "demo", datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    tables = libreoffice_csv(tmp_path / "demo" / "tracker.xlsx", tmp_path / "csv")
    assert set(tables) == {spec.name for spec in TABS} | {"Dashboard"}
    assert tables["Dashboard"][2] == ["Figure", "This week so far", "Last week"]
    for spec in TABS:
        assert tables[spec.name][0][: len(spec.laid_out)] == [c.name for c in spec.laid_out]
    requests_seen = tables["Requests"][1:]
    assert len(requests_seen) == len([s for s in SAMPLES if not s.follow_up])
    assert requests_seen[0][0] == "REQ-000001" and requests_seen[0][2] == "Email"
    assert "2026-11-20" <= requests_seen[0][1] < "2026-11-30 09:00"  # the days before


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_formula_like_text_as_text(
    xlsx_tracker: XlsxTracker, tmp_path: Path
) -> None:
    rows = [NewRow("Requests", {"ID": f"REQ-{n:06d}", "Summary": f"=cmd|{n}"}) for n in range(3)]
    rows.append(NewRow("Requests", {"ID": "REQ-000003", "Summary": '=HYPERLINK("http://x","y")'}))
    xlsx_tracker.write(Batch(rows=rows))
    requests_seen = libreoffice_csv(xlsx_tracker.path, tmp_path / "csv")["Requests"]
    summary = REQUESTS.headers.index("Summary")
    assert [r[summary] for r in requests_seen[1:]] == [
        "=cmd|0",
        "=cmd|1",
        "=cmd|2",
        '=HYPERLINK("http://x","y")',
    ]

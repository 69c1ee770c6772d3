"""The Google Sheets tracker: the real gspread client against an HTTP-level fake of the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from sheets_ops.config import ConfigError, load
from sheets_ops.cycle import run_cycle
from sheets_ops.model import REQUESTS, TABS
from sheets_ops.sheet import SetupError, TrackerError
from sheets_ops.sync import open_tracker
from sheets_ops.sync.google import GoogleTracker, open_google
from sheets_ops.sync.google_http import RetryingHTTPClient
from sheets_ops.sync.mailbox import FolderMailbox
from tests.conftest import NOW, SERVICE_ACCOUNT, make_eml
from tests.fake_sheets import KEY, FakeSheets, Formula
from tests.people import log_rows, requests, set_setting

Drop = Callable[[str, bytes], Path]
SHEETS_CALLS = (
    "batchGet",
    "get",
    "batchUpdate",
    "values.batchUpdate",
    "values.append",
    "values.update",
)


def api_calls(fake: FakeSheets) -> list[str]:
    return [c.kind for c in fake.calls_of(*SHEETS_CALLS)]


def fill_requests(fake: FakeSheets, count: int) -> None:
    """A tracker that has been in use for a while: `count` closed requests."""
    header = list(REQUESTS.headers)
    rows = []
    for n in range(1, count + 1):
        row: list[Any] = [None] * len(header)
        row[0] = f"REQ-{n:06d}"
        row[header.index("Received")] = 46000 + n / 100  # a date serial
        row[header.index("From")] = f"old{n}@example.com"
        row[header.index("Summary")] = f"older request {n}"
        row[header.index("Status")] = "Done"
        row[header.index("Closed")] = 46000 + n / 100 + 1
        row[header.index("SLA")] = "Closed"
        row[header.index("Source")] = f"<old-{n}@example.com>"
        rows.append(row)
    fake.set_values("Requests", [header, *rows])


def type_a_phone_call(fake: FakeSheets) -> None:
    header, *rows = fake.values("Requests")
    row: list[Any] = [None] * len(header)
    row[header.index("Summary")] = "Called: add a driver"
    fake.set_values("Requests", [header, *rows, row])


def test_a_20000_row_tracker_cycles_in_at_most_3_api_calls(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox, drop: Drop
) -> None:
    fill_requests(sheets_api, 20_000)
    set_setting(google_tracker, "Archive After Days", "Off")  # all 20,000 stay in Requests
    type_a_phone_call(sheets_api)
    for n in range(5):
        drop(f"{n}.eml", make_eml(n))
    result = run_cycle(google_tracker, inbox, NOW)
    assert result.new == 6
    assert api_calls(sheets_api) == ["batchGet", "get", "batchUpdate"]
    write = sheets_api.calls_of("batchUpdate")[0]
    assert write.sent < 20_000  # only what changed is sent, not the sheet
    kinds = [next(iter(r)) for r in write.body["requests"]]
    assert kinds.count("appendCells") == 3  # Requests, Log, and the Health tab's aging stamp
    rows = requests(google_tracker)
    assert len(rows) == 20_006
    assert rows[20_000]["ID"] == "REQ-020001"  # the phone call
    assert rows[20_000]["Channel"] == "Manual"

    sheets_api.clear_calls()
    again = run_cycle(google_tracker, inbox, NOW)
    assert again.new == 0
    assert (again.plan.batch.cells, again.plan.batch.rows) == ([], [])
    assert api_calls(sheets_api) == ["batchGet"]  # nothing changed: nothing written


def test_dates_are_real_dates_in_the_sheet(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1))
    run_cycle(google_tracker, inbox, NOW)
    header, first = sheets_api.values("Requests")[:2]
    j = header.index("Received")
    assert isinstance(first[j], float)  # a serial number, formatted as a date
    assert sheets_api.sheet("Requests").formats[(1, j)]["numberFormat"]["type"] == "DATE_TIME"
    assert requests(google_tracker)[0]["Received"] == datetime(2026, 11, 27, 8, 30)


def test_429_three_times_then_success(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1))
    sheets_api.fail(429, times=3, kind="batchGet")
    sheets_api.fail(429, times=3, kind="batchUpdate")
    result = run_cycle(google_tracker, inbox, NOW)
    assert result.new == 1
    assert api_calls(sheets_api) == ["batchGet"] * 4 + ["get"] + ["batchUpdate"] * 4
    assert len(sheets_api.slept) == 6
    assert all(0 <= s <= RetryingHTTPClient.max_delay for s in sheets_api.slept)
    assert len(requests(google_tracker)) == 1


def test_retry_after_is_respected(google_tracker: GoogleTracker, sheets_api: FakeSheets) -> None:
    sheets_api.fail(429, kind="batchGet", headers={"Retry-After": "7"})
    google_tracker.read()
    assert sheets_api.slept == [7.0]


def test_a_429_that_never_ends_gives_up_with_one_line(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1))
    sheets_api.fail(429, times=100)
    with pytest.raises(TrackerError) as e:
        run_cycle(google_tracker, inbox, NOW)
    assert len(api_calls(sheets_api)) == RetryingHTTPClient.tries
    assert "quota exceeded" in str(e.value) and "\n" not in str(e.value)
    assert [p.name for p in inbox.pending()] == ["a.eml"]


def test_a_permanent_403_names_the_sheet_and_the_account_to_share_it_with(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox
) -> None:
    sheets_api.fail(403, times=100)
    with pytest.raises(SetupError) as e:  # a configuration error: exit status 2
        run_cycle(google_tracker, inbox, NOW)
    assert str(e.value) == (
        f"{SERVICE_ACCOUNT} may not open the Google Sheet {KEY} (403): open the sheet, "
        f"Share, and add {SERVICE_ACCOUNT} as Editor"
    )
    assert len(api_calls(sheets_api)) == 1  # a 403 is not retried


def test_a_wrong_key_says_to_check_tracker(
    sheets_api: FakeSheets, service_account_key: Path
) -> None:
    tracker = open_google("1NoSuchSheetKeyNoSuchSheetKey0000000000", service_account_key)
    with pytest.raises(SetupError, match=r"no Google Sheet has the key .* \(404\): check TRACKER"):
        tracker.read()


def test_time_outs_on_reads_are_retried(
    google_tracker: GoogleTracker, sheets_api: FakeSheets
) -> None:
    sheets_api.time_out(times=2, kind="batchGet")
    assert "Requests" in google_tracker.read().tabs
    assert api_calls(sheets_api) == ["batchGet"] * 3


def test_a_write_whose_answer_was_lost_is_not_applied_twice(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox, drop: Drop
) -> None:
    for n in range(3):
        drop(f"{n}.eml", make_eml(n))
    sheets_api.fail(503, kind="batchUpdate", applied=True)  # done, but the answer was lost
    result = run_cycle(google_tracker, inbox, NOW)
    assert api_calls(sheets_api) == ["batchGet", "get", "batchUpdate", "get"]  # looked again
    assert result.acknowledged == 3
    assert [r["ID"] for r in requests(google_tracker)] == ["REQ-000001", "REQ-000002", "REQ-000003"]
    assert len(log_rows(google_tracker)) == 3


def test_a_write_that_keeps_failing_leaves_every_message_in_the_inbox(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1))
    sheets_api.fail(500, times=3, kind="batchUpdate")
    with pytest.raises(TrackerError, match="Google Sheets answered 500"):
        run_cycle(google_tracker, inbox, NOW)
    assert requests(google_tracker) == []
    assert [p.name for p in inbox.pending()] == ["a.eml"]
    assert run_cycle(google_tracker, inbox, NOW).new == 1


def test_a_sort_between_read_and_write_puts_nothing_in_the_wrong_row(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox, drop: Drop
) -> None:
    fill_requests(sheets_api, 30)
    set_setting(google_tracker, "Archive After Days", "Off")  # the 30 old rows stay put
    type_a_phone_call(sheets_api)

    def sort_newest_first() -> None:  # a CSR sorts while the cycle is thinking
        header, *rows = sheets_api.values("Requests")
        rows.sort(key=lambda r: str(r[0] or "~"), reverse=True)
        sheets_api.set_values("Requests", [header, *rows])

    sheets_api.after("batchGet", sort_newest_first)
    drop("a.eml", make_eml(1))
    first = run_cycle(google_tracker, inbox, NOW)
    assert first.new == 1  # the message; the moved phone call waits for the next cycle
    assert "changed since it was read" in first.report.skipped[0]
    before = {r["ID"]: r for r in requests(google_tracker) if r["ID"]}
    assert all(
        r["Summary"] == f"older request {int(i[4:])}" for i, r in before.items() if int(i[4:]) <= 30
    )

    second = run_cycle(google_tracker, inbox, NOW)
    assert second.new == 1
    call = next(r for r in requests(google_tracker) if r["Summary"] == "Called: add a driver")
    # REQ-000031, planned for it in the first cycle, was never written; the message got 32.
    assert (call["ID"], call["Channel"]) == ("REQ-000033", "Manual")
    ids = {r["ID"] for r in requests(google_tracker)}
    assert {r["Request"] for r in log_rows(google_tracker)} <= ids  # no line for a lost ID
    assert sheets_api.formula_writes == []


def test_a_formula_like_subject_lands_as_text(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, inbox: FolderMailbox, drop: Drop
) -> None:
    subject = '=HYPERLINK("http://x","y")'
    drop("a.eml", make_eml(1, subject=subject))
    run_cycle(google_tracker, inbox, NOW)
    header, row = sheets_api.values("Requests")[:2]
    value = row[header.index("Summary")]
    assert value == subject and not isinstance(value, Formula)
    assert sheets_api.formula_writes == []


def test_the_fake_flags_a_user_entered_write_of_message_text(
    google_tracker: GoogleTracker, sheets_api: FakeSheets
) -> None:
    # gspread's update_cell writes USER_ENTERED: the fake must catch what sheets-ops avoids.
    spreadsheet = google_tracker.http
    spreadsheet.values_update(
        KEY,
        "'Requests'!H2",
        params={"valueInputOption": "USER_ENTERED"},
        body={"values": [['=HYPERLINK("http://x","y")']]},
    )
    assert sheets_api.formula_writes == ['USER_ENTERED \'Requests\'!H2: =HYPERLINK("http://x","y")']
    assert isinstance(sheets_api.values("Requests")[1][7], Formula)


def test_init_lays_out_a_new_sheet_in_one_batch_update(
    sheets_api: FakeSheets, service_account_key: Path
) -> None:
    tracker = open_google(sheets_api.key, service_account_key)
    done = tracker.init(TABS)
    assert api_calls(sheets_api) == ["get", "batchUpdate"]
    created = [f"created tab {t}" for t in (*(t.name for t in TABS), "Dashboard")]
    assert created == [d for d in done if d.startswith("created")]
    assert [c["spec"]["title"] for c in sheets_api.sheet("Dashboard").charts] == [
        "Open work by age (business days)",
        "Open requests per owner",
        "Requests received by type",
    ]
    for spec in TABS:
        sheet = sheets_api.sheet(spec.name)
        assert sheets_api.values(spec.name)[0] == [c.name for c in spec.laid_out]
        assert sheet.frozen == 1 and sheet.basic_filter is not None
    requests_tab = sheets_api.sheet("Requests")
    lists = {
        v["range"]["startColumnIndex"]: [
            x["userEnteredValue"] for x in v["rule"]["condition"]["values"]
        ]
        for v in requests_tab.validations
    }
    at = [c.name for c in REQUESTS.laid_out].index
    assert lists[at("Status")][0] == "New"
    assert lists[at("Type")][0] == "COI"
    assert lists[at("Channel")][0] == "Email"
    assert lists[at("Owner")] == ["=Team!A2:A"]  # the names on the Team tab
    coloured = {r["ranges"][0]["startColumnIndex"] for r in requests_tab.conditional}
    assert coloured == {at("SLA"), at("Status")}
    assert "replaced" in requests_tab.notes[(0, at("Age (h)"))]
    assert "not recomputed" in requests_tab.notes[(0, at("Summary"))]
    assert "Archive Location" in sheets_api.sheet("Archive").notes[(0, 0)]  # where they go
    assert requests_tab.frozen_columns == 1  # the ID stays in view
    guarded = {p["range"]["startColumnIndex"] for p in requests_tab.protected}
    assert at("Age (h)") in guarded and at("Owner") not in guarded
    assert all(p["warningOnly"] for p in requests_tab.protected)
    [wrap] = requests_tab.repeated  # Context wraps, its first lines at the top
    assert wrap["range"]["startColumnIndex"] == at("Context")
    assert wrap["cell"]["userEnteredFormat"]["wrapStrategy"] == "WRAP"
    assert sheets_api.values("Settings")[1][:2] == ["Time Zone", "America/Chicago"]

    sheets_api.clear_calls()
    assert tracker.init(TABS) == []
    assert api_calls(sheets_api) == ["get", "batchGet", "batchUpdate"]
    assert len(sheets_api.sheet("Requests").conditional) == 10  # SLA and Status, laid once
    assert len(sheets_api.sheet("Requests").validations) == 8  # Owner and the four steps too
    assert len(sheets_api.sheet("Requests").protected) == len(requests_tab.protected)


def test_init_repairs_a_missing_header_and_keeps_data(
    google_tracker: GoogleTracker, sheets_api: FakeSheets
) -> None:
    header = [h for h in REQUESTS.headers if h != "Context"]
    sheets_api.set_values("Requests", [header, ["REQ-000001"] + [None] * 20 + ["keep"]])
    done = google_tracker.init(TABS)
    assert 'added header "Context" to Requests' in done
    values = sheets_api.values("Requests")
    assert "Context" in values[0][len(header) :]  # after the headers that were there
    assert values[1][0] == "REQ-000001" and values[1][21] == "keep"


def test_a_google_tracker_is_chosen_by_tracker_and_needs_credentials(
    service_account_key: Path,
) -> None:
    url = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"
    with pytest.raises(ConfigError, match="GOOGLE_APPLICATION_CREDENTIALS: set it"):
        open_tracker(load({"TRACKER": url}))
    cfg = load({"TRACKER": url, "GOOGLE_APPLICATION_CREDENTIALS": str(service_account_key)})
    tracker = open_tracker(cfg)
    assert isinstance(tracker, GoogleTracker) and tracker.key == KEY
    assert tracker.account == SERVICE_ACCOUNT


def test_a_file_that_is_not_a_service_account_key_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "key.json"
    bad.write_text('{"type": "authorized_user"}')
    with pytest.raises(ConfigError, match="is not a service account key"):
        open_google(KEY, bad)

"""A Google Form's responses tab: each row becomes one Form request, once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sheets_ops.cycle import run_cycle
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.tracker import Tracker
from tests.conftest import NOW
from tests.people import add_tab, edit_tab, requests, set_setting

QUESTIONS = [
    "Timestamp",
    "Email Address",
    "Company",
    "Policy Number",
    "Request Type",
    "Details",
    "Needed By",
]
ANSWERS = [
    [
        "11/24/2026 9:14:03",
        "maria@harborstreetbakery.example",
        "Harbor Street Bakery",
        "bop 5512093",
        "COI",
        "Certificate for Green City Market, 1750 N Clark St",
        "12/1/2026",
    ],
    [
        "11/24/2026 10:02:41",
        "newclient@gmail.example",
        "Sunrise Yoga",
        "",
        "",
        "Please cancel the studio policy at the end of the month",
        "",
    ],
]


def with_accounts(tracker: Tracker) -> Tracker:
    account = {
        "Client": "Harbor Street Bakery",
        "Contact Emails": "maria@harborstreetbakery.example",
        "Policies": "BOP-5512093",
    }
    tracker.write(Batch(rows=[NewRow("Accounts", account)]))  # type: ignore[arg-type]
    add_tab(tracker, "Form Responses 1", [QUESTIONS, *ANSWERS])
    set_setting(tracker, "Form Tabs", "Form Responses 1")  # read on Google Sheets too
    return tracker


def test_each_form_row_becomes_one_form_request(tracker: Tracker, inbox: FolderMailbox) -> None:
    with_accounts(tracker)
    result = run_cycle(tracker, inbox, NOW)
    assert result.new == 2
    first, second = requests(tracker)
    assert (first["Channel"], first["From"], first["Client"], first["Policy #"], first["Type"]) == (
        "Form",
        "maria@harborstreetbakery.example",
        "Harbor Street Bakery",
        "BOP-5512093",
        "COI",
    )
    assert first["Summary"] == "Certificate for Green City Market, 1750 N Clark St"
    assert first["Received"] == datetime(2026, 11, 24, 9, 14, 3)
    assert first["Client Deadline"] in (datetime(2026, 12, 1), date(2026, 12, 1))
    assert (
        first["Source"]
        == "form:Form Responses 1:2026-11-24T09:14:03-06:00:maria@harborstreetbakery.example"
    )
    assert (second["Type"], second["Client"]) == ("Cancellation", "Sunrise Yoga")
    assert "Details: Please cancel the studio policy" in second["Context"]


def test_a_form_row_is_captured_once_even_after_a_sort(
    tracker: Tracker, inbox: FolderMailbox
) -> None:
    with_accounts(tracker)
    run_cycle(tracker, inbox, NOW)

    def newest_first(header: list[Any], rows: list[list[Any]]) -> Any:
        return header, list(reversed(rows))

    edit_tab(tracker, "Form Responses 1", newest_first)
    assert run_cycle(tracker, inbox, NOW).new == 0
    assert len(requests(tracker)) == 2


def test_the_owner_maps_other_questions_in_settings(tracker: Tracker, inbox: FolderMailbox) -> None:
    add_tab(
        tracker,
        "Form Responses 2",
        [
            ["When", "Your email", "What do you need?"],
            ["2026-11-24 11:00:00", "a@b.example", "Add a driver"],
        ],
    )
    set_setting(tracker, "Form Tabs", "Form Responses 2")
    set_setting(
        tracker, "Form Columns", "When=Received; Your email=From; What do you need?=Summary"
    )
    run_cycle(tracker, inbox, NOW)
    [row] = requests(tracker)
    assert (row["From"], row["Summary"], row["Type"]) == (
        "a@b.example",
        "Add a driver",
        "Endorsement",
    )

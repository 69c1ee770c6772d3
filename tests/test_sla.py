"""The SLA clock on the sheet: Age, Idle, Due and SLA; pauses; carrier chases; done means done."""

from __future__ import annotations

from datetime import date, datetime

from sheets_ops.sheet import Batch, NewRow
from tests.office import add, log, look, office, row

FRIDAY_4PM = datetime(2026, 11, 13, 16, 0)


def test_a_friday_4pm_request_is_not_overdue_on_saturday() -> None:
    agency = office()
    rid = add(agency, type="COI", received=FRIDAY_4PM)  # COI: 8 business hours
    look(agency, datetime(2026, 11, 14, 12, 0))
    r = row(agency, rid)
    assert (r["Age (h)"], r["Idle (h)"], r["Due"], r["SLA"]) == (
        1.0,
        1.0,
        datetime(2026, 11, 16, 15, 0),
        "On track",
    )
    look(agency, datetime(2026, 11, 16, 11, 30))
    assert row(agency, rid)["SLA"] == "Due soon"  # 3.5 business hours left, under 4
    look(agency, datetime(2026, 11, 16, 15, 1))
    assert row(agency, rid)["SLA"] == "Overdue"


def test_the_client_deadline_wins_when_it_comes_first() -> None:
    agency = office()
    rid = add(
        agency,
        type="Endorsement",
        received=datetime(2026, 11, 16, 9, 0),
        deadline=date(2026, 11, 16),
    )
    look(agency, datetime(2026, 11, 16, 10, 0))
    assert row(agency, rid)["Due"] == datetime(2026, 11, 16, 17, 0)


def test_a_holiday_week_moves_due_past_the_holiday() -> None:
    agency = office(holidays=(date(2026, 11, 26), date(2026, 11, 27)))
    rid = add(agency, type="COI", received=datetime(2026, 11, 25, 12, 0))
    look(agency, datetime(2026, 11, 27, 12, 0))
    r = row(agency, rid)
    assert (r["Due"], r["Age (h)"], r["SLA"]) == (datetime(2026, 11, 30, 11, 0), 5.0, "Due soon")


def test_waiting_on_the_client_pauses_the_clock() -> None:
    agency = office()
    rid = add(agency, type="COI", received=datetime(2026, 11, 16, 8, 0), status="Waiting on Client")
    # The Log holds when the status changed: waiting from Monday 12:00.
    agency.write(
        Batch(
            rows=[
                NewRow(
                    "Log",
                    {
                        "When": datetime(2026, 11, 16, 12, 0),
                        "Request": rid,
                        "What": "Status changed",
                        "Old": "In Progress",
                        "New": "Waiting on Client",
                        "By": "sheet edit",
                    },
                )
            ]
        )
    )
    look(agency, datetime(2026, 11, 17, 12, 0))
    r = row(agency, rid)
    # 4 hours ran before the pause and 9 passed while paused: due moves 9 hours later.
    assert (r["SLA"], r["Due"]) == ("Paused", datetime(2026, 11, 17, 16, 0))


def test_waiting_on_the_carrier_sets_a_follow_up_and_reminds_the_owner_once() -> None:
    agency = office()
    rid = add(
        agency,
        type="Endorsement",
        status="Waiting on Carrier",
        owner="Priya Shah",
        received=datetime(2026, 11, 16, 9, 0),
        touched=datetime(2026, 11, 16, 9, 0),
    )
    look(agency, datetime(2026, 11, 16, 10, 0))
    assert row(agency, rid)["Next Follow-up"] == date(2026, 11, 19)  # three business days
    assert look(agency, datetime(2026, 11, 18, 10, 0)).escalations == []
    chase = [e for e in look(agency, datetime(2026, 11, 19, 9, 0)).escalations if e.level == 0]
    assert [(e.to, e.emails) for e in chase] == [(("Priya Shah",), ("priya@agency.example",))]
    assert "carrier to chase" in chase[0].reason
    again = look(agency, datetime(2026, 11, 19, 14, 0)).escalations
    assert [e for e in again if e.level == 0] == []


def test_done_stamps_closed_and_reopening_clears_it() -> None:
    agency = office()
    rid = add(agency, type="Billing", status="Done")
    look(agency, datetime(2026, 11, 30, 10, 0))
    assert (row(agency, rid)["Closed"], row(agency, rid)["SLA"]) == (
        datetime(2026, 11, 30, 10, 0),
        "Closed",
    )
    agency.tabs["Requests"].rows[0][agency.tabs["Requests"].header.index("Status")] = "In Progress"
    look(agency, datetime(2026, 11, 30, 11, 0))
    assert row(agency, rid)["Closed"] is None
    assert row(agency, rid)["SLA"] != "Closed"


def test_done_with_steps_unticked_goes_back_to_in_progress_until_they_are_ticked() -> None:
    agency = office()
    rid = add(agency, type="Endorsement", status="Done", carrier_confirmed="Yes")
    look(agency, datetime(2026, 11, 30, 12, 0))
    r = row(agency, rid)
    assert r["Status"] == "In Progress"  # not done yet: the sheet says so
    assert (r["Closed"], r["Missing Info"]) == (
        None,
        "Before closing: Billing Adjusted; Client Notified",
    )
    assert r["SLA"] in ("On track", "Due soon", "Overdue")
    assert [x["New"] for x in log(agency, rid) if x["What"] == "Done with steps missing"] == [
        "Billing Adjusted; Client Notified"
    ]
    later = look(agency, datetime(2026, 12, 10, 12, 0), write=False)  # still on the ladder
    assert [e.level for e in later.escalations if e.request_id == rid] == [3]
    look(agency, datetime(2026, 11, 30, 13, 0))
    assert len([x for x in log(agency, rid) if x["What"] == "Done with steps missing"]) == 1
    tab = agency.tabs["Requests"]
    tab.rows[0][tab.header.index("Status")] = "Done"  # set Done again, a step still unticked
    tab.rows[0][tab.header.index("Billing Adjusted")] = "Yes"
    look(agency, datetime(2026, 11, 30, 13, 30))
    assert (row(agency, rid)["Status"], row(agency, rid)["Missing Info"]) == (
        "In Progress",
        "Before closing: Client Notified",
    )
    assert len([x for x in log(agency, rid) if x["What"] == "Done with steps missing"]) == 2
    tab.rows[0][tab.header.index("Client Notified")] = "Yes"
    tab.rows[0][tab.header.index("Status")] = "Done"
    look(agency, datetime(2026, 11, 30, 14, 0))
    r = row(agency, rid)
    assert (r["Status"], r["SLA"], r["Closed"], r["Missing Info"]) == (
        "Done",
        "Closed",
        datetime(2026, 11, 30, 14, 0),
        None,
    )

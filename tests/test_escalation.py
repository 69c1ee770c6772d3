"""The escalation ladder: the right person, each level once."""

from __future__ import annotations

from datetime import date, datetime

from tests.office import add, log, look, office, row

RECEIVED = datetime(2026, 11, 16, 8, 0)  # Monday morning


def levels(agency, now):  # type: ignore[no-untyped-def]
    return [(e.request_id, e.level, e.to) for e in look(agency, now).escalations if e.level]


def test_a_request_untouched_for_24_business_hours_reminds_its_owner() -> None:
    agency = office()  # a Renewal: 40 business hours to finish, a reminder after 24 idle
    rid = add(agency, type="Renewal", owner="Priya Shah", received=RECEIVED)
    assert levels(agency, datetime(2026, 11, 18, 13, 59)) == []
    escalated = look(agency, datetime(2026, 11, 18, 14, 0)).escalations
    assert [(e.level, e.to, e.emails) for e in escalated] == [
        (1, ("Priya Shah",), ("priya@agency.example",))
    ]
    assert escalated[0].reason == "untouched 24 business hours"
    assert row(agency, rid)["Escalation"] == "L1 → Priya Shah 2026-11-18 14:00"
    assert log(agency, rid)[-1]["What"] == "Escalated L1"


def test_due_soon_reminds_the_owner() -> None:
    agency = office()
    add(agency, type="COI", owner="Tom Becker", received=RECEIVED)  # due 16:00
    assert levels(agency, datetime(2026, 11, 16, 12, 30)) == [("REQ-000001", 1, ("Tom Becker",))]


def test_overdue_goes_to_the_ops_manager_and_the_escalation_recipients() -> None:
    agency = office()
    agency.tabs["Settings"].rows.append(
        ["Escalation Recipients", "Dana Ruiz; claims@agency.example", ""]
    )
    add(agency, type="COI", owner="Tom Becker", received=RECEIVED)
    escalated = look(agency, datetime(2026, 11, 16, 16, 30)).escalations
    assert [(e.level, e.to, e.emails) for e in escalated] == [
        (
            2,
            ("Marcus Lee", "Dana Ruiz", "claims@agency.example", "Tom Becker"),
            (
                "marcus@agency.example",
                "dana@agency.example",
                "claims@agency.example",
                "tom@agency.example",
            ),
        )
    ]


def test_a_client_follow_up_goes_to_the_ops_manager() -> None:
    agency = office()
    add(
        agency,
        type="Endorsement",
        owner="Priya Shah",
        received=RECEIVED,
        thread="2 messages; client followed up 2026-11-16 11:00",
    )
    assert levels(agency, datetime(2026, 11, 16, 12, 0)) == [
        ("REQ-000001", 2, ("Marcus Lee", "Priya Shah"))
    ]


def test_a_passed_client_deadline_goes_to_the_agency_owner() -> None:
    agency = office()
    add(
        agency,
        type="Endorsement",
        owner="Priya Shah",
        received=RECEIVED,
        deadline=date(2026, 11, 16),
    )
    assert levels(agency, datetime(2026, 11, 17, 8, 5)) == [
        ("REQ-000001", 3, ("Dana Ruiz", "Priya Shah"))
    ]


def test_idle_three_times_the_threshold_goes_to_the_agency_owner() -> None:
    agency = office()
    add(
        agency,
        type="Claim",
        owner="Priya Shah",
        received=RECEIVED,
        status="In Progress",
        touched=RECEIVED,
    )  # Claim: escalate after 8 idle hours, SLA 4
    assert levels(agency, datetime(2026, 11, 18, 16, 0)) == [
        ("REQ-000001", 3, ("Dana Ruiz", "Priya Shah"))
    ]


def test_each_level_is_raised_once_and_a_lower_one_never_after_a_higher() -> None:
    agency = office()
    rid = add(agency, type="Renewal", owner="Priya Shah", received=RECEIVED)
    assert levels(agency, datetime(2026, 11, 18, 14, 0)) == [(rid, 1, ("Priya Shah",))]
    assert levels(agency, datetime(2026, 11, 19, 9, 0)) == []  # still L1: not again
    assert levels(agency, datetime(2026, 11, 20, 12, 30)) == [
        (rid, 2, ("Marcus Lee", "Priya Shah"))
    ]  # overdue
    assert levels(agency, datetime(2026, 11, 20, 16, 0)) == []
    assert levels(agency, datetime(2026, 11, 25, 17, 0)) == [
        (rid, 3, ("Dana Ruiz", "Priya Shah"))
    ]  # idle 72
    assert levels(agency, datetime(2026, 12, 24, 9, 0)) == []
    assert [r["What"] for r in log(agency, rid) if r["What"].startswith("Escalated")] == [
        "Escalated L1",
        "Escalated L2",
        "Escalated L3",
    ]


def test_a_touch_resets_the_idle_clock() -> None:
    agency = office()
    rid = add(
        agency,
        type="Renewal",
        owner="Priya Shah",
        received=RECEIVED,
        touched=datetime(2026, 11, 18, 16, 0),
    )
    look(agency, datetime(2026, 11, 18, 17, 0))
    assert row(agency, rid)["Idle (h)"] == 1.0
    assert row(agency, rid)["Escalation"] is None

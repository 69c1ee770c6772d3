"""Owners come from Routing, Accounts and Team; a person's choice is never undone."""

from __future__ import annotations

from datetime import date, datetime

from tests.office import add, log, look, office, row

MONDAY = datetime(2026, 11, 30, 10, 0)


def test_an_endorsement_goes_to_the_account_owner() -> None:
    agency = office()
    rid = add(agency, type="Endorsement", client="Brightline Electric LLC")
    look(agency, MONDAY)
    assert row(agency, rid)["Owner"] == "Priya Shah"
    assert log(agency, rid)[-1]["New"] == "Priya Shah (account owner)"


def test_a_complex_request_takes_complex_route_to() -> None:
    agency = office()
    rid = add(
        agency,
        type="COI",
        client="Brightline Electric LLC",
        summary="COI with waiver of subrogation",
    )
    look(agency, MONDAY)
    assert row(agency, rid)["Owner"] == "Priya Shah"  # COI: complex goes to the account owner


def test_simple_work_goes_to_the_on_duty_csr_with_the_fewest_open_requests() -> None:
    agency = office()
    add(agency, type="COI", owner="Tom Becker")
    add(agency, type="COI", owner="Tom Becker", status="Done")  # closed: not counted
    first = add(agency, type="COI", client="Brightline Electric LLC")
    second = add(agency, type="COI", client="Brightline Electric LLC")
    third = add(agency, type="COI", client="Brightline Electric LLC")
    look(agency, MONDAY)
    # Alicia has none, Tom one: Alicia, then a tie (1 each) broken by name, then Tom...
    assert [row(agency, r)["Owner"] for r in (first, second, third)] == [
        "Alicia Gomez",
        "Alicia Gomez",
        "Tom Becker",
    ]


def test_a_role_or_a_name_in_route_to() -> None:
    agency = office(
        routes=[("Claim", "Ops Manager", "", 4, 8), ("Billing", "Sam Ortiz", "", 16, 24)]
    )
    claim = add(agency, type="Claim", client="Brightline Electric LLC")
    bill = add(agency, type="Billing", client="Brightline Electric LLC")
    look(agency, MONDAY)
    assert (row(agency, claim)["Owner"], row(agency, bill)["Owner"]) == ("Marcus Lee", "Sam Ortiz")


def test_someone_out_is_covered_by_their_backup_and_the_backups_backup() -> None:
    team = [
        ("Priya Shah", "Account Manager", "No", date(2026, 12, 4), "Marcus Lee"),
        ("Marcus Lee", "Ops Manager", "No", date(2026, 12, 1), "Tom Becker"),
        ("Tom Becker", "CSR", "Yes", None, ""),
    ]
    agency = office(team=team)
    rid = add(agency, type="Endorsement", client="Brightline Electric LLC")
    look(agency, MONDAY)
    assert row(agency, rid)["Owner"] == "Tom Becker"
    assert "covering for Priya Shah" in log(agency, rid)[-1]["New"]


def test_backups_that_point_at_each_other_do_not_loop() -> None:
    team = [
        ("Priya Shah", "Account Manager", "No", date(2026, 12, 4), "Marcus Lee"),
        ("Marcus Lee", "Ops Manager", "No", date(2026, 12, 4), "Priya Shah"),
        ("Alicia Gomez", "CSR", "Yes", None, ""),
    ]
    agency = office(team=team)
    rid = add(agency, type="Endorsement", client="Brightline Electric LLC")
    look(agency, MONDAY)
    assert row(agency, rid)["Owner"] == "Alicia Gomez"
    assert "Priya Shah and their backups are out" in log(agency, rid)[-1]["New"]


def test_out_until_today_means_back_today() -> None:
    team = [
        ("Priya Shah", "Account Manager", "No", date(2026, 11, 30), "Marcus Lee"),
        ("Marcus Lee", "Ops Manager", "No", None, ""),
    ]
    agency = office(team=team)
    rid = add(agency, type="Endorsement", client="Brightline Electric LLC")
    look(agency, MONDAY)
    assert row(agency, rid)["Owner"] == "Priya Shah"


def test_an_unmatched_client_goes_to_the_on_duty_csr_and_is_flagged() -> None:
    agency = office()
    rid = add(agency, type="Endorsement")  # no Client
    look(agency, MONDAY)
    assert row(agency, rid)["Owner"] == "Alicia Gomez"
    assert "client not in Accounts: on-duty CSR" in log(agency, rid)[-1]["New"]


def test_a_persons_reassignment_is_never_undone() -> None:
    agency = office()
    rid = add(agency, type="Endorsement", client="Brightline Electric LLC", owner="Tom Becker")
    result = look(agency, MONDAY)
    assert row(agency, rid)["Owner"] == "Tom Becker"
    assert not [c for c in result.batch.cells if c.column == "Owner"]

"""A pilot: one CSR, one request type. Every message is still a row; only the pilot's type
is routed, clocked, escalated and answered; ending the pilot brings the rest in."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheets_ops.cli import main
from tests.conftest import make_eml


def set_settings(path: Path, **values: str) -> None:
    wb = load_workbook(path)
    ws = wb["Settings"]
    for key, value in values.items():
        name = key.replace("_", " ")
        row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == name)
        row[1].value = value or None
    wb.save(path)


def requests(path: Path) -> dict[str, dict[str, object]]:
    ws = load_workbook(path)["Requests"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)]
    return {str(r["Type"]): r for r in rows if r["ID"]}


def plain(path: Path) -> str:
    """An email's plain-text part, as a mail program shows it."""
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def escalated(path: Path) -> set[str]:
    ws = load_workbook(path)["Log"]
    return {
        str(r[1]) for r in ws.iter_rows(min_row=2, values_only=True) if "Escalated" in str(r[2])
    }


def test_a_pilot_on_coi_for_one_csr_works_only_the_coi_until_it_ends(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    tracker = agency / "tracker.xlsx"
    wb = load_workbook(tracker)
    for name, first in (("Alicia Gomez", "alicia"), ("Ben Carter", "ben")):
        wb["Team"].append([name, f"{first}@agency.example", "CSR", "Yes", None, None])
    wb["Team"].append(["Dana Whitfield", "dana@agency.example", "Owner", "Yes", None, None])
    wb.save(tracker)
    set_settings(tracker, Pilot_Types="COI", Pilot_CSRs="Alicia Gomez", Pilot_Until="2026-12-11")
    (agency / "inbox").mkdir(exist_ok=True)
    (agency / "inbox" / "1.eml").write_bytes(
        make_eml(1, subject="Certificate needed", body="Please send a certificate of insurance.")
    )
    (agency / "inbox" / "2.eml").write_bytes(
        make_eml(2, subject="Add a vehicle", body="Please add our new truck to the auto policy.")
    )
    assert main(["run", "--once", "--now", "2026-11-30T09:00"]) == 0
    rows = requests(tracker)
    coi, endorsement = rows["COI"], rows["Endorsement"]  # both captured
    assert coi["Owner"] == "Alicia Gomez" and coi["Due"] is not None
    assert coi["SLA"] != "Outside pilot"
    assert endorsement["Owner"] is None and endorsement["Due"] is None
    assert endorsement["SLA"] == "Outside pilot"
    assert endorsement["Status"] == "New"  # no one asked the client for what is missing
    asked = {p.name for p in (agency / "outbox").glob("info-request-*.eml")}
    assert asked <= {f"info-request-{coi['ID']}.eml"}

    # days later, nobody has touched either: only the pilot's request escalates
    assert main(["run", "--once", "--now", "2026-12-03T16:00"]) == 0
    assert escalated(tracker) == {coi["ID"]}
    assert requests(tracker)["Endorsement"]["SLA"] == "Outside pilot"

    summary = plain(next((agency / "outbox").glob("summary-20261203-dana*.eml")))
    assert "pilot of COI with Alicia Gomez until 2026-12-11" in summary  # the day's summary
    assert "1 of the 2 open requests are the pilot's, 1 of them overdue" in summary

    # on its last day the owner gets the pilot report, once
    assert main(["run", "--once", "--now", "2026-12-11T10:00"]) == 0
    assert main(["run", "--once", "--now", "2026-12-11T10:05"]) == 0
    [report] = (agency / "outbox").glob("pilot-20261211-*.eml")
    text = plain(report)
    assert "dana@agency.example" in report.name and "The pilot of COI took" in text
    assert "Endorsement" in text and "closes when ticked" in text  # what done means, per type

    # the pilot ends: the Endorsement joins the normal flow at the next cycle
    set_settings(tracker, Pilot_Types="")
    assert main(["run", "--once", "--now", "2026-12-11T16:10"]) == 0
    now = requests(tracker)["Endorsement"]
    assert now["Owner"] in ("Alicia Gomez", "Ben Carter") and now["Due"] is not None
    assert now["SLA"] not in ("Outside pilot", None)
    capsys.readouterr()


def test_a_pilot_past_its_last_day_is_over(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    tracker = agency / "tracker.xlsx"
    set_settings(tracker, Pilot_Types="COI", Pilot_Until="2026-11-27")
    (agency / "inbox").mkdir(exist_ok=True)
    (agency / "inbox" / "2.eml").write_bytes(
        make_eml(2, subject="Add a vehicle", body="Please add our new truck to the auto policy.")
    )
    assert main(["run", "--once", "--now", "2026-11-30T09:00"]) == 0
    assert requests(tracker)["Endorsement"]["SLA"] != "Outside pilot"
    set_settings(tracker, Pilot_Until="next Friday")
    assert main(["doctor"]) == 2
    assert "Pilot Until" in capsys.readouterr().out

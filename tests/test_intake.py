"""A cycle turns what intake understands into rows, follow-ups, logged set-asides and emails."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sheets_ops.cycle import run_cycle
from sheets_ops.rules.message import message_id_of
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.transport import FolderTransport
from tests.conftest import NOW, make_eml
from tests.people import edit_tab, log_rows, requests, set_setting

Drop = Callable[[str, bytes], Path]
CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture
def agency(tracker: Tracker) -> Tracker:
    """The tracker with the corpus's accounts and a Routing tab that asks for details."""
    import csv

    rows = list(csv.DictReader((CORPUS / "accounts.csv").read_text().splitlines()))
    batch = Batch(rows=[NewRow("Accounts", dict(r)) for r in rows])  # type: ignore[arg-type]
    for kind, required in [
        ("COI", "Client; Policy #; Certificate Holder"),
        ("Endorsement", "Client; Policy #; Effective Date"),
        ("Claim", "Client"),
    ]:
        batch.rows.append(NewRow("Routing", {"Type": kind, "Required Info": required}))
    tracker.write(batch)
    tracker.write(
        Batch(rows=[NewRow("Team", {"Name": "Alicia Gomez", "Email": "alicia@agency.example"})])
    )
    return tracker


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "state", FolderTransport(tmp_path / "outbox"))


def sent(outbox: Outbox) -> Path:
    assert isinstance(outbox.transport, FolderTransport)
    return outbox.transport.folder


def corpus(name: str) -> bytes:
    return next((CORPUS / "messages").glob(f"{name}*.eml")).read_bytes()


def cycle(tracker: Tracker, inbox: FolderMailbox, outbox: Outbox | None = None) -> Any:
    return run_cycle(tracker, inbox, NOW, outbox=outbox, mail_from="service@agency.example")


def by_id(tracker: Tracker) -> dict[str, dict[str, Any]]:
    return {r["ID"]: r for r in requests(tracker)}


def test_a_request_lands_with_what_intake_found(
    agency: Tracker, inbox: FolderMailbox, drop: Drop, outbox: Outbox
) -> None:
    drop("1.eml", corpus("001"))
    cycle(agency, inbox, outbox)
    [row] = requests(agency)
    assert (row["Type"], row["Client"], row["Policy #"]) == (
        "COI",
        "Brightline Electric LLC",
        "GL-4481920",
    )
    assert row["Certificate Holder"] == "Riverside Mall Partners LLC"  # the name, as issued
    assert "400 River Rd, Chicago IL 60607" in row["Context"]  # its address, in the message
    assert row["Client Deadline"] in (datetime(2026, 11, 20), datetime(2026, 11, 20).date())
    assert (row["Status"], row["Missing Info"], row["Thread"]) == ("New", None, "1 message")
    assert "Instructions: GC certificates need additional insured" in row["Context"]
    assert "Message: Hi," in row["Context"] and "Jen Alvarez" not in row["Context"]
    assert not sent(outbox).exists()  # nothing was missing: nothing to ask


def test_missing_details_start_as_needs_info_and_ask_the_client_once(
    agency: Tracker, inbox: FolderMailbox, drop: Drop, outbox: Outbox
) -> None:
    set_setting(agency, "Client Emails", "On")  # out of the pilot: to the client
    drop("5.eml", corpus("005"))  # a certificate request with no policy number
    result = cycle(agency, inbox, outbox)
    assert result.emails == 1
    [row] = requests(agency)
    assert (row["Status"], row["Missing Info"]) == ("Needs Info", "Policy #")
    [logged] = [r for r in log_rows(agency) if r["What"] == "Info requested"]
    assert logged["Old"] == "<info-request-REQ-000001@sheets-ops>"
    [written] = list(sent(outbox).glob("*.eml"))
    msg = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "maria@harborstreetbakery.example"
    assert msg["Subject"] == "[REQ-000001] A few details for your certificate request"
    assert msg["In-Reply-To"] == "<corpus-005@mail.example>"
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "- Policy #" in text
    assert cycle(agency, inbox, outbox).emails == 0  # never twice
    assert len(list(sent(outbox).glob("*.eml"))) == 1


def test_an_info_request_the_log_records_is_not_sent_again_by_a_fresh_state_dir(
    agency: Tracker, inbox: FolderMailbox, drop: Drop, outbox: Outbox, tmp_path: Path
) -> None:
    drop("5.eml", corpus("005"))
    assert cycle(agency, inbox, outbox).emails == 1
    assert [r["What"] for r in log_rows(agency)].count("Info requested") == 1
    fresh = Outbox(tmp_path / "new-state", FolderTransport(sent(outbox)))  # STATE_DIR deleted
    assert cycle(agency, inbox, fresh).emails == 0
    assert [p.name for p in sent(outbox).glob("*.eml")] == ["info-request-REQ-000001.eml"]


def test_the_clients_answer_to_the_info_request_joins_the_request(
    agency: Tracker, inbox: FolderMailbox, drop: Drop, outbox: Outbox
) -> None:
    drop("5.eml", corpus("005"))
    cycle(agency, inbox, outbox)
    answer = make_eml(
        9,
        subject="Re: [REQ-000001] A few details for your certificate request",
        sender="maria@harborstreetbakery.example",
        body="It's BOP-5512093.",
    )
    drop("answer.eml", answer)
    result = cycle(agency, inbox, outbox)
    assert result.new == 0 and len(result.plan.followups) == 1
    [row] = requests(agency)
    assert row["Thread"] == "2 messages; client followed up 2026-11-27 08:30"
    follow = [r for r in log_rows(agency) if r["What"] == "Client follow-up"]
    assert [(r["Request"], message_id_of(r["Old"])) for r in follow] == [
        ("REQ-000001", "<msg-9@example.com>")
    ]


def test_a_reply_makes_no_row_and_counts_in_the_thread(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("22.eml", corpus("022"))
    cycle(agency, inbox)
    drop("49.eml", corpus("049"))  # RE: Question about my invoice, In-Reply-To the first
    result = cycle(agency, inbox)
    assert (result.new, len(result.plan.followups)) == (0, 1)
    [row] = requests(agency)
    assert row["Thread"].startswith("2 messages; client followed up 2026-11-18 08:30")
    for name in ("49.eml",):  # the same reply delivered again
        drop(name, corpus("049"))
    again = cycle(agency, inbox)
    assert (again.new, len(again.plan.followups), len(again.plan.handled)) == (0, 0, 1)
    assert sum(r["What"] == "Client follow-up" for r in log_rows(agency)) == 1


def test_a_reply_from_the_team_is_not_a_client_follow_up(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("1.eml", corpus("001"))
    cycle(agency, inbox)
    note = make_eml(3, subject="Re: [REQ-000001] Certificate", sender="alicia@agency.example")
    drop("note.eml", note)
    cycle(agency, inbox)
    whats = [r["What"] for r in log_rows(agency) if r["Request"] == "REQ-000001"]
    assert "Reply" in whats and "Client follow-up" not in whats
    assert requests(agency)[0]["Thread"] == "2 messages"


def test_automatic_replies_and_bulk_mail_make_no_request_and_are_logged(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    for name in ("053", "054", "055", "056", "058"):
        drop(f"{name}.eml", corpus(name))
    result = cycle(agency, inbox)
    assert result.new == 0 and len(result.plan.ignored) == 5
    assert requests(agency) == []
    ignored = [r for r in log_rows(agency) if r["What"] == "Ignored"]
    assert len(ignored) == 5
    assert any(r["New"].startswith("Precedence: bulk") for r in ignored)
    assert list(inbox.folder.glob("*.eml")) == []
    for name in ("053", "055"):  # delivered again: still one Log line each
        drop(f"{name}.eml", corpus(name))
    cycle(agency, inbox)
    assert len([r for r in log_rows(agency) if r["What"] == "Ignored"]) == 5


def test_a_voicemail_becomes_a_voicemail_request_from_the_caller(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("34.eml", corpus("034"))
    cycle(agency, inbox)
    [row] = requests(agency)
    assert (row["Channel"], row["From"], row["Client"], row["Type"]) == (
        "Voicemail",
        "(773) 555-0108",
        "Lakeview Auto Repair",
        "Claim",
    )
    assert row["Summary"].startswith("Voicemail 0:41 from (773) 555-0108: Hi this is Ray")
    assert "Caller (773) 555-0108, 0:41" in row["Context"]


def test_a_text_becomes_a_text_request_from_that_phone(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("64.eml", corpus("064"))
    cycle(agency, inbox)
    [row] = requests(agency)
    assert (row["Channel"], row["From"], row["Client"], row["Type"]) == (
        "Text",
        "(630) 555-0155",
        "Bluebird Daycare Center",
        "COI",
    )


def test_a_sender_who_is_not_a_known_contact_is_flagged(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("7.eml", corpus("007"))
    cycle(agency, inbox)
    [row] = requests(agency)
    assert row["Client"] == "Bluebird Daycare Center"
    assert row["Context"].startswith(
        "⚠ bobsmith1971@gmail.example is not a known contact of Bluebird Daycare Center"
    )


def test_a_person_who_fixes_the_rules_changes_what_intake_decides(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    def claims_for_cracked_glass(header: list[Any], rows: list[list[Any]]) -> Any:
        return header, [["Type", "windshield, glass", "Claim"]]

    edit_tab(agency, "Rules", claims_for_cracked_glass)
    drop("a.eml", make_eml(1, subject="Windshield", body="The glass on truck 4 is gone."))
    cycle(agency, inbox)
    assert requests(agency)[0]["Type"] == "Claim"


# --- bad input: every message ends as a row or a logged rejection, never a crash -------------


def raw_message(headers: str, body: str = "Please call me.") -> bytes:
    return (headers.strip() + "\r\n\r\n" + body).encode()


BAD_INPUT = {
    "malformed-mime": raw_message(
        "From: a@client.example\r\nSubject: broken\r\nMessage-ID: <m1@x>\r\n"
        'Content-Type: multipart/mixed; boundary="nope"',
        "--wrong\r\nContent-Type: text/plain\r\n\r\nhello\r\n(no closing boundary",
    ),
    "no-date-no-id": raw_message("From: b@client.example\r\nSubject: no date, no id"),
    "unknown-charset": raw_message(
        "From: c@client.example\r\nSubject: =?x-unknown?Q?hi?=\r\nMessage-ID: <m3@x>\r\n"
        "Content-Type: text/plain; charset=x-unknown",
        "caf\xe9".encode("latin-1").decode("latin-1"),
    ),
    "control-characters": raw_message(
        "From: d@client.example\r\nSubject: hi\x07\x1b[31m there\r\nMessage-ID: <m4@x>",
        "bell\x07 and escape\x1b[0m",
    ),
}


def test_bad_input_becomes_rows_with_notes_never_a_crash(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    for name, raw in BAD_INPUT.items():
        drop(f"{name}.eml", raw)
    result = cycle(agency, inbox)
    assert (result.new, result.rejected) == (4, 0)
    rows = {r["From"]: r for r in requests(agency)}
    assert rows["b@client.example"]["Source"].startswith("sha256:")
    assert "no Date header" in rows["b@client.example"]["Context"]
    assert rows["d@client.example"]["Summary"] == "hi [31m there"
    for name, raw in BAD_INPUT.items():  # the same files again: nothing doubles
        drop(f"{name}.eml", raw)
    assert cycle(agency, inbox).new == 0


def test_a_10_mb_body_is_cut_to_fit_a_cell_and_noted(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("huge.eml", make_eml(1, body="claim details " * 750_000))
    cycle(agency, inbox)
    [row] = requests(agency)
    assert len(row["Context"]) <= 30_000
    assert "body cut at 20,000 characters" in row["Context"]


def test_attachments_are_listed_not_stored(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    msg = email.message.EmailMessage()
    msg["From"] = "kwalsh@northgate-logistics.example"
    msg["Subject"] = "Cargo claim photos"
    msg["Message-ID"] = "<att@x>"
    msg["Date"] = "Wed, 25 Nov 2026 12:00:00 -0600"
    msg.set_content("Photos of the damaged load.")
    msg.add_attachment(b"\xff\xd8" * 1500, maintype="image", subtype="jpeg", filename="load.jpg")
    drop("att.eml", bytes(msg))
    cycle(agency, inbox)
    [row] = requests(agency)
    assert "Attachments (kept in the mailbox): load.jpg (2.9 KB)" in row["Context"]
    assert "\xff" not in row["Context"]


def test_received_comes_from_the_date_in_the_agency_zone(
    agency: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1, date=datetime(2026, 11, 27, 23, 30, tzinfo=UTC)))
    cycle(agency, inbox)
    assert requests(agency)[0]["Received"] == datetime(2026, 11, 27, 17, 30)


def test_while_the_agency_pilots_client_emails_go_to_its_owner(
    agency: Tracker, inbox: FolderMailbox, drop: Drop, outbox: Outbox
) -> None:
    agency.write(
        Batch(
            rows=[
                NewRow(
                    "Team", {"Name": "Dana Ruiz", "Role": "Owner", "Email": "dana@agency.example"}
                )
            ]
        )
    )
    drop("5.eml", corpus("005"))
    cycle(agency, inbox, outbox)
    email_file = sent(outbox) / "info-request-REQ-000001.eml"
    msg = email.message_from_bytes(email_file.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "dana@agency.example"
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("[Pilot: this would have gone to maria@harborstreetbakery.example]")


def test_a_row_typed_in_from_a_phone_call_is_read_like_a_message(
    agency: Tracker, inbox: FolderMailbox
) -> None:
    """A CSR types what a caller asked into a blank row: intake reads its Summary as it reads
    an email, filling Type, Client, Client Deadline and what the Type still needs."""

    def phone_call(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        row: list[Any] = [None] * len(header)
        row[header.index("From")] = "(312) 555-0147"
        row[header.index("Summary")] = (
            "Brightline called: they need a certificate for the Elm St job by Friday"
        )
        return header, [*rows, row]

    edit_tab(agency, "Requests", phone_call)
    assert cycle(agency, inbox).new == 1
    [row] = requests(agency)
    assert (row["Channel"], row["Type"], row["Client"]) == (
        "Manual",
        "COI",
        "Brightline Electric LLC",
    )
    assert row["Client Deadline"] is not None and row["Client Deadline"].weekday() == 4
    assert row["Status"] == "Needs Info"
    assert "Policy #" in str(row["Missing Info"])  # Brightline has three
    assert row["Summary"].startswith("Brightline called")  # what the person typed stays


def test_what_a_person_typed_in_a_manual_row_is_kept(agency: Tracker, inbox: FolderMailbox) -> None:
    def phone_call(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        row: list[Any] = [None] * len(header)
        row[header.index("Summary")] = "Maria wants to add a driver by Friday"
        row[header.index("Type")] = "Endorsement"
        row[header.index("Client")] = "Harbor Street Bakery"
        row[header.index("Status")] = "In Progress"
        return header, [*rows, row]

    edit_tab(agency, "Requests", phone_call)
    cycle(agency, inbox)
    [row] = requests(agency)
    assert (row["Type"], row["Client"], row["Status"]) == (
        "Endorsement",
        "Harbor Street Bakery",
        "In Progress",
    )

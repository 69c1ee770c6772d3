"""A message is read from its bytes alone, and refused with a reason when it cannot be."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sheets_ops.rules.message import MessageError, parse_message, plain_line
from sheets_ops.sheet import local
from tests.conftest import NOW, make_eml

CHICAGO = ZoneInfo("America/Chicago")
ARRIVED = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_it_reads_sender_subject_date_and_message_id() -> None:
    raw = make_eml(
        1, subject="COI for Riverside Mall", sender="Jen Alvarez <Jen@Brightline.example>"
    )
    intake = parse_message(raw, ARRIVED, NOW)
    assert intake.sender == "jen@brightline.example"
    assert intake.subject == "COI for Riverside Mall"
    assert intake.message_id == "<msg-1@example.com>"
    assert intake.source.startswith("<msg-1@example.com> #")
    assert intake.received == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    assert intake.notes == ()


def test_received_is_shown_in_the_agency_time_zone() -> None:
    intake = parse_message(make_eml(1), ARRIVED, NOW)
    assert local(intake.received, CHICAGO) == datetime(2026, 11, 27, 8, 30)


def test_a_message_without_a_date_takes_the_time_it_arrived_and_says_so() -> None:
    intake = parse_message(make_eml(1, date=None), ARRIVED, NOW)
    assert intake.received == ARRIVED
    assert intake.notes == ("no Date header; used the time it arrived",)


def test_an_unreadable_date_takes_the_time_it_arrived_and_says_so() -> None:
    raw = make_eml(1, date=None).replace(b"Subject:", b"Date: someday soon\nSubject:", 1)
    intake = parse_message(raw, ARRIVED, NOW)
    assert intake.received == ARRIVED
    assert "unreadable Date" in intake.notes[0]


def test_a_message_without_message_id_gets_a_stable_key_from_its_bytes() -> None:
    raw = make_eml(1, message_id=None)
    first = parse_message(raw, ARRIVED, NOW).source
    assert first.startswith("sha256:")
    assert parse_message(raw, NOW, NOW).source == first
    assert parse_message(make_eml(2, message_id=None), ARRIVED, NOW).source != first


def test_a_message_without_a_subject_keeps_its_body() -> None:
    raw = make_eml(1, subject="", body="Also need a certificate for Loop Tower Builders.")
    parsed = parse_message(raw, ARRIVED, NOW)
    assert (parsed.subject, parsed.body.strip()) == (
        "",
        "Also need a certificate for Loop Tower Builders.",
    )


def test_an_html_only_message_is_read_as_plain_text() -> None:
    raw = (
        b"From: pm@summitpm.example\r\nDate: Thu, 19 Nov 2026 08:20:00 -0600\r\n"
        b"Message-ID: <h1@x>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><body><p>Renewal <b>questions</b> &amp; limits</p></body></html>"
    )
    parsed = parse_message(raw, ARRIVED, NOW)
    assert parsed.body.strip() == "Renewal questions & limits"
    assert parsed.html_only


def test_control_characters_and_line_breaks_never_reach_the_subject() -> None:
    raw = make_eml(1, subject="Hello\tthere\x07 \u200bfriend")
    assert parse_message(raw, ARRIVED, NOW).subject == "Hello there friend"


def test_a_long_subject_is_cut_to_one_readable_line() -> None:
    line = plain_line("word " * 100)
    assert len(line) <= 200 and line.endswith("…")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (b"\x00\x01binary\x00junk\n\nmore", "binary data"),
        (b"just some text someone saved\nwith no headers at all\n", "no email headers"),
        (b"Subject: hello\nDate: Fri, 27 Nov 2026 09:00:00 -0600\n\nbody", "no sender"),
        (b"From: not an address\nSubject: hi\n\nbody", "no sender"),
    ],
)
def test_what_cannot_be_a_request_is_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(MessageError, match=reason):
        parse_message(raw, ARRIVED, NOW)


def test_an_unknown_charset_does_not_stop_intake() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <c@x>\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nplease call me"
    )
    parsed = parse_message(raw, ARRIVED, NOW)
    assert (parsed.subject, parsed.body) == ("hi", "please call me")

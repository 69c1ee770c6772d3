"""Hostile and broken messages in a real folder inbox: each is a row or one clear reason, and
none of them stops the messages beside it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from sheets_ops.cycle import run_cycle
from sheets_ops.rules.message import message_id_of
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.tracker import Tracker
from tests.conftest import NOW, make_eml
from tests.people import log_rows, requests

Drop = Callable[[str, bytes], Path]


def with_date(n: int, date_header: str) -> bytes:
    raw = make_eml(n, date=None)
    return raw.replace(b"To: ", f"Date: {date_header}\nTo: ".encode(), 1)


def nested(depth: int) -> bytes:
    raw = b"From: deep@example.com\nSubject: deep\nMessage-ID: <deep@example.com>\n"
    for i in range(depth):
        raw += f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'.encode()
    raw += b"Content-Type: text/plain\n\nhello\n"
    for i in reversed(range(depth)):
        raw += f"--b{i}--\n".encode()
    return raw


def cycle(tracker: Tracker, inbox: FolderMailbox) -> object:
    return run_cycle(tracker, inbox, NOW)


@pytest.mark.parametrize(
    "date_header",
    [
        "Fri, 31 Dec 9999 23:59:59 -1200",  # past the end of the calendar once in UTC
        "Thu, 01 Jan 1970 00:00:00 +0000",  # a sender's clock at zero
        "Mon, 30 Nov 2099 09:00:00 -0600",  # far in the future
        "Tue, 20 Oct 2026 09:00:00 -0600",  # six weeks before it arrived
        "Tue, 31 Feb 2026 25:61:00 +9999",  # not a date at all
    ],
)
def test_a_date_the_sender_made_up_is_replaced_by_the_arrival_and_said_in_context(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop, date_header: str
) -> None:
    drop("bad.eml", with_date(1, date_header))
    drop("good.eml", make_eml(2))
    result = run_cycle(tracker, inbox, NOW)
    assert result.new == 2 and result.rejected == 0  # the good one is not held up
    rows = {message_id_of(r["Source"]): r for r in requests(tracker)}
    bad = rows["<msg-1@example.com>"]
    assert bad["Received"] == datetime(2026, 11, 30, 9, 0)  # NOW, in Chicago
    assert "used the time it arrived" in bad["Context"]
    assert rows["<msg-2@example.com>"]["Received"] == datetime(2026, 11, 27, 8, 30)
    assert not [e for e in result.review.escalations if e.request_id == bad["ID"]]


def test_a_message_reusing_another_messages_id_is_a_request_of_its_own(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("first.eml", make_eml(1, body="Please send a certificate for the Riverside job."))
    assert run_cycle(tracker, inbox, NOW).new == 1
    impostor = make_eml(
        1, sender="someone@elsewhere.example", body="Cancel my policy.", subject="Cancel"
    )
    drop("impostor.eml", impostor)
    drop("again.eml", make_eml(1, body="Please send a certificate for the Riverside job."))
    result = run_cycle(tracker, inbox, NOW)
    assert (result.new, result.already) == (1, 1)  # the true duplicate is still skipped
    rows = requests(tracker)
    assert sorted(r["From"] for r in rows) == ["client1@example.com", "someone@elsewhere.example"]
    assert len({r["Source"] for r in rows}) == 2
    assert {message_id_of(r["Source"]) for r in rows} == {"<msg-1@example.com>"}


def test_a_source_written_by_an_earlier_version_still_counts_as_taken(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    from sheets_ops.sheet import Batch, NewRow

    old = {"ID": "REQ-000001", "Summary": "from before", "Source": "<msg-1@example.com>"}
    tracker.write(Batch(rows=[NewRow("Requests", old)]))
    drop("again.eml", make_eml(1))
    result = run_cycle(tracker, inbox, NOW)
    assert (result.new, result.already) == (0, 1)


def test_a_message_nested_ten_thousand_levels_deep_is_set_aside_with_its_depth(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("deep.eml", nested(10_000))
    drop("good.eml", make_eml(2))
    result = run_cycle(tracker, inbox, NOW)
    assert (result.new, result.rejected) == (1, 1)
    reason = (inbox.rejected / "deep.eml.reason.txt").read_text()
    assert reason == "message nested too deeply (10000 levels)\n"
    [logged] = [r for r in log_rows(tracker) if r["What"] == "Rejected message"]
    assert logged["New"] == "message nested too deeply (10000 levels)"


def test_a_few_levels_of_nesting_are_read_as_usual(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("nested.eml", nested(6))
    assert run_cycle(tracker, inbox, NOW).new == 1
    assert "hello" in requests(tracker)[0]["Context"]


def test_huge_html_and_a_huge_subject_become_a_row_cut_to_fit(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    markup = "<html><body>" + "<p>Please send a certificate &amp; thanks</p><!--x" * 60_000
    raw = make_eml(1, subject="Certificate " * 16_700)
    raw = raw.replace(b"Content-Type: text/plain", b"Content-Type: text/html", 1)
    raw = raw.split(b"\n\n", 1)[0] + b"\n\n" + markup.encode()
    drop("huge.eml", raw)
    assert run_cycle(tracker, inbox, NOW).new == 1
    [row] = requests(tracker)
    assert len(row["Summary"]) <= 200
    assert "Please send a certificate & thanks" in row["Context"]
    assert "<p>" not in row["Context"] and "&amp;" not in row["Context"]


def test_scripts_styles_and_quoted_history_are_not_read_as_the_request(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    markup = (
        "<html><head><title>Ignore</title><style>p{color:red}</style></head><body>"
        "<p>Please cancel my auto policy.</p><script>alert('claim')</script>"
        "<blockquote>On Monday you wrote: your certificate is attached</blockquote>"
        "</body></html>"
    )
    raw = make_eml(1, subject="Question").replace(b"text/plain", b"text/html", 1)
    raw = raw.split(b"\n\n", 1)[0] + b"\n\n" + markup.encode()
    drop("m.eml", raw)
    run_cycle(tracker, inbox, NOW)
    [row] = requests(tracker)
    message = row["Context"].split("Message: ", 1)[1]
    assert message == "Please cancel my auto policy."

"""Delivery against SMTP servers that misbehave: each email arrives once, a 4xx is temporary
wherever it comes, a server that never answers costs one timeout, a login never goes in clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from sheets_ops.cli import main
from sheets_ops.model import TABS
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.transport import SmtpTransport
from sheets_ops.sync.xlsx import XlsxTracker
from tests.smtp_server import (
    PASSWORD,
    USER,
    self_signed,
    server_tls,
    silent_server,
    smtp_server,
)

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def email_for(key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "service@agency.example"
    message["To"] = "dana@agency.example"
    message["Subject"] = f"About {key}"
    message["X-Sheets-Ops-Key"] = key
    message.set_content("hello")
    return message


def queue(tmp_path: Path, transport: SmtpTransport, *keys: str) -> Outbox:
    """An outbox holding these emails, recorded and confirmed as a cycle leaves them."""
    outbox = Outbox(tmp_path / "state", transport, sleep=lambda _s: None)
    for key in keys:
        outbox.record(key, "digest", email_for(key), NOW, ("Digest sent", "", key))
    outbox.confirm(keys)
    return outbox


def test_a_421_to_quit_after_the_server_took_the_message_is_one_delivery(
    tmp_path: Path,
) -> None:
    with smtp_server() as (server, port):
        server.quit = "421 4.3.2 System shutting down"
        outbox = queue(tmp_path, SmtpTransport(f"smtp://127.0.0.1:{port}"), "a", "b", "c")
        first = outbox.deliver(NOW)
        again = outbox.deliver(NOW + timedelta(hours=2))
    assert sorted(first.sent) == ["a", "b", "c"] and first.waiting == first.failed == []
    assert again.sent == []
    assert server.keys() == ["a", "b", "c"]  # each once


def test_greylisting_a_recipient_is_temporary_and_the_email_goes_on_a_later_cycle(
    tmp_path: Path,
) -> None:
    with smtp_server() as (server, port):
        server.rcpt = ["451 4.7.1 Greylisted, please try again in 5 minutes"] * 2
        outbox = queue(tmp_path, SmtpTransport(f"smtp://127.0.0.1:{port}"), "a")
        first = outbox.deliver(NOW)
        assert first.sent == [] and first.failed == []
        [(key, why)] = first.waiting
        assert key == "a" and "451" in why and "deferred" in why
        assert outbox.deliver(NOW + timedelta(seconds=30)).sent == []  # its wait is not over
        later = outbox.deliver(NOW + timedelta(minutes=5))
    assert later.sent == ["a"]
    assert server.keys() == ["a"]


@pytest.mark.parametrize(
    ("where", "reply"),
    [
        ("rcpt", "450 4.2.0 Mailbox busy"),
        ("rcpt", "452 4.5.3 Too many recipients"),
        ("data", "451 4.3.0 Local error in processing"),
        ("data", "452 4.3.1 Insufficient system storage"),
        ("data", "421 4.7.0 Try again later"),
    ],
)
def test_any_4xx_is_temporary(tmp_path: Path, where: str, reply: str) -> None:
    with smtp_server() as (server, port):
        setattr(server, "rcpt" if where == "rcpt" else "replies", [reply] * 2)
        outbox = queue(tmp_path, SmtpTransport(f"smtp://127.0.0.1:{port}"), "a")
        first = outbox.deliver(NOW)
        assert first.failed == [] and [k for k, _ in first.waiting] == ["a"]
        assert outbox.deliver(NOW + timedelta(minutes=5)).sent == ["a"]
    assert server.keys() == ["a"]


@pytest.mark.parametrize(
    ("where", "reply"),
    [("rcpt", "550 5.1.1 No such user"), ("data", "554 5.7.1 Message rejected as spam")],
)
def test_a_5xx_is_permanent_and_tried_no_more(tmp_path: Path, where: str, reply: str) -> None:
    with smtp_server() as (server, port):
        setattr(server, "rcpt" if where == "rcpt" else "replies", [reply])
        outbox = queue(tmp_path, SmtpTransport(f"smtp://127.0.0.1:{port}"), "a")
        first = outbox.deliver(NOW)
        later = outbox.deliver(NOW + timedelta(hours=2))
    assert [k for k, _ in first.failed] == ["a"] and reply.split()[0] in first.failed[0][1]
    assert later.sent == [] and server.keys() == []
    assert outbox.pending() == [("a", "failed", first.failed[0][1])]


def test_a_server_that_never_answers_costs_one_timeout_and_the_others_wait(
    tmp_path: Path,
) -> None:
    with silent_server() as (port, connections):
        transport = SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=0.5)
        outbox = queue(tmp_path, transport, "a", "b", "c", "d", "e")
        result = outbox.deliver(NOW)
        assert len(connections) == 1  # one attempt, not one per email or per retry
    assert result.sent == [] and result.failed == []
    assert sorted(k for k, _ in result.waiting) == ["a", "b", "c", "d", "e"]
    assert all("no answer" in why for _k, why in result.waiting)
    assert outbox.deliver(NOW + timedelta(seconds=30)).waiting == []  # all wait their turn


def test_what_the_sending_time_does_not_cover_waits_for_the_next_cycle(tmp_path: Path) -> None:
    ticks = iter(range(100))
    with smtp_server() as (server, port):
        outbox = queue(tmp_path, SmtpTransport(f"smtp://127.0.0.1:{port}"), *"abcde")
        # a clock where each email costs a second, against a two-second budget
        first = outbox.deliver(NOW, budget=2, clock=lambda: float(next(ticks)))
        assert first.sent == ["a", "b"] and len(first.waiting) == 3
        assert all("sending time" in why for _k, why in first.waiting)
        second = outbox.deliver(NOW)  # the next cycle: no waiting imposed on them
    assert second.sent == ["c", "d", "e"]
    assert server.keys() == list("abcde")


def test_one_session_carries_a_whole_delivery_run(tmp_path: Path) -> None:
    with smtp_server() as (server, port):
        outbox = queue(tmp_path, SmtpTransport(f"smtp://127.0.0.1:{port}"), *"abc")
        assert len(outbox.deliver(NOW).sent) == 3
    assert server.keys() == ["a", "b", "c"]
    assert server.sessions == 1  # one connection and one login, not one per email


# a login never crosses the network in clear ----------------------------------------------


@pytest.fixture
def agency_env(agency: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    XlsxTracker(agency / "tracker.xlsx").init(TABS)
    (agency / "inbox").mkdir(exist_ok=True)
    monkeypatch.setenv("SMTP_USER", USER)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("MAIL_FROM", "service@agency.example")
    return agency


def outbox_line(out: str) -> str:
    [line] = [ln for ln in out.splitlines() if " outbox: " in ln]
    return line


def test_doctor_will_not_log_in_to_a_server_without_starttls(
    agency_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server(login=True) as (_server, port):
        monkeypatch.setenv("OUTBOX", f"smtp://127.0.0.1:{port}")
        assert main(["doctor"]) == 2
    line = outbox_line(capsys.readouterr().out)
    assert line.startswith("FAIL outbox:")
    assert "offers no STARTTLS" in line and "?insecure=1" in line


def test_doctor_and_delivery_use_starttls_when_offered(
    agency_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cert, key = self_signed(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted like a public certificate
    with smtp_server(tls=server_tls(cert, key), login=True) as (server, port):
        monkeypatch.setenv("OUTBOX", f"smtp://127.0.0.1:{port}")
        assert main(["doctor"]) == 0
        transport = SmtpTransport(f"smtp://127.0.0.1:{port}", USER, PASSWORD)
        assert queue(tmp_path, transport, "a").deliver(NOW).sent == ["a"]
    line = outbox_line(capsys.readouterr().out)
    assert line.startswith("ok   outbox:") and "connected (TLS) and logged in" in line
    assert server.keys() == ["a"]


def test_a_test_server_may_be_used_in_clear_when_the_url_says_so(
    agency_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server(login=True) as (_server, port):
        monkeypatch.setenv("OUTBOX", f"smtp://127.0.0.1:{port}?insecure=1")
        assert main(["doctor"]) == 0
    line = outbox_line(capsys.readouterr().out)
    assert "connected (no encryption) and logged in" in line


def test_a_wrong_smtp_password_is_one_line_naming_the_variables(
    agency_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with smtp_server(tls=server_tls(cert, key), login=True) as (server, port):
        transport = SmtpTransport(f"smtp://127.0.0.1:{port}", USER, "wrong")
        result = queue(tmp_path, transport, "a").deliver(NOW)
    [(key_, why)] = result.failed
    assert key_ == "a" and "check SMTP_USER and SMTP_PASSWORD" in why
    assert server.keys() == []

"""Intake from a real IMAP server (Dovecot when installed, and pymap), through imap-tools."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sheets_ops.cli import main
from sheets_ops.cycle import run_cycle
from sheets_ops.model import REQUESTS, TABS
from sheets_ops.rules.intake import plan_intake
from sheets_ops.rules.message import message_id_of
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import check_tab
from sheets_ops.sync.imap import ImapMailbox
from sheets_ops.sync.mailbox import MailboxError
from sheets_ops.sync.xlsx import XlsxTracker
from tests.conftest import NOW, make_eml
from tests.imap_server import (
    PASSWORD,
    USER,
    ImapServer,
    dovecot_binary,
    running,
    servers,
    start_dovecot,
    stopped,
)
from tests.people import requests
from tests.smtp_server import self_signed


@pytest.fixture(scope="module", params=servers())
def imap(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ImapServer]:
    yield from running(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture
def folder(imap: ImapServer) -> str:
    return imap.new_folder()


@pytest.fixture
def mailbox(imap: ImapServer, folder: str) -> Iterator[ImapMailbox]:
    box = ImapMailbox(
        imap.url(folder, processed=f"{folder}-done", rejected=f"{folder}-rejected"), USER, PASSWORD
    )
    yield box
    box.close()


@pytest.fixture
def sheet(tmp_path: Path) -> XlsxTracker:
    tracker = XlsxTracker(tmp_path / "tracker.xlsx", lock_wait=0.5)
    tracker.init(TABS)
    return tracker


def deliver(imap: ImapServer, folder: str, *raws: bytes, flags: str = "") -> None:
    with imap.admin() as box:
        for raw in raws:
            box.append(raw, folder, flag_set=[flags] if flags else None)


def contents(imap: ImapServer, folder: str) -> list[tuple[str, tuple[str, ...]]]:
    """(Message-ID, flags) of what a folder holds, as another mail client sees it."""
    with imap.admin() as box:
        if not box.folder.exists(folder):
            return []
        box.folder.set(folder)
        return sorted(
            (str(m.obj["Message-ID"]), tuple(sorted(m.flags))) for m in box.fetch(mark_seen=False)
        )


def test_new_mail_is_captured_and_set_aside_only_once_saved(
    imap: ImapServer, folder: str, mailbox: ImapMailbox, sheet: XlsxTracker
) -> None:
    deliver(imap, folder, *(make_eml(n) for n in range(3)))
    dry = run_cycle(sheet, mailbox, NOW, dry_run=True)
    assert dry.new == 3
    assert [f for _id, f in contents(imap, folder)] == [(), (), ()]  # fetched, not read
    result = run_cycle(sheet, mailbox, NOW)
    assert result.new == 3
    assert sorted(message_id_of(r["Source"]) for r in requests(sheet)) == [
        f"<msg-{n}@example.com>" for n in range(3)
    ]
    assert contents(imap, folder) == []
    done = contents(imap, f"{folder}-done")
    assert [i for i, _f in done] == [f"<msg-{n}@example.com>" for n in range(3)]
    assert all("\\Seen" in f for _i, f in done)
    assert run_cycle(sheet, mailbox, NOW).new == 0


def test_mail_that_came_between_a_cycle_and_the_wait_ends_the_wait_at_once(
    imap: ImapServer, folder: str, mailbox: ImapMailbox, sheet: XlsxTracker
) -> None:
    """IDLE only tells of mail that comes while it waits: a message delivered after the
    cycle listed the folder, and before the wait began, must not wait for the timeout."""
    run_cycle(sheet, mailbox, NOW)  # the folder listed, empty
    deliver(imap, folder, make_eml(1))
    started = time.monotonic()
    assert mailbox.wait(20.0) is True
    assert time.monotonic() - started < 5
    assert run_cycle(sheet, mailbox, NOW).new == 1


def test_a_crash_between_the_tracker_write_and_the_acknowledgement_duplicates_nothing(
    imap: ImapServer, folder: str, mailbox: ImapMailbox, sheet: XlsxTracker
) -> None:
    deliver(imap, folder, *(make_eml(n) for n in range(4)))
    # The first three steps of a cycle, then the process dies: the connection drops.
    snapshot = sheet.read()
    items = list(mailbox.fetch())
    plan = plan_intake(snapshot, check_tab(snapshot, REQUESTS), items, read_settings(snapshot), NOW)
    sheet.write(plan.batch)
    assert mailbox._box is not None
    mailbox._box.client.shutdown()  # no logout, no acknowledgement
    mailbox._box = None
    assert len(contents(imap, folder)) == 4  # still in the inbox, still unread

    rerun = run_cycle(sheet, ImapMailbox(mailbox_url(imap, folder), USER, PASSWORD), NOW)
    assert (rerun.new, rerun.already) == (0, 4)
    assert len(requests(sheet)) == 4
    assert contents(imap, folder) == []
    assert len(contents(imap, f"{folder}-done")) == 4


def mailbox_url(imap: ImapServer, folder: str) -> str:
    return imap.url(folder, processed=f"{folder}-done", rejected=f"{folder}-rejected")


def test_a_new_uidvalidity_changes_nothing_thanks_to_source(
    imap: ImapServer, folder: str, mailbox: ImapMailbox, sheet: XlsxTracker
) -> None:
    raws = [make_eml(n) for n in range(2)]
    deliver(imap, folder, *raws)
    stale = list(mailbox.fetch())
    run_cycle(sheet, mailbox, NOW)
    mailbox.close()
    # The server renumbers: the folder is recreated and the same mail delivered again.
    with imap.admin() as box:
        box.folder.delete(folder)
        box.folder.create(folder)
    deliver(imap, folder, *raws)
    fresh = ImapMailbox(mailbox_url(imap, folder), USER, PASSWORD)
    fresh.acknowledge(stale)  # UIDs of the old numbering: nothing may move
    assert len(contents(imap, folder)) == 2
    again = run_cycle(sheet, fresh, NOW)
    fresh.close()
    assert (again.new, again.already) == (0, 2)
    assert len(requests(sheet)) == 2 and contents(imap, folder) == []


def test_moving_never_expunges_other_deleted_mail(
    imap: ImapServer, folder: str, mailbox: ImapMailbox, sheet: XlsxTracker
) -> None:
    deliver(imap, folder, make_eml(99, subject="someone deleted this"), flags="\\Deleted")
    deliver(imap, folder, make_eml(1))
    run_cycle(sheet, mailbox, NOW)
    assert "MOVE" in mailbox.box().client.capabilities  # asked again after login
    assert [message_id_of(r["Source"]) for r in requests(sheet)] == ["<msg-1@example.com>"]
    assert contents(imap, folder) == [("<msg-99@example.com>", ("\\Deleted",))]


def test_a_message_that_is_not_mail_goes_to_the_rejected_folder(
    imap: ImapServer, folder: str, mailbox: ImapMailbox, sheet: XlsxTracker
) -> None:
    deliver(imap, folder, b"Subject: no sender here\r\n\r\nhello", make_eml(1))
    result = run_cycle(sheet, mailbox, NOW)
    assert (result.new, result.rejected) == (1, 1)
    assert len(contents(imap, f"{folder}-rejected")) == 1
    assert contents(imap, folder) == []


def test_a_wrong_password_is_one_clear_line(imap: ImapServer, folder: str) -> None:
    box = ImapMailbox(imap.url(folder), USER, "wrong")
    with pytest.raises(MailboxError) as e:
        list(box.fetch())
    assert str(e.value) == (
        f"MAILBOX: 127.0.0.1 refused the login of {USER!r}: check MAILBOX_USER and MAILBOX_PASSWORD"
    )


def env_for(tmp_path: Path, imap: ImapServer, folder: str) -> dict[str, str]:
    return {
        **os.environ,
        "TRACKER": str(tmp_path / "tracker.xlsx"),
        "MAILBOX": mailbox_url(imap, folder),
        "MAILBOX_USER": USER,
        "MAILBOX_PASSWORD": PASSWORD,
        "OUTBOX": str(tmp_path / "outbox"),
        "STATE_DIR": str(tmp_path / "state"),
    }


def test_run_idle_brings_new_mail_in_within_seconds_and_stops_cleanly(
    imap: ImapServer, folder: str, sheet: XlsxTracker, tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sheets_ops", "run", "--idle"],
        env=env_for(tmp_path, imap, folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline().decode()
        assert "waiting for mail" in line
        sent = time.monotonic()
        deliver(imap, folder, make_eml(1))
        while time.monotonic() - sent < 15 and not requests(sheet):
            time.sleep(0.2)
        latency = time.monotonic() - sent
        assert [message_id_of(r["Source"]) for r in requests(sheet)] == ["<msg-1@example.com>"]
        print(f"{imap.kind}: in the sheet {latency:.1f} s after delivery")
        assert latency < 10
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    assert "stopped" in err.decode()


def test_killing_the_job_mid_cycle_loses_and_doubles_nothing(
    imap: ImapServer, folder: str, sheet: XlsxTracker, tmp_path: Path
) -> None:
    env = env_for(tmp_path, imap, folder)
    sent = 0
    for delay in (0.3, 0.6, 0.9, 1.2):
        deliver(imap, folder, *(make_eml(n) for n in range(sent, sent + 40)))
        sent += 40
        process = subprocess.Popen(
            [sys.executable, "-m", "sheets_ops", "run", "--once"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    final = subprocess.run(
        [sys.executable, "-m", "sheets_ops", "run", "--once"], env=env, capture_output=True
    )
    assert final.returncode == 0, final.stderr.decode()
    seen = [message_id_of(r["Source"]) for r in requests(sheet)]
    assert sorted(seen) == sorted(f"<msg-{n}@example.com>" for n in range(sent))
    assert contents(imap, folder) == []
    assert len(contents(imap, f"{folder}-done")) == sent


def test_run_once_on_imap_from_the_command_line(
    imap: ImapServer,
    folder: str,
    sheet: XlsxTracker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in env_for(tmp_path, imap, folder).items():
        if key in ("TRACKER", "MAILBOX", "MAILBOX_USER", "MAILBOX_PASSWORD", "OUTBOX"):
            monkeypatch.setenv(key, value)
    deliver(imap, folder, make_eml(1))
    assert main(["run", "--once", "--now", "2026-11-27T09:00"]) == 0  # not the wall clock
    assert capsys.readouterr().out.startswith("1 new")
    monkeypatch.setenv("MAILBOX_PASSWORD", "nope")
    assert main(["run", "--once"]) == 1
    assert "refused the login" in capsys.readouterr().err


# the connection: STARTTLS, no password in clear, reconnecting ---------------------------

needs_dovecot = pytest.mark.skipif(not dovecot_binary(), reason="Dovecot is not installed")


@pytest.fixture
def tls_dovecot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapServer]:
    """Dovecot offering STARTTLS with a certificate the client trusts, and LOGINDISABLED
    before it, as a mail host on the internet is set up."""
    cert, key = self_signed(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server = start_dovecot(tmp_path, tls=(cert, key), address="127.0.0.2")
    try:
        yield server
    finally:
        stopped(server)


@needs_dovecot
def test_imap_uses_starttls_when_the_server_offers_it(
    tls_dovecot: ImapServer, sheet: XlsxTracker
) -> None:
    import imaplib
    import ssl

    with imaplib.IMAP4(tls_dovecot.address, tls_dovecot.port) as admin:
        assert {"LOGINDISABLED", "STARTTLS"} <= set(admin.capabilities)
        admin.starttls()
        admin.login(USER, PASSWORD)
        admin.append("INBOX", None, None, make_eml(1))
    url = f"imap://{tls_dovecot.address}:{tls_dovecot.port}/INBOX"  # TLS or nothing
    box = ImapMailbox(url, USER, PASSWORD)
    try:
        assert run_cycle(sheet, box, NOW).new == 1
        assert isinstance(box.box().client.sock, ssl.SSLSocket)
    finally:
        box.close()


@pytest.mark.parametrize("kind", servers())
def test_imap_without_starttls_sends_no_password_unless_the_url_allows_it(
    kind: str, tmp_path: Path
) -> None:
    for server in running(kind, tmp_path):
        plain = f"imap://127.0.0.1:{server.port}/INBOX"
        with pytest.raises(MailboxError) as e:
            list(ImapMailbox(plain, USER, PASSWORD).fetch())
        assert "offers no STARTTLS" in str(e.value) and "?insecure=1" in str(e.value)
        allowed = ImapMailbox(plain + "?insecure=1", USER, PASSWORD)
        assert list(allowed.fetch()) == []
        allowed.close()


@needs_dovecot
def test_a_mailbox_whose_server_restarted_reconnects_on_the_next_fetch(
    tmp_path: Path, sheet: XlsxTracker
) -> None:
    server = start_dovecot(tmp_path)  # Dovecot keeps its mail on disk across a restart
    try:
        box = ImapMailbox(server.url("INBOX"), USER, PASSWORD)
        deliver(server, "INBOX", make_eml(1))
        assert run_cycle(sheet, box, NOW).new == 1
        server.stop()
        down = run_cycle(sheet, box, NOW)  # the rest of the cycle still runs
        assert down.mailbox_error.startswith("MAILBOX:") and down.new == 0
        server.start()
        deliver(server, "INBOX", make_eml(2))
        assert run_cycle(sheet, box, NOW).new == 1  # the same object, a new connection
        box.close()
    finally:
        stopped(server)


def test_a_dropped_connection_is_replaced_at_once_without_losing_the_cycle(
    imap: ImapServer, folder: str, mailbox: ImapMailbox, sheet: XlsxTracker
) -> None:
    import socket

    deliver(imap, folder, make_eml(1))
    assert run_cycle(sheet, mailbox, NOW).new == 1
    mailbox.box().client.sock.shutdown(socket.SHUT_RDWR)  # the network drops it
    deliver(imap, folder, make_eml(2))
    result = run_cycle(sheet, mailbox, NOW)
    assert (result.new, result.mailbox_error) == (1, "")
    assert len(requests(sheet)) == 2


def health(tracker: XlsxTracker) -> dict[str, object]:
    tab = tracker.read().tab("Health")
    assert tab is not None
    return {str(rec.get("key")): rec.get("value") for _row, rec in tab.records()}


def wait_until(check: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:
            pass  # the workbook is being replaced: look again
        time.sleep(0.2)
    return False


@needs_dovecot
def test_the_scheduled_job_rides_out_a_dovecot_restart(tmp_path: Path, sheet: XlsxTracker) -> None:
    from tests.people import set_setting

    set_setting(sheet, "Cycle Minutes", "0.05")  # every three seconds
    server = start_dovecot(tmp_path)
    env = env_for(tmp_path, server, "INBOX")
    env["MAILBOX"] = server.url("INBOX")
    process = subprocess.Popen(
        [sys.executable, "-m", "sheets_ops", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deliver(server, "INBOX", make_eml(1))
        assert wait_until(lambda: len(requests(sheet)) == 1)
        assert wait_until(lambda: health(sheet).get("Mailbox") == "ok")
        server.stop()
        assert wait_until(lambda: str(health(sheet).get("Mailbox")).startswith("down since"))
        assert process.poll() is None  # the job goes on
        server.start()
        deliver(server, "INBOX", make_eml(2))
        assert wait_until(lambda: len(requests(sheet)) == 2)
        assert wait_until(lambda: health(sheet).get("Mailbox") == "ok")
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
        stopped(server)
    assert process.returncode == 0, err.decode()
    sources = sorted(message_id_of(r["Source"]) for r in requests(sheet))
    assert sources == ["<msg-1@example.com>", "<msg-2@example.com>"]

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import responses

from sheets_ops.config import KNOWN
from sheets_ops.model import TABS
from sheets_ops.sync.google import GoogleTracker, open_google
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.xlsx import XlsxTracker
from tests.fake_sheets import FakeSheets
from tests.people import FAKES

# Monday 30 November 2026, 15:00 UTC = 09:00 in Chicago (the default Settings time zone).
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def make_eml(
    n: int,
    subject: str | None = None,
    sender: str = "client{n}@example.com",
    body: str = "Please send a certificate of insurance.",
    date: datetime | None = datetime(2026, 11, 27, 14, 30, tzinfo=UTC),
    message_id: str | None = "<msg-{n}@example.com>",
) -> bytes:
    """The bytes of a plain, well-formed email; n makes it distinct."""
    msg = EmailMessage()
    msg["From"] = sender.format(n=n)
    msg["To"] = "service@agency.example"
    msg["Subject"] = f"Request {n}" if subject is None else subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id is not None:
        msg["Message-ID"] = message_id.format(n=n)
    msg.set_content(body)
    return bytes(msg)


def in_a_process(folder: Path, *args: str) -> str:
    """Python run with `args` in a process of its own in `folder`, as cron starts the job
    (none of the job's settings from this environment: the folder's .env holds them); its
    standard output. A run that fails fails the test with what it said on stderr."""
    env = {k: v for k, v in os.environ.items() if k not in KNOWN}
    done = subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


@pytest.fixture
def inbox(tmp_path: Path) -> FolderMailbox:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return FolderMailbox(folder)


@pytest.fixture
def drop(inbox: FolderMailbox) -> Callable[[str, bytes], Path]:
    """Put a message file into the inbox."""

    def put(name: str, raw: bytes) -> Path:
        path = inbox.folder / name
        path.write_bytes(raw)
        return path

    return put


def new_tracker(kind: str, tmp_path: Path) -> Tracker:
    if kind == "memory":
        tracker: Tracker = MemoryTracker()
    else:
        tracker = XlsxTracker(tmp_path / "tracker.xlsx", lock_wait=0.5, poll=0.05)
    tracker.init(TABS)
    return tracker


@pytest.fixture(params=["memory", "xlsx", "google"])
def tracker(request: pytest.FixtureRequest, tmp_path: Path) -> Tracker:
    """An initialised tracker on each backend: the behavioural suite runs on all of them."""
    if request.param == "google":
        google: Tracker = request.getfixturevalue("google_tracker")
        return google
    return new_tracker(request.param, tmp_path)


@pytest.fixture
def xlsx_tracker(tmp_path: Path) -> XlsxTracker:
    tracker = new_tracker("xlsx", tmp_path)
    assert isinstance(tracker, XlsxTracker)
    return tracker


# Google: the real gspread and google-auth clients against an HTTP-level fake --------------

SERVICE_ACCOUNT = "sheets-ops@agency-tests.iam.gserviceaccount.com"


@pytest.fixture(scope="session")
def service_account_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service-account JSON key made for the tests (a fresh RSA key, never committed)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path_factory.mktemp("google") / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "agency-tests",
                "private_key_id": "0123456789abcdef",
                "private_key": pem,
                "client_email": SERVICE_ACCOUNT,
                "client_id": "100000000000000000001",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


@pytest.fixture
def sheets_api() -> Iterator[FakeSheets]:
    """The fake Sheets API, installed under `requests` for the length of a test."""
    fake = FakeSheets()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield fake


@pytest.fixture
def google_tracker(sheets_api: FakeSheets, service_account_key: Path) -> GoogleTracker:
    tracker = open_google(sheets_api.key, service_account_key)
    tracker.http.sleep = sheets_api.slept.append  # type: ignore[attr-defined]  # no waiting
    FAKES[tracker] = sheets_api
    tracker.init(TABS)
    sheets_api.clear_calls()
    return tracker


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite runs offline: a connection to anything but this machine fails the test."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        if self.family != socket.AF_UNIX and not loopback:
            raise AssertionError(f"a test tried to reach {address} over the network")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def agency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder with no configuration: the embedded defaults apply."""
    from sheets_ops.config import KNOWN

    for name in KNOWN:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path

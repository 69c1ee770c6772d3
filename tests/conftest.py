from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from sheets_ops.model import TABS
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.xlsx import XlsxTracker

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


@pytest.fixture(params=["memory", "xlsx"])
def tracker(request: pytest.FixtureRequest, tmp_path: Path) -> Tracker:
    """An initialised tracker on each backend: the behavioural suite runs on all of them."""
    return new_tracker(request.param, tmp_path)


@pytest.fixture
def xlsx_tracker(tmp_path: Path) -> XlsxTracker:
    tracker = new_tracker("xlsx", tmp_path)
    assert isinstance(tracker, XlsxTracker)
    return tracker

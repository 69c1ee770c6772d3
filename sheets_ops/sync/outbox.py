"""The outbox: every email is recorded, under its idempotency key, before it is sent.

A local SQLite file in STATE_DIR holds each email with its key. The cycle records its emails,
writes their records to the tracker, confirms them here, and only then delivers: an email is
never sent before the sheet says so, a run killed after recording delivers it next time, and
one key is delivered once. A transport that fails for a while (a 421, a dropped connection)
is retried with a growing wait; one that refuses for good (a bad address, a refused login) is
marked failed, and the next cycle writes the failure to the Log where the owner sees it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from sheets_ops.sync.transport import Transport, TransportError

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    raw BLOB NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    logged INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    sent TEXT NOT NULL DEFAULT ''
)
"""
TRIES_PER_RUN = 3  # within one delivery, before waiting for a later cycle
MAX_WAIT = timedelta(hours=1)


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # key, why
    waiting: list[tuple[str, str]] = field(default_factory=list)  # key, why: tried again later


@dataclass(frozen=True)
class Outcome:
    """A delivery the tracker should hear about: sent, or failed for good."""

    key: str
    kind: str
    recipient: str
    subject: str
    status: str
    error: str


class Outbox:
    def __init__(
        self,
        folder: str | Path,
        transport: Transport,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.folder = Path(folder)
        self.transport = transport
        self.sleep = sleep
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.folder / "outbox.sqlite3", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def has(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM outbox WHERE key = ?", (key,)).fetchone() is not None

    def record(self, key: str, kind: str, message: EmailMessage, now: datetime) -> bool:
        """Keep the email under its key (a second record of the key changes nothing).
        True when it is new."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO outbox (key, kind, recipient, subject, raw, next_try, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                kind,
                str(message["To"] or ""),
                str(message["Subject"] or ""),
                bytes(message),
                _stamp(now),
                _stamp(now),
            ),
        )
        return cursor.rowcount == 1

    def confirm(self, keys: Iterable[str]) -> None:
        """The tracker holds these emails' records: they may go."""
        self.db.executemany("UPDATE outbox SET confirmed = 1 WHERE key = ?", [(k,) for k in keys])

    def deliver(self, now: datetime) -> Delivery:
        """Send every confirmed email that is due, each at most once."""
        report = Delivery()
        rows = self.db.execute(
            "SELECT key, raw, attempts FROM outbox WHERE confirmed = 1 AND status = 'pending' "
            "AND next_try <= ? ORDER BY created, key",
            (_stamp(now),),
        ).fetchall()
        for key, raw, attempts in rows:
            message = message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, EmailMessage)
            error: TransportError | None = None
            for attempt in range(TRIES_PER_RUN):
                try:
                    self.transport.send(key, message)
                    error = None
                    break
                except TransportError as e:
                    error = e
                    if e.permanent:
                        break
                    if attempt + 1 < TRIES_PER_RUN:
                        self.sleep(2.0**attempt)
            if error is None:
                self.db.execute(
                    "UPDATE outbox SET status = 'sent', sent = ?, error = '' WHERE key = ?",
                    (_stamp(now), key),
                )
                report.sent.append(key)
            elif error.permanent:
                self.db.execute(
                    "UPDATE outbox SET status = 'failed', error = ? WHERE key = ?",
                    (str(error), key),
                )
                report.failed.append((key, str(error)))
            else:
                wait = min(MAX_WAIT, timedelta(minutes=2 ** min(attempts, 10)))
                self.db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_try = ?, error = ? "
                    "WHERE key = ?",
                    (_stamp(now + wait), str(error), key),
                )
                report.waiting.append((key, str(error)))
        return report

    def outcomes(self) -> list[Outcome]:
        """Deliveries the tracker has not heard of yet."""
        rows = self.db.execute(
            "SELECT key, kind, recipient, subject, status, error FROM outbox "
            "WHERE logged = 0 AND status IN ('sent', 'failed') ORDER BY created, key"
        ).fetchall()
        return [Outcome(*row) for row in rows]

    def logged(self, keys: Iterable[str]) -> None:
        self.db.executemany("UPDATE outbox SET logged = 1 WHERE key = ?", [(k,) for k in keys])

    def pending(self) -> list[tuple[str, str, str]]:
        """(key, status, error) of everything not yet sent, for `doctor` and tests."""
        return self.db.execute(
            "SELECT key, status, error FROM outbox WHERE status != 'sent' ORDER BY created, key"
        ).fetchall()


def _stamp(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()

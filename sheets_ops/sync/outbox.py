"""The outbox: every email is recorded, under its idempotency key, before it is sent.

A local SQLite file in STATE_DIR holds each email with its key and its proof: the Log line
(What, Request, Old) that records it in the tracker. The cycle records its emails here, writes
their Log lines to the tracker, confirms them here, and only then delivers: an email is never
sent before the sheet says so, and one key is delivered once. A run killed anywhere in between
is settled by the next cycle (`settle`): an unconfirmed email whose proof is in the Log is
confirmed and sent, one whose proof is not is dropped (its write never landed, and the cycle
plans it again). A transport that fails for a while (a 4xx, a dropped connection) is retried
with a growing wait; one that refuses for good (a bad address, a refused login) is marked
failed, and the next cycle writes the failure to the Log where the owner sees it.

The outbox only speeds things up: the Log is the record of what was sent. Without STATE_DIR,
nothing recorded in the Log is sent again. The one window SMTP leaves open is between the
server's 250 to a message and the line that marks it sent here, a few milliseconds for one
message: a process killed exactly then sends that one message again on the next run.
"""

from __future__ import annotations

import json
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
    sent TEXT NOT NULL DEFAULT '',
    proof TEXT NOT NULL DEFAULT ''
)
"""
TRIES_PER_RUN = 2  # within one delivery, for a server that answered 4xx, before a later cycle
MAX_WAIT = timedelta(hours=1)
SEND_BUDGET = 120.0  # seconds of sending per cycle; what is left waits for the next cycle
Proof = tuple[str, str, str]  # the Log line that records an email: What, Request, Old


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # key, why
    waiting: list[tuple[str, str]] = field(default_factory=list)  # key, why: tried again later


@dataclass
class Settled:
    """What `settle` made of the emails a stopped run left unconfirmed."""

    confirmed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """A delivery the tracker should hear about: sent, or failed for good."""

    key: str
    kind: str
    recipient: str
    subject: str
    status: str
    error: str
    at: str = ""  # when it was sent (UTC, ISO), or ""


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
        self.db = sqlite3.connect(self.folder / "outbox.sqlite3", isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        # A commit reaches the operating system at once, so a killed process never forgets a
        # message marked sent; no fsync per email, which would widen the window in which a
        # kill after the server's 250 sends that message again.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(outbox)")}
        if "proof" not in columns:  # an outbox made by an earlier version
            self.db.execute("ALTER TABLE outbox ADD COLUMN proof TEXT NOT NULL DEFAULT ''")

    def close(self) -> None:
        self.db.close()

    def has(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM outbox WHERE key = ?", (key,)).fetchone() is not None

    def record(
        self, key: str, kind: str, message: EmailMessage, now: datetime, proof: Proof = ("", "", "")
    ) -> bool:
        """Keep the email under its key, with the Log line that will record it (a second
        record of the key changes nothing). True when it is new."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO outbox "
            "(key, kind, recipient, subject, raw, next_try, created, proof) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                kind,
                str(message["To"] or ""),
                str(message["Subject"] or ""),
                bytes(message),
                _stamp(now),
                _stamp(now),
                json.dumps(list(proof)),
            ),
        )
        return cursor.rowcount == 1

    def confirm(self, keys: Iterable[str]) -> None:
        """The tracker holds these emails' records: they may go."""
        self.db.executemany("UPDATE outbox SET confirmed = 1 WHERE key = ?", [(k,) for k in keys])

    def settle(self, logged: Callable[[Proof], bool]) -> Settled:
        """Emails a stopped run recorded and never confirmed: confirmed when `logged` finds
        their proof in the tracker's Log, dropped when it does not (that write never landed;
        the cycle that runs now plans them again). Emails recorded by an earlier version,
        with no proof, are left as they are."""
        settled = Settled()
        rows = self.db.execute(
            "SELECT key, proof FROM outbox WHERE confirmed = 0 AND proof != '' ORDER BY created"
        ).fetchall()
        for key, text in rows:
            try:
                what, request, old = (str(v) for v in json.loads(text))
            except (ValueError, TypeError):
                continue
            if logged((what, request, old)):
                settled.confirmed.append(key)
            else:
                settled.dropped.append(key)
        self.confirm(settled.confirmed)
        self.db.executemany(
            "DELETE FROM outbox WHERE key = ? AND confirmed = 0", [(k,) for k in settled.dropped]
        )
        return settled

    def deliver(
        self,
        now: datetime,
        budget: float = SEND_BUDGET,
        clock: Callable[[], float] = time.monotonic,
    ) -> Delivery:
        """Send every confirmed email that is due, each at most once, for at most `budget`
        seconds; what is left waits for the next cycle. A server that does not answer at all
        is not tried again for the others in the same run: they wait with the first."""
        report = Delivery()
        rows = self.db.execute(
            "SELECT key, raw, attempts FROM outbox WHERE confirmed = 1 AND status = 'pending' "
            "AND next_try <= ? ORDER BY created, key",
            (_stamp(now),),
        ).fetchall()
        started = clock()
        down: TransportError | None = None
        try:
            for key, raw, attempts in rows:
                if down is not None:
                    self._later(key, attempts, now, str(down))
                    report.waiting.append((key, str(down)))
                    continue
                if clock() - started > budget:
                    report.waiting.append((key, "this cycle's sending time is used up"))
                    continue
                error = self._send(key, raw)
                if error is None:
                    self.db.execute(  # at once: a kill right after must not send it again
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
                    self._later(key, attempts, now, str(error))
                    report.waiting.append((key, str(error)))
                    if error.unreachable:
                        down = error
        finally:
            self.transport.close()
        return report

    def _send(self, key: str, raw: bytes) -> TransportError | None:
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        error: TransportError | None = None
        for attempt in range(TRIES_PER_RUN):
            try:
                self.transport.send(key, message)
                return None
            except TransportError as e:
                error = e
                if e.permanent or e.unreachable:
                    break  # trying again at once cannot help, or would cost another timeout
                if attempt + 1 < TRIES_PER_RUN:
                    self.sleep(2.0**attempt)
        return error

    def _later(self, key: str, attempts: int, now: datetime, why: str) -> None:
        wait = min(MAX_WAIT, timedelta(minutes=2 ** min(attempts, 10)))
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_try = ?, error = ? WHERE key = ?",
            (_stamp(now + wait), why, key),
        )

    def outcomes(self) -> list[Outcome]:
        """Deliveries the tracker has not heard of yet."""
        rows = self.db.execute(
            "SELECT key, kind, recipient, subject, status, error, sent FROM outbox "
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

"""How long intake takes on messages built to make it slow: the worst one bounds a cycle.

    .venv/bin/python -m benchmarks.hostile_intake

Builds a hostile batch (a 2.5 MB HTML body, a 200,000-character subject, 10,000 nested MIME
parts, unclosed HTML comments and scripts, 20,000 characters of capitalised words, of quotes,
of "certificate holder:" lines, of digits and of dates) and times `parse_message` plus
`understand` on each, in one process, with the test corpus's accounts and the default rules.
Prints each message's time, the worst, and the floor beside it: the standard library's
`email` parser alone on the same bytes. Every message should take well under a second.
"""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sheets_ops.rules.directory import from_accounts_csv
from sheets_ops.rules.message import MessageError, parse_message
from sheets_ops.rules.threads import Threads
from sheets_ops.rules.understand import understand

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
HEAD = (
    b"From: Jen Alvarez <jen@brightline-electric.example>\r\nTo: service@agency.example\r\n"
    b"Date: Mon, 30 Nov 2026 08:00:00 -0600\r\nMessage-ID: <hostile-%d@example>\r\n"
    b"MIME-Version: 1.0\r\n"
)


def plain(n: int, subject: str, body: str) -> bytes:
    return (
        HEAD % n
        + f"Subject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n".encode()
        + body.encode()
    )


def html(n: int, markup: str) -> bytes:
    return (
        HEAD % n
        + b"Subject: certificate\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + markup.encode()
    )


def nested(n: int, depth: int) -> bytes:
    raw = HEAD % n + b"Subject: deep\r\n"
    for i in range(depth):
        raw += f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
    raw += b"Content-Type: text/plain\r\n\r\nhello\r\n"
    for i in reversed(range(depth)):
        raw += f"--b{i}--\r\n".encode()
    return raw


BATCH: dict[str, Callable[[int], bytes]] = {
    "2.5 MB HTML": lambda n: html(n, "<div><p>Please send a <b>certificate</b> &amp; " * 52_000),
    "unclosed comments": lambda n: html(n, "<!--" * 100_000),
    "unclosed scripts": lambda n: html(n, "<p>Hello <script>x" * 60_000),
    "200,000-character subject": lambda n: plain(n, "Certificate " * 16_700, "hi"),
    "10,000 nested parts": lambda n: nested(n, 10_000),
    "capitalised words": lambda n: plain(n, "COI", "Riverside Mall Partners " * 830),
    "quotes": lambda n: plain(n, "Voicemail", '"' + "word " * 4000 + '" ' * 2000),
    "holder lines": lambda n: plain(n, "COI", "certificate holder: " * 1000),
    "naming shapes": lambda n: plain(n, "COI", "please name Acme as the holder " * 650),
    "digits": lambda n: plain(n, "policy", "4471 " * 4000),
    "dates": lambda n: plain(n, "by Friday", "needed by 12/11 before the 15th " * 620),
    "one long word": lambda n: plain(n, "cert", "a" * 20_000),
    "phone numbers": lambda n: plain(n, "call me", "(555) 010-0100 " * 1300),
    "quoted history": lambda n: plain(n, "Re: COI", "> On Mon wrote:\n" * 1300),
}


def main() -> None:
    directory = from_accounts_csv(CORPUS / "accounts.csv")
    worst, worst_floor = 0.0, 0.0
    print(f"{'message':28} {'bytes':>10} {'intake':>9} {'floor':>9}  outcome")
    for n, (name, build) in enumerate(BATCH.items()):
        raw = build(n)
        started = time.perf_counter()
        email.message_from_bytes(raw, policy=email.policy.default) if "nested" not in name else None
        floor = time.perf_counter() - started
        started = time.perf_counter()
        try:
            parsed = parse_message(raw, NOW, NOW)
            u = understand(parsed, directory, Threads(), ZONE)
            outcome = f"{u.type}, {len(u.words):,} characters read"
        except MessageError as e:
            outcome = f"set aside: {e}"
        spent = time.perf_counter() - started
        worst, worst_floor = max(worst, spent), max(worst_floor, floor)
        print(f"{name:28} {len(raw):>10,} {spent:>8.3f}s {floor:>8.3f}s  {outcome}")
    print(f"worst per message: {worst:.3f} s (email parser alone, worst: {worst_floor:.3f} s)")


if __name__ == "__main__":
    main()

"""How fast intake understands messages: `inspect` throughput on the labelled corpus.

    .venv/bin/python -m benchmarks.inspect_speed [ROUNDS]      (default: 20)

Parses and understands every message of tests/corpus/ ROUNDS times, in one process, with the
corpus's accounts and the default rules, and prints messages per second (best of 3 runs).
Beside it, the floor: the standard library's email parser reading the same bytes and
nothing else (the compat32 policy, its fastest). Nothing is asserted.
"""

from __future__ import annotations

import email
import email.policy
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sheets_ops.rules.directory import from_accounts_csv
from sheets_ops.rules.message import parse_message
from sheets_ops.rules.threads import Threads
from sheets_ops.rules.understand import known_from, understand

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def one_pass(raws: list[bytes], directory: object) -> None:
    threads = Threads()
    for n, raw in enumerate(raws):
        parsed = parse_message(raw, None, NOW)
        u = understand(parsed, directory, threads, ZONE)  # type: ignore[arg-type]
        if u.new_request:
            received = parsed.received.astimezone(ZONE).replace(tzinfo=None)
            threads.add(known_from(f"REQ-{n:06d}", u, received), parsed.source)


def parse_only(raws: list[bytes], _directory: object) -> None:
    for raw in raws:
        email.message_from_bytes(raw, policy=email.policy.compat32).get_payload()


def best_of_three(work: object, raws: list[bytes], directory: object, rounds: int) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            work(raws, directory)  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str]) -> None:
    rounds = int(argv[0]) if argv else 20
    raws = [p.read_bytes() for p in sorted((CORPUS / "messages").glob("*.eml"))]
    directory = from_accounts_csv(CORPUS / "accounts.csv")
    count = len(raws) * rounds
    for label, work in (("inspect", one_pass), ("floor (email parse only)", parse_only)):
        best = best_of_three(work, raws, directory, rounds)
        print(
            f"{label}: {count} messages in {best:.2f} s = {count / best:,.0f} messages/s "
            f"({best / count * 1000:.2f} ms each)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])

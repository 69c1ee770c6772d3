"""What intake gains from the agency's own history: a learning curve, k-fold, per inbox.

    .venv/bin/python -m benchmarks.learning DIR[@ZONE] ...
    .venv/bin/python -m benchmarks.learning ../shared/corpus/keystone@America/New_York \\
        ../shared/corpus/sandhill@America/Denver

Each DIR is a labelled inbox (the `../shared/corpus/` layout: `messages/*.eml`,
`expected.jsonl`, `accounts.csv`). Its messages are dealt into K folds (every K-th message,
so each fold spans the inbox's weeks). For each fold, the other folds' requests become
history rows the way CSRs leave them: the row intake wrote (Summary, From, Context with the
message), then Type and Client set right by a person, the work done by the Routing tab's
Complex Route To when it was complex (by a CSR when not), and closed. The models are trained
on those rows exactly as the cycle trains them (`examples_from`, `train`), and the fold's
messages are read again, in inbox order with every other message (a follow-up finds its
original), with no history, half of it and all of it. Prints the fold's right answers per
field, then the totals. Nothing is asserted; tests/test_learning.py holds the bar.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.intake_accuracy import DEFAULT_ZONE, right
from sheets_ops.model import REQUESTS, CellValue
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.learning import MIN_EXAMPLES, Learned, examples_from, train
from sheets_ops.rules.message import Parsed, parse_message
from sheets_ops.rules.team import Member, Route
from sheets_ops.rules.threads import Threads
from sheets_ops.rules.understand import Understanding, known_from, understand
from sheets_ops.sheet import Snapshot, Tab, local

K = 5
FIELDS = ("type", "complex", "client")
NOW = datetime(2026, 12, 1, 2, 0)
TEAM = (
    Member("Casey Reed", "casey@agency.example", "CSR", True, None, ""),
    Member("Sam Ortiz", "sam@agency.example", "Account Manager", True, None, ""),
)
ROUTE = Route(route_to="On-duty CSR", complex_route_to="Account Manager")
HEADER = [c.name for c in REQUESTS.laid_out]


@dataclass
class Inbox:
    name: str
    zone: ZoneInfo
    parsed: list[Parsed]
    expected: list[dict[str, Any]]
    directory: directory_.Directory


def load(arg: str) -> Inbox:
    where, _, zone = arg.partition("@")
    folder = Path(where)
    files = sorted((folder / "messages").glob("*.eml"))
    lines = (folder / "expected.jsonl").read_text("utf-8").splitlines()
    expected = {e["file"]: e for e in map(json.loads, filter(str.strip, lines))}
    parsed = [parse_message(f.read_bytes(), None, NOW) for f in files]
    directory = directory_.from_accounts_csv(folder / "accounts.csv")
    wants = [expected[f.name] for f in files]
    return Inbox(folder.name, ZoneInfo(zone or DEFAULT_ZONE), parsed, wants, directory)


def history_rows(inbox: Inbox, made: Sequence[Understanding], picked: Sequence[int]) -> Snapshot:
    """The picked messages as a tracker's Requests tab holds them once CSRs are done: a row
    for each message intake made a request of (`made`, the rules' reading), its Type and
    Client set right by a person, the work done by the Complex Route To when it was complex,
    and closed (Cancelled when it was no request at all)."""
    rows: list[list[CellValue]] = []
    for i in picked:
        u, want = made[i], inbox.expected[i]
        if not u.new_request:
            continue  # set aside or threaded by intake: no row of its own
        cells: dict[str, CellValue] = {
            "ID": f"REQ-{i + 1:06d}",
            "Received": local(inbox.parsed[i].received, inbox.zone),
            "Channel": u.channel.value,
            "From": u.sender,
            "Client": want.get("client"),
            "Type": want["type"],
            "Summary": u.summary,
            "Owner": TEAM[1].name if want.get("complex") else TEAM[0].name,
            "Status": "Done" if want.get("new_request") else "Cancelled",
            "Context": f"Message: {u.words}",
        }
        rows.append([cells.get(h) for h in HEADER])
    return Snapshot({REQUESTS.name: Tab(REQUESTS.name, HEADER, rows)})


def learned_from(inbox: Inbox, made: Sequence[Understanding], picked: Sequence[int]) -> Learned:
    routes = {kind: ROUTE for kind in ("COI", "Endorsement", "Claim", "Billing", "Renewal")}
    return train(examples_from(history_rows(inbox, made, picked), routes, TEAM), NOW)


def answers(inbox: Inbox, learned: Learned | None) -> list[Understanding]:
    """Every message read in inbox order, as `inspect` reads a folder."""
    directory = replace(inbox.directory, history=lambda: learned)
    threads = Threads()
    out = []
    for n, parsed in enumerate(inbox.parsed, 1):
        u = understand(parsed, directory, threads, inbox.zone)
        if u.new_request:
            threads.add(
                known_from(f"(file {n})", u, local(parsed.received, inbox.zone)), parsed.source
            )
        out.append(u)
    return out


def scored(inbox: Inbox, got: Sequence[Understanding], fold: Sequence[int]) -> dict[str, int]:
    return {
        name: sum(right(name, got[i].as_json(), inbox.expected[i]) for i in fold) for name in FIELDS
    }


def curve(inbox: Inbox) -> tuple[list[tuple[int, dict[str, dict[str, int]]]], dict[str, int]]:
    """Per fold: its size, and right answers per field with no, half and all history; and
    in how many folds there were enough labelled requests for a model (MIN_EXAMPLES)."""
    everyone = range(len(inbox.parsed))
    plain = answers(inbox, None)
    out = []
    models = {"half": 0, "all": 0}
    for k in range(K):
        fold = [i for i in everyone if i % K == k]
        rest = [i for i in everyone if i % K != k]
        by = {"rules": scored(inbox, plain, fold)}
        for label, picked in (("half", rest[::2]), ("all", rest)):
            learned = learned_from(inbox, plain, picked)
            by[label] = scored(inbox, answers(inbox, learned), fold)
            models[label] += learned.sure
        out.append((len(fold), by))
    return out, models


def main(argv: list[str]) -> None:
    for arg in argv:
        started = time.perf_counter()
        inbox = load(arg)
        folds, models = curve(inbox)
        print(
            f"{inbox.name}: {len(inbox.parsed)} messages, {K} folds; a model in "
            f"{models['half']} folds with half the history, {models['all']} with all of it "
            f"(it takes {MIN_EXAMPLES} labelled requests)"
        )
        print("| fold | n | " + " | ".join(f"{f} rules / half / all" for f in FIELDS) + " |")
        print("|---|---:|" + "---:|" * len(FIELDS))
        totals = {label: dict.fromkeys(FIELDS, 0) for label in ("rules", "half", "all")}
        for k, (n, by) in enumerate(folds, 1):
            cells = [
                " / ".join(str(by[lab][f]) for lab in ("rules", "half", "all")) for f in FIELDS
            ]
            print(f"| {k} | {n} | " + " | ".join(cells) + " |")
            for label, hits in by.items():
                for f in FIELDS:
                    totals[label][f] += hits[f]
        count = len(inbox.parsed)
        line = "; ".join(
            f"{f} " + " / ".join(f"{100 * totals[lab][f] / count:.0f}%" for lab in totals)
            for f in FIELDS
        )
        print(
            f"all folds (rules / half / all history): {line} "
            f"({time.perf_counter() - started:.1f} s)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])

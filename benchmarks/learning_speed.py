"""What learning from history costs: training on ROWS labelled requests, the models' size
and load time, and intake's speed with them beside intake without.

    .venv/bin/python -m benchmarks.learning_speed [ROWS]     (default 10000)

The history is ROWS closed requests of every Type, written several ways each, with the
Summary, From and Context (the message) a tracker keeps; training is `examples_from` and
`train`, as the nightly run does. Intake is `plan_intake` of 250 new messages (some the
rules are sure of, some they are not) on an empty tracker, in memory, the median of three
runs, with the rules alone and with the models. Nothing is asserted; the README quotes the
output.
"""

from __future__ import annotations

import pickle
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from benchmarks.cycle_scaling import NOW, request_row
from sheets_ops.model import REQUESTS, TABS
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.intake import plan_intake
from sheets_ops.rules.learning import Learned, examples_from, train
from sheets_ops.rules.settings import read_settings
from sheets_ops.rules.team import routes_from, team_from
from sheets_ops.sheet import Snapshot, check_tab
from sheets_ops.sync.mailbox import MailItem
from sheets_ops.sync.memory import MemoryTracker
from tests.conftest import make_eml

MESSAGES = 250
SAID = {
    "COI": (
        "Please send a certificate of insurance to {w} Properties for the job on {n} Main.",
        "The lender for {w} needs to see we are covered before closing on unit {n}.",
        "Can you get proof of coverage over to {w} Builders? They need it by Friday.",
    ),
    "Endorsement": (
        "Please add the {n} van to the auto policy for {w}.",
        "We moved to {n} {w} Street, please change the address on the policy.",
        "Add {w} as a driver on our commercial auto starting next week.",
    ),
    "Billing": (
        "The autopay for {w} failed, what do we owe on invoice {n}?",
        "Why is the bill for {w} higher this month? We were charged {n} dollars.",
        "Please update the card on file for {w}, the old one ends in {n}.",
    ),
    "Claim": (
        "A customer slipped at the {w} store yesterday and was hurt, file {n}.",
        "Our truck was hit on {w} Road this morning, police report {n}.",
        "Water damage at {w} after a pipe burst, about {n} square feet.",
    ),
    "Renewal": (
        "Our policy for {w} renews next month, can you shop it? Premium was {n}.",
        "The renewal quote for {w} came in at {n}, is there anything cheaper?",
        "Please bind the {w} renewal before it lapses on the {n}th.",
    ),
    "Other": (
        "Just saying thanks to the {w} team for the help last week ({n}).",
        "Do you insure food trucks like {w}? We have {n} of them.",
        "Is flood covered for a home like ours on {w} Lane, built in {n}?",
    ),
}
WORDS = ("Oak", "Maple", "Harbor", "Summit", "Prairie", "Cedar", "Lakeside", "Granite", "Willow")


def history(rows: int) -> Snapshot:
    """ROWS closed requests as a tracker keeps them."""
    tracker = MemoryTracker()
    tracker.init(TABS)
    requests = tracker.tabs[REQUESTS.name]
    kinds = list(SAID)
    for n in range(1, rows + 1):
        kind = kinds[n % len(kinds)]
        said = SAID[kind][(n // len(kinds)) % 3].format(w=WORDS[n % len(WORDS)], n=n % 977)
        row = request_row(n, closed=True)
        row.update(Type=kind, Summary=said[:60], Context=f"Recent: none\nMessage: {said}")
        requests.rows.append([row.get(h) for h in requests.header])
    return tracker.read()


def messages() -> list[MailItem]:
    sent = NOW.replace(tzinfo=UTC) - timedelta(hours=1)
    kinds = list(SAID)
    out = []
    for n in range(MESSAGES):
        kind = kinds[n % len(kinds)]
        said = SAID[kind][n % 3].format(w=WORDS[(n * 7) % len(WORDS)], n=1000 + n)
        raw = make_eml(
            n,
            subject=said[:40],
            sender=f"new{n}@newclient{n % 40}.example",
            body=said,
            date=sent + timedelta(seconds=n),
            message_id=f"<learning-{n}@client.example>",
        )
        out.append(MailItem(f"m{n}", raw, None))
    return out


def intake(snapshot: Snapshot, learned: Learned | None) -> float:
    requests = check_tab(snapshot, REQUESTS)
    settings = read_settings(snapshot)
    directory = replace(directory_.from_snapshot(snapshot), history=lambda: learned)
    items = messages()
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        plan = plan_intake(snapshot, requests, items, settings, now, directory)
        times.append(time.perf_counter() - started)
    assert len(plan.created) + len(plan.ignored) == MESSAGES
    return statistics.median(times)


def main(argv: list[str]) -> None:
    rows = int(argv[0]) if argv else 10_000
    snapshot = history(rows)
    started = time.perf_counter()
    examples = examples_from(snapshot, routes_from(snapshot, 24.0), team_from(snapshot))
    learned = train(examples, NOW)
    trained = time.perf_counter() - started
    blob = pickle.dumps(learned)
    started = time.perf_counter()
    pickle.loads(blob)
    loaded = time.perf_counter() - started
    print(
        f"training on {rows:,} closed requests: {trained:.1f} s ({learned.describe()}); "
        f"the models take {len(blob) / 2**20:.1f} MiB in STATE_DIR and load in {loaded:.2f} s"
    )
    empty = MemoryTracker()
    empty.init(TABS)
    # on the same (empty) tracker, so that what differs is the models alone
    for label, model in (("rules alone", None), (f"with the models of {rows:,}", learned)):
        seconds = intake(empty.read(), model)
        print(f"intake of {MESSAGES} messages, {label:>25}: {MESSAGES / seconds:5.0f} messages/s")


if __name__ == "__main__":
    main(sys.argv[1:])

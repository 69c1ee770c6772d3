"""A request that changed nothing is not looked at again until something it is measured
against can change (steps.Quiet): the review that skips it is the review that does not.

The rules are checked against themselves over days of cycles: the same agency reviewed with
and without what the last cycle found, at irregular moments across business hours, nights,
a weekend and a holiday. The cycles are checked where the skip could go wrong: a tracker a
person changed since, a threshold crossed between two quiet cycles, a state file that
cannot be read.
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sheets_ops.cycle import run_cycle
from sheets_ops.model import TABS
from sheets_ops.rules.review import Review
from sheets_ops.rules.steps import QUIET_AT_MOST, Quiet
from sheets_ops.sheet import Batch, NewRow, Snapshot
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.state import QUIET, StateDir
from sheets_ops.sync.xlsx import XlsxTracker
from tests.office import TEAM, add, office, reviewed
from tests.people import edit_tab

START = datetime(2026, 11, 24, 7, 40)  # a Tuesday; Thursday the 26th is a holiday
STATUSES = ("New", "In Progress", "Waiting on Client", "Waiting on Carrier", "Done", "Cancelled")
KINDS = ("COI", "Endorsement", "Claim", "Billing", "Renewal", "Other")
OWNERS = [name for name, *_rest in TEAM] + ["", "Someone Who Left"]


def busy_agency(seed: int, count: int = 50) -> MemoryTracker:
    """Requests of every kind and status, received over the week before START, some
    touched, some with a client deadline or a carrier follow-up, some already escalated,
    some with a Log that says they waited; and a ladder with steps of its own."""
    rng = random.Random(seed)
    agency = office(holidays=(date(2026, 11, 26),))
    ladder = agency.tabs["Escalation"]
    ladder.rows[0][1] = "idle ≥ 0.5× Escalate After Idle, or due soon"
    ladder.rows[2][1] = "client deadline passed, or idle ≥ 2.5×"
    agency.tabs["Settings"].rows.append(["Due Soon Hours", "3", ""])
    lines = []
    for _n in range(count):
        received = START - timedelta(minutes=rng.randrange(0, 6 * 24 * 60))
        cells: dict[str, Any] = {
            "type": rng.choice(KINDS),
            "status": rng.choice(STATUSES),
            "owner": rng.choice(OWNERS),
            "received": received.replace(second=0),
        }
        if rng.random() < 0.4:
            cells["touched"] = received + timedelta(minutes=rng.randrange(5, 3000))
        if rng.random() < 0.35:
            cells["deadline"] = (START + timedelta(days=rng.randrange(-1, 5))).date()
        if cells["status"] == "Waiting on Carrier" and rng.random() < 0.6:
            cells["follow_up"] = (START + timedelta(days=rng.randrange(-2, 4))).date()
        if rng.random() < 0.15:
            cells["escalation"] = f"L{rng.randrange(1, 3)} → Tom Becker 2026-11-20 09:00"
        if rng.random() < 0.1:
            cells["thread"] = "2 messages; client followed up 2026-11-23 10:00"
        if cells["status"] == "Done" and rng.random() < 0.5:
            cells["certificate_sent"] = "Yes"
        rid = add(agency, **cells)
        if rng.random() < 0.3:
            waited = received + timedelta(hours=rng.randrange(1, 30))
            for when, old, new in (
                (waited, "New", "Waiting on Client"),
                (waited + timedelta(hours=rng.randrange(1, 20)), "Waiting on Client", "New"),
            ):
                lines.append(
                    {"When": when, "Request": rid, "What": "Status changed", "Old": old, "New": new}
                )
    agency.write(Batch(rows=[NewRow("Log", line) for line in lines]))
    return agency


def looked(snapshot: Snapshot, now: datetime, seen: Any, quiet: Any = None) -> Review:
    return reviewed(snapshot, now, seen, refresh_aging=False, quiet=quiet)


def said(result: Review) -> tuple[list[Any], list[Any], list[Any]]:
    cells = [(c.key, c.column, c.value, c.only_if) for c in result.batch.cells]
    rows = [sorted(r.cells.items(), key=str) for r in result.batch.rows]
    return cells, rows, result.escalations


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_skipping_the_requests_that_changed_nothing_changes_nothing(seed: int) -> None:
    """Cycle after cycle, as `run` does it: what the last cycle found is given to the next
    only when that cycle wrote nothing (the tracker is still as it read it)."""
    rng = random.Random(seed)
    agency = busy_agency(seed)
    first = looked(agency.read(), START, None)
    agency.write(first.batch)
    seen, carried, now = first.seen, {}, START
    skipped = steps = changed = 0
    while now < START + timedelta(days=4):
        minutes = rng.choice((1, 2, 3, 5, 8, 13, 47))  # a schedule, and a job that was down
        now += timedelta(minutes=minutes, seconds=rng.randrange(60))
        snapshot = agency.read()
        full = looked(snapshot, now, seen)
        fast = looked(snapshot, now, seen, carried)
        assert said(fast) == said(full), f"at {now}"
        assert fast.seen == full.seen
        skipped += sum(q.since < now for q in fast.quiet.values())
        steps += 1
        if full.batch or full.escalations:
            changed += 1
            agency.write(full.batch)
            carried = {}
        else:
            carried = fast.quiet
        seen = full.seen
    # the agency lived through it, and the skip was taken (not a test of nothing)
    assert changed > 20 and steps - changed > 300
    assert skipped > 10 * 50


def test_a_quiet_request_is_looked_at_again_at_least_every_quarter_hour() -> None:
    agency = office()
    add(agency, type="Renewal", owner="Priya Shah", received=START, status="In Progress")
    first = looked(agency.read(), START, None)
    agency.write(first.batch)
    second = looked(agency.read(), START + timedelta(minutes=1), first.seen)
    assert not second.batch
    [quiet] = second.quiet.values()
    assert quiet.until == START + timedelta(minutes=1) + QUIET_AT_MOST
    # a replay of an earlier moment is looked at again
    assert not quiet.holds(START, 0.0)


# -- the cycle ------------------------------------------------------------------------------


def cycle(folder: Path, now: datetime) -> None:
    run_cycle(
        XlsxTracker(folder / "tracker.xlsx"),
        FolderMailbox(folder / "inbox"),
        now,
        state=StateDir(folder / "state"),
    )


def setting(key: str, value: str) -> Any:
    def change(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        return header, [[r[0], value, *r[2:]] if r[0] == key else r for r in rows]

    return change


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    """A tracker workbook with the office's team and three requests in progress, settled
    by two cycles (the second writes nothing), Age (h) rewritten only every ten hours: the
    next cycle skips every request it may."""
    tracker = XlsxTracker(tmp_path / "tracker.xlsx")
    tracker.init(TABS)
    agency = office()
    for kind, owner in (("COI", "Tom Becker"), ("Renewal", "Priya Shah"), ("Claim", "Sam Ortiz")):
        add(agency, type=kind, owner=owner, received=START, status="In Progress")
    tracker.write(
        Batch(
            rows=[
                NewRow(name, dict(zip(agency.tabs[name].header, values, strict=False)))
                for name in ("Team", "Accounts", "Routing", "Requests")
                for values in agency.tabs[name].rows
            ]
        )
    )
    edit_tab(tracker, "Settings", setting("Aging Refresh Minutes", "600"))
    (tmp_path / "inbox").mkdir()
    cycle(tmp_path, START)
    cycle(tmp_path, START + timedelta(minutes=1))
    return tmp_path


def quiet_file(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "state" / QUIET).read_text("utf-8"))
    return data


def escalations(folder: Path, level: int) -> dict[str, datetime]:
    """When each request was raised to `level`, by the tracker's Log."""
    tab = XlsxTracker(folder / "tracker.xlsx").read().tabs["Log"]
    return {r[1]: r[0] for r in tab.rows if r[2] == f"Escalated L{level}"}


def test_a_quiet_cycle_after_a_quiet_one_writes_nothing_and_keeps_what_it_found(
    desk: Path,
) -> None:
    kept = quiet_file(desk)
    assert len(kept["requests"]) == 3
    written = (desk / "tracker.xlsx").stat().st_mtime_ns
    cycle(desk, START + timedelta(minutes=2))
    assert (desk / "tracker.xlsx").stat().st_mtime_ns == written
    assert quiet_file(desk) == kept  # nothing new found: the file is left as it was


def test_a_ladder_changed_between_two_quiet_cycles_applies_at_the_next(desk: Path) -> None:
    """Not a quarter hour later: the workbook changed, so nothing found before stands."""
    nine = datetime(2026, 11, 24, 9, 0)
    for minute in range(3):
        cycle(desk, nine + timedelta(minutes=minute))
    assert len(quiet_file(desk)["requests"]) == 3  # the next cycle would skip them all
    before = escalations(desk, 1)
    edit_tab(
        XlsxTracker(desk / "tracker.xlsx"),
        "Escalation",
        setting("1", "idle ≥ 0.02× Escalate After Idle"),  # half an hour, for 24
    )
    cycle(desk, nine + timedelta(minutes=3))
    raised = {rid: when for rid, when in escalations(desk, 1).items() if rid not in before}
    assert raised == dict.fromkeys(("REQ-000001", "REQ-000002"), nine + timedelta(minutes=3))


def test_a_threshold_crossed_between_quiet_cycles_is_acted_on_at_the_first_after(
    desk: Path,
) -> None:
    """The COI (8 business hours from 08:00, due soon 4 hours before) is due soon from
    12:00; cycles every two minutes that write nothing until then."""
    for minute in range(241, 271, 2):  # 11:41 ... 12:09
        cycle(desk, START + timedelta(minutes=minute))
    assert escalations(desk, 1)["REQ-000001"] == datetime(2026, 11, 24, 12, 1)


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"revision": 1}', '{"revision": ["x", "0"], "requests": {}}']
)
def test_a_quiet_file_that_cannot_be_read_leaves_every_request_looked_at(
    desk: Path, text: str
) -> None:
    (desk / "state" / QUIET).write_text(text, "utf-8")
    assert StateDir(desk / "state").load_quiet("anything") == {}
    cycle(desk, START + timedelta(minutes=2))
    assert len(quiet_file(desk)["requests"]) == 3


def test_quiet_holds_from_when_it_was_found_until_its_first_threshold() -> None:
    quiet = Quiet(START, START + timedelta(hours=1), 1000.0)
    assert quiet.holds(START, 999.0)
    assert not quiet.holds(START + timedelta(hours=1), 0.0)
    assert not quiet.holds(START, 1000.0)
    assert not quiet.holds(START - timedelta(seconds=1), 0.0)

"""The Escalation tab: the ladder as the owner writes it, each step of the review on its own,
and simulate trying a draft ladder before it goes live."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sheets_ops.cli import main
from sheets_ops.model import ESCALATION, Status
from sheets_ops.rules.clock import Calendar
from sheets_ops.rules.directory import from_snapshot
from sheets_ops.rules.history import History
from sheets_ops.rules.ladder import DEFAULT_LADDER, conditions, ladder_from
from sheets_ops.rules.review import carrier_chase, climb, closing, people_edits, routing
from sheets_ops.rules.steps import Changes, Clock, Desk, Look
from sheets_ops.rules.team import Assigner, Member, Route
from sheets_ops.sheet import Snapshot, Tab
from sheets_ops.simulate import simulate
from sheets_ops.sync.memory import MemoryTracker
from tests.office import add, look, office

RECEIVED = datetime(2026, 11, 16, 8, 0)  # a Monday morning
OVERDUE_AT = datetime(2026, 11, 16, 16, 30)  # a COI: 8 business hours, due 16:00


def ladder(agency: MemoryTracker, *rows: tuple[str, str, str]) -> None:
    agency.tabs["Escalation"] = Tab("Escalation", list(ESCALATION.headers), [list(r) for r in rows])


def told(agency: MemoryTracker, now: datetime) -> list[tuple[int, tuple[str, ...], str]]:
    return [(e.level, e.to, e.reason) for e in look(agency, now).escalations if e.level]


def test_init_seeds_the_ladder_sheets_ops_always_had() -> None:
    agency = office()
    tab = agency.tabs["Escalation"]
    assert tab.header == ["Level", "When", "Notify"]
    assert [row[0] for row in tab.rows] == ["1", "2", "3"]
    rungs, problems = ladder_from(agency.read(), [])
    assert (rungs, problems) == (tuple(reversed(DEFAULT_LADDER)), [])


def test_the_owner_decides_who_hears_of_an_overdue_request() -> None:
    agency = office()
    ladder(
        agency,
        ("1", "due soon", "Owner of the request"),
        ("2", "overdue", "Owner of the request; Ops Manager"),
        ("3", "client deadline passed", "Agency Owner"),
    )
    add(agency, type="COI", owner="Tom Becker", received=RECEIVED)
    assert told(agency, OVERDUE_AT) == [
        (2, ("Tom Becker", "Marcus Lee"), "overdue since 2026-11-16 16:00")
    ]


def test_the_owner_decides_at_which_multiple_idle_work_escalates() -> None:
    agency = office()  # a Renewal: 40 business hours to finish, 24 idle before a reminder
    add(agency, type="Renewal", owner="Priya Shah", received=RECEIVED)
    assert told(agency, datetime(2026, 11, 17, 14, 0)) == []
    sooner = office()
    ladder(sooner, ("1", "idle >= 0.5x", "Owner of the request"))
    add(sooner, type="Renewal", owner="Priya Shah", received=RECEIVED)
    assert told(sooner, datetime(2026, 11, 17, 14, 0)) == [
        (1, ("Priya Shah",), "untouched 15 business hours")
    ]


@pytest.mark.parametrize(
    ("row", "line"),
    [
        (
            ("2", "whenever it feels late", "Ops Manager"),
            'Escalation tab, row 3, When: "whenever it feels late" is not a condition',
        ),
        (("2", "overdue", "Jane Nobody"), 'Escalation tab, row 3, Notify: "Jane Nobody" is not on'),
        (("2", "", "Ops Manager"), "Escalation tab, row 3, When: empty"),
    ],
)
def test_a_broken_row_is_one_line_naming_the_cell_and_the_default_stands(
    row: tuple[str, str, str], line: str
) -> None:
    agency = office()
    ladder(agency, ("1", "due soon", "Owner of the request"), row)
    add(agency, type="COI", owner="Tom Becker", received=RECEIVED)
    result = look(agency, OVERDUE_AT)
    assert [p for p in result.problems if p.startswith("Escalation tab")] == [
        next(p for p in result.problems if p.startswith(line))
    ]
    assert "the default for level 2 applies" in result.problems[0]
    assert [(e.level, e.to) for e in result.escalations] == [(2, ("Marcus Lee", "Tom Becker"))]


def test_a_level_that_is_not_1_2_or_3_is_left_out_with_a_line() -> None:
    agency = office()
    ladder(agency, ("four", "overdue", "Agency Owner"), ("2", "overdue", "Ops Manager"))
    add(agency, type="COI", owner="Tom Becker", received=RECEIVED)
    result = look(agency, OVERDUE_AT)
    assert result.problems == [
        'Escalation tab, row 2, Level: "four" is not 1, 2 or 3; write the level the row '
        "raises; the row is left out"
    ]
    assert [(e.level, e.to) for e in result.escalations] == [(2, ("Marcus Lee",))]


def test_a_tracker_without_the_tab_keeps_the_default_ladder() -> None:
    agency = office()
    del agency.tabs["Escalation"]
    add(agency, type="COI", owner="Tom Becker", received=RECEIVED)
    result = look(agency, OVERDUE_AT)
    assert result.problems == []
    assert [(e.level, e.to) for e in result.escalations] == [(2, ("Marcus Lee", "Tom Becker"))]


def test_when_reads_the_ways_owners_write_it() -> None:
    read, bad = conditions("Overdue; idle at least 2 times, or the client followed up")
    assert bad == ""
    assert [(c.kind, c.times) for c in read] == [
        ("overdue", 0.0),
        ("idle", 2.0),
        ("the client followed up", 0.0),
    ]
    assert conditions("overdue or when Dana says so")[1] == "when Dana says so"


def test_simulate_shows_what_a_draft_ladder_would_do_before_it_goes_live(tmp_path: Path) -> None:
    agency = office()
    add(agency, type="COI", owner="Tom Becker", received=RECEIVED)
    draft = Tab("Escalation", ["Level", "When", "Notify"], [["2", "overdue", "Dana Ruiz"]])
    period = (RECEIVED, RECEIVED + timedelta(hours=10), timedelta(hours=1))
    live = [(e.level, e.to) for _m, e in simulate(agency.read(), *period)]
    tried = [(e.level, e.to) for _m, e in simulate(agency.read(), *period, ladder=draft)]
    assert live == [(1, ("Tom Becker",)), (2, ("Marcus Lee", "Tom Becker"))]
    assert tried == [(2, ("Dana Ruiz",))]
    assert agency.tabs["Escalation"].rows[1][2] == (
        "Ops Manager; Escalation Recipients; Owner of the request"
    )


def test_simulate_ladder_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "agency"]) == 0
    monkeypatch.chdir(tmp_path / "agency")
    (tmp_path / "draft.csv").write_text("Level,When,Notify\n2,overdue,Nobody Here\n")
    capsys.readouterr()
    args = ["simulate", "--from", "2026-11-30T08:00", "--to", "2026-11-30T12:00"]
    assert main([*args, "--ladder", str(tmp_path / "draft.csv")]) == 0
    err = capsys.readouterr().err
    assert 'Escalation tab, row 2, Notify: "Nobody Here" is not on Team' in err


# -- each step of the review, on its own ---------------------------------------------------

CALENDAR = Calendar(ZoneInfo("America/Chicago"))
NOW = datetime(2026, 11, 18, 10, 0)


def desk(**kw: object) -> Desk:
    team = (Member("Tom Becker", "tom@a.example", "CSR", True, None, ""),)
    fields: dict[str, object] = {
        "now": NOW,
        "calendar": CALENDAR,
        "directory": from_snapshot(Snapshot({})),
        "routes": {},
        "ladder": tuple(reversed(DEFAULT_LADDER)),
        "team": team,
        "recipients": (),
        "assigner": Assigner(list(team), from_snapshot(Snapshot({})), NOW.date(), {}),
        "columns": frozenset({"doc sent", "status"}),
        "blanked": frozenset(),
        "clock_now": CALENDAR.elapsed(NOW),
    }
    fields.update(kw)
    return Desk(**fields)  # type: ignore[arg-type]


def request(status: str = "New", **cells: object) -> Look:
    values = {"id": "REQ-000001", "status": status, **cells}
    return Look(
        rid="REQ-000001",
        cells=values,  # type: ignore[arg-type]
        history=History(),
        status=status,
        received=RECEIVED,
        last_touched=None,
        kind="COI",
        route=Route(sla=8, idle=24, checklist=("Doc Sent",)),
    )


def test_people_edits_logs_a_persons_change_and_not_the_jobs_own_write() -> None:
    before = {"Status": "New", "Owner": ""}
    changes, seen = people_edits(
        request(), {"Status": "In Progress", "Owner": "Tom"}, before, {"Owner": "Tom"}, NOW
    )
    assert changes.log == [
        ("Status changed", "New", "In Progress", "sheet edit"),
        ("First response", "New", "In Progress", "sheets-ops"),
    ]
    assert changes.edits == 1 and seen.last_touched == NOW
    untouched, same = people_edits(request(), before, before, {}, NOW)
    assert (untouched, same) == (Changes(), request())


def test_closing_sends_done_back_until_every_step_is_ticked() -> None:
    changes, closed = closing(request(Status.DONE.value), desk())
    assert not closed
    assert changes.cells == [
        ("Status", "In Progress", "Done", True),
        ("Missing Info", "Before closing: Doc Sent", None, False),
    ]
    assert changes.log == [("Done with steps missing", "Done", "Doc Sent", "sheets-ops")]
    changes, closed = closing(request(Status.DONE.value, **{"doc sent": "x"}), desk())
    assert closed and [c[0] for c in changes.cells] == ["Closed", "Age (h)", "SLA"]


def test_routing_fills_a_blank_owner_and_keeps_a_persons_choice() -> None:
    changes, owner = routing(request(summary="a cert"), desk())
    assert owner == "Tom Becker"
    assert changes.cells == [("Owner", "Tom Becker", None, True)]
    kept, owner = routing(request(owner="tom becker"), desk())
    assert (kept, owner) == (Changes(), "tom becker")


def test_an_owner_not_on_team_is_routed_as_if_blank_and_the_cell_is_left_alone() -> None:
    kept, owner = routing(request(owner="Jane Nobody"), desk())
    assert (kept, owner) == (Changes(), "Tom Becker")


def timing(state: str = "Overdue", idle: float = 0.0) -> Clock:
    due = datetime(2026, 11, 16, 16, 0)
    return Clock(Changes(), Changes(), 20.0, idle, due, state, None, RECEIVED)


def test_carrier_chase_sets_a_follow_up_then_reminds_once_on_the_day() -> None:
    waiting = request(Status.WAITING_ON_CARRIER.value)
    changes = carrier_chase(waiting, timing(), "Tom Becker", desk())
    assert changes.cells == [("Next Follow-up", date(2026, 11, 19), None, True)]
    due = request(Status.WAITING_ON_CARRIER.value, **{"next follow-up": date(2026, 11, 18)})
    reminded = carrier_chase(due, timing(), "Tom Becker", desk())
    assert [(e.level, e.to) for e in reminded.escalations] == [(0, ("Tom Becker",))]
    chased = Look(**{**due.__dict__, "history": History(chased={"2026-11-18"})})
    assert carrier_chase(chased, timing(), "Tom Becker", desk()).escalations == []


def test_climb_raises_the_highest_level_that_holds_and_never_the_same_one_twice() -> None:
    changes = climb(request(), timing(idle=30), "Tom Becker", desk())
    assert [(e.level, e.reason) for e in changes.escalations] == [
        (2, "overdue since 2026-11-16 16:00")
    ]
    assert changes.cells[0][:2] == ("Escalation", "L2 → Tom Becker 2026-11-18 10:00")
    again = Look(**{**request().__dict__, "history": History(levels={2})})
    assert climb(again, timing(idle=30), "Tom Becker", desk()) == Changes()
    assert [e.level for e in climb(again, timing(idle=80), "Tom", desk()).escalations] == [3]


def test_the_ladder_is_read_from_a_snapshot_highest_level_first() -> None:
    tab = Tab(
        "Escalation",
        ["Level", "When", "Notify"],
        [["1", "due soon", "CSR"], ["3", "overdue", "Owner"]],
    )
    rungs, problems = ladder_from(Snapshot({"Escalation": tab}), [])
    assert ([r.level for r in rungs], problems) == ([3, 1], [])

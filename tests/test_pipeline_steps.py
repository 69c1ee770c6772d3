"""The renewal pipeline's and intake's steps, each on its own: a read-only view in, the
changes it wants out, with no tracker and no cycle around it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sheets_ops.model import LOG, REQUESTS, CellValue, Stage
from sheets_ops.rules.directory import Directory
from sheets_ops.rules.intake import (
    CAPTURED,
    REJECTED,
    IntakePlan,
    adopt_typed_rows,
    info_request_for,
    ledger_for,
    reject,
)
from sheets_ops.rules.message import MessageError
from sheets_ops.rules.renewals import (
    Pipeline,
    Renewal,
    Told,
    client_contact,
    dated,
    exception_noted,
    key_dates,
    milestone,
    opening,
    review_renewal,
)
from sheets_ops.rules.team import Member
from sheets_ops.sheet import Snapshot, Tab
from sheets_ops.sync.mailbox import MailItem

TODAY = date(2027, 1, 10)
TEAM = [
    Member("Priya Shah", "priya@agency.example", "CSR", True, None, ""),
    Member("Dana Ops", "dana@agency.example", "Ops Manager", True, None, ""),
    Member("Sam Owner", "sam@agency.example", "Owner", True, None, ""),
]


def renewal(stage: str = "", expires: date = date(2027, 3, 31), **cells: str) -> Renewal:
    held = {k.lower().replace("_", " "): v for k, v in cells.items()}
    return Renewal(
        row=2,
        policy="GL-100",
        expiration=expires,
        stage=stage,
        exception=held.get("exception", ""),
        owner="Priya Shah",
        client="Harbor Bakery",
        line=held.get("line", "GL"),
        cells=held,
    )


def test_a_renewal_opens_inside_its_window_and_waits_outside_it() -> None:
    moves, opened = opening(renewal(), Pipeline(open_days=120), TODAY)
    assert opened is not None and opened.stage == Stage.UPCOMING.value
    assert moves.cells == [("Stage", "Upcoming", None, True)]
    assert [what for what, _old, _new in moves.log] == ["Renewal opened"]
    moves, opened = opening(renewal(), Pipeline(open_days=30), TODAY)
    assert opened is None and not moves.cells and not moves.log


def test_key_dates_follow_the_offsets_for_the_line() -> None:
    pipeline = Pipeline(offsets="default: submission 50; WC: quote 70")
    gl = key_dates(renewal(line="GL"), pipeline)
    wc = key_dates(renewal(line="WC - Texas"), pipeline)
    assert gl["Carrier Submission Deadline"] == date(2027, 2, 9)  # 50 days before
    assert gl["Quote Deadline"] == date(2027, 2, 14)  # the built-in 45
    assert wc["Quote Deadline"] == date(2027, 1, 20)  # 70 for the line
    moves = dated(renewal(stage="Upcoming"), gl)
    assert ("Next Step", "Submit to carriers by 02/09", None, False) in moves.cells
    unchanged = dated(renewal(stage="Upcoming", next_step="Submit to carriers by 02/09"), gl)
    assert all(column != "Next Step" for column, *_ in unchanged.cells)


def test_a_missed_key_date_climbs_once_per_level() -> None:
    expires = date(2027, 2, 1)
    late = renewal(stage="Upcoming", expires=expires)
    dates = key_dates(late, Pipeline())  # submission 12/03: 38 days late on TODAY
    told = Told()
    moves = milestone(late, dates, told, TEAM, TODAY)
    [escalation] = moves.escalations
    assert escalation.level == 3 and escalation.to == ("Sam Owner",)
    assert escalation.emails == ("sam@agency.example",)
    told.levels["GL-100"] = 3
    assert not milestone(late, dates, told, TEAM, TODAY).escalations
    on_time = renewal(stage="Bound", expires=expires)
    assert not milestone(on_time, dates, Told(), TEAM, TODAY).escalations


def test_an_exception_is_told_once() -> None:
    lost_carrier = renewal(stage="Upcoming", exception="Carrier declined")
    moves = exception_noted(lost_carrier, Told())
    assert moves.log == [
        (
            "Renewal exception",
            "GL-100 Carrier declined",
            "Harbor Bakery: Carrier declined → Priya Shah",
        )
    ]
    told = Told(lines={("Renewal exception", "GL-100 Carrier declined")})
    assert not exception_noted(lost_carrier, told).log


def test_the_client_is_reminded_at_each_threshold_and_followed_up_after_presenting() -> None:
    pipeline = Pipeline(reminder_days=(90, 30), follow_days=7)
    soon = renewal(stage="Upcoming", expires=date(2027, 2, 1))  # 22 days left
    moves = client_contact(soon, pipeline, "owner@harbor.example", Told(), TODAY)
    [reminder] = moves.reminders
    assert reminder.key.endswith("-30d") and reminder.days == 22
    assert ("Last Client Contact", TODAY, None, False) in moves.cells
    assert not client_contact(soon, pipeline, "", Told(), TODAY).reminders  # no address
    sitting = renewal(stage="Presented", expires=date(2027, 6, 1), last_client_contact="2027-01-01")
    [follow] = client_contact(sitting, pipeline, "owner@harbor.example", Told(), TODAY).reminders
    assert follow.days == 0 and "presented-20270101" in follow.key
    fresh = renewal(stage="Presented", expires=date(2027, 6, 1))
    first = client_contact(fresh, pipeline, "owner@harbor.example", Told(), TODAY)
    assert first.cells == [("Last Client Contact", TODAY, None, False)] and not first.reminders


def test_a_done_or_lost_renewal_only_clears_its_next_step() -> None:
    directory = Directory()
    for done in (
        renewal(stage="Done", next_step="Close when paid"),
        renewal(stage="Upcoming", exception="Lost", next_step="x"),
    ):
        moves = review_renewal(done, Pipeline(), Told(), directory, TEAM, TODAY)
        assert moves.cells == [("Next Step", "", done.held("next step"), False)]
        assert not moves.log and not moves.escalations and not moves.reminders


def _snapshot(rows: list[list[CellValue]]) -> Snapshot:
    requests = Tab(REQUESTS.name, list(REQUESTS.headers), rows)
    return Snapshot({REQUESTS.name: requests, LOG.name: Tab(LOG.name, list(LOG.headers))})


def test_a_row_a_person_typed_becomes_a_manual_request_and_a_filled_row_does_not() -> None:
    header = list(REQUESTS.headers)
    typed: list[CellValue] = [None] * len(header)
    typed[header.index("Summary")] = "Caller wants a COI"
    kept: list[CellValue] = [None] * len(header)
    kept[header.index("ID")] = "REQ-000041"
    snapshot = _snapshot([kept, typed])
    requests = snapshot.tab(REQUESTS.name)
    assert requests is not None
    now = datetime(2027, 1, 10, 15, tzinfo=UTC)
    ledger = ledger_for(snapshot, requests, Directory(), ZoneInfo("America/New_York"), now)
    plan = IntakePlan()
    adopt_typed_rows(plan, ledger)
    assert list(plan.adopted) == ["REQ-000042"]  # one more than any ID seen
    assert {c.column for c in plan.batch.cells} >= {"ID", "Received", "Channel", "Source"}
    assert all(c.row == 3 and c.only_if is None for c in plan.batch.cells)
    [line] = plan.batch.rows
    assert line.cells["What"] == CAPTURED and line.after_cell == plan.adopted["REQ-000042"]


def test_an_unreadable_message_is_rejected_with_its_reason_and_logged_once() -> None:
    snapshot = _snapshot([])
    requests = snapshot.tab(REQUESTS.name)
    assert requests is not None
    now = datetime(2027, 1, 10, 15, tzinfo=UTC)
    ledger = ledger_for(snapshot, requests, Directory(), ZoneInfo("America/New_York"), now)
    plan = IntakePlan()
    item = MailItem("uid-7", b"", now)
    reject(plan, ledger, item, MessageError("no sender: add a From line"))
    reject(plan, ledger, item, RuntimeError("boom"))
    assert [reason for _item, reason in plan.rejected] == [
        "no sender: add a From line",
        "could not be read (RuntimeError: boom)",
    ]
    assert [r.cells["What"] for r in plan.batch.rows] == [REJECTED]


def test_an_info_request_needs_an_address_to_ask() -> None:
    from dataclasses import replace

    from tests.test_understand import email, read

    u = read(email("Please send a COI for our new job."), Directory())
    asking = replace(u, missing=("Policy #",), sender="owner@harbor.example")
    ask = info_request_for(asking, "REQ-0007")
    assert ask is not None and ask.key == "info-request-REQ-0007" and ask.missing == ("Policy #",)
    assert info_request_for(replace(asking, sender="+1 555 0100"), "REQ-0007") is None
    assert info_request_for(replace(asking, missing=()), "REQ-0007") is None


def test_merged_stages_keep_each_log_line_tied_to_its_own_row() -> None:
    from sheets_ops.sheet import Batch, CellWrite, NewRow, merged

    review = Batch(cells=[CellWrite("Requests", "REQ-000001", 2, "Owner", "Priya")])
    intake = Batch(
        cells=[CellWrite("Requests", "", 5, "ID", "REQ-000009", only_if=None)],
        rows=[
            NewRow("Requests", {"ID": "REQ-000010"}),
            NewRow("Log", {"What": "Captured"}, after=0),
            NewRow("Log", {"What": "Captured"}, after_cell=0),
        ],
    )
    batch = merged(review, Batch(rows=[NewRow("Log", {"What": "x"})]), intake)
    assert [r.after for r in batch.rows] == [None, None, 1, None]
    assert [r.after_cell for r in batch.rows] == [None, None, None, 1]
    assert batch.rows[batch.rows[2].after or 0].cells == {"ID": "REQ-000010"}
    assert batch.cells[batch.rows[3].after_cell or 0].value == "REQ-000009"

"""One cycle, start to end, in the order that makes it exactly-once (`run_cycle`):

1. read the whole tracker in one call (`Tracker.read`);
2. fetch new messages without marking them read (`_fetch`);
3. turn them into requests (pure), skipping every Source already in the sheet (`plan_intake`);
4. compute every change from (snapshot, messages, now) (`decide`: the review, renewals and
   archive each return their own changes, merged here in one place);
5. write all changes in one call, rows located by ID (`_write`);
6. only then acknowledge the messages whose rows the tracker holds (`_acknowledge`);
7. record each email in the sheet before sending it (`plan_emails`, written in step 5), then
   deliver those the tracker records (`_deliver`).

Killed before 5 completes, the tracker is unchanged and every message is still in the mailbox.
Killed between 5 and 6, the messages are fetched again and their Source is found in the sheet.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from datetime import time as dt_time
from zoneinfo import ZoneInfo

from sheets_ops.model import DASHBOARD, LOG, RENEWALS, REQUESTS, CellValue, is_blank
from sheets_ops.reports import dashboard
from sheets_ops.reports.health import AGING_REFRESHED, aging_due, health_writes, mailbox_line
from sheets_ops.reports.notify import Mailer
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.archive import plan_archive
from sheets_ops.rules.directory import Directory
from sheets_ops.rules.intake import IntakePlan, plan_intake
from sheets_ops.rules.renewals import RenewalReview, review_renewals
from sheets_ops.rules.review import HUMAN_COLUMNS, Review, review
from sheets_ops.rules.settings import Settings, read_settings
from sheets_ops.rules.team import team_from
from sheets_ops.sending import Emails, logged_in, outcome_proof, plan_emails, recorded
from sheets_ops.sheet import (
    ADDED,
    PRESENT,
    Batch,
    CellWrite,
    Snapshot,
    Tab,
    cell_text,
    check_tab,
    header_problems,
    local,
    merged,
    normalize_header,
)
from sheets_ops.sync.mailbox import MailboxError, MailItem, MailSource
from sheets_ops.sync.outbox import Delivery, Outbox, Settled
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker, WriteReport

DEFAULT_SENDER = "service@localhost"  # MAIL_FROM, when it is not set


@dataclass
class CycleResult:
    plan: IntakePlan
    review: Review = field(default_factory=Review)
    batch: Batch = field(default_factory=Batch)  # everything the cycle writes, merged
    report: WriteReport = field(default_factory=WriteReport)
    acknowledged: int = 0
    emails: int = 0  # delivered
    delivery: Delivery = field(default_factory=Delivery)
    seconds: float = 0.0
    dry_run: bool = False
    settled: Settled = field(default_factory=Settled)
    mailbox_error: str = ""  # why no mail was read this cycle, or ""
    zone: ZoneInfo | None = None  # the agency's (Settings)
    wall: datetime | None = None  # the cycle's moment on the agency's wall clock
    backup_at: dt_time | None = None  # Settings, Backup Time

    @property
    def new(self) -> int:
        """Requests added: from messages, form responses and rows people typed in."""
        if self.dry_run:
            return len(self.plan.created) + len(self.plan.adopted)
        created = sum(1 for i in self.plan.request_rows if self.report.row_outcomes[i] == ADDED)
        adopted = sum(1 for n in self.plan.adopted.values() if n in self.report.cells_done)
        return created + adopted

    @property
    def rejected(self) -> int:
        return len(self.plan.rejected)

    @property
    def already(self) -> int:
        return len(self.plan.known)

    @property
    def updated(self) -> int:
        """Existing requests whose cells changed (rows typed in by people count as new)."""
        return len({c.key for c in self.batch.cells if c.key and c.tab == REQUESTS.name})

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "new"
        parts = [
            f"{self.new} {verb}",
            f"{self.updated} updated",
            f"{self.rejected} rejected",
            f"{self.already} already in the tracker",
        ]
        if self.plan.followups:
            parts.append(_count(len(self.plan.followups), "follow-up"))
        if self.plan.ignored:
            parts.append(f"{len(self.plan.ignored)} ignored")
        if self.review.edits:
            parts.append(_count(self.review.edits, "edit") + " seen")
        if self.review.escalations:
            parts.append(_count(len(self.review.escalations), "escalation"))
        if self.emails:
            parts.append(_count(self.emails, "email") + " sent")
        if self.delivery.waiting:
            parts.append(_count(len(self.delivery.waiting), "email") + " to retry")
        if self.delivery.failed:
            parts.append(_count(len(self.delivery.failed), "email") + " failed")
        line = ", ".join(parts) + f" ({self.seconds:.1f} s)"
        if self.mailbox_error:
            line += "; mail not read (the mailbox could not be used)"
        return line


def _fetch(mailbox: MailSource, say: Callable[[str], None]) -> tuple[list[MailItem], str]:
    """The new messages, and "" or why the mailbox could not be read. A mailbox that is down
    does not stop the cycle: the sheet's clock, escalations and emails go on, the mail waits
    in the mailbox, and the connection is opened anew next cycle."""
    items: list[MailItem] = []
    try:
        for item in mailbox.fetch():
            items.append(item)
            if len(items) % 250 == 0:
                say(f"read {len(items)} messages from {mailbox.name}")
    except MailboxError as e:
        mailbox.close()
        return [], str(e)  # none of them acknowledged: all of them are read again next time
    return items, ""


def _keyed(batch: Batch) -> Batch:
    """The batch with a key on each Log line (this cycle, the line): a write retried after an
    ambiguous failure finds the lines that landed and appends each once."""
    cycle = uuid.uuid4().hex[:10]
    rows = [
        replace(r, cells={**r.cells, "Key": f"{cycle}-{i}"}, dedupe="Key")
        if normalize_header(r.tab) == normalize_header(LOG.name) and r.dedupe is None
        else r
        for i, r in enumerate(batch.rows)
    ]
    return Batch(batch.cells, rows, batch.grids, batch.moves)


def _clock_time(text: str) -> dt_time | None:
    """A time of day written like 02:00, or None."""
    try:
        hours, minutes = (int(p) for p in text.strip().split(":")[:2])
        return dt_time(hours, minutes)
    except ValueError:
        return None


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


# -- step 4: every change, each stage's own, merged in one place ------------------------------


@dataclass(frozen=True)
class TypedRow:
    """A row a person typed without an ID: its sheet row, its cells with the ID and fills
    intake gives it and what the review adds, and the cells before the review."""

    row: int
    cells: dict[str, CellValue]
    before: dict[str, CellValue]

    @property
    def id(self) -> str:
        return cell_text(self.cells.get("ID"))

    def filled(self, fills: Mapping[str, CellValue]) -> TypedRow:
        """The row with the review's fills, in the cells the person left blank."""
        mine = {c: v for c, v in fills.items() if c not in self.before}
        return replace(self, cells={**self.cells, **mine})

    def adoption(self) -> Batch:
        """The review's fills of the row, written with its adoption."""
        return Batch(
            cells=[
                CellWrite(REQUESTS.name, "", self.row, column, value, only_if=None)
                for column, value in self.cells.items()
                if column not in self.before
            ]
        )


def typed_rows(intake: IntakePlan, requests: Tab) -> list[TypedRow]:
    """Each row a person typed without an ID, as intake adopts it."""
    out = []
    for index in intake.adopted.values():
        row = intake.batch.cells[index].row
        values = requests.rows[row - 2] if 0 <= row - 2 < len(requests.rows) else []
        cells: dict[str, CellValue] = {
            h: values[j]
            for j, h in enumerate(requests.header)
            if j < len(values)
            if not is_blank(values[j])
        }
        for fill in intake.batch.cells:  # the job's fills land only where the person left blank
            if fill.key == "" and fill.row == row and fill.column not in cells:
                cells[fill.column] = fill.value
        out.append(TypedRow(row, cells, dict(cells)))
    return out


@dataclass
class Plans:
    """What each stage of step 4 wants, and `batch`, all of it merged in the order it is
    written: intake's rows (with the review's fills), the adoptions, the review, the aging
    refresh, the renewals, the archive."""

    intake: IntakePlan
    review: Review
    renewals: RenewalReview
    typed: list[TypedRow]
    new_rows: list[dict[str, CellValue]]  # the cells of each request intake adds
    batch: Batch


def filled(intake: IntakePlan, fills: Mapping[str, Mapping[str, CellValue]]) -> Batch:
    """Intake's batch with the review's Owner, Due and SLA in the rows it adds."""
    rows = list(intake.batch.rows)
    for i in intake.request_rows:
        mine = fills.get(cell_text(rows[i].cells.get("ID")), {})
        rows[i] = replace(rows[i], cells={**rows[i].cells, **mine})
    return Batch(intake.batch.cells, rows, intake.batch.grids, intake.batch.moves)


def _renewals(
    snapshot: Snapshot, settings: Settings, directory: Directory, wall: datetime
) -> RenewalReview:
    renewals = snapshot.tab(RENEWALS.name)
    if renewals is None or header_problems(renewals, RENEWALS):
        return RenewalReview()
    return review_renewals(
        renewals,
        snapshot.tab(LOG.name),
        settings.values,
        directory,
        team_from(snapshot),
        wall.date(),
        wall,
    )


def decide(
    snapshot: Snapshot,
    requests: Tab,
    settings: Settings,
    directory: Directory,
    intake: IntakePlan,
    wall: datetime,
    state: StateDir | None,
) -> Plans:
    """Step 4: every change from (snapshot, messages, now), stage by stage."""
    refresh = aging_due(snapshot, settings.get("Aging Refresh Minutes"), wall)
    typed = typed_rows(intake, requests)  # rows people typed, as they will be once adopted
    looked = review(
        snapshot,
        requests,
        directory,
        settings.calendar,
        settings.values,
        wall,
        state.load_seen() if state is not None else None,
        [intake.batch.rows[i].cells for i in intake.request_rows] + [t.cells for t in typed],
        state.load_written() if state is not None else {},
        refresh_aging=refresh,
    )
    typed = [t.filled(looked.fills.get(t.id, {})) for t in typed]
    aging = health_writes(snapshot, {AGING_REFRESHED: wall}, True) if refresh else Batch()
    pipeline = _renewals(snapshot, settings, directory, wall)
    so_far = merged(
        filled(intake, looked.fills),
        *(t.adoption() for t in typed),
        looked.batch,
        aging,
        pipeline.batch,
    )
    reopened = {c.key for c in so_far.cells if c.column == "Closed" and c.value is None}
    moves, record = plan_archive(snapshot, settings.get("Archive After Days"), wall, reopened)
    batch = merged(so_far, Batch(rows=record, moves=moves))
    looked = replace(looked, escalations=looked.escalations + pipeline.escalations)
    new_rows = [batch.rows[i].cells for i in intake.request_rows]
    return Plans(intake, looked, pipeline, typed, new_rows, batch)


# -- people's cells: what the job itself wrote is never a person's edit -------------------------


def _human_cells(cells: Mapping[str, CellValue]) -> dict[str, str]:
    return {c: cell_text(cells.get(c)) for c in HUMAN_COLUMNS}


def job_writes(plans: Plans, batch: Batch) -> dict[str, dict[str, str]]:
    """People's cells as this cycle's write will leave them, should it land: if the process
    dies before it can say so, the next cycle still knows these values for the job's own."""
    wrote: dict[str, dict[str, str]] = {}
    for write in batch.cells:
        if write.key and write.tab == REQUESTS.name and write.column in HUMAN_COLUMNS:
            wrote.setdefault(write.key, {})[write.column] = cell_text(write.value)
    for typed in plans.typed:
        wrote[typed.id] = _human_cells(typed.cells)
    for cells in plans.new_rows:
        wrote[str(cells["ID"])] = _human_cells(cells)
    return wrote


def seen_after(plans: Plans, batch: Batch, report: WriteReport) -> dict[str, dict[str, str]]:
    """People's cells as this cycle leaves them: what was read, plus the human* cells the job
    filled itself (an Owner it routed, the fills of a row it adopted, a new request's cells
    are not a person's edit next time)."""
    seen = {rid: dict(cells) for rid, cells in plans.review.seen.items()}
    for n, write in enumerate(batch.cells):
        ours = write.key and write.tab == REQUESTS.name and write.column in HUMAN_COLUMNS
        if ours and n in report.cells_done:
            seen.setdefault(write.key, {})[write.column] = cell_text(write.value)
    for i, cells in zip(plans.intake.request_rows, plans.new_rows, strict=True):
        if report.row_outcomes[i] in (ADDED, PRESENT):
            seen[str(cells["ID"])] = _human_cells(cells)
    for typed in plans.typed:
        if plans.intake.adopted.get(typed.id) in report.cells_done:
            seen[typed.id] = _human_cells(typed.cells)
    return seen


# -- the cycle --------------------------------------------------------------------------------


def run_cycle(
    tracker: Tracker,
    mailbox: MailSource,
    now: datetime,
    *,
    outbox: Outbox | None = None,
    state: StateDir | None = None,
    mail_from: str = DEFAULT_SENDER,
    health: Mapping[str, CellValue] | None = None,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> CycleResult:
    """One full cycle at `now`, in the seven steps of the module docstring; a naive `now` is
    agency local time (Settings tab). Raises TrackerError, with nothing acknowledged, when
    the tracker cannot be read or written."""
    say = progress or (lambda _line: None)
    started = time.monotonic()
    snapshot = tracker.read()  # 1
    requests = check_tab(snapshot, REQUESTS)
    settings = read_settings(snapshot)
    now = now if now.tzinfo is not None else now.replace(tzinfo=settings.zone)
    wall = now.astimezone(settings.zone).replace(tzinfo=None)
    items, mailbox_error = _fetch(mailbox, say)  # 2
    directory = directory_.from_snapshot(snapshot)
    intake = plan_intake(snapshot, requests, items, settings, now, directory)  # 3
    plans = decide(snapshot, requests, settings, directory, intake, wall, state)  # 4
    result = CycleResult(intake, plans.review, plans.batch, dry_run=dry_run)
    result.mailbox_error, result.zone, result.wall = mailbox_error, settings.zone, wall
    result.backup_at = _clock_time(settings.get("Backup Time"))
    if dry_run:
        result.seconds = time.monotonic() - started
        return result
    emails = Emails()
    if outbox is not None:  # 7, first half: each email kept locally, its Log line planned
        result.settled = outbox.settle(logged_in(snapshot))
        mailer = Mailer(snapshot, settings.values, settings.calendar, wall, mail_from, tracker.link)
        outcomes = outbox.outcomes()
        emails = plan_emails(
            mailer, snapshot, requests, intake, plans.review, plans.renewals.reminders, outcomes
        )
        for email in emails.outgoing:  # kept locally first, sent only once the sheet records it
            outbox.record(email.key, email.kind, email.message, now, email.proof)
    result.batch = merged(plans.batch, emails.batch)
    if health:
        values = {
            key: local(v, settings.zone) if isinstance(v, datetime) and v.tzinfo else v
            for key, v in health.items()
        }
        values["Mailbox"] = mailbox_line(snapshot, mailbox_error, wall)
        result.batch = merged(result.batch, health_writes(snapshot, values, bool(result.batch)))
    if dashboard.due(snapshot, wall):
        result.batch.grids[DASHBOARD] = dashboard.grid(snapshot, settings.calendar, wall)
    _write(tracker, result, plans, state, say)  # 5
    _acknowledge(mailbox, result)  # 6
    if outbox is not None:  # 7, second half
        _deliver(outbox, snapshot, result, emails, now)
    result.seconds = time.monotonic() - started
    return result


def _write(
    tracker: Tracker,
    result: CycleResult,
    plans: Plans,
    state: StateDir | None,
    say: Callable[[str], None],
) -> None:
    """Step 5: every change in one write, Log lines keyed so a retry appends each once."""
    if len(plans.intake.created) >= 250:
        say(f"saving {len(plans.intake.created)} new requests to {tracker.name}")
    result.batch = _keyed(result.batch)
    if state is not None:  # what the job is about to write into people's columns
        state.save_written(job_writes(plans, result.batch))
    result.report = tracker.write(result.batch)
    if state is not None:
        state.save_seen(seen_after(plans, result.batch, result.report))


def _acknowledge(mailbox: MailSource, result: CycleResult) -> None:
    """Step 6: the tracker holds them now (added, or found there by Source): set aside."""
    intake = result.plan
    done: list[MailItem] = [*intake.known, *intake.handled]
    for i, held in intake.rows_for.items():
        if result.report.row_outcomes[i] in (ADDED, PRESENT):
            done.extend(held)
    try:
        mailbox.acknowledge(done)
        result.acknowledged = len(done)
        for item, reason in intake.rejected:
            mailbox.reject(item, reason)
    except MailboxError as e:  # they stay in the mailbox; their Source keeps them single
        result.mailbox_error = str(e)
        mailbox.close()


def _deliver(
    outbox: Outbox, snapshot: Snapshot, result: CycleResult, emails: Emails, now: datetime
) -> None:
    """Step 7: the tracker now records them: confirm, then deliver. An email whose request
    row was not written (another writer took its place) stays unconfirmed."""
    landed = recorded(result.batch, result.report.row_outcomes, logged_in(snapshot))
    outbox.confirm(e.key for e in emails.outgoing if landed(e.proof))
    outbox.logged(o.key for o in emails.outcomes if landed(outcome_proof(o)))
    result.delivery = outbox.deliver(now)
    result.emails = len(result.delivery.sent)

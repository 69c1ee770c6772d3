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
from functools import partial
from zoneinfo import ZoneInfo

from sheets_ops.decide import Plans, decide, job_writes, seen_after
from sheets_ops.learn import with_history
from sheets_ops.model import DASHBOARD, LOG, REQUESTS, CellValue
from sheets_ops.reports import dashboard
from sheets_ops.reports.health import health_writes, mailbox_line, problem_values
from sheets_ops.reports.notify import Mailer
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.archive import CHUNK, Leaving
from sheets_ops.rules.intake import IntakePlan, plan_intake
from sheets_ops.rules.problems import sheet_problems
from sheets_ops.rules.review import Review
from sheets_ops.rules.settings import read_settings
from sheets_ops.sending import Emails, logged_in, outcome_proof, plan_emails, recorded
from sheets_ops.sheet import (
    ADDED,
    PRESENT,
    Batch,
    TrackerError,
    check_tab,
    counted,
    local,
    merged,
    normalize_header,
)
from sheets_ops.sync.archives import Archive, archive_for
from sheets_ops.sync.mailbox import MailboxError, MailItem, MailSource
from sheets_ops.sync.outbox import Delivery, Outbox, Proof, Settled
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
    problems: list[str] = field(default_factory=list)  # values people typed the job cannot use
    archived: int = 0  # requests copied to the archive outside the tracker this cycle

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
            parts.append(counted(len(self.plan.followups), "follow-up"))
        if self.plan.ignored:
            parts.append(f"{len(self.plan.ignored)} ignored")
        if self.review.edits:
            parts.append(counted(self.review.edits, "edit") + " seen")
        if self.review.escalations:
            parts.append(counted(len(self.review.escalations), "escalation"))
        if self.emails:
            parts.append(counted(self.emails, "email") + " sent")
        if self.delivery.waiting:
            parts.append(counted(len(self.delivery.waiting), "email") + " to retry")
        if self.delivery.failed:
            parts.append(counted(len(self.delivery.failed), "email") + " failed")
        if self.archived:
            parts.append(counted(self.archived, "request") + " archived")
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
                say(f"read {counted(len(items), 'message')} from {mailbox.name}")
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
    return replace(batch, rows=rows)


def _clock_time(text: str) -> dt_time | None:
    """A time of day written like 02:00, or None."""
    try:
        hours, minutes = (int(p) for p in text.strip().split(":")[:2])
        return dt_time(hours, minutes)
    except ValueError:
        return None


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
    archive_chunk: int = CHUNK,
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
    archive = archive_for(tracker, settings.get("Archive Location"), state, say)
    backup_at = _clock_time(settings.get("Backup Time"))
    if state is not None:  # what the agency's history taught, trained once a day
        directory = with_history(
            directory, snapshot, archive, state, wall, backup_at, say, train_now=not dry_run
        )
    past = archive.past(snapshot) if archive is not None else None
    intake = plan_intake(snapshot, requests, items, settings, now, directory, past)  # 3
    out = archive is not None  # archived requests leave for an archive of their own
    plans = decide(  # 4
        snapshot, requests, settings, directory, intake, wall, state, out, archive_chunk
    )
    archived = 0
    if archive is not None and plans.leaving and not dry_run:
        copied, archived = _copy_out(archive, plans.leaving, say)
        plans.batch = merged(plans.batch, copied)
    result = CycleResult(intake, plans.review, plans.batch, dry_run=dry_run, archived=archived)
    result.mailbox_error, result.zone, result.wall = mailbox_error, settings.zone, wall
    result.backup_at = backup_at
    result.problems = [p.line() for p in sheet_problems(snapshot)] + plans.review.problems
    if dry_run:
        result.seconds = time.monotonic() - started
        return result
    emails = Emails()
    if outbox is not None:  # 7, first half: each email kept locally, its Log line planned
        proofs = logged_in(snapshot)  # the Log's lines, looked up by what proves an email
        result.settled = outbox.settle(proofs)
        mailer = Mailer(snapshot, settings.values, settings.calendar, wall, mail_from, tracker.link)
        if archive is not None:
            mailer.history = partial(archive.joined, snapshot)
        outcomes = outbox.outcomes()
        reminders = plans.renewals.reminders
        emails = plan_emails(
            mailer, snapshot, requests, intake, plans.review, reminders, outcomes, plans.batch
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
        values.update(problem_values(snapshot, result.problems))
        result.batch = merged(result.batch, health_writes(snapshot, values, bool(result.batch)))
    if dashboard.due(snapshot, wall):
        since = dashboard.reaches_back(wall)
        figures = archive.joined(snapshot, since) if archive is not None else snapshot
        where = archive.name if archive is not None else ""
        result.batch.grids[DASHBOARD] = dashboard.grid(figures, settings.calendar, wall, where)
    _write(tracker, result, plans, state, say, snapshot.revision)  # 5
    _acknowledge(mailbox, result)  # 6
    if outbox is not None:  # 7, second half
        _deliver(outbox, proofs, result, emails, now)
    result.seconds = time.monotonic() - started
    return result


def _copy_out(archive: Archive, out: Leaving, say: Callable[[str], None]) -> tuple[Batch, int]:
    """Step 4, last: archived requests copied to the archive, and, for those it now holds,
    their rows and Log lines dropped from the tracker in this cycle's write. An archive that
    cannot be written (open in Excel) leaves everything where it is until the next cycle."""
    if len(out.requests) >= 1_000:
        say(f"moving {counted(len(out.requests), 'archived request')} to {archive.name}")
    try:
        kept = archive.add(out.requests, out.log)
    except TrackerError as e:
        say(f"archive: {e}; nothing left the tracker, the next cycle tries again")
        return Batch(), 0
    record = out.recorded(kept)
    for line in record:
        say(f"{line.cells['What']}: {line.cells['New']}")
    return Batch(rows=record, drops=out.drops(kept)), len(kept)


def _write(
    tracker: Tracker,
    result: CycleResult,
    plans: Plans,
    state: StateDir | None,
    say: Callable[[str], None],
    revision: str | None,
) -> None:
    """Step 5: every change in one write, Log lines keyed so a retry appends each once.
    After a cycle that wrote nothing, the tracker is still as read (`revision`): the
    requests that changed nothing need not be looked at again until their Quiet ends."""
    if len(plans.intake.created) >= 250:
        say(f"saving {len(plans.intake.created)} new requests to {tracker.name}")
    result.batch = _keyed(result.batch)
    if state is not None:  # what the job is about to write into people's columns
        state.save_written(job_writes(plans, result.batch))
    result.report = tracker.write(result.batch)
    if state is not None:
        state.save_seen(seen_after(plans, result.batch, result.report))
        state.save_quiet(None if result.batch else revision, plans.review.quiet)


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
    outbox: Outbox,
    before: Callable[[Proof], bool],
    result: CycleResult,
    emails: Emails,
    now: datetime,
) -> None:
    """Step 7: the tracker now records them: confirm, then deliver. An email whose request
    row was not written (another writer took its place) stays unconfirmed."""
    landed = recorded(result.batch, result.report.row_outcomes, before)
    outbox.confirm(e.key for e in emails.outgoing if landed(e.proof))
    outbox.logged(o.key for o in emails.outcomes if landed(outcome_proof(o)))
    result.delivery = outbox.deliver(now)
    result.emails = len(result.delivery.sent)

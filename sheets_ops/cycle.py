"""One cycle, start to end. The order is what makes intake exactly-once:

1. read the whole tracker in one call;
2. fetch new messages without marking them read;
3. turn them into requests (pure), skipping every Source already in the sheet;
4. compute every change from (snapshot, messages, now);
5. write all changes in one call, rows located by ID;
6. only then acknowledge the messages whose rows the tracker holds.

Killed before 5 completes, the tracker is unchanged and every message is still in the mailbox.
Killed between 5 and 6, the messages are fetched again and their Source is found in the sheet.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

from sheets_ops.model import DASHBOARD, HEALTH, LOG, RENEWALS, REQUESTS, CellValue, is_blank
from sheets_ops.reports import dashboard
from sheets_ops.reports.notify import EMAIL_FAILED, EMAIL_SENT, Mailer, Outgoing, rows_by_id
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.archive import plan_archive
from sheets_ops.rules.intake import IntakePlan, plan_intake
from sheets_ops.rules.renewals import RenewalReview, review_renewals
from sheets_ops.rules.review import HUMAN_COLUMNS, Review, review
from sheets_ops.rules.settings import read_settings
from sheets_ops.rules.team import team_from
from sheets_ops.sheet import (
    ADDED,
    PRESENT,
    Batch,
    CellWrite,
    NewRow,
    Snapshot,
    Tab,
    as_moment,
    cell_text,
    check_tab,
    header_problems,
    local,
    normalize_header,
)
from sheets_ops.sync.mailbox import MailboxError, MailItem, MailSource
from sheets_ops.sync.outbox import Delivery, Outbox, Outcome, Proof, Settled
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker, WriteReport

DEFAULT_SENDER = "service@localhost"  # MAIL_FROM, when it is not set


@dataclass
class CycleResult:
    plan: IntakePlan
    review: Review = field(default_factory=Review)
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
        return len({c.key for c in self.plan.batch.cells if c.key})

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


def _seen_after(
    looked: Review,
    plan: IntakePlan,
    report: WriteReport,
    typed: list[tuple[int, dict[str, CellValue], dict[str, CellValue]]],
) -> dict[str, dict[str, str]]:
    """People's cells as this cycle leaves them: what was read, plus the human* cells the job
    filled itself (an Owner it routed, the fills of a row it adopted, a new request's cells
    are not a person's edit next time)."""
    seen = {rid: dict(cells) for rid, cells in looked.seen.items()}
    for n, write in enumerate(plan.batch.cells):
        if n in report.cells_done and write.key and write.column in HUMAN_COLUMNS:
            seen.setdefault(write.key, {})[write.column] = cell_text(write.value)
    for i in plan.request_rows:
        if report.row_outcomes[i] in (ADDED, PRESENT):
            cells = plan.batch.rows[i].cells
            seen[str(cells["ID"])] = {c: cell_text(cells.get(c)) for c in HUMAN_COLUMNS}
    for _row, cells, _before in typed:
        rid = cell_text(cells.get("ID"))
        if plan.adopted.get(rid) in report.cells_done:
            seen[rid] = {c: cell_text(cells.get(c)) for c in HUMAN_COLUMNS}
    return seen


def _emails(
    mailer: Mailer,
    snapshot: Snapshot,
    requests: Tab,
    plan: IntakePlan,
    looked: Review,
    outbox: Outbox,
) -> tuple[list[Outgoing], list[Outcome]]:
    """Every email this cycle sends, with the Log rows that record them added to the batch;
    and the outcomes of earlier deliveries, which the Log hears of now."""
    rows = rows_by_id(requests)
    log = snapshot.tab(LOG.name)
    outcomes = outbox.outcomes()
    for o in outcomes:
        if o.status == "sent":
            plan.batch.rows.append(mailer.log(EMAIL_SENT, o.key, f"{o.kind} to {o.recipient}"))
        else:
            plan.batch.rows.append(
                mailer.log(EMAIL_FAILED, o.key, f"{o.kind} to {o.recipient}: {o.error}")
            )
    failures = [(o.key, o.recipient, o.error) for o in outcomes if o.status == "failed"]
    outgoing: list[Outgoing] = []
    for row, ask in plan.info_requests:
        outgoing.append(replace(mailer.info_request(ask), after=row))
    for escalation in looked.escalations:
        if escalation.level == 0 and (reminder := mailer.carrier_reminder(escalation, rows)):
            outgoing.append(reminder)
    for email in (
        mailer.digests(rows, log, failures) + mailer.summary(rows, log) + mailer.weekly(log)
    ):
        if email.record is not None:
            plan.batch.rows.append(email.record)
        outgoing.append(email)
    return outgoing, outcomes


def logged_in(snapshot: Snapshot) -> Callable[[Proof], bool]:
    """Whether the tracker's Log holds a line (What, Request, Old): an email's proof."""
    log = snapshot.tab(LOG.name)
    lines: dict[tuple[str, str], set[str]] = {}
    for _row, rec in log.records() if log is not None else ():
        what, old = cell_text(rec.get("what")), cell_text(rec.get("old"))
        lines.setdefault((what, old), set()).add(cell_text(rec.get("request")))

    def found(proof: Proof) -> bool:
        what, request, old = proof
        requests = lines.get((what.strip(), old.strip()))
        return requests is not None and (not request.strip() or request.strip() in requests)

    return found


def _recorded(
    batch: Batch, report: WriteReport, before: Callable[[Proof], bool]
) -> Callable[[Proof], bool]:
    """Whether a Log line (What, Request, Old) is in the tracker now: there before this
    cycle, or written (or found there) by this cycle's write."""
    lines: set[tuple[str, str, str]] = set()
    for i, r in enumerate(batch.rows):
        if normalize_header(r.tab) == normalize_header(LOG.name) and report.row_outcomes[i] in (
            ADDED,
            PRESENT,
        ):
            cells = r.cells
            lines.add((cell_text(cells.get("What")), "", cell_text(cells.get("Old"))))
            lines.add(
                (
                    cell_text(cells.get("What")),
                    cell_text(cells.get("Request")),
                    cell_text(cells.get("Old")),
                )
            )

    def found(proof: Proof) -> bool:
        what, request, old = (p.strip() for p in proof)
        return (what, request, old) in lines or before(proof)

    return found


def _outcome_what(outcome: Outcome) -> str:
    return EMAIL_SENT if outcome.status == "sent" else EMAIL_FAILED


HEALTH_EVERY = timedelta(minutes=15)  # how stale "Last good cycle" may get when nothing changes


def _health(
    snapshot: Snapshot, values: Mapping[str, CellValue], batch: Batch, always: bool = False
) -> None:
    """The Health tab, in the same write as everything else: it says the cycle went well only
    if it did. When nothing else changes it is refreshed every quarter of an hour, so a quiet
    desk does not cost a write every cycle."""
    tab = snapshot.tab(HEALTH.name)
    if tab is None or header_problems(tab, HEALTH):
        return
    rows = {cell_text(rec.get("key")): (row, rec.get("value")) for row, rec in tab.records()}

    def held(key: str, like: CellValue) -> str:
        """The Health value as text, a moment read back as one (Google answers a number)."""
        value = rows.get(key, (0, None))[1]
        return cell_text(as_moment(value) if isinstance(like, datetime) else value)

    last = as_moment(rows.get("Last good cycle", (0, None))[1])
    now = values.get("Last good cycle")
    stale = (
        last is None
        or not isinstance(now, datetime)
        or (now.replace(tzinfo=None) - last >= HEALTH_EVERY)
    )
    changed = any(
        held(k, v) != cell_text(v)
        for k, v in values.items()
        if k not in ("Last good cycle", "Cycles since start")
    )
    if not (always or batch or stale or changed):
        return
    for key, value in values.items():
        if key in rows:
            batch.cells.append(CellWrite(HEALTH.name, key, rows[key][0], "Value", value))
        else:
            batch.rows.append(NewRow(HEALTH.name, {"Key": key, "Value": value}, dedupe="Key"))


AGING_REFRESHED = "Aging refreshed"  # a Health key: when Age (h) and Idle (h) were last written


def _aging_due(snapshot: Snapshot, minutes_text: str, wall: datetime) -> bool:
    """Whether this cycle rewrites every open row's Age (h) and Idle (h): when the Health tab
    says they were last written Aging Refresh Minutes ago or more, or does not say."""
    try:
        every = timedelta(minutes=max(0.0, float(minutes_text or 15)))
    except ValueError:
        every = timedelta(minutes=15)
    tab = snapshot.tab(HEALTH.name)
    if tab is None or header_problems(tab, HEALTH):
        return True
    for _row, rec in tab.records():
        if cell_text(rec.get("key")) == AGING_REFRESHED:
            last = as_moment(rec.get("value"))
            return last is None or not timedelta(0) <= wall - last < every
    return True


def _mailbox_health(snapshot: Snapshot, error: str, wall: datetime) -> str:
    """The Health tab's Mailbox line: "ok", or since when it has been down and why."""
    if not error:
        return "ok"
    tab = snapshot.tab(HEALTH.name)
    before = ""
    if tab is not None:
        for _row, rec in tab.records():
            if cell_text(rec.get("key")) == "Mailbox":
                before = cell_text(rec.get("value"))
    since = before.split(" — ", 1)[0] if before.startswith("down since") else ""
    return f"{since or f'down since {wall:%Y-%m-%d %H:%M}'} — {error}"


def _typed_in(
    plan: IntakePlan, requests: Tab
) -> list[tuple[int, dict[str, CellValue], dict[str, CellValue]]]:
    """(sheet row, cells, cells before the review) of each row a person typed without an ID,
    with the ID and fills intake gives it."""
    out = []
    for index in plan.adopted.values():
        row = plan.batch.cells[index].row
        values = requests.rows[row - 2] if 0 <= row - 2 < len(requests.rows) else []
        cells: dict[str, CellValue] = {
            h: values[j]
            for j, h in enumerate(requests.header)
            if j < len(values)
            if not is_blank(values[j])
        }
        cells.update({c.column: c.value for c in plan.batch.cells if c.key == "" and c.row == row})
        out.append((row, cells, dict(cells)))
    return out


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


def _job_writes(
    plan: IntakePlan, typed: list[tuple[int, dict[str, CellValue], dict[str, CellValue]]]
) -> dict[str, dict[str, str]]:
    """People's cells as this cycle's write will leave them, should it land: if the process
    dies before it can say so, the next cycle still knows these values for the job's own."""
    wrote: dict[str, dict[str, str]] = {}
    for write in plan.batch.cells:
        if write.key and write.column in HUMAN_COLUMNS:
            wrote.setdefault(write.key, {})[write.column] = cell_text(write.value)
    for _row, cells, _before in typed:
        rid = cell_text(cells.get("ID"))
        wrote[rid] = {c: cell_text(cells.get(c)) for c in HUMAN_COLUMNS}
    for i in plan.request_rows:
        cells = plan.batch.rows[i].cells
        wrote[str(cells["ID"])] = {c: cell_text(cells.get(c)) for c in HUMAN_COLUMNS}
    return wrote


def _clock_time(text: str) -> dt_time | None:
    """A time of day written like 02:00, or None."""
    try:
        hours, minutes = (int(p) for p in text.strip().split(":")[:2])
        return dt_time(hours, minutes)
    except ValueError:
        return None


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


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
    """One full cycle at `now`; a naive `now` is agency local time (Settings tab).
    Raises TrackerError, with nothing acknowledged, when the tracker cannot be read or
    written."""
    say = progress or (lambda _line: None)
    started = time.monotonic()
    snapshot = tracker.read()
    requests = check_tab(snapshot, REQUESTS)
    settings = read_settings(snapshot)
    if now.tzinfo is None:
        now = now.replace(tzinfo=settings.zone)
    items, mailbox_error = _fetch(mailbox, say)
    directory = directory_.from_snapshot(snapshot)
    plan = plan_intake(snapshot, requests, items, settings, now, directory)
    wall = now.astimezone(settings.zone).replace(tzinfo=None)
    seen_before = state.load_seen() if state is not None else None
    job_wrote = state.load_written() if state is not None else {}
    refresh = _aging_due(snapshot, settings.get("Aging Refresh Minutes"), wall)
    created_cells = [plan.batch.rows[i].cells for i in plan.request_rows]
    typed = _typed_in(plan, requests)  # rows people typed, as they will be once adopted
    looked = review(
        snapshot,
        requests,
        directory,
        settings.calendar,
        settings.values,
        wall,
        seen_before,
        created_cells + [cells for _row, cells, _before in typed],
        job_wrote,
        refresh_aging=refresh,
    )
    if refresh:
        _health(snapshot, {AGING_REFRESHED: wall}, looked.batch, always=True)
    for row, cells, before in typed:  # what the review added goes in with the adoption
        for column, value in cells.items():
            if column not in before:
                plan.batch.cells.append(
                    CellWrite(REQUESTS.name, "", row, column, value, only_if=None)
                )
    plan.batch.cells.extend(looked.batch.cells)
    plan.batch.rows.extend(looked.batch.rows)
    renewals = snapshot.tab(RENEWALS.name)
    pipeline = RenewalReview()
    if renewals is not None and not header_problems(renewals, RENEWALS):
        pipeline = review_renewals(
            renewals,
            snapshot.tab(LOG.name),
            settings.values,
            directory,
            team_from(snapshot),
            wall.date(),
            wall,
        )
        plan.batch.cells.extend(pipeline.batch.cells)
        plan.batch.rows.extend(pipeline.batch.rows)
        looked.escalations.extend(pipeline.escalations)
    reopened = {c.key for c in plan.batch.cells if c.column == "Closed" and c.value is None}
    moves, record = plan_archive(snapshot, settings.get("Archive After Days"), wall, reopened)
    plan.batch.moves.extend(moves)
    plan.batch.rows.extend(record)
    result = CycleResult(plan, review=looked, dry_run=dry_run, mailbox_error=mailbox_error)
    result.zone, result.wall = settings.zone, wall
    result.backup_at = _clock_time(settings.get("Backup Time"))
    if dry_run:
        result.seconds = time.monotonic() - started
        return result
    outgoing: list[Outgoing] = []
    outcomes: list[Outcome] = []
    if outbox is not None:
        # A run stopped between its write and its deliveries left emails unconfirmed: those
        # whose Log line landed go now, the others were never recorded and are planned anew.
        result.settled = outbox.settle(logged_in(snapshot))
        mailer = Mailer(snapshot, settings.values, settings.calendar, wall, mail_from, tracker.link)
        outgoing, outcomes = _emails(mailer, snapshot, requests, plan, looked, outbox)
        for reminder in pipeline.reminders:
            line = cell_text(mailer.renewals.get(reminder.policy, {}).get("line"))
            outgoing.append(mailer.renewal_reminder(reminder, line))
        for email in outgoing:  # kept locally first, sent only once the sheet records it
            outbox.record(email.key, email.kind, email.message, now, email.proof)
    if health:
        values = {
            key: local(v, settings.zone) if isinstance(v, datetime) and v.tzinfo else v
            for key, v in health.items()
        }
        values["Mailbox"] = _mailbox_health(snapshot, mailbox_error, wall)
        _health(snapshot, values, plan.batch)
    if dashboard.due(snapshot, wall):
        plan.batch.grids[DASHBOARD] = dashboard.grid(snapshot, settings.calendar, wall)
    if len(plan.created) >= 250:
        say(f"saving {len(plan.created)} new requests to {tracker.name}")
    keyed = _keyed(plan.batch)
    if state is not None:  # what the job is about to write into people's columns
        state.save_written(_job_writes(plan, typed))
    result.report = tracker.write(keyed)
    # The tracker holds them now (added, or found there by Source): safe to set aside.
    done: list[MailItem] = [*plan.known, *plan.handled]
    for i, held in plan.rows_for.items():
        if result.report.row_outcomes[i] in (ADDED, PRESENT):
            done.extend(held)
    try:
        mailbox.acknowledge(done)
        result.acknowledged = len(done)
        for item, reason in plan.rejected:
            mailbox.reject(item, reason)
    except MailboxError as e:  # they stay in the mailbox; their Source keeps them single
        result.mailbox_error = str(e)
        mailbox.close()
    if state is not None:
        state.save_seen(_seen_after(looked, plan, result.report, typed))
    if outbox is not None:
        # The tracker now records them: confirm, then deliver. An email whose request row
        # was not written (another writer took its place) stays unconfirmed.
        recorded = _recorded(keyed, result.report, logged_in(snapshot))
        outbox.confirm(e.key for e in outgoing if recorded(e.proof))
        outbox.logged(o.key for o in outcomes if recorded((_outcome_what(o), "", o.key)))
        result.delivery = outbox.deliver(now)
        result.emails = len(result.delivery.sent)
    result.seconds = time.monotonic() - started
    return result

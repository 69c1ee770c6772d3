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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sheets_ops.model import REQUESTS
from sheets_ops.reports.emails import info_request_email
from sheets_ops.rules.intake import IntakePlan, pending_info_requests, plan_intake
from sheets_ops.rules.settings import read_settings
from sheets_ops.sync.mailbox import MailItem, MailSource
from sheets_ops.sync.outbox import FolderOutbox
from sheets_ops.sync.tracker import ADDED, PRESENT, Tracker, WriteReport, check_tab

DEFAULT_SENDER = "service@localhost"  # MAIL_FROM, when it is not set


@dataclass
class CycleResult:
    plan: IntakePlan
    report: WriteReport = field(default_factory=WriteReport)
    acknowledged: int = 0
    emails: int = 0  # written to the outbox
    seconds: float = 0.0
    dry_run: bool = False

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
        if self.emails:
            parts.append(_count(self.emails, "email") + " queued")
        return ", ".join(parts) + f" ({self.seconds:.1f} s)"


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def run_cycle(
    tracker: Tracker,
    mailbox: MailSource,
    now: datetime,
    *,
    outbox: FolderOutbox | None = None,
    mail_from: str = DEFAULT_SENDER,
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
    items: list[MailItem] = []
    for item in mailbox.fetch():
        items.append(item)
        if len(items) % 250 == 0:
            say(f"read {len(items)} messages from {mailbox.name}")
    plan = plan_intake(snapshot, requests, items, settings, now)
    result = CycleResult(plan, dry_run=dry_run)
    if dry_run:
        result.seconds = time.monotonic() - started
        return result
    if len(plan.created) >= 250:
        say(f"saving {len(plan.created)} new requests to {tracker.name}")
    result.report = tracker.write(plan.batch)
    # The tracker holds them now (added, or found there by Source): safe to set aside.
    done: list[MailItem] = [*plan.known, *plan.handled]
    for i, held in plan.rows_for.items():
        if result.report.row_outcomes[i] in (ADDED, PRESENT):
            done.extend(held)
    mailbox.acknowledge(done)
    result.acknowledged = len(done)
    for item, reason in plan.rejected:
        mailbox.reject(item, reason)
    if outbox is not None:
        # Recorded in the Log first (the write above), then queued: an email whose record
        # is in the tracker but whose file is not (a run killed here) is queued next time.
        asks = [a for i, a in plan.info_requests if result.report.row_outcomes[i] == ADDED]
        asks += pending_info_requests(snapshot)
        for ask in asks:
            if not outbox.has(ask.key) and ask.to and "@" in ask.to:
                outbox.put(ask.key, info_request_email(ask, mail_from, now))
                result.emails += 1
    result.seconds = time.monotonic() - started
    return result

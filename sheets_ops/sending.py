"""A cycle's emails, exactly once: which ones this cycle sends (info requests, carrier
chases, digests, summaries, the weekly report, renewal reminders) with the Log lines that
record them, and the Log lines of deliveries that ended since; then, once the write has
landed, which of them the tracker now records: only those are delivered."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

from sheets_ops.model import LOG, REQUESTS
from sheets_ops.reports.notify import EMAIL_FAILED, EMAIL_SENT, Mailer, Outgoing, rows_by_id
from sheets_ops.reports.owner_mail import daily_summary, weekly_report
from sheets_ops.reports.pilot_mail import pilot_report
from sheets_ops.reports.queue_mail import my_queues
from sheets_ops.rules.intake import IntakePlan
from sheets_ops.rules.renewals import RenewalReminder
from sheets_ops.rules.review import Review
from sheets_ops.sheet import (
    ADDED,
    PRESENT,
    Batch,
    Snapshot,
    Tab,
    cell_text,
    local,
    normalize_header,
)
from sheets_ops.sync.outbox import Outcome, Proof


@dataclass
class Emails:
    """This cycle's emails, the outcomes of earlier deliveries, and the Log lines of both."""

    outgoing: list[Outgoing] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    batch: Batch = field(default_factory=Batch)


def plan_emails(
    mailer: Mailer,
    snapshot: Snapshot,
    requests: Tab,
    intake: IntakePlan,
    looked: Review,
    reminders: list[RenewalReminder],
    outcomes: list[Outcome],
    changes: Batch | None = None,
) -> Emails:
    """Every email this cycle sends, with the Log rows that record them; and the outcomes of
    earlier deliveries, which the Log hears of now. The emails read the requests as this
    cycle's `changes` leave them (an SLA that turned Overdue now, a request added now)."""
    emails = Emails(outcomes=outcomes)
    rows = as_changed(rows_by_id(requests), changes or Batch())
    log = snapshot.tab(LOG.name)
    for o in outcomes:
        if o.status == "sent":
            record = mailer.log(EMAIL_SENT, o.key, f"{o.kind} to {o.recipient}")
        else:
            record = mailer.log(EMAIL_FAILED, o.key, f"{o.kind} to {o.recipient}: {o.error}")
        if sent_at := _moment(o.at, mailer.calendar.zone):  # the time it went, not this cycle's
            record = replace(record, cells={**record.cells, "When": sent_at})
        emails.batch.rows.append(record)
    failures = [(o.key, o.recipient, o.error) for o in outcomes if o.status == "failed"]
    emails.outgoing += [mailer.info_request(ask) for _row, ask in intake.info_requests]
    for escalation in looked.escalations:
        if escalation.level == 0 and (reminder := mailer.carrier_reminder(escalation, rows)):
            emails.outgoing.append(reminder)
    for email in (
        mailer.digests(rows, log, failures)
        + daily_summary(mailer, rows, log)
        + weekly_report(mailer, log)
        + pilot_report(mailer, snapshot)
        + my_queues(mailer, rows, log)
    ):
        if email.record is not None:
            emails.batch.rows.append(email.record)
        emails.outgoing.append(email)
    for renewal in reminders:
        line = cell_text(mailer.renewals.get(renewal.policy, {}).get("line"))
        emails.outgoing.append(mailer.renewal_reminder(renewal, line))
    return emails


def _moment(stamp: str, zone: tzinfo) -> datetime | None:
    """An outbox time (UTC, ISO) on the agency's wall clock, or None."""
    try:
        return local(datetime.fromisoformat(stamp), zone) if stamp else None
    except ValueError:
        return None


def as_changed(rows: dict[str, dict[str, Any]], changes: Batch) -> dict[str, dict[str, Any]]:
    """Requests by ID (cells by normalized header) with this cycle's changes applied (the
    rows it changes are copies; `rows` is left as it was)."""
    out = dict(rows)
    copied: set[str] = set()
    for write in changes.cells:
        if write.key in out and normalize_header(write.tab) == normalize_header(REQUESTS.name):
            if write.key not in copied:
                out[write.key] = dict(out[write.key])
                copied.add(write.key)
            out[write.key][normalize_header(write.column)] = write.value
    for row in changes.rows:
        rid = cell_text(row.cells.get("ID"))
        if rid and normalize_header(row.tab) == normalize_header(REQUESTS.name):
            out.setdefault(rid, {normalize_header(k): v for k, v in row.cells.items()})
    return out


def logged_in(snapshot: Snapshot) -> Callable[[Proof], bool]:
    """Whether the tracker's Log holds a line (What, Request, Old): an email's proof. The
    Log is gone through at the first question, not before: a quiet cycle asks none."""

    @functools.cache
    def index() -> dict[tuple[str, str], set[str]]:
        lines: dict[tuple[str, str], set[str]] = {}
        log = snapshot.tab(LOG.name)
        for _row, cells in log.records() if log is not None else ():
            what, old = cell_text(cells.get("what")), cell_text(cells.get("old"))
            lines.setdefault((what, old), set()).add(cell_text(cells.get("request")))
        return lines

    def found(proof: Proof) -> bool:
        what, request, old = proof
        requests = index().get((what.strip(), old.strip()))
        return requests is not None and (not request.strip() or request.strip() in requests)

    return found


def recorded(
    batch: Batch, outcomes: list[str], before: Callable[[Proof], bool]
) -> Callable[[Proof], bool]:
    """Whether a Log line (What, Request, Old) is in the tracker now: there before this
    cycle, or written (or found there) by this cycle's write (`outcomes`, by batch row)."""
    lines: set[tuple[str, str, str]] = set()
    for i, r in enumerate(batch.rows):
        if normalize_header(r.tab) == normalize_header(LOG.name) and outcomes[i] in (
            ADDED,
            PRESENT,
        ):
            what, old = cell_text(r.cells.get("What")), cell_text(r.cells.get("Old"))
            lines.add((what, "", old))
            lines.add((what, cell_text(r.cells.get("Request")), old))

    def found(proof: Proof) -> bool:
        what, request, old = (p.strip() for p in proof)
        return (what, request, old) in lines or before(proof)

    return found


def outcome_proof(outcome: Outcome) -> Proof:
    """The Log line that records how an earlier delivery ended."""
    return (EMAIL_SENT if outcome.status == "sent" else EMAIL_FAILED, "", outcome.key)

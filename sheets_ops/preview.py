"""`sheets-ops digest --preview DIR`: every email a cycle would send now, as HTML files.

It reviews a copy of the tracker at `now` (so escalations due by then are included), builds
the digests, the daily summary and carrier reminders, and writes each
HTML part as `KEY.html`. Nothing is written to the tracker and nothing is sent.
"""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path

from sheets_ops.model import REQUESTS
from sheets_ops.reports.notify import Mailer, Outgoing, rows_by_id
from sheets_ops.reports.owner_mail import daily_summary
from sheets_ops.reports.queue_mail import my_queues
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.review import review
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Snapshot, check_tab
from sheets_ops.sync.memory import MemoryTracker


def preview(snapshot: Snapshot, now: datetime, folder: Path, sender: str) -> list[Path]:
    settings = read_settings(snapshot)
    wall = now.astimezone(settings.zone).replace(tzinfo=None) if now.tzinfo else now
    copy_ = MemoryTracker(copy.deepcopy(snapshot.tabs))
    before = copy_.read()
    looked = review(
        before,
        check_tab(before, REQUESTS),
        directory_.from_snapshot(before),
        settings.calendar,
        settings.values,
        wall,
        None,
    )
    copy_.write(looked.batch)
    after = copy_.read()
    mailer = Mailer(after, settings.values, settings.calendar, wall, sender)
    rows = rows_by_id(check_tab(after, REQUESTS))
    log = after.tab("Log")
    emails: list[Outgoing] = mailer.digests(rows, log, until=wall)
    emails += daily_summary(mailer, rows, log) + my_queues(mailer, rows, log)
    for escalation in looked.escalations:
        if escalation.level == 0 and (reminder := mailer.carrier_reminder(escalation, rows)):
            emails.append(reminder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for email in emails:
        part = email.message.get_body(preferencelist=("html",))
        html = part.get_content() if part is not None else ""
        path = folder / f"{email.key}.html"
        path.write_text(str(html), "utf-8")
        written.append(path)
    return written

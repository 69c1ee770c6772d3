"""`sheets-ops demo`: a sample agency on the embedded defaults, to see the tracker at work.

Lakeshore Insurance Group is fictional; so are its clients, addresses and phone numbers
(555 numbers, `.example` domains). The sample messages cover what a service desk sees in a
week: certificates, endorsements, billing, claims, renewals, cancellations, a voicemail
notification and a text forwarded by an SMS gateway.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sheets_ops.cycle import CycleResult, run_cycle
from sheets_ops.demo_data import (
    ACCOUNT_ROWS,
    HOLIDAY_ROWS,
    RENEWAL_ROWS,
    ROUTING_ROWS,
    SAMPLES,
    TEAM_ROWS,
    Sample,
)
from sheets_ops.model import (
    ACCOUNTS,
    HOLIDAYS,
    REQUESTS,
    ROUTING,
    TABS,
    TEAM,
    CellValue,
    TabSpec,
)
from sheets_ops.renewals_import import import_renewals
from sheets_ops.rules.clock import Calendar
from sheets_ops.rules.message import message_id_of
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Batch, CellWrite, NewRow, Snapshot, cell_text, counted
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.transport import FolderTransport
from sheets_ops.sync.xlsx import XlsxTracker

AGENCY = "service@lakeshore-insurance.example"
ZONE = ZoneInfo("America/Chicago")

SAMPLED_AT = datetime(2026, 11, 25, 15, 0)  # the moment the samples were written for
SCALE = 0.22  # their week, pressed into the last two business days before `now`


def sample_times(calendar: Calendar, now: datetime) -> list[datetime]:
    """When each sample arrives for a demo run at `now`: in the same order and business-hour
    spacing as written, pressed toward `now`, so the tracker shows a morning's mix (new, on
    track, due soon, overdue) whatever the day the demo is run."""
    wall = now.astimezone(ZONE).replace(tzinfo=None)
    out = []
    for sample in SAMPLES:
        written = datetime.strptime(sample.when, "%Y-%m-%d %H:%M")
        before = calendar.hours_between(written, SAMPLED_AT) * SCALE
        out.append(calendar.add_hours(wall, -before).replace(tzinfo=ZONE))
    return out


def shift_dates(text: str, written: date, sent: date) -> str:
    """The dates a sample names (like 11/20), moved by as many days as the sample was."""

    def moved(match: re.Match[str]) -> str:
        month, day = int(match.group(1)), int(match.group(2))
        try:
            named = min(
                (date(written.year + dy, month, day) for dy in (-1, 0, 1)),
                key=lambda d: abs((d - written).days),
            )
        except ValueError:
            return match.group(0)
        new = named + (sent - written)
        return f"{new.month}/{new.day}"

    return re.sub(r"\b(1[0-2]|[1-9])/(3[01]|[12]\d|[1-9])\b", moved, text)


def sample_message(index: int, sample: Sample, sent: datetime) -> tuple[str, bytes]:
    """A file name and the bytes of one sample message, sent at `sent`."""
    written = datetime.strptime(sample.when, "%Y-%m-%d %H:%M").date()
    msg = EmailMessage()
    msg["From"] = sample.sender
    msg["To"] = AGENCY
    if sample.subject:
        msg["Subject"] = sample.subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = f"<demo-{index:03d}@lakeshore-demo.example>"
    if sample.reply_to:
        msg["In-Reply-To"] = f"<demo-{sample.reply_to:03d}@lakeshore-demo.example>"
    body = shift_dates(sample.body, written, sent.date())
    if sample.html:
        msg.set_content(body, subtype="html")
    else:
        msg.set_content(body)
    slug = "".join(c if c.isalnum() else "-" for c in sample.subject.lower())[:40].strip("-")
    name = f"{sent:%Y%m%d-%H%M}-{index:03d}-{slug or 'no-subject'}.eml"
    return name, bytes(msg)


def _reference_rows(snapshot: Snapshot) -> Batch:
    """Sample rows for the reference tabs that are still empty."""
    batch = Batch()
    tables: list[tuple[TabSpec, list[tuple[object, ...]]]] = [
        (TEAM, list(TEAM_ROWS)),
        (ACCOUNTS, list(ACCOUNT_ROWS)),
        (ROUTING, list(ROUTING_ROWS)),
        (HOLIDAYS, list(HOLIDAY_ROWS)),
    ]
    for spec, rows in tables:
        tab = snapshot.tab(spec.name)
        if tab is None or any(True for _ in tab.records()):
            continue
        for row in rows:
            cells: dict[str, CellValue] = {}
            for column, value in zip(spec.columns, row, strict=True):
                if value == "":
                    continue
                if column.kind == "date" and isinstance(value, str):
                    value = date.fromisoformat(value)
                cells[column.name] = value  # type: ignore[assignment]
            batch.rows.append(NewRow(spec.name, cells))
    return batch


ENV_TEMPLATE = """\
# The demo agency: run `sheets-ops run --once` from this folder.
TRACKER=./tracker.xlsx
MAILBOX=./inbox
OUTBOX=./outbox
STATE_DIR=./.sheets_ops
MAIL_FROM=service@lakeshore-insurance.example
"""


def renewal_export(path: Path, now: datetime) -> None:
    """A policy export like an agency management system's, expirations counted from `now`."""
    lines = ["Named Insured,Policy Number,Company,LOB,Exp Date,Annual Premium,Account Owner"]
    owners = {row[0]: row[4] for row in ACCOUNT_ROWS}
    for client, policy, carrier, line, days, premium in RENEWAL_ROWS:
        expires = (now + timedelta(days=days)).astimezone(ZONE).date()
        owner = owners.get(client, "")
        lines.append(
            f'"{client}",{policy},{carrier},{line},{expires:%m/%d/%Y},"${premium:,}",{owner}'
        )
    path.write_text("\n".join(lines) + "\n", "utf-8")


def write_samples(inbox: Path, snapshot: Snapshot, calendar: Calendar, now: datetime) -> int:
    """The sample messages an earlier run did not take in, arriving when they were sent."""
    captured = set()  # what earlier runs took in: a row's Source, or a Log line's key
    for tab, column in ((REQUESTS.name, "Source"), ("Log", "Old")):
        if (found := snapshot.tab(tab)) is not None:
            captured |= {message_id_of(str(v)) for v in found.values(column) if v}
    written = 0
    for i, (sample, sent) in enumerate(zip(SAMPLES, sample_times(calendar, now), strict=True), 1):
        if f"<demo-{i:03d}@lakeshore-demo.example>" in captured:
            continue
        name, raw = sample_message(i, sample, sent)
        (inbox / name).write_bytes(raw)
        os.utime(inbox / name, (sent.timestamp(), sent.timestamp()))  # arrived when sent
        written += 1
    return written


MORNING = (  # what the CSRs did right after the first cycle: (Type, n-th of it, changes)
    ("Endorsement", 1, {"Status": "Waiting on Carrier"}),
    ("Billing", 1, {"Status": "In Progress"}),
    ("COI", 2, {"Status": "Done", "Certificate Sent": "Yes"}),
)


def a_csrs_morning(tracker: XlsxTracker) -> Batch:
    """A few cells as CSRs change them, to see the next cycle notice: a request waiting on
    the carrier (its clock paused), one in progress, a certificate sent and closed."""
    tab = tracker.read().tab(REQUESTS.name)
    batch = Batch()
    for kind, nth, changes in MORNING:
        rows = [(row, c) for row, c in (tab.records() if tab else []) if c.get("type") == kind]
        if len(rows) >= nth and cell_text(rows[nth - 1][1].get("status")) in ("New", "Needs Info"):
            row, cells = rows[nth - 1]
            for column, value in changes.items():
                batch.cells.append(
                    CellWrite(REQUESTS.name, cell_text(cells.get("id")), row, column, value)
                )
    return batch


def build_demo(folder: Path, now: datetime, say: Callable[[str], None] = lambda _line: None) -> int:
    """Build (or top up) the sample agency in `folder`: the tabs, a week of mail pressed
    into the days before `now`, a renewals export; run a cycle, let the CSRs change a few
    cells, and run another, as the job would. Returns 0."""
    now = now if now.tzinfo is not None else now.replace(tzinfo=ZONE)  # the agency's clock
    folder.mkdir(parents=True, exist_ok=True)
    inbox = folder / "inbox"
    inbox.mkdir(exist_ok=True)
    (folder / "outbox").mkdir(exist_ok=True)
    env = folder / ".env"
    if not env.exists():
        env.write_text(ENV_TEMPLATE, "utf-8")
    tracker = XlsxTracker(folder / "tracker.xlsx", say=say)
    for line in tracker.init(TABS):
        say(f"  {line}")
    reference = _reference_rows(tracker.read())
    if reference:
        tracker.write(reference)
        say(f"  filled {', '.join(reference.tabs())} with a sample agency")
    snapshot = tracker.read()
    written = write_samples(inbox, snapshot, read_settings(snapshot).calendar, now)
    say(f"  {written} sample messages in {inbox}")
    export = folder / "renewals-export.csv"
    if not export.exists():
        renewal_export(export, now)
        import_renewals(tracker, export, say=say, now=now)
        say(f"  imported {export.name} into Renewals")
    outbox = Outbox(folder / ".sheets_ops", FolderTransport(folder / "outbox"))
    state = StateDir(folder / ".sheets_ops")

    def cycle(at: datetime) -> CycleResult:
        return run_cycle(
            tracker,
            FolderMailbox(inbox),
            at.astimezone(UTC),
            outbox=outbox,
            state=state,
            progress=say,
            mail_from="service@lakeshore-insurance.example",
        )

    result = cycle(now)
    if written and (morning := a_csrs_morning(tracker)):
        tracker.write(morning)
        cycle(now + timedelta(minutes=1))
    rows = sum(1 for _ in tracker.read().tabs[REQUESTS.name].records())
    print(result.summary())
    print(f"Demo agency ready: {folder / 'tracker.xlsx'} ({counted(rows, 'request')})")
    print(
        "Open it in Excel or LibreOffice. Drop more .eml files into "
        f"{inbox} and run `sheets-ops run --once` from {folder}."
    )
    return 0

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
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sheets_ops.cycle import CycleResult, run_cycle
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
from sheets_ops.sheet import Batch, CellWrite, NewRow, Snapshot, cell_text
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.transport import FolderTransport
from sheets_ops.sync.xlsx import XlsxTracker

AGENCY = "service@lakeshore-insurance.example"
ZONE = ZoneInfo("America/Chicago")

TEAM_ROWS = [
    ("Dana Ruiz", "dana@lakeshore-insurance.example", "Owner", "No", "", ""),
    ("Marcus Lee", "marcus@lakeshore-insurance.example", "Ops Manager", "No", "", "Dana Ruiz"),
    ("Priya Shah", "priya@lakeshore-insurance.example", "Account Manager", "No", "", "Marcus Lee"),
    ("Tom Becker", "tom@lakeshore-insurance.example", "CSR", "Yes", "", "Alicia Gomez"),
    ("Alicia Gomez", "alicia@lakeshore-insurance.example", "CSR", "Yes", "", "Tom Becker"),
    ("Sam Ortiz", "sam@lakeshore-insurance.example", "CSR", "No", "2026-12-04", "Tom Becker"),
]

ACCOUNT_ROWS = [
    (
        "Brightline Electric LLC",
        "@brightline-electric.example",
        "(312) 555-0147",
        "GL-4481920; WC-2209381; CA-7712034",
        "Priya Shah",
        "GC certificates need additional insured + waiver wording; send to jobs@ too.",
    ),
    (
        "Harbor Street Bakery",
        "maria@harborstreetbakery.example",
        "(312) 555-0110",
        "BOP-5512093",
        "Alicia Gomez",
        "Owner prefers phone calls before noon.",
    ),
    (
        "Northgate Logistics Inc",
        "@northgate-logistics.example",
        "(708) 555-0162",
        "CA-8830127; CARGO-118204; UMB-220931",
        "Priya Shah",
        "Fleet schedule kept by Kevin; all vehicle changes need VIN and garaging address.",
    ),
    (
        "Maple Dental Group",
        "office@mapledental.example; @mapledental.example",
        "(847) 555-0199",
        "BOP-7730014; PL-3301982",
        "Tom Becker",
        "",
    ),
    (
        "Cedar Ridge Landscaping",
        "@cedarridge-land.example",
        "(630) 555-0133",
        "GL-6620381; CA-6620382; WC-6620383",
        "Alicia Gomez",
        "Seasonal payroll: audit in March.",
    ),
    (
        "Summit Property Management",
        "@summitpm.example",
        "(312) 555-0175",
        "PKG-9910245; UMB-9910246",
        "Priya Shah",
        "Certificates for tenants' vendors: always list Summit PM as certificate holder.",
    ),
    (
        "Lakeview Auto Repair",
        "lakeviewauto@mail.example",
        "(773) 555-0108",
        "GAR-4412087",
        "Tom Becker",
        "",
    ),
    (
        "Oak & Iron Fabrication",
        "@oakandiron.example",
        "(815) 555-0121",
        "GL-3390021; WC-3390022",
        "Priya Shah",
        "New class of business needs underwriting.",
    ),
]

ROUTING_ROWS = [
    ("COI", "On-duty CSR", "Account Owner", 8, 24, "Client; Policy #; Certificate Holder"),
    (
        "Endorsement",
        "Account Owner",
        "Account Manager",
        24,
        24,
        "Client; Policy #; Effective Date; What changes",
    ),
    ("Billing", "On-duty CSR", "Account Owner", 16, 24, "Client; Policy #"),
    ("Claim", "Account Owner", "Ops Manager", 4, 8, "Client; Policy #; Date of Loss"),
    ("Renewal", "Account Owner", "Account Manager", 40, 24, "Client; Policy #"),
    (
        "Cancellation",
        "Account Owner",
        "Account Manager",
        16,
        24,
        "Client; Policy #; Effective Date",
    ),
    ("Other", "On-duty CSR", "Ops Manager", 24, 24, "Client"),
]

HOLIDAY_ROWS = [
    ("2026-11-26", "Thanksgiving Day"),
    ("2026-11-27", "Day after Thanksgiving"),
    ("2026-12-24", "Christmas Eve"),
    ("2026-12-25", "Christmas Day"),
    ("2027-01-01", "New Year's Day"),
    ("2027-01-18", "Martin Luther King Jr. Day"),
    ("2027-05-31", "Memorial Day"),
    ("2027-07-05", "Independence Day (observed)"),
    ("2027-09-06", "Labor Day"),
]


@dataclass(frozen=True)
class Sample:
    when: str  # agency local time
    sender: str
    subject: str
    body: str
    html: bool = False
    reply_to: int = 0  # the sample this one answers (its In-Reply-To)
    follows: int = 0  # the sample a text or call without headers follows up on

    @property
    def follow_up(self) -> bool:
        """Whether intake should join this one to an earlier request rather than add a row."""
        return bool(self.reply_to or self.follows)


SAMPLES = [
    Sample(
        "2026-11-16 08:12",
        "Jen Alvarez <jalvarez@brightline-electric.example>",
        "Certificate needed - Riverside Mall project",
        "Hi, can you send a COI for our GL policy GL-4481920 to Riverside Mall Partners LLC, "
        "400 River Rd, Chicago IL 60607? They need it before we start on 11/20.\n\nThanks,\n"
        "Jen Alvarez\nBrightline Electric LLC",
    ),
    Sample(
        "2026-11-16 09:47",
        "Kevin Walsh <kwalsh@northgate-logistics.example>",
        "Add 2025 Freightliner to auto policy",
        "Please add a 2025 Freightliner Cascadia, VIN 3AKJHHDR5RSAB1234, garaged at 1800 "
        "Industrial Dr, Joliet, to CA-8830127 effective 12/1. Lienholder info attached "
        "separately.\n\nKevin Walsh\nFleet Manager",
    ),
    Sample(
        "2026-11-16 10:05",
        "Maria Chen <maria@harborstreetbakery.example>",
        "Question about my invoice",
        "Hello, I got an invoice for $1,842 but I thought my BOP was paid in full in June. "
        "Can someone check? Maria",
    ),
    Sample(
        "2026-11-16 11:30",
        "RingCentral <notify@ringcentral.com>",
        "New Voice Message from (773) 555-0108",
        "You have a new voice message.\nFrom: (773) 555-0108\nDuration: 00:00:41\n\n"
        "Transcription: Hi this is Ray at Lakeview Auto, one of our customer's cars got "
        "scraped in the bay this morning, I need to know if that's covered, call me back.",
    ),
    Sample(
        "2026-11-16 14:22",
        "Dr. Anita Rao <anita@mapledental.example>",
        "COI for our new landlord",
        "Our new landlord, Oakbrook Commons LLC, needs to be added as additional insured on "
        "our BOP-7730014. Certificate to leasing@oakbrookcommons.example please.",
    ),
    Sample(
        "2026-11-17 08:03",
        "Luis Ortega <luis@cedarridge-land.example>",
        "Fender bender this morning - one of our trucks",
        "One of our crew trucks rear-ended a car at Roosevelt & 59th around 7:30. Nobody "
        "seriously hurt but the other driver said her neck hurts. Policy CA-6620382. What "
        "do we do?\n\nLuis Ortega, Cedar Ridge Landscaping",
    ),
    Sample(
        "2026-11-17 09:15",
        "Summit PM Vendor Desk <vendors@summitpm.example>",
        "COI request: Ace Window Cleaning for 200 W Monroe",
        "Please issue a certificate naming Summit Property Management as certificate "
        "holder with waiver of subrogation and primary non-contributory wording. "
        "Needed by Friday.",
    ),
    Sample(
        "2026-11-17 10:40",
        "+13125550198@txt.sms-gateway.example",
        "SMS from +1 312-555-0198",
        "hey its Jen from brightline, did the riverside cert go out? GC is asking",
        follows=1,
    ),
    Sample(
        "2026-11-17 13:05",
        "Greg Novak <greg@oakandiron.example>",
        "Adding powder coating - need coverage",
        "We're starting a powder coating line in January at our Rockford shop. That's a new "
        "class of business for us I think. What do you need from me to get it on GL-3390021?",
    ),
    Sample(
        "2026-11-17 15:50",
        "Accounts Payable <ap@northgate-logistics.example>",
        "Autopay failed for November",
        "Our bank changed routing numbers and the November autopay bounced. Can you resend "
        "the payment link for UMB-220931?",
    ),
    Sample(
        "2026-11-18 08:30",
        "Maria Chen <maria@harborstreetbakery.example>",
        "RE: Question about my invoice",
        "Following up on this - the due date is Monday. Can someone call me?\n\n"
        "> Hello, I got an invoice for $1,842 but I thought my BOP was paid in full.",
        reply_to=3,
    ),
    Sample(
        "2026-11-18 09:10",
        "Google Voice <voice-noreply@google.com>",
        "New voicemail from (630) 555-0133",
        'Voicemail from (630) 555-0133 at 9:08 AM\nLength: 0:58\n\n"Hi, Luis at Cedar '
        "Ridge again, the adjuster hasn't called. Claim from yesterday. Please call back.\"",
        follows=6,
    ),
    Sample(
        "2026-11-18 11:45",
        "Tony Russo <tony.russo@mail.example>",
        "Please cancel my policy",
        "I sold the building on 11/15. Please cancel the property coverage effective that "
        "date and send me the refund. Tony Russo",
    ),
    Sample(
        "2026-11-18 14:00",
        "Jen Alvarez <jalvarez@brightline-electric.example>",
        "Renewal coming up - can you remarket the work comp?",
        "Our WC-2209381 renews 1/15. Premium went up a lot last year; can you shop it? "
        "Payroll is about the same.",
    ),
    Sample(
        "2026-11-19 08:20",
        "Property Manager <pm@summitpm.example>",
        "Renewal questions for our package policy",
        "<html><body><p>Hi team,</p><p>Before our <b>PKG-9910245</b> renewal on 2/1, "
        "can you tell us whether the <i>equipment breakdown</i> limit can go up to "
        "$500,000?</p><p>Thanks!</p></body></html>",
        html=True,
    ),
    Sample(
        "2026-11-19 10:00",
        "Kevin Walsh <kwalsh@northgate-logistics.example>",
        "Fwd: Driver change",
        "---------- Forwarded message ---------\nFrom: HR <hr@northgate-logistics.example>\n"
        "Subject: Driver change\n\nPlease remove Mike Dunn (terminated 11/14) and add Sara "
        "Kim, DL K520-4471-8812, from 11/24.",
    ),
    Sample(
        "2026-11-19 13:30",
        "Dr. Anita Rao <anita@mapledental.example>",
        "Change of mailing address",
        "We moved our billing office to 75 Lake Cook Rd Suite 210, Deerfield IL 60015. "
        "Please update all policies.",
    ),
    Sample(
        "2026-11-20 09:05",
        "Greg Novak <greg@oakandiron.example>",
        "Premium audit letter",
        "We got a premium audit request for WC-3390022 from the carrier. Is this normal? "
        "Who do I send payroll records to?",
    ),
    Sample(
        "2026-11-20 11:25",
        "Jen Alvarez <jalvarez@brightline-electric.example>",
        "",
        "Also need a certificate for Loop Tower Builders, same wording as Riverside, "
        "by Tuesday EOD.",
    ),
    Sample(
        "2026-11-23 08:40",
        "Luis Ortega <luis@cedarridge-land.example>",
        "Increase liability limits before spring contracts",
        "The park district contract wants $2M per occurrence on GL-6620381. Can we raise "
        "the limits effective 1/1?",
    ),
    Sample(
        "2026-11-23 16:55",
        "+17085550162@mms.sms-gateway.example",
        "MMS from +1 708-555-0162",
        "Kevin here. Truck 14 windshield cracked by a rock on I-80. Claim or just pay it?",
    ),
    Sample(
        "2026-11-24 10:15",
        "Maria Chen <maria@harborstreetbakery.example>",
        "Need a certificate for the farmers market",
        "The Green City farmers market needs a COI for the season starting in April. "
        "Certificate holder: Green City Market, 1750 N Clark St, Chicago IL 60614.",
    ),
    Sample(
        "2026-11-25 12:00",
        "Kevin Walsh <kwalsh@northgate-logistics.example>",
        "Cargo claim - damaged shipment",
        "A load of glass panels arrived broken at the customer in Gary. Shipper is filing "
        "against us. CARGO-118204. Photos to follow.",
    ),
]


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


RENEWAL_ROWS = [  # a sample policy export: client, policy, carrier, line, days to expiry, premium
    ("Brightline Electric LLC", "GL-4481920", "Acuity", "GL", 34, 18_400),
    ("Brightline Electric LLC", "WC-2209381", "Accident Fund", "WC", 88, 26_950),
    ("Harbor Street Bakery", "BOP-5512093", "Cincinnati", "BOP", 61, 3_120),
    ("Northgate Logistics Inc", "CA-8830127", "Progressive", "CA", 24, 64_300),
    ("Maple Dental Group", "PL-3301982", "MedPro", "PL", 105, 9_870),
    ("Cedar Ridge Landscaping", "GL-6620381", "Erie", "GL", 140, 7_450),
]


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
    print(f"Demo agency ready: {folder / 'tracker.xlsx'} ({rows} requests)")
    print(
        "Open it in Excel or LibreOffice. Drop more .eml files into "
        f"{inbox} and run `sheets-ops run --once` from {folder}."
    )
    return 0

"""The tracker contract: tab and column names, who owns each cell, enums, the Request record.

These names are what the agency sees in its sheet and what other tools rely on
(see DESIGN.md section 1). Columns are always found by header text, never by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

# What a cell can hold once read from any backend. Blank is None or "".
CellValue = str | int | float | bool | datetime | date | None


class Owner(StrEnum):
    """Who may write a column."""

    JOB = "job"  # recomputed every cycle; a person's edit is replaced
    FILL = "human*"  # the job fills it only while blank; never overwrites a person
    HUMAN = "human"  # only people write it


class Channel(StrEnum):
    EMAIL = "Email"
    VOICEMAIL = "Voicemail"
    TEXT = "Text"
    FORM = "Form"
    MANUAL = "Manual"


class RequestType(StrEnum):
    COI = "COI"
    ENDORSEMENT = "Endorsement"
    BILLING = "Billing"
    CLAIM = "Claim"
    RENEWAL = "Renewal"
    CANCELLATION = "Cancellation"
    OTHER = "Other"


class Status(StrEnum):
    NEW = "New"
    IN_PROGRESS = "In Progress"
    NEEDS_INFO = "Needs Info"
    WAITING_ON_CLIENT = "Waiting on Client"
    WAITING_ON_CARRIER = "Waiting on Carrier"
    DONE = "Done"
    CANCELLED = "Cancelled"


class SlaState(StrEnum):
    ON_TRACK = "On track"
    DUE_SOON = "Due soon"
    OVERDUE = "Overdue"
    PAUSED = "Paused"
    CLOSED = "Closed"
    OUTSIDE_PILOT = "Outside pilot"  # a pilot is on and the request's Type is not in it


class Role(StrEnum):
    CSR = "CSR"
    ACCOUNT_MANAGER = "Account Manager"
    OPS_MANAGER = "Ops Manager"
    OWNER = "Owner"


@dataclass(frozen=True)
class Column:
    name: str
    owner: Owner
    meaning: str
    width: int = 14
    choices: tuple[str, ...] = ()
    kind: str = "text"  # text, datetime, date, number
    note: str = ""  # what the job does with it, when not what its owner says (JOB_NOTE...)


@dataclass(frozen=True)
class TabSpec:
    name: str
    purpose: str
    columns: tuple[Column, ...]
    key: str | None = None  # the column that identifies a row, if any
    seed: tuple[tuple[str, ...], ...] = ()  # rows init writes into an empty tab
    optional: tuple[Column, ...] = ()  # init adds these; a cycle does not need them
    optional_after: str = ""  # on a new tab, the optional columns follow this one

    @property
    def laid_out(self) -> tuple[Column, ...]:
        """Every column, in the order init lays out a new tab."""
        if not self.optional_after:
            return self.columns + self.optional
        at = self.headers.index(self.optional_after) + 1
        return self.columns[:at] + self.optional + self.columns[at:]

    @property
    def headers(self) -> tuple[str, ...]:
        """The required headers, in the order init lays them out."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns + self.optional:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _h(name: str, meaning: str, width: int = 14, **kw: Any) -> Column:
    return Column(name, Owner.HUMAN, meaning, width, **kw)


def _f(name: str, meaning: str, width: int = 14, **kw: Any) -> Column:
    return Column(name, Owner.FILL, meaning, width, **kw)


def _j(name: str, meaning: str, width: int = 14, **kw: Any) -> Column:
    return Column(name, Owner.JOB, meaning, width, **kw)


JOB_NOTE = "Filled by sheets-ops every cycle: an edit here is replaced."
ONCE_NOTE = "Written by sheets-ops when the request comes in; not recomputed."
GROWS_NOTE = "Written by sheets-ops when the request comes in; each follow-up adds to it."
FILL_NOTE = "Filled by sheets-ops only while blank: what you write here is kept."

REQUESTS = TabSpec(
    "Requests",
    "one row per service request",
    (
        _j("ID", "REQ-000123, never reused", 12, note=ONCE_NOTE),
        _j(
            "Received",
            "when the request arrived (agency local time)",
            17,
            kind="datetime",
            note=ONCE_NOTE,
        ),
        _j(
            "Channel",
            "Email, Voicemail, Text, Form, Manual",
            10,
            choices=tuple(Channel),
            note=ONCE_NOTE,
        ),
        _j("From", "sender address or phone number", 26, note=ONCE_NOTE),
        _f("Client", "matched from Accounts", 22),
        _f("Policy #", "extracted or matched", 14),
        _f("Type", "the kind of request", 13, choices=tuple(RequestType)),
        _j("Summary", "one line: subject or first words, plain text", 48, note=ONCE_NOTE),
        _f("Certificate Holder", "for COIs", 22),
        _f("Client Deadline", "the date the client asked for", 14, kind="date"),
        _f("Owner", "from Routing / Accounts / Team", 14),
        _f("Status", "where the request stands", 18, choices=tuple(Status)),
        _f("Next Follow-up", "e.g. when to chase the carrier", 14, kind="date"),
        _h("Notes", "free text", 30),
        _j(
            "Last Touched",
            "last time a person changed a human column",
            17,
            kind="datetime",
            note="Set by sheets-ops when a person changes a column of theirs.",
        ),
        _j("Age (h)", "business hours since Received", 8, kind="number"),
        _j("Idle (h)", "business hours since Last Touched", 8, kind="number"),
        _j("Due", "the earlier of the SLA due time and the client deadline", 17, kind="datetime"),
        _j("SLA", "On track, Due soon, Overdue, Paused, Closed", 10),
        _j("Escalation", "highest level sent, to whom, when", 34),
        _j(
            "Missing Info",
            "what the request type needs and intake could not find",
            32,
            note="Written by sheets-ops when the request comes in, and while a Done request "
            "has steps to tick.",
        ),
        _j("Thread", "messages in this request; flags a client follow-up", 14, note=GROWS_NOTE),
        _j("Context", "special instructions, policies, recent requests", 48, note=GROWS_NOTE),
        _j(
            "Closed",
            "when Status became Done or Cancelled",
            17,
            kind="datetime",
            note="Stamped by sheets-ops when the request closes; cleared if it reopens.",
        ),
        _j("Source", "the message key used for exactly-once intake", 30, note=ONCE_NOTE),
    ),
    key="ID",
    optional=tuple(
        _h(
            step,
            "a close-checklist step (Routing, Close Checklist): Yes when done",
            15,
            choices=("Yes", "No"),
        )
        for step in ("Carrier Confirmed", "Billing Adjusted", "Client Notified", "Certificate Sent")
    ),
    optional_after="Status",  # the steps to tick sit beside Status
)

# What must be ticked before a request of a Type is really done (Routing, Close Checklist).
DEFAULT_CHECKLISTS: dict[str, tuple[str, ...]] = {
    "Endorsement": ("Carrier Confirmed", "Billing Adjusted", "Client Notified"),
    "COI": ("Certificate Sent",),
}

TEAM = TabSpec(
    "Team",
    "who works here, who is on duty, who covers for whom",
    (
        _h("Name", "as written in Owner cells", 18),
        _h("Email", "where their digests go", 28),
        _h("Role", "CSR, Account Manager, Ops Manager, Owner", 16, choices=tuple(Role)),
        _h("On Duty", "Yes or No", 9, choices=("Yes", "No")),
        _h("Out Until", "a date; their work goes to Backup until then", 12, kind="date"),
        _h("Backup", "the Name that covers", 18),
    ),
    key="Name",
)

ACCOUNTS = TabSpec(
    "Accounts",
    "clients, how to recognise them, who owns them",
    (
        _h("Client", "the named insured", 26),
        _h("Contact Emails", "addresses or @domain, '; '-separated", 34),
        _h("Phone", "main phone", 16),
        _h("Policies", "policy numbers, '; '-separated", 30),
        _h("Account Owner", "a Name from Team", 18),
        _h("Special Instructions", "what the CSR should know", 40),
    ),
    key="Client",
)

ROUTING = TabSpec(
    "Routing",
    "who gets each type of request, and how fast",
    (
        _h("Type", "a request Type", 14, choices=tuple(RequestType)),
        _h("Route To", "Account Owner, On-duty CSR, a Role, or a Name", 18),
        _h("Complex Route To", "the same, for complex requests", 18),
        _h("SLA", "business hours to finish", 8, kind="number"),
        _h("Escalate After Idle", "business hours untouched before a reminder", 10, kind="number"),
        _h("Required Info", "fields this type needs, '; '-separated", 36),
    ),
    key="Type",
    optional=(_h("Close Checklist", "Requests columns to tick before Done, '; '-separated", 36),),
)

ESCALATION = TabSpec(
    "Escalation",
    "the escalation ladder: when each level is raised, and who is told",
    (
        _h("Level", "1, 2 or 3", 8),
        _h("When", "conditions, any of which raises the level, ', or '-separated", 48),
        _h("Notify", "Owner of the request, a Role, Escalation Recipients, a Name; '; '", 44),
    ),
    key="Level",
    seed=(
        ("1", "idle ≥ 1× Escalate After Idle, or due soon", "Owner of the request"),
        (
            "2",
            "overdue, idle ≥ 2×, or the client followed up",
            "Ops Manager; Escalation Recipients; Owner of the request",
        ),
        ("3", "client deadline passed, or idle ≥ 3×", "Agency Owner; Owner of the request"),
    ),
)

# Rule kinds (the Rules tab's "Rule" column)
TYPE, COMPLEX, VOICEMAIL, TEXT, LINE = (
    "Type",
    "Complex",
    "Voicemail Sender",
    "Text Gateway",
    "Policy Line",
)

# What `init` seeds into the Rules tab: which policy prefixes each line of business uses
# (the agency's own convention). Type and complexity words the owner adds beside them win
# over what sheets-ops understands by itself.
DEFAULT_RULES: tuple[tuple[str, str, str], ...] = (
    (LINE, "general liability, liability, GL, CGL", "GL"),
    (
        LINE,
        "auto, automobile, car, truck, vehicle, fleet, driver, commercial auto",
        "CA; PA; BA; AUTO",
    ),
    (LINE, "work comp, workers comp, workers' comp, workers compensation, WC", "WC"),
    (LINE, "business owners, businessowners, BOP", "BOP"),
    (LINE, "package, package policy", "PKG"),
    (LINE, "umbrella, excess", "UMB; XS"),
    (LINE, "homeowners, home owners, homeowner, home insurance", "HO"),
    (LINE, "property, building", "PROP"),
    (LINE, "cargo, inland marine", "CARGO; IM"),
    (LINE, "garage, garage liability, garagekeepers", "GAR"),
    (LINE, "professional liability, malpractice, E&O", "PL"),
    (LINE, "farm, farmowners", "FARM"),
)

RULES = TabSpec(
    "Rules",
    "the words and patterns that decide Type and complexity",
    (
        _h("Rule", "Type, Complex, Voicemail Sender, Text Gateway, Policy Line", 16),
        _h("Pattern", "words separated by commas, or /a regular expression/", 60),
        _h("Result", "what a match sets (a Type, Yes, policy prefixes)", 16),
    ),
    seed=DEFAULT_RULES,
)

SETTING_DEFAULTS: dict[str, tuple[str, str]] = {
    "Time Zone": ("America/Chicago", "the agency's time zone (IANA name)"),
    "Business Hours": ("08:00-17:00", "opening and closing time"),
    "Business Days": ("Mon-Fri", "days the agency works"),
    "Digest Times": ("08:30; 13:30", "when escalation digests go out (business days)"),
    "Daily Summary Time": ("07:30", "when the owner's daily summary goes out (business days)"),
    "My Queue Time": (
        "08:00",
        "when each CSR on duty gets their own queue by email (business days); Off for never",
    ),
    "Archive After Days": (
        "30",
        "days after Closed that a Done or Cancelled request moves to the archive; Off keeps them",
    ),
    "Pilot Types": (
        "",
        "start small: the request types of a pilot (like COI); only these are routed, clocked, "
        "escalated and answered, the others are captured and say Outside pilot; blank: no pilot",
    ),
    "Pilot CSRs": ("", "who works the pilot's requests (Names from Team); blank: the whole team"),
    "Pilot Until": ("", "the pilot's last day (a date); from the next day all requests are worked"),
    "Archive Location": (
        "",
        "where archived requests go: blank for a workbook a year beside the tracker "
        "(Archive 2026.xlsx), a folder, or Tracker for this workbook's Archive tab",
    ),
    "Weekly Report": (
        "Mon 08:00",
        "when the owner's weekly report (last week beside the week before) goes out; Off for never",
    ),
    "Client Emails": (
        "Pilot",
        "Pilot: emails meant for clients go to the agency Owner; On: to the client",
    ),
    "Template Folder": ("", "a folder of your own templates, used before the built-in ones"),
    "Cycle Minutes": ("2", "how often the job looks for new mail and updates the sheet"),
    "Backup Time": ("02:00", "when the job copies the workbook to STATE_DIR/backups"),
    "Renewal Open Days": ("120", "days before expiration a renewal opens (Stage: Upcoming)"),
    "Renewal Offsets": (
        "default: submission 60, quote 45, decision 21; WC: submission 75, quote 60, decision 30",
        "days before expiration for each key date, by line ('; '-separated)",
    ),
    "Renewal Reminder Days": ("90; 30", "days before expiration the client is reminded"),
    "Presented Follow-up Days": ("7", "days a Presented renewal waits before a follow-up"),
    "Renewal Columns": (
        "Client=Named Insured, Insured, Client, Account Name; "
        "Policy #=Policy Number, Policy No, Policy #, Policy; "
        "Carrier=Carrier, Company, Writing Company; "
        "Line=Line of Business, LOB, Line, Coverage; "
        "Expiration=Expiration Date, Exp Date, Expiration, Expires; "
        "Expiring Premium=Premium, Annual Premium, Written Premium; "
        "Owner=Account Owner, Producer, Account Manager, CSR",
        "which export columns fill which Renewals columns (Column=Header, Header; ...)",
    ),
    "Escalation Recipients": ("", "extra Names or addresses for level 2 and 3"),
    "Carrier Follow-up Days": ("3", "business days before chasing a carrier"),
    "Aging Refresh Minutes": (
        "15",
        "how often Age (h) and Idle (h) are rewritten on rows where nothing else changed",
    ),
    "Due Soon Hours": ("4", "business hours before Due when SLA turns Due soon"),
    "Escalate After Idle": (
        "24",
        "business hours untouched before the first reminder (Routing may set it per Type)",
    ),
    "Form Columns": (
        "Timestamp=Received; Email Address=From; Email=From; Phone=From; Client=Client; "
        "Company=Client; Business Name=Client; Policy Number=Policy #; Policy #=Policy #; "
        "Request Type=Type; Type=Type; Details=Summary; Request=Summary; "
        "Certificate Holder=Certificate Holder; Needed By=Client Deadline; "
        "Deadline=Client Deadline",
        "how a Form Responses tab's questions map to Requests columns (Question=Column; ...)",
    ),
    "Form Tabs": (
        "",
        "Google Sheets only: the form tabs to read, '; '-separated (one more read a cycle); "
        "a workbook's Form Responses tabs are always read",
    ),
}

SETTINGS = TabSpec(
    "Settings",
    "business policy the owner can change",
    (
        _h("Key", "the setting's name", 24),
        _h("Value", "its value", 24),
    ),
    key="Key",
    seed=tuple((k, v, about) for k, (v, about) in SETTING_DEFAULTS.items()),
    optional=(_h("About", "what the setting does", 44),),
)

HOLIDAYS = TabSpec(
    "Holidays",
    "days the SLA clock stops",
    (
        _h("Date", "the day", 12, kind="date"),
        _h("Name", "what it is", 28),
    ),
    key="Date",
)

LOG = TabSpec(
    "Log",
    "every change the job made and every human edit it detected",
    (
        _j("When", "agency local time", 17, kind="datetime"),
        _j("Request", "the request ID, if any", 12),
        _j("What", "what happened", 24),
        _j("Old", "value before", 24),
        _j("New", "value after", 36),
        _j("By", "sheets-ops, or sheet edit", 12),
    ),
    optional=(_j("Key", "the cycle that wrote the line: a retried write adds it once", 16),),
)


class Stage(StrEnum):
    UPCOMING = "Upcoming"
    QUOTE_REQUESTED = "Quote Requested"
    QUOTE_RECEIVED = "Quote Received"
    PRESENTED = "Presented"
    BOUND = "Bound"
    INVOICED = "Invoiced"
    DONE = "Done"


class RenewalException(StrEnum):
    CARRIER_NON_RENEW = "Carrier Non-Renew"
    CLIENT_SHOPPING = "Client Shopping"
    UW_NEEDS_INFO = "UW Needs Info"
    LOST = "Lost"


RENEWALS = TabSpec(
    "Renewals",
    "every policy coming up for renewal, with its key dates",
    (
        _j("Client", "from the policy export", 24),
        _j("Policy #", "from the policy export; identifies the row", 14),
        _j("Carrier", "from the policy export", 16),
        _j("Line", "line of business, from the policy export", 10),
        _j("Expiration", "when the policy expires", 12, kind="date"),
        _f("Owner", "the account owner", 14),
        _f("Stage", "where the renewal stands", 16, choices=tuple(Stage)),
        _j("Quote Deadline", "quotes back from carriers by", 12, kind="date"),
        _j("Carrier Submission Deadline", "submissions to carriers by", 12, kind="date"),
        _j("Client Decision Deadline", "the client decides by", 12, kind="date"),
        _j("Effective Date", "the renewal takes effect", 12, kind="date"),
        _h("Exception", "what stands in the way", 16, choices=tuple(RenewalException)),
        _j("Last Client Contact", "the last reminder or follow-up sent", 12, kind="date"),
        _j("Next Step", "what the stage calls for next", 28),
        _j("Expiring Premium", "from the policy export", 12, kind="number"),
        _h("Renewal Premium", "the premium quoted or bound", 12, kind="number"),
    ),
    key="Policy #",
)

HEALTH = TabSpec(
    "Health",
    "whether the job is alive: written by the job",
    (
        _j("Key", "what", 24),
        _j("Value", "its value (a Problem line: the tab and cell, what is wrong, the fix)", 110),
    ),
    key="Key",
)

ARCHIVE_NOTE = (
    "Archived requests are kept here only when Settings → Archive Location is Tracker. "
    "Otherwise they leave the tracker: blank keeps a workbook a year beside it "
    "(Archive 2026.xlsx; on Google, tabs Archive 2026 and Archive 2026 Log), a folder or a "
    "spreadsheet key keeps them there. The Dashboard's C2 names the place."
)

ARCHIVE = TabSpec(
    "Archive",
    "Done and Cancelled requests after Archive After Days, when Archive Location is Tracker "
    "(otherwise they leave for the archive outside the tracker; the Dashboard says where)",
    (replace(REQUESTS.columns[0], note=ARCHIVE_NOTE), *REQUESTS.columns[1:]),
    key="ID",
    optional=REQUESTS.optional,
)

TABS: tuple[TabSpec, ...] = (
    REQUESTS,
    TEAM,
    ACCOUNTS,
    ROUTING,
    ESCALATION,
    RULES,
    SETTINGS,
    HOLIDAYS,
    LOG,
    RENEWALS,
    ARCHIVE,
    HEALTH,
)
TAB_BY_NAME: dict[str, TabSpec] = {t.name: t for t in TABS}

# The Dashboard tab belongs to the job: it is rewritten whole, from A1, every quarter of an
# hour. A fixed layout, so that charts point at fixed ranges (rows are 1-based, like A1).
DASHBOARD = "Dashboard"
BASELINE = "Baseline"  # written whole by `sheets-ops baseline`; the weekly report reads it
DASHBOARD_ROWS, DASHBOARD_COLUMNS = 43, 4  # D: the baseline, once `sheets-ops baseline` ran


@dataclass(frozen=True)
class DashboardChart:
    title: str
    header: int  # the row of the series names; categories in column A below it
    last: int  # the last row of data
    series: int  # how many value columns, from B
    anchor: str  # where the chart's top-left corner sits


# The Baseline tab (`sheets-ops baseline`): a row per request type from row 6 (one for each
# RequestType, in that order), the median first response in column B, charted.
BASELINE_CHART = DashboardChart(
    "First response before sheets-ops (median business hours)", 5, 12, 1, "J2"
)

DASHBOARD_CHARTS = (
    DashboardChart("Open work by age (business days)", 16, 20, 1, "E3"),
    DashboardChart("Open requests per owner", 22, 34, 1, "E20"),
    DashboardChart("Requests received by type", 36, 43, 2, "E37"),
)

BY_JOB = "sheets-ops"

ID_PREFIX = "REQ-"
_ID_RE = re.compile(r"^\s*REQ-(\d+)\s*$", re.IGNORECASE)


def format_id(number: int) -> str:
    """`REQ-000123`: six digits at least, more when the agency outgrows them."""
    return f"{ID_PREFIX}{number:06d}"


def parse_id(value: CellValue) -> int | None:
    """The number in a request ID, or None when the cell does not hold one."""
    if not isinstance(value, str):
        return None
    m = _ID_RE.match(value)
    return int(m.group(1)) if m else None


def is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Request:
    """One Requests row, by field. `None` means the cell is blank."""

    id: str
    received: datetime | None = None
    channel: str | None = None
    from_: str | None = None
    client: str | None = None
    policy: str | None = None
    type: str | None = None
    summary: str | None = None
    certificate_holder: str | None = None
    client_deadline: date | None = None
    owner: str | None = None
    status: str | None = None
    next_follow_up: date | None = None
    notes: str | None = None
    last_touched: datetime | None = None
    age_h: float | None = None
    idle_h: float | None = None
    due: datetime | None = None
    sla: str | None = None
    escalation: str | None = None
    missing_info: str | None = None
    thread: str | None = None
    context: str | None = None
    closed: datetime | None = None
    source: str | None = None

    def to_cells(self) -> dict[str, CellValue]:
        """The row by header name, blank cells left out."""
        cells: dict[str, CellValue] = {}
        for f, header in zip(_REQUEST_FIELDS, REQUESTS.headers, strict=True):
            value = getattr(self, f)
            if value is not None:
                cells[header] = value
        return cells


_REQUEST_FIELDS = tuple(f.name for f in fields(Request))
assert len(_REQUEST_FIELDS) == len(REQUESTS.columns)


@dataclass(frozen=True)
class MailItem:
    """One message as fetched. `ref` says where it lives in its mailbox (a file name, a UID);
    `arrived` is when the mailbox got it, used when the message has no usable Date."""

    ref: str
    raw: bytes
    arrived: datetime | None = None

"""Intake: fetched messages and the tracker in, the changes they make out. Pure: no mailbox,
no tracker I/O, `now` given.

Every message ends one way: a new Requests row; a follow-up on the request it belongs to
(the Thread cell and a Log line); an automatic reply or bulk mail, logged and set aside; or a
message that cannot be read, rejected with its reason. Messages whose Source is already in the
sheet (or in the Log, for follow-ups and ignored mail) are skipped: that check, made against
the tracker and again at write time, is what makes intake exactly-once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sheets_ops.model import (
    ARCHIVE,
    BY_JOB,
    LOG,
    REQUESTS,
    TEAM,
    CellValue,
    Channel,
    MailItem,
    Request,
    Status,
    format_id,
    is_blank,
    parse_id,
)
from sheets_ops.rules import directory as directory_
from sheets_ops.rules import forms
from sheets_ops.rules.archive import Past
from sheets_ops.rules.context import ByClient, context_for, fit, thread_text
from sheets_ops.rules.directory import Directory
from sheets_ops.rules.message import MessageError, Parsed, parse_message, plain_line
from sheets_ops.rules.pilot import Pilot, pilot_from
from sheets_ops.rules.settings import Settings
from sheets_ops.rules.threads import CLOSED, FOLLOW_UP, IGNORED, INFO_REQUESTED, REPLY, Threads
from sheets_ops.rules.understand import (
    Understanding,
    known_from,
    missing_for,
    prepare,
    understand,
)
from sheets_ops.sheet import (
    Batch,
    CellWrite,
    NewRow,
    Snapshot,
    Tab,
    cell_text,
    header_problems,
    local,
)

REJECTED = "Rejected message"
CAPTURED = "Captured"


@dataclass(frozen=True)
class InfoRequest:
    """A templated email asking the client for what their request lacks."""

    request_id: str
    to: str
    client: str
    summary: str
    missing: tuple[str, ...]
    type: str
    in_reply_to: str = ""  # the client's message, so their answer threads

    @property
    def key(self) -> str:
        """The idempotency key: one such email per request, ever."""
        return f"info-request-{self.request_id}"

    @property
    def message_id(self) -> str:
        return f"<{self.key}@sheets-ops>"


@dataclass
class IntakePlan:
    """The changes a batch of messages makes, and which messages each change answers for."""

    batch: Batch = field(default_factory=Batch)
    rows_for: dict[int, list[MailItem]] = field(default_factory=dict)  # batch row -> messages
    known: list[MailItem] = field(default_factory=list)  # already in the tracker
    handled: list[MailItem] = field(default_factory=list)  # follow-ups and ignored mail
    rejected: list[tuple[MailItem, str]] = field(default_factory=list)
    created: list[Request] = field(default_factory=list)
    request_rows: list[int] = field(default_factory=list)  # batch rows of `created`
    adopted: dict[str, int] = field(default_factory=dict)  # ID given -> its cell write
    followups: list[tuple[str, Understanding]] = field(default_factory=list)
    ignored: list[Understanding] = field(default_factory=list)
    info_requests: list[tuple[int, InfoRequest]] = field(default_factory=list)  # row, email


def next_id_number(requests: Tab, log: Tab | None, archive: Tab | None = None) -> int:
    """One more than any ID ever seen in Requests, Archive or the Log: IDs are never reused,
    even when a person deletes the newest row or it was archived."""
    seen = [parse_id(v) for v in requests.values(REQUESTS.key or "ID")]
    for tab, column in ((log, "Request"), (archive, REQUESTS.key or "ID")):
        if tab is not None:
            seen += [parse_id(v) for v in tab.values(column)]
    return max((n for n in seen if n is not None), default=0) + 1


@dataclass
class Ledger:
    """What intake knows while it plans, kept current as it goes: the tracker's Sources,
    the Log's rejections and thread counts, the team's addresses, the rows by ID, the next
    ID; and where this cycle put each new request (its batch row) and each Context."""

    requests: Tab
    directory: Directory
    threads: Threads
    zone: ZoneInfo
    now: datetime  # the cycle's moment, aware
    at: datetime  # the cycle's moment on the agency's wall clock
    log_ok: bool
    number: int
    sources: set[str]
    rejections: set[str]
    thread_counts: dict[str, int]
    team: set[str]
    rows: dict[str, tuple[int, dict[str, CellValue]]]
    old_rows: set[str]  # Sources an earlier version wrote: bare Message-IDs
    old_handled: set[str]  # the same for replies and ignored mail
    past: Past = field(default_factory=Past)  # the archived history, read only when asked
    pilot: Pilot | None = None  # while one is on, clients hear from the job on its types only
    by_client: ByClient = field(init=False)
    row_of_source: dict[str, int] = field(default_factory=dict)
    created_row: dict[str, int] = field(default_factory=dict)
    context_now: dict[str, str] = field(default_factory=dict)
    _past_counted: bool = False

    def __post_init__(self) -> None:
        self.by_client = ByClient(self.requests)

    def works(self, kind: str) -> bool:
        """Whether the job works requests of this Type (all, unless a pilot leaves it out)."""
        return self.pilot is None or self.pilot.covers(kind)

    def taken(self, source: str, message_id: str) -> bool:
        """Whether a message is in the tracker already, or was and is archived."""
        return (
            source in self.sources
            or message_id in self.old_rows
            or source in self.past
            or (bool(message_id) and message_id in self.past)  # an earlier version's key
        )

    def next_id(self) -> str:
        if not self._past_counted:  # the first new ID of the cycle: above every archived one
            self.number = max(self.number, self.past.highest + 1)
            self._past_counted = True
        rid = format_id(self.number)
        self.number += 1
        return rid


def ledger_for(
    snapshot: Snapshot,
    requests: Tab,
    directory: Directory,
    zone: ZoneInfo,
    now: datetime,
    past: Past | None = None,
) -> Ledger:
    """The Ledger as the tracker stands before this cycle."""
    log = snapshot.tab(LOG.name)
    log_ok = log is not None and not header_problems(log, LOG)
    archive = snapshot.tab(ARCHIVE.name)
    sources = {  # an archived request's message is as taken as any other
        str(v).strip()
        for tab in (requests, archive)
        if tab is not None
        for v in tab.values("Source")
        if not is_blank(v)
    }
    rejections = set()
    thread_counts: dict[str, int] = {}
    if log_ok and log is not None:
        for _row, cells in log.records():
            what, key = cells.get("what"), str(cells.get("old") or "")
            if what == REJECTED and key:
                rejections.add(key)
            if what in (REPLY, FOLLOW_UP):
                rid = str(cells.get("request") or "")
                thread_counts[rid] = thread_counts.get(rid, 1) + 1
    team = {
        str(v).strip().lower() for v in (snapshot.tab(TEAM.name) or Tab("", [])).values("Email")
    }
    threads = Threads.from_snapshot(snapshot)
    return Ledger(
        requests=requests,
        directory=directory,
        threads=threads,
        zone=zone,
        now=now,
        at=local(now, zone),
        log_ok=log_ok,
        number=next_id_number(requests, log, archive),
        sources=sources,
        rejections=rejections,
        thread_counts=thread_counts,
        team=team,
        rows={str(c.get("id") or "").strip(): (row, c) for row, c in requests.records()},
        old_rows={s for s in sources if _old_key(s)},
        old_handled={s for s in threads.handled if _old_key(s)},
        past=past or Past(),
    )


def _old_key(source: str) -> bool:
    """A key written by an earlier version: a bare Message-ID (the key now adds a digest of
    the sender and text). A message with such an ID was taken in then."""
    return source.startswith("<") and " #" not in source


def plan_intake(
    snapshot: Snapshot,
    requests: Tab,
    items: Iterable[MailItem],
    settings: Settings,
    now: datetime,
    directory: Directory | None = None,
    past: Past | None = None,
) -> IntakePlan:
    """Decide what a batch of fetched messages, and new form responses, change in the
    tracker: rows people typed in first, then each message (parse, understand, thread),
    then the forms. `past`: what the archive outside the tracker holds."""
    items = list(items)
    form_tabs = forms.form_tabs(snapshot)
    if not items and not form_tabs and not typed_in(requests):
        return IntakePlan()  # a quiet cycle: nothing to take, nothing read for it
    zone = settings.zone
    directory = directory or directory_.from_snapshot(snapshot)
    ledger = ledger_for(snapshot, requests, directory, zone, now, past)
    ledger.pilot = pilot_from(settings.values, ledger.at.date())
    plan = IntakePlan()
    adopt_typed_rows(plan, ledger)
    opened = [(item, _parsed(item, now)) for item in items]
    fresh = [p for _i, p in opened if isinstance(p, Parsed) and not _seen(ledger, p)]
    prepare(fresh, directory)  # the history's models read the new ones together
    for item, parsed in opened:
        u = read(plan, ledger, item, parsed)
        if u is not None:
            take(plan, ledger, u, item)
    for tab in form_tabs:
        for entry in forms.entries(tab, forms.column_map(settings.get("Form Columns")), zone):
            if not ledger.taken(entry.source, "") and entry.source not in ledger.row_of_source:
                u, received = forms.understood(entry, directory, ledger.threads, zone, now)
                add_request(plan, ledger, u, received, [])
    return plan


def _parsed(item: MailItem, now: datetime) -> Parsed | Exception:
    try:
        return parse_message(item.raw, item.arrived, now)
    except Exception as e:  # said by `read`, in its turn
        return e


def _seen(ledger: Ledger, parsed: Parsed) -> bool:
    """Taken already, or handled: `read` will not need to understand it."""
    return ledger.taken(parsed.source, parsed.message_id) or parsed.source in ledger.threads.handled


def read(
    plan: IntakePlan, ledger: Ledger, item: MailItem, parsed: Parsed | Exception
) -> Understanding | None:
    """A fetched message understood, or None when it needs nothing more: already in the
    tracker, already handled, twice in this fetch (it rides with its twin) or unreadable."""
    try:
        if isinstance(parsed, Exception):
            raise parsed
        if ledger.taken(parsed.source, parsed.message_id):
            plan.known.append(item)
        elif parsed.source in ledger.threads.handled or parsed.message_id in ledger.old_handled:
            plan.handled.append(item)
        elif parsed.source in ledger.row_of_source:
            plan.rows_for[ledger.row_of_source[parsed.source]].append(item)
        else:
            return understand(parsed, ledger.directory, ledger.threads, ledger.zone)
    except Exception as e:  # one message, however hostile, never stops the others
        reject(plan, ledger, item, e)
    return None


def take(plan: IntakePlan, ledger: Ledger, u: Understanding, item: MailItem) -> None:
    """Where an understood message goes: set aside (bulk mail, automatic replies), onto its
    request (a reply or a follow-up), or into a new request."""
    source = u.parsed.source
    if u.ignore:
        plan.ignored.append(u)
        plan.handled.append(item)
        log_line(plan, ledger, "", IGNORED, source, f"{u.ignore}: {u.summary} (from {u.sender})")
        ledger.threads.handled.add(source)
    elif u.thread_of:
        follow_up(plan, ledger, u, item)
    else:
        add_request(plan, ledger, u, u.parsed.received, [item])


def reject(plan: IntakePlan, ledger: Ledger, item: MailItem, error: Exception) -> None:
    """A message that cannot be read: rejected with its reason, logged once."""
    if isinstance(error, MessageError):
        reason = str(error)
    else:  # it broke intake in a way nobody foresaw
        reason = f"could not be read ({type(error).__name__}: {plain_line(str(error), 200)})"
    plan.rejected.append((item, reason))
    if item.ref not in ledger.rejections:
        log_line(plan, ledger, "", REJECTED, item.ref, reason)
        ledger.rejections.add(item.ref)


def log_line(
    plan: IntakePlan,
    ledger: Ledger,
    request: str,
    what: str,
    old: str,
    new: str,
    after: int | None = None,
    after_cell: int | None = None,
) -> None:
    """A Log line by the job (none when the Log tab is broken: the Health tab says so)."""
    if ledger.log_ok:
        cells: dict[str, CellValue] = {
            "When": ledger.at,
            "Request": request,
            "What": what,
            "Old": old,
            "New": new,
            "By": BY_JOB,
        }
        plan.batch.rows.append(NewRow(LOG.name, cells, after=after, after_cell=after_cell))


def new_request(u: Understanding, rid: str, received: datetime, ledger: Ledger) -> Request:
    """The Requests row for an understood message or form response."""
    account = ledger.directory.account(u.client) if u.client else None
    return Request(
        id=rid,
        received=local(received, ledger.zone),
        channel=u.channel.value,
        from_=u.sender,
        client=u.client or None,
        policy=u.policy or None,
        type=u.type,
        summary=u.summary,
        certificate_holder=u.holder or None,
        client_deadline=u.deadline,
        status=(Status.NEEDS_INFO if u.missing and ledger.works(u.type) else Status.NEW).value,
        missing_info="; ".join(u.missing) or None,
        thread="1 message",
        context=context_for(u, account, ledger.by_client),
        source=u.parsed.source,
    )


def info_request_for(u: Understanding, rid: str) -> InfoRequest | None:
    """The email asking the client for what is missing, when there is an address to ask."""
    if u.missing and "@" in u.sender and u.channel in (Channel.EMAIL, Channel.FORM):
        return InfoRequest(
            rid, u.sender, u.client, u.summary, u.missing, u.type, u.parsed.message_id
        )
    return None


def add_request(
    plan: IntakePlan, ledger: Ledger, u: Understanding, received: datetime, held: list[MailItem]
) -> None:
    """A new Requests row, its Log line, and an info request when details are missing."""
    rid = ledger.next_id()
    request = new_request(u, rid, received, ledger)
    at_row = len(plan.batch.rows)
    ledger.row_of_source[u.parsed.source] = at_row
    ledger.created_row[rid] = at_row
    if held:
        plan.rows_for[at_row] = list(held)
    plan.batch.rows.append(NewRow(REQUESTS.name, request.to_cells(), dedupe="Source", unique="ID"))
    plan.created.append(request)
    plan.request_rows.append(at_row)
    detail = f"{u.channel.value} from {u.sender}: {u.type}"
    if u.client:
        detail += f" for {u.client}"
    if u.parsed.notes:
        detail += f" ({'; '.join(u.parsed.notes)})"
    log_line(plan, ledger, rid, CAPTURED, "", detail, after=at_row)
    ask = info_request_for(u, rid) if ledger.works(u.type) else None
    if ask is not None:
        plan.info_requests.append((at_row, ask))
        missing = "; ".join(u.missing)
        log_line(
            plan, ledger, rid, INFO_REQUESTED, ask.message_id, f"to {u.sender}: {missing}", at_row
        )
    ledger.threads.add(known_from(rid, u, local(received, ledger.zone)), u.parsed.source)


def follow_up(plan: IntakePlan, ledger: Ledger, u: Understanding, item: MailItem) -> None:
    """A reply or a client follow-up lands on its request, whether that request is in the
    sheet already or was created from an earlier message of this same fetch."""
    parsed, rid = u.parsed, u.thread_of
    row_cells = ledger.rows.get(rid)
    new_row = ledger.created_row.get(rid)
    if row_cells is not None:
        open_ = cell_text(row_cells[1].get("status")) not in CLOSED
        context = ledger.context_now.get(rid, cell_text(row_cells[1].get("context")))
    else:
        open_ = new_row is not None
        cells = plan.batch.rows[new_row].cells if new_row is not None else {}
        context = cell_text(cells.get("Context"))
    what = FOLLOW_UP if (parsed.sender not in ledger.team and open_) else REPLY
    count = ledger.thread_counts[rid] = ledger.thread_counts.get(rid, 1) + 1
    received = local(parsed.received, ledger.zone)
    thread = thread_text(count, received if what == FOLLOW_UP else None)
    note = f"{what} {received:%Y-%m-%d %H:%M} from {u.sender}: {plain_line(u.words, 600)}"
    context = ledger.context_now[rid] = fit(f"{context}\n{note}" if context else note)
    if new_row is not None:  # the row is not written yet: it goes in with all of it
        plan.batch.rows[new_row].cells.update({"Thread": thread, "Context": context})
        plan.rows_for.setdefault(new_row, []).append(item)
    else:
        if row_cells is not None:
            for column, value in (("Thread", thread), ("Context", context)):
                plan.batch.cells.append(CellWrite(REQUESTS.name, rid, row_cells[0], column, value))
        plan.handled.append(item)
    plan.followups.append((what, u))
    detail = f"{u.summary} (from {u.sender}; {u.thread_how})"
    log_line(plan, ledger, rid, what, parsed.source, detail, after=new_row)
    ledger.threads.add_key(parsed.source, rid)
    ledger.threads.handled.add(parsed.source)


def typed_in(requests: Tab) -> bool:
    """Whether a person typed a row into Requests with no ID."""
    j = requests.columns()["id"]
    return any(
        is_blank(row[j] if j < len(row) else None) and any(not is_blank(v) for v in row)
        for row in requests.rows
    )


def adopt_typed_rows(plan: IntakePlan, ledger: Ledger) -> None:
    """Rows a person typed in with no ID (a phone call) become Manual requests, read like a
    message: an ID and the job's fills (Type, Client, Policy #, Certificate Holder, Client
    Deadline, Missing Info and Needs Info from what they typed), each only while blank."""
    requests = ledger.requests
    id_col = requests.columns()["id"]
    for index, row in enumerate(requests.rows):
        typed_in = any(not is_blank(v) for v in row)
        if not typed_in or not is_blank(row[id_col] if id_col < len(row) else None):
            continue
        rid = ledger.next_id()
        typed = {h: row[j] for j, h in enumerate(requests.header) if j < len(row)}
        fills = manual_fills(typed, rid, ledger)
        for column, value in fills.items():
            plan.batch.cells.append(
                CellWrite(REQUESTS.name, "", index + 2, column, value, only_if=None)
            )
        id_write = plan.adopted[rid] = len(plan.batch.cells) - len(fills)
        detail = f"Manual row {index + 2} typed into the sheet"
        if fills.get("Type"):
            detail += f": {fills['Type']}"
        log_line(plan, ledger, rid, CAPTURED, "", detail, after_cell=id_write)


def manual_fills(typed: Mapping[str, CellValue], rid: str, ledger: Ledger) -> dict[str, CellValue]:
    """The cells the job fills in a row a person typed (ID first): what intake reads in its
    Summary and Notes, in the cells they left blank."""
    summary, notes = cell_text(typed.get("Summary")), cell_text(typed.get("Notes"))
    parsed = Parsed(
        source=f"manual:{rid}",
        received=ledger.now,
        sender=cell_text(typed.get("From")).lower(),
        sender_name="",
        subject=plain_line(summary),
        body=f"{summary}\n{notes}".strip(),
    )
    u = understand(parsed, ledger.directory, Threads(), ledger.zone)
    client = cell_text(typed.get("Client")) or u.client
    kind = cell_text(typed.get("Type")) or u.type
    u = replace(u, client=client, type=kind, thread_of="", ignore="")
    missing = [m for m in missing_for(u, ledger.directory) if is_blank(typed.get(m))]
    fills: dict[str, CellValue] = {
        "ID": rid,
        "Received": ledger.at,
        "Channel": Channel.MANUAL.value,
        "Status": (Status.NEEDS_INFO if missing else Status.NEW).value,
        "Thread": "1 message",
        "Source": f"manual:{rid}",
        "Type": kind,
        "Client": client or None,
        "Policy #": u.policy or None,
        "Certificate Holder": u.holder or None,
        "Client Deadline": u.deadline,
        "Missing Info": "; ".join(missing) or None,
    }
    return {c: v for c, v in fills.items() if v is not None and is_blank(typed.get(c))}

"""Intake: fetched messages and the tracker in, the changes they make out. Pure: no mailbox,
no tracker I/O, `now` given.

Every message ends one way: a new Requests row; a follow-up on the request it belongs to
(the Thread cell and a Log line); an automatic reply or bulk mail, logged and set aside; or a
message that cannot be read, rejected with its reason. Messages whose Source is already in the
sheet (or in the Log, for follow-ups and ignored mail) are skipped: that check, made against
the tracker and again at write time, is what makes intake exactly-once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
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
    RequestType,
    Status,
    format_id,
    is_blank,
    parse_id,
)
from sheets_ops.rules import directory as directory_
from sheets_ops.rules import forms
from sheets_ops.rules.clients import as_written_in_accounts
from sheets_ops.rules.dates import deadline
from sheets_ops.rules.directory import Account, Directory
from sheets_ops.rules.message import MessageError, Parsed, parse_message, plain_line, plain_text
from sheets_ops.rules.settings import Settings
from sheets_ops.rules.understand import (
    CLOSED,
    FOLLOW_UP,
    IGNORED,
    INFO_REQUESTED,
    REPLY,
    Threads,
    Understanding,
    known_from,
    missing_for,
    understand,
)
from sheets_ops.sheet import Batch, CellWrite, NewRow, Snapshot, Tab, cell_text, header_problems

REJECTED = "Rejected message"
CAPTURED = "Captured"
CONTEXT_CHARS = 30_000  # fits a cell in Excel (32,767) and Google Sheets (50,000)


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in the agency's zone: what a spreadsheet cell can hold."""
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


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


def fit(text: str, limit: int = CONTEXT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return (
        text[: limit - 60].rstrip() + "\n… (cut to fit the cell; the full text is in the mailbox)"
    )


def context_for(u: Understanding, account: Account | None, requests: Tab) -> str:
    """What the CSR needs at hand, in one cell: warnings first, the message last."""
    parts = []
    if u.unsure:  # first, where the eye lands: the cells intake guessed from weak evidence
        parts.append(f"Check: {', '.join(u.unsure)} (read from weak evidence)")
    if account is None:
        parts.append("⚠ No client in Accounts matches this sender: check and fill Client.")
    elif not u.known_contact:
        parts.append(
            f"⚠ {u.sender} is not a known contact of {account.name} (matched by {u.matched_by}): "
            "act only on the named insured's instruction."
        )
    if account is not None:
        if account.instructions:
            parts.append(f"Instructions: {account.instructions}")
        if account.policies:
            parts.append(f"Policies: {'; '.join(account.policies)}")
        recent: list[str] = []
        holder = ""
        for _row, rec in reversed(list(requests.records())):
            if str(rec.get("client") or "").strip() != account.name:
                continue
            if len(recent) < 3:
                when = rec.get("received")
                day = f" {when:%m/%d}" if isinstance(when, datetime) else ""
                status = str(rec.get("status") or "").strip()
                recent.append(f"{rec.get('id')} {rec.get('type') or ''}{day} ({status})".strip())
            if not holder and not is_blank(rec.get("certificate holder")):
                holder = str(rec.get("certificate holder"))
        if recent:
            parts.append(f"Recent: {'; '.join(recent)}")
        if holder:
            parts.append(f"Last certificate holder: {holder}")
    if u.call is not None and u.channel is Channel.VOICEMAIL:
        parts.append(f"Caller {u.call.phone or 'unknown'}, {u.call.duration or 'length unknown'}")
    if u.effective:
        parts.append(f"Effective: {u.effective.isoformat()}")
    if u.parsed.attachments:
        files = ", ".join(f"{a.name} ({_size(a.size)})" for a in u.parsed.attachments)
        parts.append(f"Attachments (kept in the mailbox): {files}")
    if u.parsed.notes:
        parts.append(f"Intake notes: {'; '.join(u.parsed.notes)}")
    parts.append(f"Message: {plain_text(u.words).strip()}")
    return fit("\n".join(parts))


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.1f} KB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"


def _unreadable(error: Exception) -> str:
    """The reason for a message that broke intake in a way nobody foresaw."""
    return f"could not be read ({type(error).__name__}: {plain_line(str(error), 200)})"


def thread_text(messages: int, followed_up: datetime | None) -> str:
    text = f"{messages} message{'s' if messages != 1 else ''}"
    if followed_up is not None:
        text += f"; client followed up {followed_up:%Y-%m-%d %H:%M}"
    return text


def form_request(
    entry: forms.FormEntry, directory: Directory, threads: Threads, zone: ZoneInfo, now: datetime
) -> tuple[Understanding, datetime, list[MailItem]]:
    """What intake makes of one form response: the answers mapped to columns win over what
    the text suggests."""
    received = entry.received or now
    sender = str(entry.fields.get("From") or "").strip()
    summary = str(entry.fields.get("Summary") or "")
    parsed = Parsed(
        source=entry.source,
        received=received,
        sender=sender.lower(),
        sender_name="",
        subject=plain_line(summary),
        body=entry.text,
    )
    u = understand(parsed, directory, threads, zone)
    changes: dict[str, object] = {"channel": Channel.FORM, "thread_of": "", "ignore": ""}
    client = str(entry.fields.get("Client") or "").strip()
    if client and not u.client:
        changes["client"] = client
    policy = str(entry.fields.get("Policy #") or "").strip()
    if policy:
        changes["policy"] = as_written_in_accounts(policy, directory)
    kind = str(entry.fields.get("Type") or "").strip()
    if kind in {t.value for t in RequestType}:
        changes["type"] = kind
    holder = str(entry.fields.get("Certificate Holder") or "").strip()
    if holder:
        changes["holder"] = holder
    due = entry.fields.get("Client Deadline")
    if isinstance(due, datetime):
        changes["deadline"] = due.date()
    elif isinstance(due, date):
        changes["deadline"] = due
    elif isinstance(due, str) and due.strip():
        changes["deadline"] = deadline([f"by {due}"], received.astimezone(zone).date(), "COI")
    if not summary:
        changes["summary"] = plain_line(" ".join(entry.text.split()[:20])) or "(form response)"
    changes["sender"] = sender or "Form"
    u = replace(u, **changes)  # type: ignore[arg-type]
    return replace(u, missing=missing_for(u, directory)), received, []


def plan_intake(
    snapshot: Snapshot,
    requests: Tab,
    items: Iterable[MailItem],
    settings: Settings,
    now: datetime,
    directory: Directory | None = None,
) -> IntakePlan:
    """Decide what a batch of fetched messages, and new form responses, change in the
    tracker."""
    zone = settings.zone
    directory = directory or directory_.from_snapshot(snapshot)
    threads = Threads.from_snapshot(snapshot)
    plan = IntakePlan()
    log = snapshot.tab(LOG.name)
    log_ok = log is not None and not header_problems(log, LOG)
    at = local(now, zone)
    archive = snapshot.tab(ARCHIVE.name)
    number = next_id_number(requests, log, archive)
    sources = {  # an archived request's message is as taken as any other
        str(v).strip()
        for tab in (requests, archive)
        if tab is not None
        for v in tab.values("Source")
        if not is_blank(v)
    }
    logged_rejections = set()
    thread_counts: dict[str, int] = {}
    if log_ok and log is not None:
        for _row, rec in log.records():
            what, key = rec.get("what"), str(rec.get("old") or "")
            if what == REJECTED and key:
                logged_rejections.add(key)
            if what in (REPLY, FOLLOW_UP):
                rid = str(rec.get("request") or "")
                thread_counts[rid] = thread_counts.get(rid, 1) + 1
    team = {
        str(v).strip().lower() for v in (snapshot.tab(TEAM.name) or Tab("", [])).values("Email")
    }
    rows = {str(rec.get("id") or "").strip(): (row, rec) for row, rec in requests.records()}
    row_of_source: dict[str, int] = {}

    def log_row(
        request: str,
        what: str,
        old: str,
        new: str,
        after: int | None = None,
        after_cell: int | None = None,
    ) -> None:
        if log_ok:
            cells: dict[str, CellValue] = {
                "When": at,
                "Request": request,
                "What": what,
                "Old": old,
                "New": new,
                "By": BY_JOB,
            }
            plan.batch.rows.append(NewRow(LOG.name, cells, after=after, after_cell=after_cell))

    def create(u: Understanding, received: datetime, held: list[MailItem]) -> None:
        """A new Requests row, its Log line, and an info request when details are missing."""
        nonlocal number
        parsed = u.parsed
        rid = format_id(number)
        number += 1
        account = directory.account(u.client) if u.client else None
        request = Request(
            id=rid,
            received=local(received, zone),
            channel=u.channel.value,
            from_=u.sender,
            client=u.client or None,
            policy=u.policy or None,
            type=u.type,
            summary=u.summary,
            certificate_holder=u.holder or None,
            client_deadline=u.deadline,
            status=(Status.NEEDS_INFO if u.missing else Status.NEW).value,
            missing_info="; ".join(u.missing) or None,
            thread="1 message",
            context=context_for(u, account, requests),
            source=parsed.source,
        )
        at_row = len(plan.batch.rows)
        row_of_source[parsed.source] = at_row
        created_row[rid] = at_row
        if held:
            plan.rows_for[at_row] = list(held)
        plan.batch.rows.append(
            NewRow(REQUESTS.name, request.to_cells(), dedupe="Source", unique="ID")
        )
        plan.created.append(request)
        plan.request_rows.append(at_row)
        detail = f"{u.channel.value} from {u.sender}: {u.type}"
        if u.client:
            detail += f" for {u.client}"
        if parsed.notes:
            detail += f" ({'; '.join(parsed.notes)})"
        log_row(rid, CAPTURED, "", detail, after=at_row)
        if u.missing and "@" in u.sender and u.channel in (Channel.EMAIL, Channel.FORM):
            reply_to = parsed.message_id
            ask = InfoRequest(rid, u.sender, u.client, u.summary, u.missing, u.type, reply_to)
            plan.info_requests.append((at_row, ask))
            log_row(
                rid,
                INFO_REQUESTED,
                ask.message_id,
                f"to {u.sender}: {'; '.join(u.missing)}",
                after=at_row,
            )
        threads.add(known_from(rid, u, local(received, zone)), parsed.source)

    created_row: dict[str, int] = {}  # the batch row of each request created this cycle
    context_now: dict[str, str] = {}  # Context as this cycle leaves it, by request

    def follow_up(u: Understanding, item: MailItem) -> None:
        """A reply or a client follow-up lands on its request, whether that request is in
        the sheet already or was created from an earlier message of this same fetch."""
        parsed, rid = u.parsed, u.thread_of
        row_rec = rows.get(rid)
        new_row = created_row.get(rid)
        if row_rec is not None:
            open_ = cell_text(row_rec[1].get("status")) not in CLOSED
            context = context_now.get(rid, cell_text(row_rec[1].get("context")))
        else:
            open_ = new_row is not None
            cells = plan.batch.rows[new_row].cells if new_row is not None else {}
            context = cell_text(cells.get("Context"))
        what = FOLLOW_UP if (parsed.sender not in team and open_) else REPLY
        count = thread_counts.get(rid, 1) + 1
        thread_counts[rid] = count
        received = local(parsed.received, zone)
        thread = thread_text(count, received if what == FOLLOW_UP else None)
        note = f"{what} {received:%Y-%m-%d %H:%M} from {u.sender}: {plain_line(u.words, 600)}"
        context = fit(f"{context}\n{note}" if context else note)
        context_now[rid] = context
        if new_row is not None:  # the row is not written yet: it goes in with all of it
            plan.batch.rows[new_row].cells.update({"Thread": thread, "Context": context})
            plan.rows_for.setdefault(new_row, []).append(item)
        else:
            if row_rec is not None:
                for column, value in (("Thread", thread), ("Context", context)):
                    plan.batch.cells.append(
                        CellWrite(REQUESTS.name, rid, row_rec[0], column, value)
                    )
            plan.handled.append(item)
        plan.followups.append((what, u))
        detail = f"{u.summary} (from {u.sender}; {u.thread_how})"
        log_row(rid, what, parsed.source, detail, after=new_row)
        threads.add_key(parsed.source, rid)
        threads.handled.add(parsed.source)

    # Rows a person typed in with no ID (a phone call) become Manual requests.
    id_col = requests.columns()["id"]
    for index, row in enumerate(requests.rows):
        typed_in = any(not is_blank(v) for v in row)
        if typed_in and is_blank(row[id_col] if id_col < len(row) else None):
            rid = format_id(number)
            number += 1
            fills: dict[str, CellValue] = {
                "ID": rid,
                "Received": at,
                "Channel": Channel.MANUAL.value,
                "Status": Status.NEW.value,
                "Thread": "1 message",
                "Source": f"manual:{rid}",
            }
            for column, value in fills.items():
                plan.batch.cells.append(
                    CellWrite(REQUESTS.name, "", index + 2, column, value, only_if=None)
                )
            id_write = plan.adopted[rid] = len(plan.batch.cells) - len(fills)
            detail = f"Manual row {index + 2} typed into the sheet"
            log_row(rid, CAPTURED, "", detail, after_cell=id_write)

    # Keys written by an earlier version are bare Message-IDs: a message with such an ID was
    # taken in then (the key now adds a digest of the sender and text).
    old_rows = {s for s in sources if s.startswith("<") and " #" not in s}
    old_handled = {s for s in threads.handled if s.startswith("<") and " #" not in s}
    for item in items:
        try:
            parsed = parse_message(item.raw, item.arrived, now)
            if parsed.source in sources or parsed.message_id in old_rows:
                plan.known.append(item)
                continue
            if parsed.source in threads.handled or parsed.message_id in old_handled:
                plan.handled.append(item)
                continue
            if parsed.source in row_of_source:  # the same message twice in one fetch
                plan.rows_for[row_of_source[parsed.source]].append(item)
                continue
            u = understand(parsed, directory, threads, zone)
        except Exception as e:  # one message, however hostile, never stops the others
            reason = str(e) if isinstance(e, MessageError) else _unreadable(e)
            plan.rejected.append((item, reason))
            if item.ref not in logged_rejections:
                log_row("", REJECTED, item.ref, reason)
                logged_rejections.add(item.ref)
            continue
        if u.ignore:
            plan.ignored.append(u)
            plan.handled.append(item)
            log_row("", IGNORED, parsed.source, f"{u.ignore}: {u.summary} (from {u.sender})")
            threads.handled.add(parsed.source)
            continue
        if u.thread_of:
            follow_up(u, item)
            continue
        create(u, parsed.received, [item])

    for tab in forms.form_tabs(snapshot):
        for entry in forms.entries(tab, forms.column_map(settings.get("Form Columns")), zone):
            if entry.source in sources or entry.source in row_of_source:
                continue
            create(*form_request(entry, directory, threads, zone, now))
    return plan

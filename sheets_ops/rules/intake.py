"""Intake: raw messages in, Requests rows out. Pure: no mailbox, no tracker, `now` given.

`parse_message` understands one message from its bytes alone. `plan_intake` turns a batch of
fetched messages and the tracker snapshot into the rows to append, skipping every message whose
Source is already in the sheet: that check, made against the tracker and again at write time,
is what makes intake exactly-once.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from zoneinfo import ZoneInfo

from sheets_ops.model import (
    BY_JOB,
    LOG,
    REQUESTS,
    CellValue,
    Channel,
    Request,
    Status,
    format_id,
    is_blank,
    parse_id,
)
from sheets_ops.sync.mailbox import MailItem
from sheets_ops.sync.tracker import Batch, CellWrite, NewRow, Snapshot, Tab, header_problems

SUMMARY_CHARS = 200
REJECTED = "Rejected message"
CAPTURED = "Captured"


class MessageError(ValueError):
    """This message cannot become a request; the text says why, for a person."""


@dataclass(frozen=True)
class Intake:
    """What intake understood of one message."""

    source: str  # Message-ID, or a hash of the bytes when there is none
    received: datetime  # aware
    channel: Channel
    sender: str
    subject: str
    summary: str
    body: str
    notes: tuple[str, ...] = ()  # what a person may want to know about the parse


def plain_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """One line of plain text: no control or format characters, whitespace folded, capped."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if unicodedata.category(ch) not in ("Cf", "Cs", "Co")
    )
    line = " ".join(cleaned.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def message_key(raw: bytes, message_id: str | None) -> str:
    """The Source of a message: its Message-ID, or a hash of its bytes when it has none."""
    if message_id and message_id.strip():
        return plain_line(message_id, 500)
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:32]


_TAG = re.compile(r"<[^>]+>")


def _body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = html.unescape(_TAG.sub(" ", re.sub(r"(?is)<(script|style).*?</\1>", "", content)))
    return content


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the parser chokes on is as good as absent
        return ""
    return "" if value is None else str(value)


def parse_message(raw: bytes, arrived: datetime | None, now: datetime) -> Intake:
    """Understand one message from its bytes. Raises MessageError with a reason a person can
    act on when the bytes are not a usable email."""
    if not raw.strip():
        raise MessageError("the file is empty")
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    if b"\x00" in head:
        raise MessageError("not an email message: binary data in the headers")
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as e:
        raise MessageError(f"could not be read as an email: {e}") from e
    assert isinstance(msg, EmailMessage)
    if not msg.keys():
        raise MessageError("no email headers found (is this an email message?)")
    sender = parseaddr(_header(msg, "From"))[1].strip()
    if "@" not in sender:
        raise MessageError("no sender: the From header is missing or has no address")
    notes = []
    received: datetime | None = None
    date_text = _header(msg, "Date")
    if date_text:
        try:
            received = parsedate_to_datetime(date_text)
        except (TypeError, ValueError, IndexError):
            notes.append(f"unreadable Date {plain_line(date_text, 60)!r}")
        else:
            if received.tzinfo is None:  # "-0000": the sender's zone is unknown; RFC 5322 says UTC
                received = received.replace(tzinfo=UTC)
    else:
        notes.append("no Date header")
    if received is None:
        received = arrived or now
        notes[-1] += "; used the time it arrived"
    subject = plain_line(_header(msg, "Subject"), 1000)
    try:
        body = _body_text(msg)
    except Exception as e:
        body = ""
        notes.append(f"body unreadable ({type(e).__name__})")
    summary = plain_line(subject) if subject else plain_line(" ".join(body.split()[:16]))
    return Intake(
        source=message_key(raw, _header(msg, "Message-ID")),
        received=received,
        channel=Channel.EMAIL,
        sender=sender.lower(),
        subject=subject,
        summary=summary or "(no subject)",
        body=body,
        notes=tuple(notes),
    )


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in the agency's zone: what a spreadsheet cell can hold."""
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


@dataclass
class IntakePlan:
    """The rows a batch of messages becomes, and which messages each row answers for."""

    batch: Batch = field(default_factory=Batch)
    rows_for: dict[int, list[MailItem]] = field(default_factory=dict)  # batch row -> messages
    known: list[MailItem] = field(default_factory=list)  # already in the tracker
    rejected: list[tuple[MailItem, str]] = field(default_factory=list)
    created: list[Request] = field(default_factory=list)
    adopted: dict[str, int] = field(default_factory=dict)  # ID given -> its cell write
    notes: list[str] = field(default_factory=list)


def next_id_number(requests: Tab, log: Tab | None) -> int:
    """One more than any ID ever seen in Requests or the Log: IDs are never reused, even
    when a person deletes the newest row."""
    seen = [parse_id(v) for v in requests.values(REQUESTS.key or "ID")]
    if log is not None:
        seen += [parse_id(v) for v in log.values("Request")]
    return max((n for n in seen if n is not None), default=0) + 1


def plan_intake(
    snapshot: Snapshot,
    requests: Tab,
    items: Iterable[MailItem],
    zone: ZoneInfo,
    now: datetime,
) -> IntakePlan:
    """Decide what a batch of fetched messages adds to the tracker."""
    plan = IntakePlan()
    log = snapshot.tab(LOG.name)
    log_ok = log is not None and not header_problems(log, LOG)
    at = local(now, zone)
    number = next_id_number(requests, log)
    sources = {str(v).strip() for v in requests.values("Source") if not is_blank(v)}
    logged_rejections = set()
    if log_ok and log is not None:
        for _row, rec in log.records():
            if rec.get("what") == REJECTED and not is_blank(rec.get("old")):
                logged_rejections.add(str(rec.get("old")))
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

    # Rows a person typed in with no ID (a phone call) become Manual requests.
    columns = requests.columns()
    id_col = columns["id"]
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
                "Source": f"manual:{rid}",
            }
            for column, value in fills.items():
                plan.batch.cells.append(
                    CellWrite(REQUESTS.name, "", index + 2, column, value, only_if=None)
                )
            id_write = plan.adopted[rid] = len(plan.batch.cells) - len(fills)
            detail = f"Manual row {index + 2} typed into the sheet"
            log_row(rid, CAPTURED, "", detail, after_cell=id_write)

    for item in items:
        try:
            intake = parse_message(item.raw, item.arrived, now)
        except MessageError as e:
            plan.rejected.append((item, str(e)))
            if item.ref not in logged_rejections:
                log_row("", REJECTED, item.ref, str(e))
                logged_rejections.add(item.ref)
            continue
        if intake.source in sources:
            plan.known.append(item)
            continue
        if intake.source in row_of_source:  # the same message twice in one fetch
            plan.rows_for[row_of_source[intake.source]].append(item)
            continue
        request = Request(
            id=format_id(number),
            received=local(intake.received, zone),
            channel=intake.channel.value,
            from_=intake.sender,
            summary=intake.summary,
            status=Status.NEW.value,
            source=intake.source,
        )
        number += 1
        at_row = len(plan.batch.rows)
        row_of_source[intake.source] = at_row
        plan.rows_for[at_row] = [item]
        plan.batch.rows.append(
            NewRow(REQUESTS.name, request.to_cells(), dedupe="Source", unique="ID")
        )
        plan.created.append(request)
        detail = f"{intake.channel.value} from {intake.sender}"
        if intake.notes:
            detail += f" ({'; '.join(intake.notes)})"
        log_row(request.id, CAPTURED, "", detail, after=at_row)
    return plan

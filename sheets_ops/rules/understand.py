"""What intake makes of one message: channel, type, client, policy, deadline, thread.

`understand` is pure: a parsed message, the directory read from the sheet and the index of
known threads in; an Understanding out. `inspect` prints it; the cycle turns it into a row, a
follow-up on an existing row, or a logged "ignored".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sheets_ops.model import Channel, Status, format_id, is_blank, parse_id
from sheets_ops.rules.directory import Directory, policy_key
from sheets_ops.rules.extract import (
    Call,
    certificate_holder,
    channel_of,
    classify,
    deadline,
    effective_date,
    is_complex,
    match_client,
    own_words,
    pick_policy,
    policy_numbers,
    text_message,
    voicemail,
)
from sheets_ops.rules.message import Parsed, message_id_of, plain_line
from sheets_ops.sync.tracker import Snapshot

THREAD_DAYS = 7  # a message from the same sender about the same policy joins an open request
_TAG = re.compile(r"\[(REQ-\d+)\]", re.IGNORECASE)
CLOSED = (Status.DONE.value, Status.CANCELLED.value)

# Log entries that tie a message key (Old) to a request: the cycle writes them.
REPLY, FOLLOW_UP, IGNORED, INFO_REQUESTED = "Reply", "Client follow-up", "Ignored", "Info requested"


@dataclass
class Known:
    id: str
    sender: str
    policy: str
    received: datetime | None
    open: bool
    kind: str = ""


@dataclass
class Threads:
    """Which messages and requests intake already knows, to tie replies to their request."""

    by_message: dict[str, str] = field(default_factory=dict)  # message key -> request ID
    requests: dict[str, Known] = field(default_factory=dict)
    handled: set[str] = field(default_factory=set)  # keys of replies and ignored mail, logged

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> Threads:
        threads = cls()
        requests = snapshot.tab("Requests")
        if requests is not None:
            for _row, rec in requests.records():
                rid = str(rec.get("id") or "").strip()
                if parse_id(rid) is None:
                    continue
                received = rec.get("received")
                threads.requests[rid] = Known(
                    rid,
                    str(rec.get("from") or "").strip().lower(),
                    str(rec.get("policy #") or "").strip(),
                    received if isinstance(received, datetime) else None,
                    str(rec.get("status") or "").strip() not in CLOSED,
                    str(rec.get("type") or "").strip(),
                )
                if not is_blank(rec.get("source")):
                    threads.add_key(str(rec.get("source")).strip(), rid)
        log = snapshot.tab("Log")
        if log is not None:
            for _row, rec in log.records():
                what, key = str(rec.get("what") or ""), str(rec.get("old") or "").strip()
                if what in (REPLY, FOLLOW_UP, INFO_REQUESTED, IGNORED) and key:
                    threads.handled.add(key)
                    rid = str(rec.get("request") or "").strip()
                    if parse_id(rid) is not None:
                        threads.add_key(key, rid)
        return threads

    def find(
        self, parsed: Parsed, sender: str, policy: str, kind: str, received: datetime
    ) -> tuple[str, str]:
        """(request ID, how) for a message that belongs to a known request, else ("", "").
        Besides replies and tagged subjects, a message joins an open request from the same
        sender naming the same policy, of the same type, within 7 days."""
        tag = _TAG.search(parsed.subject)
        if tag:
            return format_id(parse_id(tag.group(1).upper()) or 0), "its subject's tag"
        for key in reversed(parsed.in_reply_to):
            if key in self.by_message:
                return self.by_message[key], "In-Reply-To/References"
        if policy:
            for known in reversed(list(self.requests.values())):
                if (
                    known.open
                    and known.kind == kind
                    and known.sender == sender
                    and policy_key(known.policy) == policy_key(policy)
                    and known.received is not None
                    and timedelta(0) <= received - known.received <= timedelta(days=THREAD_DAYS)
                ):
                    return known.id, "same sender and policy within 7 days"
        return "", ""

    def add(self, known: Known, key: str) -> None:
        self.requests[known.id] = known
        self.add_key(key, known.id)

    def add_key(self, key: str, request_id: str) -> None:
        """A message key belongs to a request; so does the Message-ID inside it, which is
        what a reply's In-Reply-To and References name."""
        self.by_message[key] = request_id
        if message_id := message_id_of(key):
            self.by_message.setdefault(message_id, request_id)


@dataclass(frozen=True)
class Understanding:
    parsed: Parsed
    channel: Channel
    sender: str  # the From column: an address, or the caller's phone number
    summary: str
    type: str
    complex: bool
    client: str
    matched_by: str  # address, domain, phone, policy, name, or ""
    known_contact: bool
    policy: str
    holder: str
    deadline: date | None
    effective: date | None
    missing: tuple[str, ...]
    words: str  # what the person wrote or said, without quoted history
    call: Call | None = None
    thread_of: str = ""  # the request this message belongs to
    thread_how: str = ""
    ignore: str = ""  # why it makes no request (an automatic reply, bulk mail)

    @property
    def new_request(self) -> bool:
        return not self.thread_of and not self.ignore

    def as_json(self) -> dict[str, Any]:
        """The `inspect` contract."""
        return {
            "channel": self.channel.value.lower(),
            "type": self.type,
            "client": self.client or None,
            "policy_number": self.policy or None,
            "certificate_holder": self.holder or None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "complex": self.complex,
            "new_request": self.new_request,
            "missing": list(self.missing),
            "summary": self.summary,
            "from": self.sender,
            "known_contact": self.known_contact,
            "matched_by": self.matched_by or None,
            "effective_date": self.effective.isoformat() if self.effective else None,
            "thread_of": self.thread_of or None,
            "ignored": self.ignore or None,
            "attachments": [{"name": a.name, "bytes": a.size} for a in self.parsed.attachments],
            "notes": list(self.parsed.notes),
            "source": self.parsed.source,
        }


def understand(
    parsed: Parsed, directory: Directory, threads: Threads, zone: ZoneInfo
) -> Understanding:
    """Everything intake can tell about one message."""
    channel = channel_of(parsed.sender, parsed.subject, directory)
    call: Call | None = None
    subject = parsed.subject
    if channel is Channel.VOICEMAIL:
        call = voicemail(parsed.subject, parsed.body)
        words, signature, subject = call.words, "", ""
    elif channel is Channel.TEXT:
        call = text_message(parsed.sender, parsed.body)
        words, signature, subject = call.words, "", ""
    else:
        own = own_words(parsed.body)
        words, signature = own.main, own.signature
    about = f"{subject}\n{words}"
    found = policy_numbers(about, directory.policy_keys)
    phone = call.phone if call else ""
    match = match_client(
        parsed.sender if channel is Channel.EMAIL else "",
        phone,
        found,
        f"{about}\n{signature}\n{parsed.sender_name}",
        directory,
    )
    account = match.account if match else None
    policy = pick_policy(found, account, about, directory)
    kind = classify(subject, words, directory)
    sent = parsed.received.astimezone(zone).date()
    holder = certificate_holder(words) if kind == "COI" else ""
    due = deadline(about, sent)
    effective = effective_date(about, sent)
    known_contact = bool(match and (match.by in ("address", "domain", "phone")))
    sender = phone or parsed.sender
    written = policy if found else ""  # a policy the sender wrote, not one intake inferred
    wall_clock = parsed.received.astimezone(zone).replace(tzinfo=None)  # as the sheet holds it
    thread_of, how = threads.find(parsed, sender, written, kind, wall_clock)
    if call is not None and channel is Channel.VOICEMAIL:
        head = f"Voicemail {call.duration} from {call.phone or 'unknown number'}".replace("  ", " ")
        summary = plain_line(f"{head}: {call.words}")
    elif call is not None:
        summary = plain_line(f"Text from {call.phone or parsed.sender}: {call.words}")
    else:
        summary = plain_line(subject) if subject else plain_line(" ".join(words.split()[:16]))
    u = Understanding(
        parsed=parsed,
        channel=channel,
        sender=sender,
        summary=summary or "(no subject)",
        type=kind,
        complex=is_complex(about, directory),
        client=account.name if account else "",
        matched_by=match.by if match else "",
        known_contact=known_contact,
        policy=policy,
        holder=holder,
        deadline=due,
        effective=effective,
        missing=(),
        words=words,
        call=call,
        thread_of=thread_of,
        thread_how=how,
        ignore=parsed.auto_reply or parsed.bulk,
    )
    return replace(u, missing=missing_for(u, directory))


def missing_for(u: Understanding, directory: Directory) -> tuple[str, ...]:
    """What the request's Type needs (Routing, Required Info) that intake did not find.
    Fields intake cannot check (anything but the ones below) are left to the CSR."""
    checks: dict[str, object] = {
        "client": u.client,
        "policy #": u.policy,
        "policy": u.policy,
        "certificate holder": u.holder,
        "client deadline": u.deadline,
        "deadline": u.deadline,
        "effective date": u.effective,
    }
    required = directory.required.get(u.type, ())
    return tuple(
        f for f in required if f.strip().lower() in checks and not checks[f.strip().lower()]
    )

"""Which request a message belongs to: the requests and message keys intake already knows
(from the Requests tab and the Log), and how a new message finds its request (a tag in its
subject, In-Reply-To/References, or a client's follow-up on their open request)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sheets_ops.model import Status, format_id, is_blank, parse_id
from sheets_ops.rules.directory import policy_key
from sheets_ops.rules.message import Parsed, message_id_of
from sheets_ops.sheet import Snapshot

THREAD_DAYS = 10  # a client's follow-up joins their open request of the same kind
_TAG = re.compile(r"\[(REQ-\d+)\]", re.IGNORECASE)
CLOSED = (Status.DONE.value, Status.CANCELLED.value)

# Log entries that tie a message key (Old) to a request: the cycle writes them.
REPLY, FOLLOW_UP, IGNORED, INFO_REQUESTED = "Reply", "Client follow-up", "Ignored", "Info requested"

_FOLLOW_UP = re.compile(
    r"(?i)\b(any\s+update|an\s+update|following\s+up|follow(?:ing)?\s*-?\s*up|checking\s+in|"
    r"still\s+(?:waiting|need)|haven'?t\s+heard|any\s+news|status\s+(?:of|on)|did\s+you\s+get|"
    r"i\s+(?:left\s+a\s+voicemail|texted|emailed|called|wrote)|as\s+i\s+mentioned|"
    r"alguna\s+novedad|qu[ée]\s+pas[óo]\s+con|ya\s+(?:est[áa]|tienen)|update\s+on|"
    r"changed|moved|instead|hasn'?t\s+(?:called|heard|gotten\s+back|contacted)|"
    r"(?:no\s+one|nobody)\s+(?:has\s+)?(?:called|gotten\s+back)|still\s+no|"
    r"did\s+(?:the|my|our|it|this|that)\b[^.?!]{0,30}\bgo\s+out|go\s+out\s+yet|any\s+word)\b"
)


@dataclass
class Known:
    id: str
    sender: str
    policy: str
    received: datetime | None
    open: bool
    kind: str = ""
    client: str = ""
    holder: str = ""
    complex: bool = False
    deadline: date | None = None


@dataclass
class Threads:
    """Which messages and requests intake already knows, to tie replies to their request."""

    by_message: dict[str, str] = field(default_factory=dict)  # message key -> request ID
    requests: dict[str, Known] = field(default_factory=dict)
    handled: set[str] = field(default_factory=set)  # keys of replies and ignored mail, logged
    # open requests by (client, kind), in sheet order: what a message may follow up on,
    # found without a walk over every request for each message
    _open: dict[tuple[str, str], list[Known]] | None = field(default=None, repr=False)

    def open_for(self, client: str, kind: str) -> list[Known]:
        if self._open is None:
            self._open = {}
            for known in self.requests.values():
                if known.open and known.client:
                    self._open.setdefault((known.client, known.kind), []).append(known)
        return self._open.get((client, kind), [])

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
                deadline_cell = rec.get("client deadline")
                threads.requests[rid] = Known(
                    rid,
                    str(rec.get("from") or "").strip().lower(),
                    str(rec.get("policy #") or "").strip(),
                    received if isinstance(received, datetime) else None,
                    str(rec.get("status") or "").strip() not in CLOSED,
                    str(rec.get("type") or "").strip(),
                    str(rec.get("client") or "").strip(),
                    str(rec.get("certificate holder") or "").strip(),
                    False,
                    deadline_cell.date() if isinstance(deadline_cell, datetime) else None,
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

    def find(self, parsed: Parsed, ask: Known, words: str) -> tuple[str, str]:
        """(request ID, how) for a message that belongs to a known request, else ("", "").
        Besides replies and tagged subjects, a client's message joins their open request
        of the same kind within THREAD_DAYS when it names the same policy or holder, or
        reads as a follow-up ("any update", "I left a voicemail", "changed to the 18th")."""
        tag = _TAG.search(parsed.subject)
        if tag:
            return format_id(parse_id(tag.group(1).upper()) or 0), "its subject's tag"
        for key in reversed(parsed.in_reply_to):
            if key in self.by_message:
                return self.by_message[key], "In-Reply-To/References"
        if not ask.client or ask.received is None:
            return "", ""
        for known in reversed(self.open_for(ask.client, ask.kind)):
            if known.received is None or not (
                timedelta(0) <= ask.received - known.received <= timedelta(days=THREAD_DAYS)
            ):
                continue
            same_policy = bool(ask.policy) and policy_key(known.policy) == policy_key(ask.policy)
            same_holder = bool(ask.holder) and ask.holder.lower() == known.holder.lower()
            if same_policy and known.sender == ask.sender:
                return known.id, "same sender and policy"
            if (same_policy or same_holder or not ask.policy) and _FOLLOW_UP.search(words):
                return known.id, "the same client's follow-up"
        return "", ""

    def add(self, known: Known, key: str) -> None:
        replaced = known.id in self.requests
        self.requests[known.id] = known
        if replaced:
            self._open = None  # built again in sheet order when next asked
        elif self._open is not None and known.open and known.client:
            self._open.setdefault((known.client, known.kind), []).append(known)
        self.add_key(key, known.id)

    def add_key(self, key: str, request_id: str) -> None:
        """A message key belongs to a request; so does the Message-ID inside it, which is
        what a reply's In-Reply-To and References name."""
        self.by_message[key] = request_id
        if message_id := message_id_of(key):
            self.by_message.setdefault(message_id, request_id)

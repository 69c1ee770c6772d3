"""How things stood before the tool: the baseline, read from the mailbox as it is.

Each client message of the inbox is understood as intake would (type, follow-up or not,
set aside or not); a follow-up joins its request. Each request is paired with the agency's
first reply in its thread: a sent message whose In-Reply-To or References name one of the
request's messages, else one with the same subject sent to the client after it. Figures per
request type and per person who answered: volume, first response in business hours (median
and p90), the share still unanswered after one and after three business days, the client's
follow-ups, and the busiest hours and days. Pure: messages in, figures out.

Definitions, so that a figure can be checked by hand: a first response is the business hours
from the request's first message to the reply (the Settings tab's hours, days and holidays);
the p90 is `statistics.quantiles(..., n=10, method="inclusive")[-1]`; "unanswered after N
business days" counts the requests at least N business days old at `now` with no reply
within N business days, over those requests.
"""

from __future__ import annotations

import email.policy
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from sheets_ops.rules.clock import Calendar
from sheets_ops.rules.text import bare_subject

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Reply:
    """A message the agency sent, as pairing reads it."""

    message_id: str
    refs: frozenset[str]  # In-Reply-To and References
    to: frozenset[str]  # To and Cc, lower case
    sender: str
    subject: str  # bare: no Re:/Fwd:
    at: datetime  # aware
    automatic: bool  # an auto-acknowledgement is no first response


def reply_from(raw: bytes) -> Reply | None:
    """A sent message, or None when it has no date (it cannot be placed in time)."""
    msg = BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
    try:
        at = parsedate_to_datetime(str(msg.get("Date", "")))
    except (TypeError, ValueError):
        return None
    if at is None or at.tzinfo is None:
        return None
    refs = " ".join(str(msg.get(h, "")) for h in ("In-Reply-To", "References")).split()
    to = {a.lower() for _n, a in getaddresses([str(v) for v in msg.get_all("To", [])]) if a}
    to |= {a.lower() for _n, a in getaddresses([str(v) for v in msg.get_all("Cc", [])]) if a}
    sender = next((a.lower() for _n, a in getaddresses([str(msg.get("From", ""))]) if a), "")
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower() not in ("", "no")
    return Reply(
        str(msg.get("Message-ID", "")).strip(),
        frozenset(refs),
        frozenset(to),
        sender,
        bare_subject(str(msg.get("Subject", ""))).lower(),
        at,
        auto,
    )


@dataclass
class Asked:
    """One client request in the inbox, with its follow-ups and its first reply."""

    ids: set[str]  # the Message-IDs of its messages
    received: datetime  # aware: its first message
    sender: str
    subject: str  # bare, lower case
    kind: str
    follow_ups: int = 0
    reply: Reply | None = None


def pair(requests: Sequence[Asked], sent: Iterable[Reply]) -> None:
    """Each request's first reply: in its thread, else by subject and recipient."""
    replies = sorted((r for r in sent if not r.automatic), key=lambda r: r.at)
    by_ref: dict[str, list[Reply]] = {}
    by_subject: dict[tuple[str, str], list[Reply]] = {}
    for r in replies:
        for ref in r.refs:
            by_ref.setdefault(ref, []).append(r)
        for to in r.to:
            by_subject.setdefault((r.subject, to), []).append(r)
    for asked in requests:
        threaded = [r for i in asked.ids for r in by_ref.get(i, []) if r.at >= asked.received]
        loose = [
            r for r in by_subject.get((asked.subject, asked.sender), []) if r.at >= asked.received
        ]
        found = min(threaded, key=lambda r: r.at) if threaded else None
        if found is None and loose:
            found = min(loose, key=lambda r: r.at)
        asked.reply = found


@dataclass
class Figures:
    """The baseline of one group of requests (a type, a person who answered, or all)."""

    name: str
    volume: int = 0
    median: float | None = None  # business hours to the first response
    p90: float | None = None
    unanswered_1: float | None = None  # share, 0..1, of requests a business day old
    unanswered_3: float | None = None
    slow: int = 0  # not answered within a business day (the request was a day old)
    follow_ups: int = 0


@dataclass
class Baseline:
    since: datetime
    now: datetime
    by_type: list[Figures] = field(default_factory=list)
    by_person: list[Figures] = field(default_factory=list)
    overall: Figures = field(default_factory=lambda: Figures("All requests"))
    hours: Counter[int] = field(default_factory=Counter)  # requests by hour of the day
    days: Counter[str] = field(default_factory=Counter)  # and by weekday

    def hurts_most(self) -> str:
        """The one-line answer to "which workflow hurts most"."""
        worst = max(self.by_type, key=lambda f: (f.slow, f.volume), default=None)
        if worst is None or not worst.volume:
            return "No client requests in the period: nothing to compare."
        median = f"{worst.median:.1f}" if worst.median is not None else "-"
        return (
            f"{worst.name} hurts most: {worst.slow} of {worst.volume} requests waited more than "
            f"a business day for a first reply, or had none (median first response {median} "
            "business hours)"
        )


def _quantiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[-1]


def _figures(name: str, requests: Sequence[Asked], calendar: Calendar, now: datetime) -> Figures:
    day = calendar.day_seconds / 3600
    # each request's business hours: its age at `now`, and its wait for a reply (None: none)
    timed = [
        (
            calendar.hours_between(a.received, now),
            None if a.reply is None else calendar.hours_between(a.received, a.reply.at),
        )
        for a in requests
    ]
    median, p90 = _quantiles(sorted(w for _age, w in timed if w is not None))
    f = Figures(name, len(requests), median, p90)
    f.follow_ups = sum(a.follow_ups for a in requests)
    for days, attr in ((1, "unanswered_1"), (3, "unanswered_3")):
        old = [w for age, w in timed if age >= days * day]
        late = [w for w in old if w is None or w > days * day]
        setattr(f, attr, len(late) / len(old) if old else None)
        if days == 1:
            f.slow = len(late)
    return f


def baseline(
    requests: Sequence[Asked],
    calendar: Calendar,
    since: datetime,
    now: datetime,
    people: Mapping[str, str],
) -> Baseline:
    """The figures, by type, by who answered (`people`: address -> Team name) and overall."""
    out = Baseline(since, now)
    kinds = sorted({a.kind for a in requests})
    out.by_type = [_figures(k, [a for a in requests if a.kind == k], calendar, now) for k in kinds]
    answered: dict[str, list[Asked]] = {}
    for a in requests:
        if a.reply is not None:
            who = people.get(a.reply.sender, a.reply.sender)
            answered.setdefault(who, []).append(a)
    out.by_person = [_figures(p, answered[p], calendar, now) for p in sorted(answered)]
    out.overall = _figures("All requests", requests, calendar, now)
    for a in requests:
        local = a.received.astimezone(calendar.zone)
        out.hours[local.hour] += 1
        out.days[DAYS[local.weekday()]] += 1
    return out

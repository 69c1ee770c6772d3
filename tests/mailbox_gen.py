"""A generated mailbox whose reply times are known: client requests (some followed up),
the agency's replies (threaded or not, by two people), its auto-acknowledgements, clients'
out-of-office answers and colleagues' forwards. For tests/test_baseline.py and
benchmarks/baseline_speed.py."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sheets_ops.rules.clock import Calendar

NOW = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 17:00 in Chicago, the default zone
SAYS = {
    "COI": ("Certificate for job {n}", "Please send a certificate of insurance for job {n}."),
    "Endorsement": ("Add a truck {n}", "Please add our new truck number {n} to the auto policy."),
    "Billing": ("Invoice {n}", "Our autopay failed; what do we owe on invoice {n}?"),
}
PEOPLE = {"alicia@agency.example": "Alicia Gomez", "ben@agency.example": "Ben Carter"}


def email(
    sender: str,
    to: str,
    subject: str,
    body: str,
    at: datetime,
    mid: str,
    reply_to: str = "",
    auto: bool = False,
) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = mid
    if reply_to:
        msg["In-Reply-To"] = msg["References"] = reply_to
    if auto:
        msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(body)
    return bytes(msg)


@dataclass
class Mailbox:
    """What the generator made, and what each request's first reply took (business
    minutes; None: unanswered)."""

    inbox: list[bytes] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)
    requests: list[tuple[str, datetime, int | None, str]] = field(default_factory=list)
    follow_ups: int = 0


def generate(calendar: Calendar, requests: int = 720, seed: int = 19) -> Mailbox:
    rng = random.Random(seed)
    box = Mailbox()
    kinds = list(SAYS)
    for n in range(requests):
        kind = kinds[n % len(kinds)]
        subject, body = (t.format(n=n) for t in SAYS[kind])
        client = f"client{n}@customer{n % 90}.example"
        received = NOW - timedelta(days=60) + timedelta(minutes=rng.randrange(60 * 24 * 59))
        mid = f"<req-{n}@customer.example>"
        box.inbox.append(email(client, "service@agency.example", subject, body, received, mid))
        if rng.random() < 0.3:  # the agency's auto-acknowledgement: no first response
            ack = email(
                "service@agency.example",
                client,
                f"Re: {subject}",
                "We got it.",
                received + timedelta(minutes=1),
                f"<ack-{n}@agency.example>",
                mid,
                True,
            )
            box.sent.append(ack)
        if rng.random() < 0.3:  # the client's out-of-office on the acknowledgement
            box.inbox.append(
                email(
                    client,
                    "service@agency.example",
                    f"Automatic reply: {subject}",
                    "I am out of the office.",
                    received + timedelta(minutes=2),
                    f"<ooo-{n}@customer.example>",
                    auto=True,
                )
            )
        delay: int | None = rng.choice([rng.randrange(5, 540), rng.randrange(540, 3000)])
        wall = received.astimezone(calendar.zone).replace(tzinfo=None)
        at = calendar.add_hours(wall, (delay or 0) / 60).replace(tzinfo=calendar.zone)
        if rng.random() < 0.2 or at > NOW:
            delay = None  # never answered (or not yet)
        if rng.random() < 0.15:  # "any update?", in the thread, before any reply
            asked_again = received + timedelta(minutes=rng.randrange(3, 30))
            box.inbox.append(
                email(
                    client,
                    "service@agency.example",
                    f"Re: {subject}",
                    "Any update on this?",
                    asked_again,
                    f"<again-{n}@customer.example>",
                    mid,
                )
            )
            box.follow_ups += 1
        who = rng.choice(sorted(PEOPLE))
        if delay is not None:
            threaded = rng.random() < 0.7  # else a fresh message with the same subject
            box.sent.append(
                email(
                    who,
                    client,
                    f"Re: {subject}",
                    "Done, attached.",
                    at,
                    f"<reply-{n}@agency.example>",
                    mid if threaded else "",
                )
            )
        if rng.random() < 0.3:  # a colleague forwards it inside the agency
            box.inbox.append(
                email(
                    "ben@agency.example",
                    "service@agency.example",
                    f"Fwd: {subject}",
                    "Can you take this one?",
                    received + timedelta(minutes=5),
                    f"<fwd-{n}@agency.example>",
                )
            )
        box.requests.append((kind, received, delay, who))
    return box

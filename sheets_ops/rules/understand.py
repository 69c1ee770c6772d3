"""What intake makes of one message: channel, type, client, policy, holder, deadline, thread.

`understand` is pure: a parsed message, the directory read from the sheet and the index of
known threads in; an Understanding out. `inspect` prints it; the cycle turns it into a row, a
follow-up on an existing row, or a logged "ignored". Each field comes from its own module
(calls, text, clients, policies, kinds, holders, dates); this one decides which text each is
read from, what a follow-up takes from its request, and which guesses a CSR should check.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sheets_ops.model import COMPLEX, TEXT, TYPE, VOICEMAIL, Channel
from sheets_ops.rules.calls import Call, caller, channel_of, duration_of, spoken
from sheets_ops.rules.clients import Match, addresses_in, match_client
from sheets_ops.rules.dates import deadline_when, effective_of, timeline
from sheets_ops.rules.directory import Account, Directory
from sheets_ops.rules.holders import certificate_holder, holder_of
from sheets_ops.rules.kinds import Verdict, classify, is_complex, owner_says
from sheets_ops.rules.learning import (
    LEARNED_COMPLEX,
    LEARNED_TYPE,
    Learned,
    Reading,
    learning_text,
)
from sheets_ops.rules.message import Parsed, plain_line
from sheets_ops.rules.policies import pick, policies_in
from sheets_ops.rules.text import Text, bare_subject, is_ask, is_reply, own_words, sentences
from sheets_ops.rules.threads import Known, Threads


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
    unsure: tuple[str, ...] = ()  # fields guessed from weak evidence: a CSR should check
    learned: tuple[str, ...] = ()  # what the agency's history decided, and like which request

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
            "unsure": list(self.unsure),
            "learned": list(self.learned),
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


@dataclass(frozen=True)
class _Reading:
    """A message as intake reads it: the channel, the words, the caller."""

    channel: Channel
    subject: str  # what the sender wrote as a subject ("" for a phone notification)
    text: Text
    call: Call | None
    sender: str  # the address, or the caller's number


def _read(parsed: Parsed, directory: Directory) -> _Reading:
    channel = _channel(parsed, directory)
    if channel is Channel.EMAIL:
        text = own_words(parsed.body, parsed.subject)
        return _Reading(channel, bare_subject(parsed.subject), text, None, parsed.sender)
    said = spoken(parsed.body)
    phone = caller(parsed.sender, parsed.sender_name, parsed.subject, parsed.body, said)
    call = Call(phone, duration_of(f"{parsed.subject}\n{parsed.body}"), said)
    return _Reading(channel, "", Text(said), call, phone or parsed.sender)


def _channel(parsed: Parsed, directory: Directory) -> Channel:
    for kind, channel in ((VOICEMAIL, Channel.VOICEMAIL), (TEXT, Channel.TEXT)):
        for rule in directory.owner_rules(kind):
            if any(
                p.regex.search(parsed.sender) or p.regex.search(parsed.subject)
                for p in rule.patterns
            ):
                return channel
    return channel_of(parsed.sender, parsed.subject, parsed.body)


def _client(parsed: Parsed, reading: _Reading, directory: Directory) -> Match | None:
    text = reading.text
    named = f"{reading.subject}\n{text.main}\n{text.signature}\n{parsed.sender_name}"
    if reading.call is not None:
        named += f"\n{parsed.subject}"  # the caller ID's name
    policies = [f.policy for f in policies_in(f"{named}\n{text.quoted}", directory)]
    sender = parsed.sender if reading.channel is Channel.EMAIL else ""
    phone = reading.call.phone if reading.call else ""
    signed = f"{text.signature}\n{parsed.sender_name}"
    match = match_client(sender, phone, policies, named, directory, signed)
    if match is None or match.by == "name":  # a sender people matched before, again
        learned = directory.learned()
        known = learned.client_of(sender or phone) if learned is not None else ""
        account = directory.account(known) if known else None
        if account is not None:
            return Match(account, "history")
    if match is None and (parsed.auto_reply or parsed.attached):
        for address in addresses_in(f"{parsed.body}\n{parsed.attached}"):  # a bounce's recipient
            if (match := match_client(address, "", [], "", directory)) is not None:
                break
        if match is None:
            found = [f.policy for f in policies_in(parsed.attached, directory)]
            match = match_client("", "", found, "", directory)
    return match


_THANKS = re.compile(r"(?i)\b(thank|thanks|thx|gracias|merci|appreciate)\b")
_THANKING = re.compile(
    r"(?i)\b(thank\s+you(?:\s+so\s+much)?(?:\s+for\s+[^.!?]*)?|thanks(?:\s+(?:so\s+much|again))?|"
    r"thx|many\s+thanks|(?:muchas\s+)?gracias(?:\s+por\s+[^.!?]*)?|i\s+appreciate\s+[^.!?]*)"
)
_PHISH = re.compile(
    r"(?i)\b(verify\s+your\s+(?:login|account|identity|credentials)|re-?verif\w*|"
    r"sign\s+in\s+with\s+your|password|credentials|suspended|shared\s+(?:a\s+)?(?:file|document)s?\s+with\s+you|"
    r"link\s+will\s+expire|click\s+(?:here|below)\s+to|unusual\s+activity|on\s+hold)\b"
)
_PITCH = re.compile(
    r"(?i)\b(agencies\s+like\s+yours|your\s+agency|leads?\b|15-?\s*minute\s+call|quick\s+call|"
    r"book\s+a\s+(?:call|demo|time)|schedule\s+a\s+(?:call|demo)|grow\s+your|partner\s+success|"
    r"rather\s+not\s+hear\s+from\s+me|no\s+thanks|case\s+study|free\s+trial|our\s+platform)\b"
)
_NEWSLETTER = re.compile(
    r"(?i)\b(view\s+(?:this\s+email\s+)?(?:in|on)\s+(?:your\s+|a\s+)?(?:web\s+)?browser|"
    r"you(?:\s+are|'re)\s+receiving\s+this|(?:because|since)\s+you\s+(?:subscribed|signed\s+up|opted\s+in)|"
    r"unsubscribe|manage\s+(?:your\s+)?(?:email\s+)?(?:preferences|subscriptions?)|"
    r"update\s+your\s+(?:email\s+)?preferences|opt[\s-]out|mailing\s+list|read\s+more|"
    r"darse\s+de\s+baja|cancelar\s+(?:la\s+)?suscripci[óo]n|forward\s+to\s+a\s+friend)\b"
)


def _not_a_request(parsed: Parsed, words: str, kind: str, scores: dict[str, float]) -> str:
    """Why the message makes no request, by its shape; "" when it is one."""
    if parsed.auto_reply or parsed.bulk:
        return parsed.auto_reply or parsed.bulk
    body = f"{parsed.subject}\n{parsed.body}"
    lures = len({m.group(0).lower() for m in _PHISH.finditer(body)})
    if (parsed.suspicious and lures) or lures >= 3:
        return f"looks like phishing ({parsed.suspicious or 'credential lure'})"
    if len({m.group(0).lower() for m in _PITCH.finditer(body)}) >= 2:
        return "a sales pitch to the agency"
    if len(_NEWSLETTER.findall(body)) >= 2:
        return "a newsletter"
    asks = [s for s in sentences(words) if is_ask(_THANKING.sub(" ", s))]
    if _THANKS.search(words) and not asks and len(words) < 600 and max(scores.values()) < 6:
        return "a thank-you, no request"
    return ""


def learning_text_of(parsed: Parsed, directory: Directory) -> str:
    """What the history's models read of a message (`understand` reads the same)."""
    reading = _read(parsed, directory)
    words = reading.text.main
    return learning_text(_summary(parsed, reading, words), words, reading.sender)


def prepare(parsed: Sequence[Parsed], directory: Directory) -> None:
    """A batch of messages read for the history's models at once, before `understand`
    reads them one by one (when there are models: otherwise nothing is done)."""
    learned = directory.learned() if parsed else None
    if learned is not None and learned.sure:
        with contextlib.suppress(Exception):  # each message is read again alone, or not at all
            learned.prepare([learning_text_of(p, directory) for p in parsed])


def understand(
    parsed: Parsed, directory: Directory, threads: Threads, zone: ZoneInfo
) -> Understanding:
    """Everything intake can tell about one message."""
    reading = _read(parsed, directory)
    text, subject = reading.text, reading.subject
    words = text.main
    match = _client(parsed, reading, directory)
    account = match.account if match else None
    about = f"{subject}\n{words}"
    verdict = classify(subject, words, directory, reply=is_reply(parsed.subject))
    kind = verdict.kind
    ignore = _not_a_request(parsed, words, kind, verdict.body)
    if ignore:
        kind = "Other"
    summary = _summary(parsed, reading, words)
    learned = None if ignore else directory.learned()
    try:
        heard = learned.read(learning_text(summary, words, reading.sender)) if learned else None
    except Exception:  # a model that cannot read this message leaves it to the rules
        heard = None
    told: list[str] = []
    if learned is not None and heard is not None:
        kind, said = _type_from_history(learned, heard, verdict, about, directory)
        told += said
    sent = parsed.received.astimezone(zone).date()
    found = policies_in(about, directory, account)
    policy = pick(found, account)
    holder, holder_sure = (
        holder_of(words, subject, account.name if account else "") if kind == "COI" else ("", True)
    )
    found_dates = timeline(sentences(about), sent)
    due_when = None if ignore else deadline_when(found_dates, sent, kind)
    due = due_when.day if due_when else None
    complex_ = is_complex(kind, subject, words, directory) if not ignore else False
    if learned is not None and heard is not None and not owner_says(COMPLEX, about, directory):
        complex_, said = _complex_from_history(learned, heard, complex_)
        told += said
    wall_clock = parsed.received.astimezone(zone).replace(tzinfo=None)
    asked = Known(
        "",
        reading.sender,
        policy,
        wall_clock,
        True,
        kind,
        account.name if account else "",
        holder,
        complex_,
        due,
    )
    thread_of, how = ("", "") if ignore else threads.find(parsed, asked, words)
    if thread_of:  # a follow-up: what it does not say, its request and the quoted text say
        told = []  # its request's Type and complexity hold, not history's
        kind, account, policy, holder, complex_in_thread = _from_thread(
            threads.requests.get(thread_of), text.quoted, directory, kind, account, policy, holder
        )
        complex_ = complex_ or complex_in_thread
    elif not policy and (text.quoted or parsed.attached):
        policy = pick(policies_in(f"{text.quoted}\n{parsed.attached}", directory, account), account)
    unsure: tuple[str, ...] = ()
    if not ignore:  # what a CSR should look at before trusting the cell
        named = next((f for f in found if f.policy == policy), None)
        unsure = _unsure(
            verdict.margin < UNSURE and not thread_of and kind == verdict.kind,
            match is not None and match.by == "name",
            named is not None
            and (named.account is None or bool(account and named.account != account)),
            bool(holder and not holder_sure),
            due_when is not None and due_when.role in ("bare", "event"),
        )
    u = Understanding(
        parsed=parsed,
        channel=reading.channel,
        sender=reading.sender,
        summary=summary,
        type=kind,
        complex=complex_,
        client=account.name if account else "",
        matched_by=match.by if match else ("thread" if account else ""),
        known_contact=bool(match and match.by in ("address", "domain", "phone")),
        policy=policy,
        holder=holder,
        deadline=due,
        effective=effective_of(found_dates),
        missing=(),
        words=words,
        call=reading.call,
        thread_of=thread_of,
        thread_how=how,
        ignore=ignore,
        unsure=unsure,
        learned=tuple(told),
    )
    return replace(u, missing=missing_for(u, directory))


def _from_thread(
    original: Known | None,
    quoted: str,
    directory: Directory,
    kind: str,
    account: Account | None,
    policy: str,
    holder: str,
) -> tuple[str, Account | None, str, str, bool]:
    """What a follow-up does not say, read from its request and the text it quotes: the
    type, client, policy, certificate holder, and whether they make the work complex."""
    if original is not None:
        kind = original.kind or kind
        if not account and original.client:
            account = directory.account(original.client)
    if not policy:
        policy = pick(policies_in(quoted, directory, account), account)
    if kind == "COI" and not holder:
        holder = certificate_holder(quoted, "", account.name if account else "") or (
            original.holder if original else ""
        )
    complex_ = is_complex(kind, "", quoted, directory) or bool(original and original.complex)
    return kind, account, policy, holder, complex_


def _unsure(
    type_: bool, client: bool, policy: bool, holder: bool, deadline: bool
) -> tuple[str, ...]:
    """The cells intake filled from weak evidence, for a CSR to check first."""
    flags = (
        ("Type", type_),
        ("Client", client),
        ("Policy #", policy),  # not one of the client's policies in Accounts
        ("Certificate Holder", holder),
        ("Client Deadline", deadline),
    )
    return tuple(name for name, weak in flags if weak)


def _summary(parsed: Parsed, reading: _Reading, words: str) -> str:
    """The Summary cell: who called or texted and what they said, else the subject, else
    the first words."""
    call = reading.call
    if call is not None and reading.channel is Channel.VOICEMAIL:
        head = f"Voicemail {call.duration} from {call.phone or 'unknown number'}"
        summary = plain_line(f"{' '.join(head.split())}: {call.words}")
    elif call is not None:
        summary = plain_line(f"Text from {call.phone or parsed.sender}: {call.words}")
    elif parsed.subject:
        summary = plain_line(parsed.subject)
    else:
        summary = plain_line(" ".join(words.split()[:16]))
    return summary or "(no subject)"


def known_from(request_id: str, u: Understanding, received: datetime | None) -> Known:
    """What threading remembers of a request intake just made, for the messages after it."""
    return Known(
        request_id,
        u.sender,
        u.policy,
        received,
        True,
        u.type,
        u.client,
        u.holder,
        u.complex,
        u.deadline,
    )


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


UNSURE = 2.0  # a Type whose score leads the next by less is a guess (`Verdict.margin`)
HISTORY_WHEN_UNSURE = 0.5  # the model's probability that decides over unsure rules
HISTORY_OVER_RULES = 0.85  # ... and over rules that are sure


def _type_from_history(
    learned: Learned, heard: Reading, verdict: Verdict, about: str, directory: Directory
) -> tuple[str, list[str]]:
    """The Type, once the agency's history is heard: the rules' when they are sure and the
    model agrees or is unsure itself, or when the owner's own Rules row spoke."""
    guess = heard.kind
    if guess is None or guess.label == verdict.kind or owner_says(TYPE, about, directory):
        return verdict.kind, []
    needed = HISTORY_WHEN_UNSURE if verdict.margin < UNSURE else HISTORY_OVER_RULES
    if guess.p < needed:
        return verdict.kind, []
    return guess.label, [f"{LEARNED_TYPE}: like {learned.like(heard)}"]


def _complex_from_history(
    learned: Learned, heard: Reading, complex_: bool
) -> tuple[bool, list[str]]:
    """Complex when the rules say so (they read the words that make it so: an additional
    insured, a waiver, someone hurt), or when a confident model says the agency's own
    complex requests read like this one: history adds what the rules do not know, and never
    takes away what they read."""
    guess = heard.complex
    if complex_ or guess is None or guess.label != "complex" or guess.p < HISTORY_OVER_RULES:
        return complex_, []
    return True, [f"{LEARNED_COMPLEX}: like {learned.like(heard, kinds=False)}"]

"""Field extraction: what a request is about, from its text. Pure functions, no I/O.

Each function takes text (and the directory read from the sheet) and returns what it found,
or None. Dates are resolved against the day the message was sent, in the agency's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sheets_ops.model import COMPLEX, LINE, TEXT, TYPE, VOICEMAIL, Channel, RequestType
from sheets_ops.rules.directory import (
    Account,
    Directory,
    digits,
    format_phone,
    name_key,
    policy_key,
)

# --- the text a person wrote --------------------------------------------------------------

_FORWARD = re.compile(
    r"(?im)^[ \t>]*-{2,}\s*(forwarded message|original message)\s*-*\s*$"
    r"|^[ \t]*begin forwarded message:\s*$"
)
_QUOTE_START = re.compile(
    r"(?im)^[ \t]*on\b[^\n]{0,200}(\n[^\n]{0,200})?\bwrote:\s*$"
    r"|^[ \t]*_{8,}\s*$"
    r"|^[ \t]*from:[^\n]*\n[ \t]*(sent|date):[^\n]*$"
)
_HEADER_LINE = re.compile(r"(?i)^[ \t]*(from|sent|date|to|cc|subject):")
_SIGN_OFF = re.compile(
    r"(?im)^[ \t]*(thanks|thank you|thanks so much|regards|best|best regards|kind regards|"
    r"sincerely|cheers)[ \t]*[,!.]?[ \t]*$"
)
_DEVICE = re.compile(r"(?im)^[ \t]*sent from my [^\n]*$")


@dataclass(frozen=True)
class Text:
    """A message's own words, and the signature under them."""

    main: str
    signature: str = ""


def own_words(body: str) -> Text:
    """Quoted history out, forwarded content kept (without its header block), signature apart."""
    text = body
    marker = _FORWARD.search(text)
    forwarded = bool(marker and marker.group(1) and marker.group(1).lower().startswith("forwarded"))
    if marker and forwarded:
        before, after = text[: marker.start()], text[marker.end() :]
        lines = after.lstrip("\n").split("\n")
        while lines and (_HEADER_LINE.match(lines[0]) or not lines[0].strip()):
            lines.pop(0)
        text = before + "\n" + "\n".join(lines)
    elif marker:
        text = text[: marker.start()]
    quote = _QUOTE_START.search(text)
    if quote:
        text = text[: quote.start()]
    text = _DEVICE.sub("", text)
    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith(">")]
    text = "\n".join(lines).strip()
    signature = ""
    cut = text.find("\n-- \n")
    if cut >= 0:
        text, signature = text[:cut], text[cut + 4 :]
    else:
        signs = list(_SIGN_OFF.finditer(text))
        if signs and text[signs[-1].end() :].count("\n") <= 6:
            text, signature = text[: signs[-1].start()], text[signs[-1].end() :]
        else:  # a name and a company on the last short lines
            tail = text.split("\n\n")
            short = len(tail) > 1 and len(tail[-1]) < 160 and tail[-1].count("\n") <= 4
            if short and not re.search(r"[.?!]\s*$", tail[-1].split("\n")[0]):
                signature = tail[-1]
                text = "\n\n".join(tail[:-1])
    return Text(text.strip(), signature.strip())


# --- channels -----------------------------------------------------------------------------

PHONE = re.compile(r"(?<![\d+])(?:\+?1[\s.-]?)?\(?(\d{3})\)?[\s.-]?(\d{3})[\s.-]?(\d{4})(?!\d)")
_DURATION = re.compile(
    r"(?i)\b(?:duration|length)\b[^\d\n]{0,12}((?:\d{1,2}:)?\d{1,2}:\d{2})|\((\d{1,2}:\d{2})\)"
)
_TRANSCRIPT = re.compile(r"(?is)\b(?:transcription|transcript)\s*:\s*(.+)")
_QUOTED = re.compile(r'"([^"\n]{12,}(?:\n[^"\n]+)*)"')
_NOTIFY_LINE = re.compile(
    r"(?i)^\s*(you have a new voice message|from:|received:|duration:|length:|play message|"
    r"voicemail from|voice message from|to listen|mailbox)\b"
)


def channel_of(sender: str, subject: str, directory: Directory) -> Channel:
    """Email, or a voicemail notification or a text relayed by a gateway (Rules tab)."""
    for rule in directory.of(VOICEMAIL):
        if any(p.regex.search(sender) or p.regex.search(subject) for p in rule.patterns):
            return Channel.VOICEMAIL
    for rule in directory.of(TEXT):
        if any(p.regex.search(sender) for p in rule.patterns):
            return Channel.TEXT
    return Channel.EMAIL


@dataclass(frozen=True)
class Call:
    """A voicemail or a text: who, how long, what was said."""

    phone: str
    duration: str
    words: str


def voicemail(subject: str, body: str) -> Call:
    found = PHONE.search(subject) or PHONE.search(body)
    phone = format_phone("".join(found.groups())) if found else ""
    length = _DURATION.search(subject) or _DURATION.search(body)
    duration = ""
    if length:
        parts = (length.group(1) or length.group(2)).split(":")
        seconds = sum(int(p) * 60**i for i, p in enumerate(reversed(parts)))
        duration = f"{seconds // 60}:{seconds % 60:02d}"
    said = _TRANSCRIPT.search(body)
    if said:
        words = said.group(1)
    elif quoted := _QUOTED.search(body):
        words = quoted.group(1)
    else:
        words = "\n".join(ln for ln in body.split("\n") if not _NOTIFY_LINE.match(ln))
    words = re.split(r"(?im)^\s*(play message|to listen|listen to)\b", words)[0]
    return Call(phone, duration, " ".join(words.split()))


def text_message(sender: str, body: str) -> Call:
    local = sender.split("@")[0]
    phone = format_phone(local) if len(digits(local)) == 10 else ""
    return Call(phone, "", " ".join(own_words(body).main.split()))


# --- type and complexity -------------------------------------------------------------------

# When two types score the same, the one a person would handle first wins.
PRIORITY = ("Claim", "Cancellation", "Endorsement", "COI", "Billing", "Renewal", "Other")


def classify(subject: str, text: str, directory: Directory) -> str:
    """The request Type: words in the subject count three times those in the text."""
    scores: dict[str, int] = {}
    for rule in directory.of(TYPE):
        result = rule.result.strip()
        if result not in {t.value for t in RequestType}:
            continue
        for pattern in rule.patterns:
            score = 3 * bool(pattern.regex.search(subject)) + bool(pattern.regex.search(text))
            scores[result] = scores.get(result, 0) + score
    best = max(scores.values(), default=0)
    if best == 0:
        return RequestType.OTHER.value
    return min((t for t, s in scores.items() if s == best), key=_rank)


def _rank(kind: str) -> int:
    return PRIORITY.index(kind) if kind in PRIORITY else len(PRIORITY)


def is_complex(text: str, directory: Directory) -> bool:
    """Needs carrier approval or senior judgment (Rules tab, Complex)."""
    return any(p.regex.search(text) for r in directory.of(COMPLEX) for p in r.patterns)


# --- who the client is ----------------------------------------------------------------------

_COMMON_WORDS = {
    "summit",
    "general",
    "first",
    "national",
    "american",
    "central",
    "united",
    "premier",
    "family",
    "quality",
    "professional",
    "golden",
    "royal",
    "city",
    "new",
    "north",
    "south",
}


@dataclass(frozen=True)
class Match:
    account: Account
    by: str  # address, domain, phone, policy, name


def match_client(
    sender: str,
    phone: str,
    policies: list[str],
    text: str,
    directory: Directory,
) -> Match | None:
    """The client, by the strongest evidence first: the sender's address, their domain, the
    caller's phone, a policy number in the text, the business name in the text."""
    sender = sender.lower()
    for account in directory.accounts:
        if sender in account.emails:
            return Match(account, "address")
    domain = sender.rsplit("@", 1)[-1]
    for account in directory.accounts:
        if domain in account.domains:
            return Match(account, "domain")
    if phone and (number := digits(phone)):
        for account in directory.accounts:
            if number in account.phones:
                return Match(account, "phone")
    keys = {policy_key(p) for p in policies}
    for account in directory.accounts:
        if keys & {policy_key(p) for p in account.policies}:
            return Match(account, "policy")
    return match_name(text, directory)


def match_name(text: str, directory: Directory) -> Match | None:
    words = f" {name_key(text)} "
    for account in directory.accounts:
        if account.key and f" {account.key} " in words:
            return Match(account, "name")
    firsts: dict[str, list[Account]] = {}
    for account in directory.accounts:
        first = account.key.split(" ")[0] if account.key else ""
        if len(first) >= 5 and first not in _COMMON_WORDS:
            firsts.setdefault(first, []).append(account)
    for first, accounts in firsts.items():
        if len(accounts) == 1 and f" {first} " in words:
            return Match(accounts[0], "name")
    return None


# --- policy numbers --------------------------------------------------------------------------

_POLICY = re.compile(r"(?<![\w-])([A-Za-z]{1,6})([ -]?)(\d{5,10})(?![\w-])")
_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
    ]
)


def policy_numbers(text: str, known: frozenset[str] = frozenset()) -> list[str]:
    """Everything in the text shaped like a policy number (letters, then five or more digits),
    less what is a state and a ZIP code ("Chicago IL 60607") unless the agency has it."""
    found = []
    for m in _POLICY.finditer(text):
        letters, gap, number = m.group(1), m.group(2), m.group(3)
        candidate = f"{letters.upper()}-{number}"
        if policy_key(candidate) not in known:
            if not letters.isupper():
                continue
            if letters in _STATES and gap != "-" and len(number) == 5:
                continue  # a ZIP code
        found.append(candidate)
    return list(dict.fromkeys(found))


def pick_policy(found: list[str], account: Account | None, text: str, directory: Directory) -> str:
    """The policy a request is about, written as in Accounts: a number in the text, or the only
    policy of the client's in the line of business the text names ("our auto policy")."""
    every = {policy_key(p): p for a in directory.accounts for p in a.policies}
    own = {policy_key(p): p for p in account.policies} if account else {}
    for number in found:
        if policy_key(number) in own:
            return own[policy_key(number)]
    for number in found:
        if policy_key(number) in every:
            return every[policy_key(number)]
    if found:
        return found[0]
    if account is None:
        return ""
    candidates: set[str] = set()
    for rule in directory.of(LINE):
        if any(p.regex.search(text) for p in rule.patterns):
            prefixes = {x.strip().upper() for x in rule.result.split(";") if x.strip()}
            for policy in account.policies:
                letters = re.match(r"[A-Za-z]+", policy)
                if letters and letters.group(0).upper() in prefixes:
                    candidates.add(policy)
    return candidates.pop() if len(candidates) == 1 else ""


def as_written_in_accounts(policy: str, directory: Directory) -> str:
    """A policy number a person typed, as Accounts writes it when the agency has it."""
    for account in directory.accounts:
        for known in account.policies:
            if policy_key(known) == policy_key(policy):
                return known
    return policy.strip()


# --- certificate holder ------------------------------------------------------------------------

# Bounded: a name is a few words, and an unbounded repeat here would make a pattern that may
# start at any word cost the square of the text's length (seconds on a 20,000-character body).
_NAME = (
    r"(?-i:(?P<name>[A-Z0-9][\w&.'\u2019-]{0,40}"
    r"(?:[ \t]{1,4}(?:of|the|and|&|at|[A-Z0-9][\w&.'\u2019-]{0,40})){0,8}))"
)
_ADDRESS = re.compile(
    r",?[ \t]*(\d+[^,\n]{2,40},[ \t]*[A-Za-z .]{2,30},?[ \t]+[A-Z]{2}[ \t]+\d{5})"
)
_HOLDERS = [
    re.compile(rf"(?i)\bcertificate holder\b\s*(?:is|:|-)\s*{_NAME}"),
    re.compile(rf"(?i)\bholder\s*:\s*{_NAME}"),
    re.compile(
        rf"(?i)\b(?:naming|name|list|listing|showing|show)\s+{_NAME}\s+as\s+(?:the\s+)?"
        r"(?:certificate\s+)?holder"
    ),
    re.compile(rf"(?i)\badd(?:ed)?\s+{_NAME}\s+as\s+(?:an?\s+)?additional insured"),
    re.compile(rf"(?i){_NAME},?\s+needs\s+(?:to be added as|a certificate|proof)"),
    re.compile(rf"(?i)\b(?:certificate|cert|coi)\b[^.\n]{{0,60}}?\b(?:to|for|naming)\s+{_NAME}"),
]
_NOT_NAMES = {"our", "the", "us", "me", "you", "them", "this", "that", "it", "a", "an"}


def certificate_holder(text: str) -> str:
    """`Name, address` of the certificate holder when the text gives one."""
    for pattern in _HOLDERS:
        for m in pattern.finditer(text):
            name = m.group("name").strip(" .,'\u2019")
            first = name.split(" ")[0].lower()
            if first in _NOT_NAMES or len(name) < 3 or name.isdigit():
                continue
            if re.match(r"(?i)(GL|WC|CA|BOP|PKG)[ -]?\d", name):
                continue
            address = _ADDRESS.match(text, m.end())
            return f"{name}, {address.group(1).strip()}" if address else name
    return ""


# --- dates ---------------------------------------------------------------------------------------

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_WEEKDAYS = {d: i for i, d in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])}
_DAY = (
    r"(?:monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thur|thu|friday|fri"
    r"|saturday|sat|sunday|sun)"
)
_MONTH = (
    r"(?:january|jan|february|feb|march|mar|april|apr|may|june|jun|july|jul|august|aug"
    r"|september|sept|sep|october|oct|november|nov|december|dec)\.?"
)
_DATE = (
    rf"(?P<numeric>\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b)"
    rf"|(?P<named>\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b)"
    rf"|(?P<weekday>\b(?:(?:next|this|coming)\s+)?{_DAY}\b)"
    r"|(?P<relative>\btoday\b|\btonight\b|\btomorrow\b|\btmrw\b|\btmr\b"
    r"|\bend of (?:the )?week\b|\bthis week\b|\bend of (?:the )?month\b)"
)
_TRIGGER = (
    r"\b(?:by|before|no later than|not later than|prior to|(?<!past )due(?: on| by| date is)"
    r"|is due|deadline(?: is|:)?"
    r"|needed(?: by| on)?|need (?:it|this|them|these|one) (?:by|on)|eod|cob|end of (?:the )?day)\b"
)
_AT_TRIGGER = re.compile(rf"(?i){_TRIGGER}(?P<gap>[^.!?\n]{{0,40}}?)(?:{_DATE})")
_EOD_ALONE = re.compile(r"(?i)\b(?:by\s+)?(?:eod|cob|end of (?:the )?day)\b(?!\s+\w)")
_WITHIN = re.compile(r"(?i)\bwithin\s+(\d{1,2}|one|two|three|four|five)\s+(?:business\s+)?days?\b")
_BARE = re.compile(rf"(?i){_DATE}")
_NEED = re.compile(
    r"(?i)\b(need|needs|needed|send|get|require|required|must|please|pls|asap|"
    r"want|wants)\b"
)
_PROMISE = re.compile(r"(?i)\b(i'll|i will|we'll|we will|i'm going to|we are going to)\b")
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def _calendar_day(month: int, day: int, year: int | None, sent: date) -> date | None:
    """A written date; without a year, the next such date (a week back still counts)."""
    full = (year + 2000 if year < 100 else year) if year is not None else sent.year
    try:
        found = date(full, month, day)
    except ValueError:
        return None
    if year is None and found < sent - timedelta(days=7):
        try:
            found = found.replace(year=full + 1)
        except ValueError:  # 29 February
            return None
    return found


def _resolve(m: re.Match[str], sent: date) -> date | None:
    if text := m.group("numeric"):
        parts = [int(p) for p in text.split("/")]
        return _calendar_day(parts[0], parts[1], parts[2] if len(parts) == 3 else None, sent)
    if text := m.group("named"):
        words = re.findall(r"[a-z]+|\d+", text.lower())
        month = _MONTHS.get(words[0][:3])
        numbers = [int(w) for w in words[1:] if w.isdigit()]
        if month is None or not numbers:
            return None
        return _calendar_day(month, numbers[0], numbers[1] if len(numbers) > 1 else None, sent)
    if text := m.group("weekday"):
        words = text.lower().split()
        target = _WEEKDAYS[words[-1][:3]]
        ahead = (target - sent.weekday()) % 7
        if words[0] == "next":  # that day in the week after this one
            ahead = target - sent.weekday() + 7
        return sent + timedelta(days=ahead)
    text = m.group("relative").lower()
    if text in ("today", "tonight"):
        return sent
    if text in ("tomorrow", "tmrw", "tmr"):
        return sent + timedelta(days=1)
    if "week" in text:
        return sent + timedelta(days=(4 - sent.weekday()) % 7)
    if "month" in text:
        following = date(sent.year + sent.month // 12, sent.month % 12 + 1, 1)
        return following - timedelta(days=1)
    return None


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def deadline(text: str, sent: date) -> date | None:
    """The date the client asked for, from wording such as "by Friday", "before 12/15",
    "no later than December 3rd", "EOD Monday", "within 3 days", "tomorrow morning"; None
    when there is none (ASAP included)."""
    for sentence in _sentences(text):
        if m := _AT_TRIGGER.search(sentence):
            return _resolve(m, sent)
        if m := _WITHIN.search(sentence):
            count = m.group(1).lower()
            return sent + timedelta(days=int(count) if count.isdigit() else _NUMBERS[count])
        if _EOD_ALONE.search(sentence):
            return sent
    if not _NEED.search(text):
        return None
    for sentence in _sentences(text):
        if _PROMISE.search(sentence):
            continue
        for m in _BARE.finditer(sentence):
            if m.group("relative"):
                return _resolve(m, sent)
    return None


_EFFECTIVE = re.compile(rf"(?i)\beffective(?:\s+date)?(?:\s+(?:on|as of|from))?\s*:?\s*(?:{_DATE})")


def effective_date(text: str, sent: date) -> date | None:
    """The date a change takes effect ("effective 12/1")."""
    m = _EFFECTIVE.search(text)
    return _resolve(m, sent) if m else None

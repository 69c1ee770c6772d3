"""Voicemails and texts that reach the inbox as emails from a phone system: which channel a
message is, who called or texted, and what they said.

Phone systems all tell the same things in their own words: RingCentral, Nextiva, Dialpad,
8x8, Ooma, Vonage, 3CX, Google Voice, Asterisk-style PBXes, Twilio-style SMS relays and
the carriers' email-to-SMS gateways. They are recognised by the shape of the notification (a
subject like "New Voice Message from ...", "SMS from +1...", a transcript section, a sender
made of digits), not by a list of vendors, so the next phone system is known too. Caller
numbers are read with phonenumbers, in any format; the agency's own line, on the "To:" line
of a notification, is never the caller's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from sheets_ops.model import Channel

VOICE = re.compile(
    r"(?i)\b(voice ?mail|voice message|new message \d+ in mailbox|\[pbx\]|missed call with)\b"
)
TEXT = re.compile(r"(?i)\b(text message|sms|mms|multimedia message|new text|texto)\b")
_DIGIT_SENDER = re.compile(r"^\+?\d{10,15}(?:[.\-_]\+?\d{10,15})*(?:[.\-_][\w-]+)?@")
_VOICE_BODY = re.compile(
    r"(?im)^\s*(you have (received )?a new voice ?(mail )?message|new voicemail\b|"
    r"(voicemail )?transcri(ption|pt)\b.*:?\s*$|you were just left a .{0,40}message)"
)
_TEXT_BODY = re.compile(r"(?im)^\s*(you have a new text message|new text message|message:\s*$)")

# Where a notification's own text starts and stops around what the caller said.
_START = re.compile(
    r"(?im)^[ \t]*(?:voicemail |voice mail )?(?:transcri(?:ption|pt)\b[^\n:]*|message)\s*:[ \t]*"
    r"|^[ \t]*transcript[ \t]*$"
)
_RECAP = re.compile(r"(?im)^[ \t]*(ai recap|summary|recap)\s*:?[ \t]*$")
_STOP = re.compile(
    r"(?im)^[ \t]*(?:to listen|listen (?:in|to)|play message|log in|note: this transcription|"
    r"voicemail transcriptions? (?:are|is)|transcription is provided|the voicemail recording|"
    r"thank you for (?:choosing|using)|to respond to this|to reply|reply to this email|"
    r"your account\b|you're receiving this|you received this email|this email was sent|"
    r"--\s*$|-- the .* team|\(c\)|©)"
)
_HEADER_LINE = re.compile(
    r"(?i)^[ \t]*(from|to|received|date|when|date/time|duration|length|caller( name| number)?|"
    r"called number|mailbox|message|subject)\s*:"
)
_CALLER_LINE = re.compile(r"(?im)^[ \t]*(?:from|caller(?: number| id)?|caller)\s*:(.*)$")
_NOT_CALLER = re.compile(r"(?im)^[ \t]*(?:to|called number|mailbox)\s*:.*$")
_WITHHELD = re.compile(r"(?i)\b(unknown|anonymous|restricted|private|withheld|no caller id)\b")
_DURATION = re.compile(
    r"(?i)\b(?:duration|length)\b\s*:?\s*(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\b"
    r"|\b(?:duration|length)\b\s*:?\s*(?:(\d+)\s*min\w*\s*)?(\d+)\s*sec"
    r"|\ba (\d{1,2}):(\d{2}) long message\b"
)
_SPOKEN = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "cero": "0",
    "uno": "1",
    "dos": "2",
    "tres": "3",
    "cuatro": "4",
    "cinco": "5",
    "seis": "6",
    "siete": "7",
    "ocho": "8",
    "nueve": "9",
}
_SPOKEN_RUN = re.compile(r"(?i)\b(?:(?:" + "|".join(_SPOKEN) + r"|\d)\b[\s,-]*){4,}")


@dataclass(frozen=True)
class Call:
    """A voicemail or a text: who, how long, what was said."""

    phone: str  # (555) 555-0100, or ""
    duration: str  # m:ss, or ""
    words: str  # what the caller said (and a phone system's recap of it)


def channel_of(sender: str, subject: str, body: str) -> Channel:
    """Email, or a phone system's voicemail or text notification, by its shape."""
    if TEXT.search(subject):
        return Channel.TEXT
    if VOICE.search(subject):
        return Channel.VOICEMAIL
    head = body[:1500]
    if _DIGIT_SENDER.match(sender):
        return Channel.VOICEMAIL if _VOICE_BODY.search(head) else Channel.TEXT
    if _VOICE_BODY.search(head) and (_DURATION.search(head) or _CALLER_LINE.search(head)):
        return Channel.VOICEMAIL
    if _TEXT_BODY.search(head) and _CALLER_LINE.search(head):
        return Channel.TEXT
    return Channel.EMAIL


def national(number: phonenumbers.PhoneNumber) -> str:
    """(555) 555-0100 for a North American number, the international form otherwise."""
    if number.country_code == 1:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phones_in(text: str) -> list[str]:
    """Every phone number written in the text, in order, as `national` writes it."""
    found = []
    for match in phonenumbers.PhoneNumberMatcher(
        text, "US", leniency=phonenumbers.Leniency.POSSIBLE
    ):
        found.append(national(match.number))
    return found


def phone_key(text: str) -> str:
    """A phone number as its national digits (`5555550100`), or "" when it is not one."""
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return str(number.national_number)


def spoken_digits(text: str) -> str:
    """The text with runs of spoken digits ("four four seven one", "cero uno") written as
    digits, as a transcript of a caller reading out a number says them."""

    def digits(m: re.Match[str]) -> str:
        out = []
        for word in re.findall(r"[A-Za-z]+|\d", m.group(0)):
            out.append(_SPOKEN.get(word.lower(), word))
        return "".join(out) + " "

    return _SPOKEN_RUN.sub(digits, text)


def caller(sender: str, display: str, subject: str, body: str, words: str) -> str:
    """Who called or texted: the number the notification names as the caller (subject, a
    From/Caller line, a sender made of digits), never the agency's own line; when the caller
    ID is withheld, the number the caller says in the message."""
    head = _NOT_CALLER.sub("", body[:1500])
    for where in (subject, *(m.group(1) for m in _CALLER_LINE.finditer(head))):
        if _WITHHELD.search(where) and not re.search(r"\d{3}", where):
            continue
        numbers = phones_in(where)
        if numbers:
            return numbers[0]
    local = sender.split("@", 1)[0]
    parts = [p for p in re.split(r"[.\-_]", local) if p.lstrip("+").isdigit()]
    if parts:  # Google Voice: <agency line>.<sender>.<token>@; a carrier gateway: <sender>@
        number = parts[1] if len(parts) > 1 else parts[0]
        if key := phone_key(number):
            return phone_key_display(key)
    numbers = phones_in(display) or phones_in(spoken_digits(words))
    return numbers[0] if numbers else ""


def phone_key_display(key: str) -> str:
    try:
        return national(phonenumbers.parse(key, "US"))
    except phonenumbers.NumberParseException:
        return key


def duration_of(text: str) -> str:
    m = _DURATION.search(text)
    if not m:
        return ""
    groups = m.groups()
    if groups[2] is not None:
        hours_or_min, minutes, seconds = groups[0], groups[1], groups[2]
        total = int(minutes) * 60 + int(seconds) + (int(hours_or_min) * 3600 if hours_or_min else 0)
    elif groups[4] is not None:
        total = int(groups[3] or 0) * 60 + int(groups[4])
    else:
        total = int(groups[5]) * 60 + int(groups[6])
    return f"{total // 60}:{total % 60:02d}"


def spoken(body: str) -> str:
    """What the caller said, or the text of the text message: the notification's transcript
    or message section (and any recap the phone system adds), without its headers and
    footers. A notification with no such section is read from its first line that is not a
    header, up to its footer."""
    start = _START.search(body)
    text = body[start.end() :] if start else _skip_headers(body)
    stop = _STOP.search(text)
    said = text[: stop.start()] if stop else text
    recap = _RECAP.search(said)
    if recap:  # "Ai Recap": the phone system's summary, after the transcript
        said = said[: recap.start()] + "\n" + said[recap.end() :]
    said = said.strip().strip('"“”').strip()
    return " ".join(said.split())


def _skip_headers(body: str) -> str:
    lines = body.replace("\r\n", "\n").split("\n")
    while lines and (not lines[0].strip() or _HEADER_LINE.match(lines[0])):
        lines.pop(0)
    return "\n".join(lines)

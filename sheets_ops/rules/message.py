"""One message from its bytes: headers, plain text, attachments. Knows nothing of mailboxes.

`parse_message` never crashes on what a sender can put in a message: malformed MIME, unknown
charsets, control characters, huge bodies. It raises MessageError, with a reason a person can
act on, only when the bytes are not an email at all.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime

SUMMARY_CHARS = 200
BODY_CHARS = 20_000  # what intake reads of a body; the rest is left in the mailbox


class MessageError(ValueError):
    """This message cannot become a request; the text says why, for a person."""


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int  # bytes


@dataclass(frozen=True)
class Parsed:
    """What a message says, before anything is decided about it."""

    source: str  # Message-ID, or a hash of the bytes when there is none
    received: datetime  # aware
    sender: str  # the address, lower case
    sender_name: str
    subject: str  # one line, plain
    body: str  # plain text, HTML turned to text, capped at BODY_CHARS
    in_reply_to: tuple[str, ...] = ()  # In-Reply-To and References, oldest first
    auto_reply: str = ""  # why it is an automatic reply, or ""
    bulk: str = ""  # why it is bulk mail, or ""
    attachments: tuple[Attachment, ...] = ()
    html_only: bool = False
    body_cut: int = 0  # characters left out of `body`, when it was cut
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


def plain_text(text: str) -> str:
    """Text with its lines kept but control and format characters gone."""
    return "".join(
        ch
        for ch in text.replace("\r\n", "\n").replace("\r", "\n")
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def message_key(raw: bytes, message_id: str | None) -> str:
    """The Source of a message: its Message-ID, or a hash of its bytes when it has none."""
    if message_id and message_id.strip():
        return plain_line(message_id, 500)
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:32]


_BLOCK = re.compile(r"(?i)<\s*(br|/p|/div|/tr|/li|/h\d)\b[^>]*>")
_TAG = re.compile(r"<[^>]+>")


def html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?is)<blockquote\b.*?</blockquote>", "\n", markup)  # quoted history
    text = html.unescape(_TAG.sub("", _BLOCK.sub("\n", markup)))
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def _content(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, AssertionError, ValueError):  # unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _body(msg: EmailMessage) -> tuple[str, bool]:
    """The readable text of a message and whether it came only as HTML."""
    plain = msg.get_body(preferencelist=("plain",))
    if plain is not None:
        return _content(plain), False
    rich = msg.get_body(preferencelist=("html",))
    if rich is not None:
        return html_to_text(_content(rich)), True
    if not msg.is_multipart() and msg.get_content_maintype() == "text":
        return _content(msg), False
    return "", False


def _attachments(msg: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if name or part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
            found.append(Attachment(plain_line(name or "unnamed", 120), size))
    return tuple(found)


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the parser chokes on is as good as absent
        return ""
    return "" if value is None else str(value)


_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_AUTO_SUBJECT = re.compile(
    r"(?i)^\s*(automatic reply|auto(-| )?reply|autoreply|out of (the )?office|ooo\b|"
    r"undeliverable|delivery status notification|mail delivery (failed|subsystem)|"
    r"returned mail|away from (the )?office|i am out of the office)"
)


def _auto_reply(msg: Message, sender: str, subject: str) -> str:
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        value = _header(msg, name).strip()
        if value and (name != "X-Auto-Response-Suppress" or "all" in value.lower()):
            return f"{name}: {value}"
    if msg.get_content_type() == "multipart/report":
        return "a delivery report"
    local_part = sender.split("@")[0]
    if local_part in ("mailer-daemon", "postmaster"):
        return f"sent by {local_part}"
    if _AUTO_SUBJECT.match(subject):
        return "an automatic reply, by its subject"
    return ""


def _bulk(msg: Message) -> str:
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    for name in ("List-Unsubscribe", "List-Id"):
        if _header(msg, name).strip():
            return f"{name} header"
    return ""


def parse_message(raw: bytes, arrived: datetime | None, now: datetime) -> Parsed:
    """Read one message from its bytes. Raises MessageError with a reason a person can act on
    when the bytes are not a usable email."""
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
    name, sender = parseaddr(_header(msg, "From"))
    sender = plain_line(sender, 320).strip()
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
    if not _header(msg, "Message-ID").strip():
        notes.append("no Message-ID; keyed by its content")
    subject = plain_line(_header(msg, "Subject"), 1000)
    try:
        body, html_only = _body(msg)
        attachments = _attachments(msg)
    except Exception as e:  # malformed MIME deep inside: keep what the headers say
        body, html_only, attachments = "", False, ()
        notes.append(f"body unreadable ({type(e).__name__})")
    if msg.defects:
        notes.append(f"malformed MIME ({type(msg.defects[0]).__name__})")
    body = plain_text(body)
    cut = max(0, len(body) - BODY_CHARS)
    if cut:
        body = body[:BODY_CHARS]
        notes.append(f"body cut at {BODY_CHARS:,} characters ({cut:,} more in the mailbox)")
    references = _MESSAGE_ID.findall(_header(msg, "References"))
    references += _MESSAGE_ID.findall(_header(msg, "In-Reply-To"))
    return Parsed(
        source=message_key(raw, _header(msg, "Message-ID")),
        received=received,
        sender=sender.lower(),
        sender_name=plain_line(name, 120),
        subject=subject,
        body=body,
        in_reply_to=tuple(dict.fromkeys(references)),
        auto_reply=_auto_reply(msg, sender.lower(), subject),
        bulk=_bulk(msg),
        attachments=attachments,
        html_only=html_only,
        body_cut=cut,
        notes=tuple(notes),
    )

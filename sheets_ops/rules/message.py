"""One message from its bytes: headers, plain text, attachments. Knows nothing of mailboxes.

`parse_message` never crashes on what a sender can put in a message: malformed MIME, unknown
charsets, control characters, huge bodies, absurd dates. It raises MessageError, with a reason
a person can act on, when the bytes are not an email at all or are built to exhaust a parser
(a message nested hundreds of levels deep). Its cost is bounded per message: HTML is capped
before it is parsed, and parsed by libxml2 (lxml), in linear time.

A message's key (its Source) is its Message-ID together with a digest of its sender and text,
so that a second message reusing a Message-ID is still a message of its own, while the same
message delivered twice is recognised.
"""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from email.utils import parseaddr, parsedate_to_datetime
from typing import cast

import lxml.etree
import lxml.html

SUMMARY_CHARS = 200
BODY_CHARS = 20_000  # what intake reads of a body; the rest is left in the mailbox
HTML_CHARS = 500_000  # what is parsed of an HTML body: far more than BODY_CHARS of its text
MAX_NESTING = 60  # MIME levels; real mail uses fewer than ten
FUTURE_SLACK = timedelta(days=1)  # a Date later than arrival by more than this is wrong
PAST_SLACK = timedelta(days=30)  # and one earlier than arrival by more than this


class MessageError(ValueError):
    """This message cannot become a request; the text says why, for a person."""


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int  # bytes


@dataclass(frozen=True)
class Parsed:
    """What a message says, before anything is decided about it."""

    source: str  # the message's key: Message-ID and a digest, or a hash of the bytes
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
    message_id: str = ""  # the Message-ID header as written, "" when there is none
    suspicious: str = ""  # why the receiving server distrusts it (spam flag, failed SPF)
    attached: str = ""  # the text of an attached message (a bounce's returned original)


def plain_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """One line of plain text: no control or format characters, whitespace folded, capped."""
    text = text[: limit * 4 + 64]  # what is past this cannot reach the line: not read at all
    if text.isprintable():  # no control or format characters: nothing to take out
        line = " ".join(text.split())
        return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
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


def message_key(raw: bytes, message_id: str | None, sender: str = "", body: str = "") -> str:
    """The Source of a message: its Message-ID with a digest of its sender and text
    (`<id@host> #1a2b3c4d5e6f`), or a hash of its bytes when it has no Message-ID."""
    if message_id and message_id.strip():
        text = f"{sender.strip().lower()}\n{' '.join(body.split())}"
        digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]
        return f"{plain_line(message_id, 480)} #{digest}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:32]


def message_id_of(source: str) -> str:
    """The Message-ID inside a Source (`<id@host>`), or "" for a Source that has none. A
    Source written by an earlier version is the bare Message-ID."""
    source = source.strip()
    if not source.startswith("<"):
        return ""
    return source.split(" #", 1)[0].strip()


_SKIPPED = ("script", "style", "head", "title", "blockquote", "template", "noscript")
_BLOCKS = frozenset(
    (
        *("p", "div", "br", "tr", "li", "table", "ul", "ol", "dl", "dt", "dd", "pre", "hr"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"),
        "address",
    )
)
_TAG = re.compile(r"<[^<>]{0,2000}>")


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body: scripts, styles and quoted history (blockquote)
    left out, a line per block. libxml2 parses in linear time whatever the markup; the
    markup is capped first, so the cost of one message is bounded."""
    markup = markup[:HTML_CHARS]
    try:
        root = lxml.html.document_fromstring(markup.encode("utf-8", "replace"), parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):  # nothing but markup debris
        return "\n".join(" ".join(line.split()) for line in _TAG.sub(" ", markup).splitlines())
    dropped = [*root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction, *_SKIPPED)]
    for element in dropped:
        if element.getparent() is not None:
            cast(lxml.html.HtmlElement, element).drop_tree()  # its tail stays in the text
    out: list[str] = []
    for event, element in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _BLOCKS:
                out.append("\n")
            if element.text and tag:
                out.append(element.text)
        else:
            if tag in _BLOCKS:
                out.append("\n")
            if element.tail:
                out.append(element.tail)
    text = "".join(out)
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip("\n")


_PARSER = lxml.html.HTMLParser(recover=True, encoding="utf-8", no_network=True)
_BOUNDARY = re.compile(rb'(?im)\bboundary\s*=\s*"?([^";\s]{1,200})|^--([^\r\n]{1,200})--[ \t]*\r?$')


def nesting(raw: bytes) -> int:
    """How many MIME levels deep a message goes, from one linear scan of its bytes: each
    declared boundary opens a level until its closing `--boundary--` line."""
    open_: dict[bytes, None] = {}
    deepest = 0
    for m in _BOUNDARY.finditer(raw):
        if m.group(1) is not None:
            open_[m.group(1)] = None
            deepest = max(deepest, len(open_))
        else:
            open_.pop(m.group(2).strip(), None)
    return deepest


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


def _raw(msg: Message, name: str) -> str:
    """A header as it was written, unparsed: for the headers only compared or searched,
    which the email package would otherwise parse at every look."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return str(value)
    return ""


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the parser chokes on is as good as absent
        return ""
    return "" if value is None else str(value)


@functools.lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str) -> str:
    return cast(str, email.policy.default.header_fetch_parse(name, value))  # a header object


class _Policy(EmailPolicy):
    """The default policy, remembering each header it has parsed. The email package parses
    a header again at every look (get_body asks each part's Content-Type many times), which
    was half of what reading a message cost; a parsed header is an immutable string, so one
    parse serves every look and every message with the same line."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name"):
            return value
        return _parsed_header(name, value)


_POLICY = _Policy()
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_AUTO_SUBJECT = re.compile(
    r"(?i)^\s*(automatic reply|auto(-| )?reply|autoreply|out of (the )?office|ooo\b|"
    r"undeliverable|delivery status notification|mail delivery (failed|subsystem)|"
    r"returned mail|away from (the )?office|i am out of the office)"
)


def _auto_reply(msg: Message, sender: str, subject: str) -> str:
    auto = _raw(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        value = _raw(msg, name).strip()
        if value and (name != "X-Auto-Response-Suppress" or "all" in value.lower()):
            return f"{name}: {value}"
    if re.match(r"(?i)\s*multipart/report\b", _raw(msg, "Content-Type")):
        return "a delivery report"
    local_part = sender.split("@")[0]
    if local_part in ("mailer-daemon", "postmaster"):
        return f"sent by {local_part}"
    if _AUTO_SUBJECT.match(subject):
        return "an automatic reply, by its subject"
    return ""


_AUTH_FAIL = re.compile(r"(?i)\b(spf|dmarc|dkim)=(softfail|fail|permerror)\b")


def _suspicious(msg: Message) -> str:
    """Why the agency's mail server distrusts the message: its spam flag, or a failed
    SPF/DKIM/DMARC check written in Authentication-Results."""
    if _raw(msg, "X-Spam-Flag").strip().lower().startswith("yes"):
        return "X-Spam-Flag: YES"
    status = _raw(msg, "X-Spam-Status").strip().lower()
    if status.startswith("yes"):
        return "X-Spam-Status: Yes"
    m = _AUTH_FAIL.search(_raw(msg, "Authentication-Results"))
    if m:
        return f"{m.group(1).upper()} {m.group(2)}"
    return ""


def _attached(msg: EmailMessage) -> str:
    """The subject, recipients and text of messages attached whole (message/rfc822): what a
    bounce returns, what a forward as attachment carries."""
    out = []
    for part in msg.walk():
        if part.get_content_type() != "message/rfc822":
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, EmailMessage):
            continue
        text, _html = _body(inner)
        heads = " ".join(_header(inner, h) for h in ("Subject", "To"))
        out.append(f"{plain_line(heads, 600)}\n{text[:BODY_CHARS]}")
    return "\n".join(out)[:BODY_CHARS]


def _bulk(msg: Message) -> str:
    precedence = _raw(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    for name in ("List-Unsubscribe", "List-Id"):
        if _raw(msg, name).strip():
            return f"{name} header"
    return ""


def _sent_at(msg: Message, arrived: datetime | None, now: datetime, notes: list[str]) -> datetime:
    """When the message was sent: its Date header, when that is readable and plausible.
    A Date more than a day after the message reached the mailbox, or long before it, is a
    sender's clock (or a forger) talking: the arrival time is used, and a note says so."""
    date_text = _raw(msg, "Date")
    arrival = min(arrived, now) if arrived is not None else None
    fallback = arrival or now
    if not date_text:
        notes.append("no Date header; used the time it arrived")
        return fallback
    try:
        sent = parsedate_to_datetime(date_text)
        if sent.tzinfo is None:  # "-0000": the sender's zone is unknown; RFC 5322 says UTC
            sent = sent.replace(tzinfo=UTC)
        sent = sent.astimezone(UTC)  # an offset that leaves the calendar raises here
    except (TypeError, ValueError, IndexError, OverflowError):
        notes.append(f"unreadable Date {plain_line(date_text, 60)!r}; used the time it arrived")
        return fallback
    if arrival is not None and not arrival - PAST_SLACK <= sent <= arrival + FUTURE_SLACK:
        notes.append(
            f"Date header said {sent:%Y-%m-%d %H:%M} UTC, far from when it arrived; "
            "used the time it arrived"
        )
        return arrival
    return sent


def _email_of(raw: bytes) -> EmailMessage:
    """The bytes as an email, or MessageError saying why they are not one."""
    if not raw.strip():
        raise MessageError("the file is empty")
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    if b"\x00" in head:
        raise MessageError("not an email message: binary data in the headers")
    depth = nesting(raw)
    if depth > MAX_NESTING:
        raise MessageError(f"message nested too deeply ({depth} levels)")
    try:
        msg = email.message_from_bytes(raw, policy=_POLICY)
    except RecursionError:
        raise MessageError(f"message nested too deeply (over {depth} levels)") from None
    except Exception as e:
        raise MessageError(f"could not be read as an email: {e}") from e
    assert isinstance(msg, EmailMessage)
    if not msg.keys():
        raise MessageError("no email headers found (is this an email message?)")
    return msg


def _contents(
    msg: EmailMessage, raw: bytes, notes: list[str]
) -> tuple[str, bool, tuple[Attachment, ...], str, int]:
    """The body as plain text (cut to BODY_CHARS), whether it came only as HTML, the
    attachments, the text of attached messages, and how much of the body was cut; what went
    wrong goes in `notes`."""
    try:
        body, html_only = _body(msg)
        lowered = raw.lower()
        named = b"filename" in lowered or b"name=" in lowered or b"attachment" in lowered
        attachments = _attachments(msg) if named else ()
        attached = plain_text(_attached(msg)) if b"message/rfc822" in lowered else ""
    except Exception as e:  # malformed MIME deep inside: keep what the headers say
        body, html_only, attachments, attached = "", False, (), ""
        notes.append(f"body unreadable ({type(e).__name__})")
    if msg.defects:
        notes.append(f"malformed MIME ({type(msg.defects[0]).__name__})")
    body = plain_text(body)
    cut = max(0, len(body) - BODY_CHARS)
    if cut:
        body = body[:BODY_CHARS]
        notes.append(f"body cut at {BODY_CHARS:,} characters ({cut:,} more in the mailbox)")
    return body, html_only, attachments, attached, cut


def parse_message(raw: bytes, arrived: datetime | None, now: datetime) -> Parsed:
    """Read one message from its bytes. Raises MessageError with a reason a person can act on
    when the bytes are not a usable email."""
    msg = _email_of(raw)
    name, sender = parseaddr(_header(msg, "From"))
    sender = plain_line(sender, 320).strip()
    if "@" not in sender:
        raise MessageError("no sender: the From header is missing or has no address")
    notes: list[str] = []
    received = _sent_at(msg, arrived, now, notes)
    message_id = " ".join(_raw(msg, "Message-ID").split())
    if not message_id:
        notes.append("no Message-ID; keyed by its content")
    subject = plain_line(_header(msg, "Subject"), 1000)
    body, html_only, attachments, attached, body_cut = _contents(msg, raw, notes)
    references = _MESSAGE_ID.findall(_raw(msg, "References"))
    references += _MESSAGE_ID.findall(_raw(msg, "In-Reply-To"))
    return Parsed(
        source=message_key(raw, message_id, sender, body),
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
        body_cut=body_cut,
        notes=tuple(notes),
        message_id=plain_line(message_id, 480) if message_id else "",
        suspicious=_suspicious(msg),
        attached=attached,
    )

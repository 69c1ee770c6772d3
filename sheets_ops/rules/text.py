"""The parts of a message's text a person reads differently: the sender's own words, what
they forwarded, the quoted history under a reply, the signature; and within the words, the
sentences that ask for something. Pure functions over strings, English and Spanish alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FORWARD = re.compile(
    r"(?im)^[ \t>]*-{2,}\s*(forwarded message|original message|mensaje reenviado|"
    r"mensaje original)\s*-*\s*$"
    r"|^[ \t]*begin forwarded message:\s*$"
)
_QUOTE_START = re.compile(
    r"(?im)^[ \t]*(on|el)\b[^\n]{0,200}(\n[^\n]{0,200})?\b(wrote|escribió):\s*$"
    r"|^[ \t]*_{8,}\s*$"
    r"|^[ \t]*(from|de):[^\n]*\n[ \t]*(sent|date|enviado|fecha):[^\n]*$"
)
_HEADER_LINE = re.compile(r"(?i)^[ \t]*(from|sent|date|to|cc|subject|de|para|enviado|asunto):")
_SIGN_OFF = re.compile(
    r"(?im)^[ \t]*(thanks|thank you|thanks so much|thanks!|thx|regards|best|best regards|"
    r"kind regards|with regards|sincerely|cheers|fondly|blessings|gracias|muchas gracias|"
    r"saludos|atentamente|merci beaucoup)[ \t]*[,!.]*[ \t]*$"
)
_DEVICE = re.compile(
    r"(?im)^[ \t]*(sent from my|enviado desde mi|get outlook for|obtener outlook para)[^\n]*$"
)
_FORWARD_SUBJECT = re.compile(r"(?i)^\s*(fw|fwd|rv|reenv)\s*:")
_REPLY_SUBJECT = re.compile(r"(?i)^\s*((re|aw|sv|rv)\s*:\s*)+")


@dataclass(frozen=True)
class Text:
    """A message's text by part. `main` is what the sender wrote with what they forwarded
    (a forwarded request is the request); `quoted` is the history under a reply."""

    main: str
    signature: str = ""
    quoted: str = ""
    forwarded: str = ""


def own_words(body: str, subject: str = "") -> Text:
    """Quoted history out (kept apart), forwarded content kept without its header block,
    the signature apart."""
    text, quoted, forwarded = body.replace("\r\n", "\n"), "", ""
    marker = _FORWARD.search(text)
    is_forward = bool(marker and marker.group(1) and "forward" in marker.group(1).lower()) or (
        marker is not None and "reenviado" in marker.group(0).lower()
    )
    if marker and not is_forward and _FORWARD_SUBJECT.match(subject):
        is_forward = True  # Outlook writes "Original Message" above a forward too
    if marker and is_forward:
        before, after = text[: marker.start()], text[marker.end() :]
        forwarded = _drop_header_block(after)
        text = before + "\n" + forwarded
    elif marker:
        text, quoted = text[: marker.start()], text[marker.end() :]
    start = _QUOTE_START.search(text)
    if start and _FORWARD_SUBJECT.match(subject) and not quoted:
        forwarded = _drop_header_block(text[start.start() :])  # an Outlook forward
        text = text[: start.start()] + "\n" + forwarded
    elif start:
        text, quoted = text[: start.start()], text[start.start() :] + quoted
    text = _DEVICE.sub("", text)
    lines: list[str] = []
    kept_quotes: list[str] = []
    for line in text.split("\n"):
        (kept_quotes if line.lstrip().startswith(">") else lines).append(line)
    quoted = "\n".join(ln.lstrip("> ") for ln in kept_quotes) + "\n" + quoted
    text = "\n".join(lines).strip()
    tail = forwarded.strip()
    if tail and text.endswith(tail):  # the signature is the sender's, above what they forwarded
        main, signature = _split_signature(text[: -len(tail)].strip())
        main = f"{main.strip()}\n\n{tail}"
    else:
        main, signature = _split_signature(text)
    return Text(main.strip(), signature.strip(), quoted.strip(), forwarded.strip())


def _drop_header_block(text: str) -> str:
    lines = text.lstrip("\n").split("\n")
    while lines and (_HEADER_LINE.match(lines[0]) or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines)


def _split_signature(text: str) -> tuple[str, str]:
    cut = text.find("\n-- \n")
    if cut >= 0:
        return text[:cut], text[cut + 4 :]
    signs = list(_SIGN_OFF.finditer(text))
    if signs and text[signs[-1].end() :].count("\n") <= 7:
        return text[: signs[-1].start()], text[signs[-1].end() :]
    tail = [part.strip("\n") for part in re.split(r"\n[ \t]*\n", text)]
    short = len(tail) > 1 and len(tail[-1]) < 160 and tail[-1].count("\n") <= 4
    # A last paragraph a colon introduces ("the following:", "Certificate Holder:") is what
    # the message asks about, not who signed it.
    introduced = len(tail) > 1 and (
        tail[-2].rstrip().endswith(":") or tail[-1].split("\n")[0].rstrip().endswith(":")
    )
    if short and not introduced and not re.search(r"[.?!]\s*$", tail[-1].split("\n")[0]):
        return "\n\n".join(tail[:-1]), tail[-1]
    return text, ""


def is_reply(subject: str) -> bool:
    return bool(_REPLY_SUBJECT.match(subject))


def bare_subject(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes."""
    text = subject
    while True:
        stripped = re.sub(r"(?i)^\s*(re|aw|sv|fw|fwd|rv|reenv)\s*:\s*", "", text)
        if stripped == text:
            return text.strip()
        text = stripped


_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'“(¿¡A-ZÁÉÍÓÚÑ0-9])|\n\s*\n|\n(?=\s*[-•*]\s)|\n")


_WRAPPED = re.compile(r"(?<=[^\s.!?:;])[ \t]*\n[ \t]*(?=[a-záéíóúñ(])")


def sentences(text: str) -> list[str]:
    """The text's sentences (and lines: a list item or a short line is a sentence). A line
    that goes on in lower case is the same sentence, hard-wrapped by a mail program."""
    return [s.strip() for s in _SPLIT.split(_WRAPPED.sub(" ", text)) if s and s.strip()]


ASK = re.compile(
    r"(?i)\b(please|pls|plz|kindly|can you|could you|would you|can someone|can we|could we|"
    r"can i|could i|may i|need|needs|needed|want|wants|would like|i'?d like|we'?d like|"
    r"wondering if|is it possible|let me know|send|add|remove|cancel|change|update|"
    r"por favor|favor de|necesito|necesitamos|necesita|quiero|queremos|quisiera|"
    r"me puede|me pueden|puede|pueden|podría|podrían|le pido|me gustaría|lo necesito|"
    r"me lo puedes|ayúdeme|ayudeme)\b|\?|¿"
)
NEGATION = re.compile(
    r"(?i)\b(no|not|never|nobody|no one|none|nothing|without|don'?t|doesn'?t|didn'?t|isn'?t|"
    r"wasn'?t|won'?t|haven'?t|hasn'?t|ningún|ninguna|ninguno|nadie|sin|nunca|nada|tampoco)\b|"
    r"\bn'?t\b"
)


def is_ask(sentence: str) -> bool:
    """Whether a sentence asks for something (a request, or a question)."""
    return bool(ASK.search(sentence))


def negated(sentence: str, start: int, span: int = 32) -> bool:
    """Whether the words just before position `start` negate what follows ("we have not
    had any claims", "nobody is hurt", "sin asegurado adicional")."""
    window = sentence[max(0, start - span) : start]
    window = re.split(r"[,;:.!?]|\b(but|pero|however)\b", window)[-1] or ""
    return bool(NEGATION.search(window))

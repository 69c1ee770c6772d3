"""The day a client asks the agency to act by, in the words people use, English and Spanish.

Dates themselves are read by dateparser (month names in many languages, ordinals, years);
what a library cannot know is ours: which date in a message is the ask ("by Friday", "no
later than 12/11", "before the 15th", "para el viernes", "effective 12/31" on a change or a
cancellation, "within 48 hours"), and which are not (a renewal date, the day of a loss, an
out-of-office return, a carrier's notice, "the 5th of each month"). Relative dates resolve
against the day the message was sent, in the agency's time zone.
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dateparser.date import DateDataParser


_MONTHS_EN = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_MONTHS_ES = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    "noviembre|diciembre|ene|dic"
)
_MONTH = rf"(?:{_MONTHS_EN}|{_MONTHS_ES})\.?"
_WEEKDAYS = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "lunes": 0,
    "martes": 1,
    "miércoles": 2,
    "miercoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sábado": 5,
    "sabado": 5,
    "domingo": 6,
}
_DAY = (
    r"(?:monday|mon|tuesday|tues|tue|wednesday|wed|thursday|thurs|thur|thu|friday|fri|"
    r"saturday|sat|sunday|sun|lunes|martes|mi[ée]rcoles|jueves|viernes|s[áa]bado|domingo)\b"
)
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
}
_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "a": 1,
    "un": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
}

_DATE = re.compile(
    rf"(?ix)"
    rf"(?P<named>\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:de\s+)?{_MONTH}(?:\s+(?:de\s+)?\d{{4}})?\b)"
    rf"|(?P<numeric>\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b)"
    rf"|(?P<weekday>\b(?:(?:next|this|coming|este|esta|el\s+pr[óo]ximo|pr[óo]ximo)\s+)?{_DAY}"
    rf"(?:\s+the\s+(?P<wday_ord>\d{{1,2}}|\w+?)(?:st|nd|rd|th)?\b)?)"
    rf"|(?P<ordinal>\bthe\s+(?:\d{{1,2}}(?:st|nd|rd|th)|{'|'.join(_ORDINALS)})\b"
    rf"|\bel\s+(?:d[íi]a\s+)?\d{{1,2}}\b(?!\s*(?:de\s+)?(?:{_MONTH}|:))"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)\b)"
    rf"|(?P<relative>\b(?:today|tonight|tomorrow|tmrw|tmr|hoy|ma[ñn]ana|pasado\s+ma[ñn]ana|"
    rf"end\s+of\s+(?:the\s+)?week|this\s+week|end\s+of\s+(?:the\s+)?month|"
    rf"a\s+week\s+from\s+(?:today|now)|in\s+a\s+week|next\s+week|"
    rf"fin\s+de\s+(?:la\s+)?semana|esta\s+semana)\b)"
    rf"|(?P<month>\b(?:{_MONTHS_EN}|{_MONTHS_ES})\b)"
)
_TRIGGER = re.compile(
    r"(?ix)\b(?:by|before|no\ later\ than|not\ later\ than|prior\ to|deadline|"
    r"due\ (?:on|by)|is\ due|needed(?:\ by|\ on)?|in\ hand\ by|turned\ around\ by|"
    r"need\ (?:it|this|them|these|one|both|that|the\ cert\w*)\ (?:by|on|before)|"
    r"eod|cob|end\ of\ (?:the\ )?day|antes\ (?:del?|de\ que)|a\ m[áa]s\ tardar|"
    r"fecha\ l[íi]mite|el\ deadline)\b"
)
# Words that time an ask only in a sentence that asks ("first thing tomorrow", "para el").
_WEAK_TRIGGER = re.compile(
    r"(?i)\b(?:first\s+thing|until|till|para(?:\s+el|\s+la)?|lo\s+necesito)\b"
)
_AFTER_TRIGGER = re.compile(
    r"(?i)^\W{0,3}(?:(?:is|would\s+be|es)\s+)?(?:the\s+|el\s+)?"
    r"(at\s+the\s+(?:very\s+)?latest|latest|deadline|cutoff|cut-off|a\s+m[áa]s\s+tardar|"
    r"[úu]ltimo\s+d[íi]a|fecha\s+l[íi]mite)\b"
)
_EFFECTIVE = re.compile(
    r"(?i)\b(effective(?:\s+date)?|as\s+of|a\s+partir\s+(?:del?|de)|starting|beginning|"
    r"desde|take\s+(?:it|them|him|her)\s+off(?:\s+from)?|on\s+the\s+policy\s+by)\b"
)
# What a change or a cancellation is timed to, when no effective date is written.
_EVENT = re.compile(
    r"(?i)\b(closing\s+(?:is|on|will\s+be)|(?:take|taking)\s+delivery|pick\s+(?:it|them)\s+up|"
    r"el\s+cierre\s+es|moving\s+in|moves?\s+in|mobilize|starts?|start\s+date|"
    r"fecha\s+de\s+inicio|sold\s+it)\b"
)
# The sender telling what they will do ("I'll get it back to you this week") sets no deadline.
_PROMISE = re.compile(
    r"(?i)\b(i'?ll|i\s+will|we'?ll|we\s+will|i'?m\s+going\s+to|we'?re\s+going\s+to|"
    r"voy\s+a|vamos\s+a|le\s+mando|te\s+mando)\b"
)
_PLEASE = re.compile(r"(?i)\b(please|pls|need|can\s+you|could\s+you|por\s+favor|necesito)\b")
# A renewal or expiration date, right beside the date: never what the client asks for.
_RENEWAL_NEAR = re.compile(r"(?i)\b(renew\w*|renovaci[óo]n|renueva|expir\w*|vence|lapses?)\b")
_RECURRING = re.compile(
    r"(?i)^\s*(?:of|de)\s+(?:each|every|cada)\s+(?:month|mes)\b|^\s*de\s+cada\b"
)
_WITHIN = re.compile(
    r"(?i)\bwithin\s+(\d{1,3}|one|two|three|four|five|a|dos|tres)\s+"
    r"(?:business\s+|working\s+)?(hours?|days?|d[íi]as?|horas?)\b|\ben\s+(\d{1,2})\s+d[íi]as\b"
)
_EOD_ALONE = re.compile(r"(?i)\b(?:by\s+)?(?:eod|cob|end of (?:the )?day)\b(?!\s+\w)")
_NOT_ASK = re.compile(
    r"(?ix)\b(renew|renews|renewal|renewed|renovaci[óo]n|renueva|expires?|expiration|expiring|"
    r"vence|each\ month|every\ month|a\ month|monthly|cada\ mes|de\ cada|per\ month|"
    r"notice|letter|aviso|carta|says|dice|states|bill\ says|"
    r"out\ of\ (?:the\ )?office|return(?:ing)?\ on|back\ in\ the\ office|i\ will\ respond|"
    r"storm|happened|occurred|date\ of\ loss|last\ (?:night|week|month)|ago|ayer|anoche|"
    r"back\ in|since|started\ on|was\ on|were\ on|yesterday|this\ morning)\b"
)
_PAST = re.compile(
    r"(?i)\b(sold|bought|was|were|happened|occurred|last|ago|yesterday|ayer|vend[íi]|"
    r"compr[ée]|pas[óo]|took|received|got|went)\b"
)
_NEED = re.compile(
    r"(?i)\b(need|needs|needed|send|get|require|required|must|please|pls|asap|want|wants|"
    r"would|could|can|work|necesito|necesita|por favor|puede|quiero)\b|\?|¿"
)


@functools.cache
def _parser() -> DateDataParser:
    """dateparser's reader for the month names of English and Spanish, made at its first use
    (dateparser takes about 0.05 s to import, and a cycle without mail reads no dates)."""
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=["en", "es"],
        settings={
            "PREFER_DAY_OF_MONTH": "first",
            "DATE_ORDER": "MDY",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )


@dataclass(frozen=True)
class When:
    """A date the text gives, and what it is to the request."""

    day: date
    role: str  # "ask" (by, before...), "effective", "bare" (in a sentence that asks)
    at: int


@functools.lru_cache(maxsize=4096)
def _named(text: str, sent: date) -> date | None:
    """A written date with a month name, any language dateparser knows; without a year,
    the next such date (a week back still counts)."""
    found = _parser().get_date_data(text).date_obj
    if found is None:
        return None
    day = found.date()
    if not re.search(r"\d{4}", text):
        day = _this_or_next_year(day.month, day.day, sent)
    return day


def _this_or_next_year(month: int, day: int, sent: date) -> date:
    try:
        found = date(sent.year, month, day)
    except ValueError:
        return sent
    if found < sent - timedelta(days=7):
        with contextlib.suppress(ValueError):  # 29 February
            found = found.replace(year=sent.year + 1)
    return found


def _day_of_month(n: int, sent: date) -> date | None:
    for months_ahead in range(3):
        year, month = (
            sent.year + (sent.month - 1 + months_ahead) // 12,
            (sent.month - 1 + months_ahead) % 12 + 1,
        )
        try:
            candidate = date(year, month, n)
        except ValueError:
            continue
        if candidate >= sent:
            return candidate
    return None


def _weekday(text: str, sent: date, past: bool) -> date:
    """A weekday: the next one (today counts), the previous one when the sentence tells of
    the past ("sold it Saturday"), the one of the week after for "next"."""
    words = text.lower().split()
    name = words[-1]
    target = _WEEKDAYS.get(name, _WEEKDAYS.get(name[:3], 0))
    if past:
        return sent - timedelta(days=(sent.weekday() - target) % 7 or 7)
    ahead = (target - sent.weekday()) % 7
    if words[0] == "next":
        ahead = target - sent.weekday() + 7
    return sent + timedelta(days=ahead)


def resolve(m: re.Match[str], sent: date, past: bool = False) -> date | None:
    """The day a date expression names, read on the day the message was sent."""
    if text := m.group("named"):
        return _named(" ".join(text.lower().split()), sent)
    if text := m.group("numeric"):
        if "-" in text:
            try:
                return date.fromisoformat(text)
            except ValueError:
                return None
        parts = [int(p) for p in text.split("/")]
        if len(parts) == 3:
            year = parts[2] + 2000 if parts[2] < 100 else parts[2]
            try:
                return date(year, parts[0], parts[1])
            except ValueError:
                return None
        try:
            return _this_or_next_year(parts[0], parts[1], sent) if 1 <= parts[0] <= 12 else None
        except ValueError:
            return None
    if text := m.group("weekday"):
        ordinal = m.group("wday_ord")
        if ordinal:  # "Wednesday the 16th": the date decides
            n = int(ordinal) if ordinal.isdigit() else _ORDINALS.get(ordinal.lower())
            if n:
                return _day_of_month(n, sent)
        return _weekday(text.split(" the ")[0], sent, past)
    if text := m.group("ordinal"):
        words = re.findall(r"[a-záéíóú]+|\d+", text.lower())
        number = next((w for w in reversed(words) if w.isdigit() or w in _ORDINALS), "")
        n = int(number) if number.isdigit() else _ORDINALS.get(number, 0)
        return _day_of_month(n, sent) if 1 <= n <= 31 else None
    if text := m.group("relative"):
        return _relative(" ".join(text.lower().split()), sent)
    return None


def _relative(text: str, sent: date) -> date | None:
    if text in ("today", "tonight", "hoy"):
        return sent
    if text in ("tomorrow", "tmrw", "tmr", "mañana", "manana"):
        return sent + timedelta(days=1)
    if text.startswith("pasado"):
        return sent + timedelta(days=2)
    if "week from" in text or text in ("in a week", "next week"):
        return sent + timedelta(days=7)
    if "week" in text or "semana" in text:
        return sent + timedelta(days=(4 - sent.weekday()) % 7)
    if "month" in text:
        following = date(sent.year + sent.month // 12, sent.month % 12 + 1, 1)
        return following - timedelta(days=1)
    return None


def _month_before(text: str, sent: date) -> date | None:
    """ "before January": the last day of the month before it."""
    first = _named(f"1 {text}", sent)
    return first - timedelta(days=1) if first else None


def dates_in(sentence: str, sent: date, offset: int = 0) -> list[When]:
    """Every date of one sentence, with what it is to the request: "ask" (by, before...),
    "effective" (effective, a partir del...), "event" (the closing, a delivery), "bare" (in a
    sentence that asks)."""
    out: list[When] = []
    past = bool(_PAST.search(sentence))
    excluded = bool(_NOT_ASK.search(sentence))
    asking = bool(_NEED.search(sentence))
    matches = list(_DATE.finditer(sentence))
    for n, m in enumerate(matches):
        before = sentence[max(0, m.start() - 48) : m.start()]
        after = sentence[m.end() : m.end() + 24]
        following = matches[n + 1] if n + 1 < len(matches) else None
        dated = following is not None and bool(
            following.group("numeric") or following.group("named")
        )
        if m.group("weekday") and dated and following and following.start() - m.end() <= 4:
            continue  # "Thursday 12/10": the date decides
        if _RECURRING.match(after):
            continue  # "the 5th of each month" is a due day, not a deadline
        if _RENEWAL_NEAR.search(before[-28:]) or _RENEWAL_NEAR.search(after[:14]):
            continue  # "renewal on 2/1", "renews 1/1"
        if _PROMISE.search(before[-50:]) and not _PLEASE.search(before[-50:]):
            continue  # "I'll get it back to you this week": the sender's promise
        strong = _near(before, _TRIGGER) or bool(_AFTER_TRIGGER.match(after))
        trigger = strong or (asking and not excluded and _near(before, _WEAK_TRIGGER))
        if m.group("month"):
            wanted = re.search(r"(?i)\b(before|antes\s+de)\s*$", before)
            day = _month_before(m.group("month"), sent) if wanted else None
            if day is not None:
                out.append(When(day, "ask", offset + m.start()))
            continue
        day = resolve(m, sent, past=past and not trigger)
        if day is None:
            continue
        if strong or trigger:
            role = "ask"
        elif _near(before, _EFFECTIVE):
            role = "effective"
        elif _near(before, _EVENT):
            role = "event"
        elif asking and not excluded:
            role = "bare"
        else:
            role = "told"  # a date the text tells of: what "effective that date" points to
        out.append(When(day, role, offset + m.start()))
    for m in _WITHIN.finditer(sentence):
        count = m.group(1) or m.group(3) or "1"
        number = int(count) if count.isdigit() else _NUMBERS.get(count.lower(), 1)
        unit = (m.group(2) or "days").lower()
        days = -(-number // 24) if unit.startswith(("hour", "hora")) else number
        out.append(When(sent + timedelta(days=days), "ask", offset + m.start()))
    if not out and _EOD_ALONE.search(sentence):
        out.append(When(sent, "ask", offset + sentence.lower().find("e")))
    return out


def _near(before: str, pattern: re.Pattern[str]) -> bool:
    """Whether `pattern` ends within a few words of the date that follows `before`."""
    found = list(pattern.finditer(before))
    last = found[-1] if found else None
    if last is None:
        return False
    gap = before[last.end() :]
    return len(gap.split()) <= 6 and not re.search(r"[.;!?]", gap)


def timeline(sentences: list[str], sent: date) -> list[When]:
    """Every date of the sentences, in order, with what it is to the request; "by then" and
    "effective that date" take the date told just before them."""
    found: list[When] = []
    for n, sentence in enumerate(sentences):
        found += dates_in(sentence, sent, n * 10_000)
        then = re.search(
            r"(?i)\b(?:by|before|until)\s+then\b|\bpara\s+entonces\b|"
            r"\b(?P<effective>effective\s+(?:that|the\s+same)\s+(?:date|day))\b",
            sentence,
        )
        if then and found:
            role = "effective" if then.group("effective") else "ask"
            found.append(When(found[-1].day, role, n * 10_000 + 9_999))
    return found


def deadline(sentences: list[str], sent: date, kind: str) -> date | None:
    """The date the client asked for: the first "by"/"before" date; else, for a change or a
    cancellation, its effective date; else a date in a sentence that asks. None when the
    message names none (ASAP included)."""
    return deadline_of(timeline(sentences, sent), sent, kind)


def deadline_of(found: list[When], sent: date, kind: str) -> date | None:
    """The deadline among the dates of `timeline` (see `deadline`)."""
    when = deadline_when(found, sent, kind)
    return when.day if when else None


def deadline_when(found: list[When], sent: date, kind: str) -> When | None:
    """The date of `found` that is the deadline, with its role: "ask" is what the sender
    asked for in words ("by", "before", "within"); any other role is read from context."""
    asks = [w for w in found if w.role == "ask" and w.day >= sent - timedelta(days=1)]
    if asks:
        return asks[0]
    if kind in ("Endorsement", "Cancellation"):  # a change takes its effective date
        for role in ("effective", "event"):
            timed = [w for w in found if w.role == role]
            if timed:
                return timed[0]
    bare = [w for w in found if w.role == "bare" and w.day >= sent]  # "told" never counts
    if kind != "Claim" and bare:
        return bare[0]
    return None


def effective_of(found: list[When]) -> date | None:
    """The date a change takes effect ("effective 12/1")."""
    return next((w.day for w in found if w.role == "effective"), None)

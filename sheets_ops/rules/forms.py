"""Google Form responses: a tab named like `Form Responses 1`, each row one Form request.

The Settings key "Form Columns" maps the form's questions to Requests columns
(`Question=Column; ...`). A row is identified by its tab, timestamp and respondent, so it is
captured once even if people sort the tab; what no question maps to is still read, as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sheets_ops.model import REQUESTS, CellValue, Channel, RequestType, is_blank
from sheets_ops.rules.clients import as_written_in_accounts
from sheets_ops.rules.dates import deadline
from sheets_ops.rules.directory import Directory
from sheets_ops.rules.message import Parsed, plain_line
from sheets_ops.rules.threads import Threads
from sheets_ops.rules.understand import Understanding, missing_for, understand
from sheets_ops.sheet import Snapshot, Tab, normalize_header

PREFIX = "form responses"
_STAMP_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
)
SERIAL_EPOCH = datetime(1899, 12, 30)


def form_tabs(snapshot: Snapshot) -> list[Tab]:
    return [t for t in snapshot.tabs.values() if normalize_header(t.title).startswith(PREFIX)]


def column_map(setting: str) -> dict[str, str]:
    """`Question=Column; ...` as {normalized question: Requests column}; unknown columns out."""
    columns = {normalize_header(h): h for h in REQUESTS.headers}
    out = {}
    for pair in re.split(r"[;\n]", setting):
        question, _, column = pair.partition("=")
        target = columns.get(normalize_header(column))
        if question.strip() and target:
            out[normalize_header(question)] = target
    return out


def to_moment(value: CellValue, zone: ZoneInfo) -> datetime | None:
    """A form timestamp as an aware datetime: a date cell, a date serial, or text."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, int | float) and not isinstance(value, bool):
        from datetime import timedelta

        return (SERIAL_EPOCH + timedelta(seconds=round(float(value) * 86_400))).replace(tzinfo=zone)
    if isinstance(value, str):
        for fmt in _STAMP_FORMATS:
            try:
                return datetime.strptime(value.strip(), fmt).replace(tzinfo=zone)
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class FormEntry:
    source: str
    received: datetime | None  # aware, when the row has a readable timestamp
    fields: dict[str, CellValue]  # Requests column -> answer
    text: str  # every answer, "Question: answer" per line
    row: int


def entries(tab: Tab, mapping: dict[str, str], zone: ZoneInfo) -> list[FormEntry]:
    found = []
    for index, values in enumerate(tab.rows):
        if all(is_blank(v) for v in values):
            continue
        row = index + 2
        fields: dict[str, CellValue] = {}
        lines = []
        for question, answer in zip(tab.header, values, strict=False):
            if is_blank(answer) or not question:
                continue
            target = mapping.get(normalize_header(question))
            if target and target not in fields:
                fields[target] = answer
            shown = answer.isoformat() if isinstance(answer, date) else str(answer)
            lines.append(f"{question}: {shown}")
        received = to_moment(fields.pop("Received", None), zone)
        who = str(fields.get("From") or "").strip().lower()
        stamp = received.isoformat() if received else f"row {row}"
        source = plain_line(f"form:{tab.title}:{stamp}:{who}", 500)
        found.append(FormEntry(source, received, fields, "\n".join(lines), row))
    return found


def understood(
    entry: FormEntry, directory: Directory, threads: Threads, zone: ZoneInfo, now: datetime
) -> tuple[Understanding, datetime]:
    """What intake makes of one form response, and when it came: the answers mapped to
    columns win over what the text suggests."""
    received = entry.received or now
    sender = str(entry.fields.get("From") or "").strip()
    summary = str(entry.fields.get("Summary") or "")
    parsed = Parsed(
        source=entry.source,
        received=received,
        sender=sender.lower(),
        sender_name="",
        subject=plain_line(summary),
        body=entry.text,
    )
    u = understand(parsed, directory, threads, zone)
    changes: dict[str, object] = {"channel": Channel.FORM, "thread_of": "", "ignore": ""}
    client = str(entry.fields.get("Client") or "").strip()
    if client and not u.client:
        changes["client"] = client
    policy = str(entry.fields.get("Policy #") or "").strip()
    if policy:
        changes["policy"] = as_written_in_accounts(policy, directory)
    kind = str(entry.fields.get("Type") or "").strip()
    if kind in {t.value for t in RequestType}:
        changes["type"] = kind
    holder = str(entry.fields.get("Certificate Holder") or "").strip()
    if holder:
        changes["holder"] = holder
    answer = entry.fields.get("Client Deadline")
    if isinstance(answer, date) or (isinstance(answer, str) and answer.strip()):
        changes["deadline"] = _deadline(answer, received.astimezone(zone).date())
    if not summary:
        changes["summary"] = plain_line(" ".join(entry.text.split()[:20])) or "(form response)"
    changes["sender"] = sender or "Form"
    u = replace(u, **changes)  # type: ignore[arg-type]
    return replace(u, missing=missing_for(u, directory)), received


def _deadline(answer: CellValue, today: date) -> date | None:
    """The Client Deadline answer as a day: a date cell, or words like "Friday" (None when
    the words name no day: the answer, not the text, says the deadline)."""
    if isinstance(answer, datetime):
        return answer.date()
    if isinstance(answer, date):
        return answer
    if isinstance(answer, str) and answer.strip():
        return deadline([f"by {answer}"], today, "COI")
    return None

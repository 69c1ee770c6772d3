"""The emails a cycle sends, built from the tracker: escalation digests, the owner's daily
summary, carrier reminders and client info requests. Pure apart from rendering templates.

Each email has an idempotency key that depends only on what it is for (a digest slot and a
recipient, a request), and a Log row that records it; the cycle writes the record before the
outbox sends. Digests go out at the Settings times on business days, one per recipient, and
hold what the Log recorded since the previous digest: every escalation is mailed once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from sheets_ops.model import (
    BY_JOB,
    LOG,
    RENEWALS,
    CellValue,
    RenewalException,
    Role,
    Stage,
    Status,
)
from sheets_ops.reports.emails import Rendered, environment, render, template_folders
from sheets_ops.rules.clock import Calendar
from sheets_ops.rules.history import CARRIER_CHASE, CLOSED, ESCALATED, STEPS_MISSING
from sheets_ops.rules.intake import InfoRequest
from sheets_ops.rules.message import plain_line
from sheets_ops.rules.renewals import RENEWAL_EXCEPTION, RENEWAL_REMINDER, RenewalReminder
from sheets_ops.rules.steps import Escalation
from sheets_ops.rules.team import Member, team_from
from sheets_ops.rules.threads import INFO_REQUESTED
from sheets_ops.sheet import NewRow, Snapshot, Tab, TrackerError, cell_text

DIGEST_SENT, SUMMARY_SENT, WEEKLY_SENT, EMAIL_SENT, EMAIL_FAILED = (
    "Digest sent",
    "Summary sent",
    "Weekly report sent",
    "Email sent",
    "Email failed",
)
WEEKLY_CATCH_UP = timedelta(days=2)
DIGEST_CAP = 20  # items a digest lists per reason, most urgent first; then "and N more"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GROUPS = (  # the order a digest shows them in
    "Overdue",
    "Client followed up",
    "Deadline approaching",
    "Untouched",
    "Carrier to chase",
    "Set back: steps not ticked",
    "Renewals at risk",
    "Emails that failed",
)
Link = Callable[[int], str]


@dataclass(frozen=True)
class Outgoing:
    """One email. `proof` is the Log line (What, Request, Old) that records it in the tracker:
    the cycle writes that line before the email may go, and a stopped run is settled by
    looking for it. `record` is that line when this email brings it (several emails may share
    one, as a digest slot's do)."""

    key: str
    kind: str
    message: EmailMessage
    proof: tuple[str, str, str]
    record: NewRow | None = None  # the Log row that records it, written before it is sent


@dataclass
class Item:
    request_id: str
    group: str
    reason: str
    level: str
    client: str = ""
    type: str = ""
    owner: str = ""
    age: str = ""
    due: str = ""
    summary: str = ""
    link: str = ""


DIGESTED = (ESCALATED, CARRIER_CHASE, STEPS_MISSING, RENEWAL_EXCEPTION)  # what a digest holds


def _digest_log(log: Tab | None) -> tuple[list[datetime], list[tuple[datetime, str, str, str]]]:
    """The Log as a digest reads it, in one pass over the columns it needs: when each
    digest went out, and (when, what, request, new) of the lines a digest can hold."""
    read = log.picked("When", "Request", "What", "Old", "New") if log is not None else None
    sent, lines = [], []
    for logged, rid, what_cell, old, new in read or ():
        what = cell_text(what_cell)
        if what == DIGEST_SENT:
            if when := _when(cell_text(old)):
                sent.append(when)
        elif what.startswith(DIGESTED) and isinstance(logged, datetime):
            lines.append((logged, what, cell_text(rid), cell_text(new)))
    return sorted(sent), lines


@dataclass
class Mailer:
    """What every email needs: the team, the sender, the clock."""

    snapshot: Snapshot
    settings: Mapping[str, str]  # by normalized key
    calendar: Calendar
    now: datetime  # agency wall clock
    sender: str
    link: Link = lambda _row: ""
    team: list[Member] = field(default_factory=list)
    renewals: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Policy #
    # The tracker with the archive outside it, for figures reaching back to a moment.
    history: Callable[[datetime], Snapshot] | None = None

    def reaching(self, since: datetime) -> Snapshot:
        """What a report over a period from `since` reads: the archive too, when it has
        requests that recent."""
        return self.history(since) if self.history is not None else self.snapshot

    def __post_init__(self) -> None:
        self.team = team_from(self.snapshot)
        tab = self.snapshot.tab(RENEWALS.name)
        if tab is not None:
            for _row, rec in tab.records():
                if cell_text(rec.get("policy #")):
                    self.renewals[cell_text(rec.get("policy #"))] = rec
        own = self.settings.get("template folder", "").strip()
        folders = template_folders()
        if own:
            if not Path(own).expanduser().is_dir():
                raise TrackerError(
                    f'Settings tab: Template Folder "{own}" is not a folder on this machine; '
                    "fix the path or clear the cell to use the built-in templates"
                )
            folders = [Path(own).expanduser(), *folders]
        self.templates = environment(folders)

    def render(self, kind: str, context: Mapping[str, Any]) -> Rendered:
        """The agency's own template for `kind` when its folder has one, else the built-in."""
        return render(kind, context, self.templates)

    def email_of(self, name: str) -> str:
        if "@" in name:
            return name.strip().lower()
        for m in self.team:
            if m.name.lower() == name.strip().lower():
                return m.email
        return ""

    def role(self, role: Role) -> list[Member]:
        return [m for m in self.team if m.role.lower() == role.value.lower() and m.email]

    def message(self, to: str, rendered: Rendered, key: str, in_reply_to: str = "") -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = rendered.subject
        msg["Date"] = format_datetime(self.now.replace(tzinfo=self.calendar.zone))
        msg["Message-ID"] = make_msgid(idstring=key, domain="sheets-ops")
        if in_reply_to:
            msg["In-Reply-To"] = in_reply_to
            msg["References"] = in_reply_to
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Sheets-Ops-Key"] = key
        msg.set_content(rendered.text)
        msg.add_alternative(rendered.html, subtype="html")
        return msg

    def log(self, what: str, old: str, new: str, request: str = "") -> NewRow:
        cells: dict[str, CellValue] = {
            "When": self.now,
            "Request": request or None,
            "What": what,
            "Old": old,
            "New": new,
            "By": BY_JOB,
        }
        return NewRow(LOG.name, cells)

    # client emails -----------------------------------------------------------------------

    def client_to(self, address: str) -> tuple[str, str]:
        """(To, note): the client, or, while the agency pilots, its Owner instead."""
        if self.settings.get("client emails", "pilot").strip().lower() in ("on", "yes", "live"):
            return address, ""
        owners = [m.email for m in self.role(Role.OWNER)]
        return ", ".join(owners) or address, f"Pilot: this would have gone to {address}"

    def info_request(self, ask: InfoRequest) -> Outgoing:
        to, pilot = self.client_to(ask.to)
        kind = "certificate request" if ask.type == "COI" else f"{ask.type.lower()} request"
        rendered = self.render(
            "info_request",
            {
                "request_id": ask.request_id,
                "client": ask.client,
                "summary": ask.summary,
                "missing": ask.missing,
                "kind": kind,
                "pilot": pilot,
            },
        )
        message = self.message(to, rendered, ask.key, ask.in_reply_to)
        message.replace_header("Message-ID", ask.message_id)
        proof = (INFO_REQUESTED, ask.request_id, ask.message_id)
        return Outgoing(ask.key, "info request", message, proof)

    # reminders to the team ---------------------------------------------------------------

    def carrier_reminder(
        self, escalation: Escalation, rows: Mapping[str, dict[str, Any]]
    ) -> Outgoing | None:
        follow = re.search(r"\d{4}-\d{2}-\d{2}", escalation.reason)
        emails = [e for e in escalation.emails if e]
        if not emails:
            return None
        day = follow.group(0) if follow else self.now.date().isoformat()
        key = f"chase-{escalation.request_id}-{day}"
        item = self.item(escalation.request_id, "Carrier to chase", escalation.reason, "", rows)
        rendered = self.render(
            "carrier_reminder", {"item": item, "owner": ", ".join(escalation.to)}
        )
        message = self.message(", ".join(emails), rendered, key)
        return Outgoing(
            key, "carrier reminder", message, (CARRIER_CHASE, escalation.request_id, day)
        )

    def item(
        self, rid: str, group: str, reason: str, level: str, rows: Mapping[str, dict[str, Any]]
    ) -> Item:
        if rid not in rows and rid in self.renewals:  # a renewal, known by its policy number
            r = self.renewals[rid]
            expires = r.get("expiration")
            return Item(
                rid,
                group,
                reason,
                level,
                client=cell_text(r.get("client")) or "no client",
                type=f"Renewal {cell_text(r.get('line'))}".strip(),
                owner=cell_text(r.get("owner")) or "nobody",
                due=f"expires {expires:%m/%d}" if isinstance(expires, date) else "",
                summary=f"{cell_text(r.get('stage'))}: {cell_text(r.get('next step'))}",
            )
        rec = rows.get(rid, {})
        row = rec.get("_row", 0)
        due = rec.get("due")
        return Item(
            rid,
            group,
            reason,
            level,
            client=cell_text(rec.get("client")) or "no client",
            type=cell_text(rec.get("type")),
            owner=cell_text(rec.get("owner")) or "nobody",
            age=f"{float(rec['age (h)']):.0f} h"
            if isinstance(rec.get("age (h)"), int | float)
            else "",
            due=due.strftime("%a %m/%d %H:%M") if isinstance(due, datetime) else cell_text(due),
            summary=plain_line(cell_text(rec.get("summary")), 90),
            link=self.link(row) if row else "",
        )

    # digests -----------------------------------------------------------------------------

    def slot(self, times_setting: str) -> datetime | None:
        """The latest digest time at or before now on a business day (within a week)."""
        times = sorted(clock_times(times_setting))
        if not times:
            return None
        day = self.now.date()
        for _ in range(8):
            if self.calendar.is_business_day(day):
                for t in reversed(times):
                    moment = datetime.combine(day, t)
                    if moment <= self.now:
                        return moment
            day -= timedelta(days=1)
        return None

    def digests(
        self,
        rows: Mapping[str, dict[str, Any]],
        log: Tab | None,
        failures: Sequence[tuple[str, str, str]] = (),
        until: datetime | None = None,
    ) -> list[Outgoing]:
        """One digest per recipient for the latest due slot, unless it went out already.
        It holds what the Log recorded after the previous digest, up to the slot (or `until`,
        for a preview)."""
        slot = self.slot(self.settings.get("digest times", ""))
        if slot is None:
            return []
        stamp = f"{slot:%Y-%m-%d %H:%M}"
        sent, lines = _digest_log(log)
        if stamp in {f"{s:%Y-%m-%d %H:%M}" for s in sent}:
            return []  # went out already
        since = max([s for s in sent if s < slot], default=slot - timedelta(days=7))
        by_person: dict[str, dict[tuple[str, str], Item]] = {}
        for logged, what, rid, new in lines:
            if not since < logged <= (until or slot):
                continue
            if self._fixed(what, rid, new, logged, rows):
                continue
            for name, item in self._digest_items(what, rid, new, rows):  # one per reason
                by_person.setdefault(name, {})[(item.group, item.request_id)] = item
        for key, to, why in failures:  # emails that could not be sent, for the owners
            for m in self.role(Role.OWNER) + self.role(Role.OPS_MANAGER):
                failed = Item("", "Emails that failed", f"{key} to {to}: {why}", "")
                by_person.setdefault(m.name, {})[(failed.group, key)] = failed
        out = []
        names = sorted(by_person)
        for name in names:
            email = self.email_of(name)
            if not email:
                continue
            items = list(by_person[name].values())
            groups = _capped(items, rows)
            rendered = self.render(
                "digest",
                {
                    "name": name,
                    "slot": slot,
                    "groups": groups,
                    "count": len(items),
                    "top": groups[0][0] if groups else "",
                },
            )
            key = f"digest-{slot:%Y%m%d-%H%M}-{email}"
            proof = (DIGEST_SENT, "", stamp)
            out.append(Outgoing(key, "digest", self.message(email, rendered, key), proof))
        if out:
            out[0] = replace(out[0], record=self.log(DIGEST_SENT, stamp, f"to {', '.join(names)}"))
        return out

    def _fixed(
        self, what: str, rid: str, new: str, logged: datetime, rows: Mapping[str, dict[str, Any]]
    ) -> bool:
        """Whether what a Log line asked for was seen to before the digest: the request is
        closed or archived; touched since it escalated for being untouched or followed up;
        no longer overdue; no longer waiting on the carrier; a renewal done or lost."""
        if rid in self.renewals and rid not in rows:
            renewal = self.renewals[rid]
            return cell_text(renewal.get("stage")) == Stage.DONE.value or (
                cell_text(renewal.get("exception")) == RenewalException.LOST.value
            )
        if not rid or what == RENEWAL_EXCEPTION:
            return False
        row = rows.get(rid)
        if row is None or cell_text(row.get("status")) in CLOSED:
            return True
        if what.startswith(ESCALATED):
            reason = new.partition(" → ")[0]
            group, touched = _group(reason), row.get("last touched")
            if reason.lower().startswith("overdue"):
                return cell_text(row.get("sla")) != "Overdue"
            return (
                group in ("Untouched", "Client followed up")
                and isinstance(touched, datetime)
                and touched > logged
            )
        return what == CARRIER_CHASE and cell_text(row.get("status")) != (
            Status.WAITING_ON_CARRIER.value
        )

    def _digest_items(
        self, what: str, rid: str, new: str, rows: Mapping[str, dict[str, Any]]
    ) -> list[tuple[str, Item]]:
        if what.startswith(ESCALATED):
            reason, _, names = new.partition(" → ")
            group = _group(reason)
            item = self.item(rid, group, reason, what.removeprefix(ESCALATED).strip(), rows)
            return [
                (n.strip(), item) for n in names.split(",") if n.strip() and n.strip() != "nobody"
            ]
        if what == CARRIER_CHASE:
            owner = new.removeprefix("remind ").strip()
            item = self.item(rid, "Carrier to chase", "the carrier has not answered", "", rows)
            return [(owner, item)] if owner and owner != "nobody" else []
        if what == STEPS_MISSING:
            owner = cell_text(rows.get(rid, {}).get("owner"))
            item = self.item(rid, "Set back: steps not ticked", f"not ticked: {new}", "", rows)
            return [(owner, item)] if owner else []
        if what == RENEWAL_EXCEPTION:
            reason, _, owner = new.partition(" → ")
            item = self.item(rid, "Renewals at risk", reason, "", rows)
            readers = [owner.strip()] + [m.name for m in self.role(Role.OWNER)]
            return [(n, item) for n in dict.fromkeys(readers) if n and n != "nobody"]
        return []

    def renewal_reminder(self, reminder: RenewalReminder, line: str) -> Outgoing:
        to, pilot = self.client_to(reminder.to)
        rendered = self.render(
            "renewal_reminder",
            {
                "client": reminder.client,
                "policy": reminder.policy,
                "line": line,
                "expiration": reminder.expiration,
                "days": reminder.days,
                "owner": reminder.owner,
                "pilot": pilot,
            },
        )
        message = self.message(to, rendered, reminder.key)
        proof = (RENEWAL_REMINDER, reminder.policy, reminder.key)
        return Outgoing(reminder.key, "renewal reminder", message, proof)


def _capped(
    items: list[Item], rows: Mapping[str, dict[str, Any]]
) -> list[tuple[str, list[Item], int]]:
    """(reason, the DIGEST_CAP most urgent items, how many more) for each reason in GROUPS
    order: the earliest Due first."""

    def urgency(item: Item) -> datetime:
        due = rows.get(item.request_id, {}).get("due")
        return due if isinstance(due, datetime) else datetime.max

    out = []
    for group in GROUPS:
        listed = sorted((i for i in items if i.group == group), key=urgency)
        if listed:
            out.append((group, listed[:DIGEST_CAP], len(listed) - DIGEST_CAP))
    return out


def logged_keys(log: Tab | None, what: str) -> set[str]:
    """The Old cells of the Log lines that say `what` (the days a summary went out...): a
    look at one column of each line, asked by every cycle of every email kind."""
    lines = log.picked("What", "Old") if log is not None else None
    return {cell_text(old) for said, old in lines or () if said == what}


def month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def rows_by_id(requests: Tab) -> dict[str, dict[str, Any]]:
    out = {}
    for row, rec in requests.records():
        rid = cell_text(rec.get("id"))
        if rid:
            out[rid] = {**rec, "_row": row}
    return out


def _group(reason: str) -> str:
    reason = reason.lower()
    if reason.startswith("untouched"):
        return "Untouched"
    if reason.startswith("due "):
        return "Deadline approaching"
    if reason.startswith(("overdue", "client deadline")):
        return "Overdue"
    if "followed up" in reason:
        return "Client followed up"
    if "passed at stage" in reason:
        return "Renewals at risk"
    return "Untouched"


def clock_times(text: str) -> list[time]:
    out = []
    for part in re.split(r"[;,]", text or ""):
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", part)
        if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
            out.append(time(int(m.group(1)), int(m.group(2))))
    return out


def _when(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        return None

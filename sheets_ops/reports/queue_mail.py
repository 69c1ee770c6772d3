"""Each CSR's own morning email: their queue, from the sheet (due today, overdue, waiting on a
client or the carrier, new since yesterday), once each business day at My Queue Time (Settings;
Off for never), to each member of Team on duty with open work. Recorded in the Log before it
is sent, like every email."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sheets_ops.model import Status
from sheets_ops.reports.notify import Item, Mailer, Outgoing, clock_times, logged_keys
from sheets_ops.rules.history import CLOSED
from sheets_ops.rules.team import Member
from sheets_ops.sheet import Tab, cell_text

QUEUE_SENT = "Queue sent"
WAITING = (Status.WAITING_ON_CLIENT.value, Status.WAITING_ON_CARRIER.value, Status.NEEDS_INFO.value)
SECTIONS = ("Overdue", "Due today", "Waiting on a client or the carrier", "New since yesterday")


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def queue_of(
    mailer: Mailer, member: Member, rows: Mapping[str, dict[str, Any]]
) -> list[tuple[str, list[Item]]]:
    """(section, items) of one person's open work, in SECTIONS order; empty ones left out.
    A request is listed once, in the first section it belongs to."""
    today, yesterday = mailer.now.date(), mailer.now - timedelta(days=1)
    sections: dict[str, list[Item]] = {name: [] for name in SECTIONS}
    for rid, r in rows.items():
        if cell_text(r.get("owner")).lower() != member.name.lower():
            continue
        status = cell_text(r.get("status"))
        if status in CLOSED:
            continue
        received = r.get("received")
        if cell_text(r.get("sla")) == "Overdue":
            section = "Overdue"
        elif today in (_day(r.get("due")), _day(r.get("client deadline"))):
            section = "Due today"
        elif status in WAITING:
            section = "Waiting on a client or the carrier"
        elif isinstance(received, datetime) and received >= yesterday:
            section = "New since yesterday"
        else:
            continue
        sections[section].append(mailer.item(rid, section, status, "", rows))
    return [(name, items) for name, items in sections.items() if items]


def my_queues(
    mailer: Mailer, rows: Mapping[str, dict[str, Any]], log: Tab | None
) -> list[Outgoing]:
    """This morning's queue emails, unless they went out today already."""
    at = clock_times(mailer.settings.get("my queue time", "08:00"))
    today = mailer.now.date()
    if not at or not mailer.calendar.is_business_day(today):
        return []
    if mailer.now < datetime.combine(today, at[0]) or today.isoformat() in logged_keys(
        log, QUEUE_SENT
    ):
        return []
    out, names = [], []
    for member in mailer.team:
        away = member.out_until is not None and member.out_until >= today
        if not member.on_duty or away or not member.email:
            continue
        sections = queue_of(mailer, member, rows)
        if not sections:
            continue
        count = sum(len(items) for _name, items in sections)
        context = {"name": member.name, "day": today, "sections": sections, "count": count}
        key = f"queue-{today:%Y%m%d}-{member.email}"
        message = mailer.message(member.email, mailer.render("my_queue", context), key)
        out.append(Outgoing(key, "my queue", message, (QUEUE_SENT, "", today.isoformat())))
        names.append(member.name)
    if out:
        record = mailer.log(QUEUE_SENT, today.isoformat(), f"to {', '.join(names)}")
        out[0] = replace(out[0], record=record)
    return out

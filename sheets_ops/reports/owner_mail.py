"""The owner's emails: the daily summary (open work by status, owner and age; what is
overdue or due today; the renewal pipeline) and the weekly report, each to the Owner and Ops
Managers once per slot, recorded in the Log before it is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sheets_ops.model import Role, Stage, Status
from sheets_ops.reports.notify import (
    DAYS,
    SUMMARY_SENT,
    WEEKLY_CATCH_UP,
    WEEKLY_SENT,
    Item,
    Mailer,
    Outgoing,
    clock_times,
    logged_keys,
    month_after,
)
from sheets_ops.rules.exports import parse_date
from sheets_ops.rules.history import CLOSED
from sheets_ops.rules.pilot import pilot_from
from sheets_ops.rules.review import AGE_BUCKETS, age_bucket
from sheets_ops.sheet import Tab, cell_text


def daily_summary(
    mailer: Mailer, rows: Mapping[str, dict[str, Any]], log: Tab | None
) -> list[Outgoing]:
    """The day's summary to the Owner and Ops Managers, once each business day at Daily
    Summary Time."""
    at = clock_times(mailer.settings.get("daily summary time", "07:30"))
    today = mailer.now.date()
    if not at or not mailer.calendar.is_business_day(today):
        return []
    if mailer.now < datetime.combine(today, at[0]):
        return []
    done = logged_keys(log, SUMMARY_SENT)
    if today.isoformat() in done:
        return []
    context = summary_context(mailer, rows)
    readers = mailer.role(Role.OWNER) + mailer.role(Role.OPS_MANAGER)
    out = []
    for m in readers:
        rendered = mailer.render("daily_summary", {**context, "name": m.name})
        key = f"summary-{today:%Y%m%d}-{m.email}"
        proof = (SUMMARY_SENT, "", today.isoformat())
        out.append(Outgoing(key, "daily summary", mailer.message(m.email, rendered, key), proof))
    if out:
        record = mailer.log(
            SUMMARY_SENT, today.isoformat(), f"to {', '.join(m.name for m in readers)}"
        )
        out[0] = replace(out[0], record=record)
    return out


def weekly_slot(mailer: Mailer) -> datetime | None:
    """The latest "Weekly Report" moment (like "Mon 08:00") at or before now."""
    text = mailer.settings.get("weekly report", "Mon 08:00").strip().lower()
    at = clock_times(text[3:]) if text[:3] in DAYS else []
    if not at:
        return None
    back = (mailer.now.weekday() - DAYS.index(text[:3])) % 7
    moment = datetime.combine(mailer.now.date() - timedelta(days=back), at[0])
    return moment if moment <= mailer.now else moment - timedelta(days=7)


def weekly_report(mailer: Mailer, log: Tab | None) -> list[Outgoing]:
    """Last whole week beside the week before, to the Owner and Ops Managers, once a week.
    A job that was down at the slot still sends it within WEEKLY_CATCH_UP; after that the
    week is skipped rather than reported late (`sheets-ops report` renders any week)."""
    from sheets_ops.reports import weekly

    slot = weekly_slot(mailer)
    if slot is None or mailer.now - slot > WEEKLY_CATCH_UP:
        return []
    start, end = weekly.week_before(slot)
    done = logged_keys(log, WEEKLY_SENT)
    readers = mailer.role(Role.OWNER) + mailer.role(Role.OPS_MANAGER)
    if start.date().isoformat() in done or not readers:
        return []
    report = weekly.build(mailer.reaching(start - (end - start)), mailer.calendar, start, end)
    context = weekly.context(report, lambda name: f"cid:{name}@sheets-ops")
    out = []
    for m in readers:
        key = f"weekly-{start:%Y%m%d}-{m.email}"
        msg = mailer.message(
            m.email, mailer.render("weekly_report", {**context, "name": m.name}), key
        )
        html = msg.get_body(preferencelist=("html",))
        assert isinstance(html, EmailMessage)
        for name, png in report.charts.items():
            html.add_related(
                png, "image", "png", cid=f"<{name}@sheets-ops>", filename=f"{name}.png"
            )
        out.append(Outgoing(key, "weekly report", msg, (WEEKLY_SENT, "", start.date().isoformat())))
    record = mailer.log(
        WEEKLY_SENT, start.date().isoformat(), f"to {', '.join(m.name for m in readers)}"
    )
    out[0] = replace(out[0], record=record)
    return out


def renewal_pipeline(
    mailer: Mailer, today: date
) -> tuple[list[tuple[str, list[tuple[str, int]]]], list[Item], float, float]:
    """Renewals expiring this month and next, by stage; those at risk; premium at stake."""
    this_month = today.replace(day=1)
    next_month = month_after(this_month)
    after = month_after(next_month)
    months: dict[str, dict[str, int]] = {f"{this_month:%B}": {}, f"{next_month:%B}": {}}
    at_risk, stake, risk_stake = [], 0.0, 0.0
    for policy, r in mailer.renewals.items():
        expires = parse_date(r.get("expiration"))
        if expires is None or not this_month <= expires < after:
            continue
        month = f"{expires.replace(day=1):%B}"
        stage = cell_text(r.get("stage")) or Stage.UPCOMING.value
        months[month][stage] = months[month].get(stage, 0) + 1
        premium = r.get("expiring premium")
        amount = float(premium) if isinstance(premium, int | float) else 0.0
        stake += amount
        missed = [
            c
            for c in (
                "carrier submission deadline",
                "quote deadline",
                "client decision deadline",
            )
            if (d := parse_date(r.get(c))) is not None and d < today
        ]
        exception = cell_text(r.get("exception"))
        late = bool(missed) and stage in (Stage.UPCOMING.value, Stage.QUOTE_REQUESTED.value)
        if exception or late:
            risk_stake += amount
            why = exception or f"{missed[-1]} passed"
            at_risk.append(mailer.item(policy, "Renewals at risk", why, "", {}))
    order = [s.value for s in Stage]
    pipeline = [
        (m, sorted(c.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))
        for m, c in months.items()
    ]
    return pipeline, at_risk, stake, risk_stake


def summary_context(mailer: Mailer, rows: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """What the daily summary shows: open work by status, owner and age, what is overdue
    or due today, and the renewal pipeline."""
    today = mailer.now.date()
    day_hours = mailer.calendar.day_seconds / 3600
    open_rows = [r for r in rows.values() if cell_text(r.get("status")) not in CLOSED]
    by_status: dict[str, int] = {}
    by_owner: dict[str, int] = {}
    buckets = dict.fromkeys(AGE_BUCKETS, 0)
    overdue, today_due = [], []
    for r in open_rows:
        status = cell_text(r.get("status")) or Status.NEW.value
        by_status[status] = by_status.get(status, 0) + 1
        owner = cell_text(r.get("owner")) or "nobody"
        by_owner[owner] = by_owner.get(owner, 0) + 1
        age = r.get("age (h)")
        days = float(age) / day_hours if isinstance(age, int | float) else 0.0
        buckets[age_bucket(days)] += 1
        rid = cell_text(r.get("id"))
        if cell_text(r.get("sla")) == "Overdue":
            overdue.append(mailer.item(rid, "Overdue", "", "", rows))
        deadline, due = r.get("client deadline"), r.get("due")
        due_day = due.date() if isinstance(due, datetime) else None
        deadline_day = (
            deadline.date()
            if isinstance(deadline, datetime)
            else (deadline if isinstance(deadline, date) else None)
        )
        if today in (due_day, deadline_day):
            today_due.append(mailer.item(rid, "Due today", "", "", rows))
    pipeline, at_risk, stake, risk_stake = renewal_pipeline(mailer, today)
    pilot = pilot_from(mailer.settings, today)
    pilot_line = ""
    if pilot is not None:
        mine = [r for r in open_rows if pilot.covers(cell_text(r.get("type")))]
        late = sum(1 for r in mine if cell_text(r.get("sla")) == "Overdue")
        pilot_line = (
            f"A {pilot.describe()}: {len(mine)} of the {len(open_rows)} open requests are the "
            f"pilot's, {late} of them overdue; the others are left to people (SLA: Outside pilot)"
        )
    return {
        "pilot": pilot_line,
        "pipeline": pipeline,
        "at_risk": at_risk,
        "stake": stake,
        "risk_stake": risk_stake,
        "day": today,
        "open": len(open_rows),
        "by_status": sorted(by_status.items(), key=lambda kv: -kv[1]),
        "by_owner": sorted(by_owner.items(), key=lambda kv: (-kv[1], kv[0])),
        "buckets": list(buckets.items()),
        "overdue": overdue,
        "today": today_due,
    }

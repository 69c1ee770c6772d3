"""The pilot report: on Pilot Until (Settings), once, to the Owner and Ops Managers. What
the pilot's requests did in its last week beside the baseline of the same types, one
paragraph on whether to expand (to the type the baseline ranked next, or to the whole team),
and the definition of done of every type (the Routing tab's SLA and Close Checklist)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from sheets_ops.model import DEFAULT_CHECKLISTS, REQUESTS, RequestType, Role
from sheets_ops.reports.metrics import Metrics, compute
from sheets_ops.reports.notify import Mailer, Outgoing, logged_keys
from sheets_ops.reports.weekly import baseline_rows
from sheets_ops.rules.pilot import Pilot, pilot_from, pilot_until
from sheets_ops.rules.team import Route, routes_from
from sheets_ops.sheet import Snapshot, Tab, cell_text

PILOT_SENT = "Pilot report sent"
CATCH_UP = timedelta(days=7)  # a job down on the day still sends it within a week


def _only(snapshot: Snapshot, pilot: Pilot) -> Snapshot:
    """The snapshot with only the pilot's requests in Requests."""
    tab = snapshot.tab(REQUESTS.name)
    if tab is None or tab.col("Type") is None:
        return snapshot
    j = tab.col("Type")
    assert j is not None
    rows = [r for r in tab.rows if len(r) > j and pilot.covers(cell_text(r[j]))]
    tabs = {name: t for name, t in snapshot.tabs.items() if t is not tab}
    return Snapshot({**tabs, tab.title: Tab(tab.title, tab.header, rows)})


def _before(snapshot: Snapshot) -> dict[str, tuple[float | None, float | None, int]]:
    """Name -> (median first response, share unanswered after a business day, requests),
    from the Baseline tab's rows with requests."""
    out: dict[str, tuple[float | None, float | None, int]] = {}
    for name, r in baseline_rows(snapshot)[1].items():
        volume = r[5]
        if isinstance(volume, int | float) and volume:
            median = float(r[1]) if isinstance(r[1], int | float) else None
            late = float(r[3]) if isinstance(r[3], int | float) else None
            out[name] = (median, late, int(volume))
    return out


LOOK_BACK = timedelta(days=30)  # how far back the pilot's first request is looked for


def _first(snapshot: Snapshot, since: datetime) -> datetime | None:
    """When the pilot's first request came in (the earliest Received since `since`)."""
    tab = snapshot.tab(REQUESTS.name)
    if tab is None:
        return None
    moments = [v for v in tab.values("Received") if isinstance(v, datetime) and v >= since]
    return datetime.combine(min(moments).date(), time()) if moments else None


def verdict(
    pilot: Pilot, m: Metrics, before: dict[str, tuple[float | None, float | None, int]]
) -> str:
    """The paragraph: what changed, and whether to expand, and to what."""
    median = m.first_response.get("median")
    then = [v for k, (v, _late, _n) in before.items() if pilot.covers(k) and v is not None]
    was = min(then) if then else None
    types = ", ".join(pilot.types)
    said = [f"The pilot of {types} took {m.received} requests from {m.start:%b %-d}"]
    if median is not None:
        said.append(f"first responses took {median:g} business hours (median)")
    if was is not None:
        said.append(f"before sheets-ops they took {was:g}")
    if m.completion_rate is not None:
        said.append(f"{m.completion_rate:.0%} were closed within SLA")
    better = median is not None and (was is None or median <= was)
    within = m.completion_rate is None or m.completion_rate >= 0.8
    others = [
        (late * n, k)
        for k, (_m, late, n) in before.items()
        if late is not None and not pilot.covers(k) and k != "All requests"
    ]
    if better and within:
        nxt = max(others)[1] if others else ""
        advice = (
            f"Expand: {nxt} next, the type the baseline found slowest after it"
            if nxt
            else "Expand: to the whole team and every type"
        )
    else:
        advice = "Not yet: keep the pilot a week longer and look at what held first responses up"
    return "; ".join(said) + f". {advice}."


def pilot_report(mailer: Mailer, snapshot: Snapshot) -> list[Outgoing]:
    """The report, on Pilot Until or within CATCH_UP after it, once."""
    until = pilot_until(mailer.settings.get("pilot until", ""))
    today = mailer.now.date()
    if until is None or not until <= today <= until + CATCH_UP:
        return []
    pilot = pilot_from(mailer.settings, until)
    readers = mailer.role(Role.OWNER) + mailer.role(Role.OPS_MANAGER)
    log = snapshot.tab("Log")
    if pilot is None or not readers or until.isoformat() in logged_keys(log, PILOT_SENT):
        return []
    end = min(mailer.now, datetime.combine(until + timedelta(days=1), time()))
    mine = _only(snapshot, pilot)
    start = _first(mine, end - LOOK_BACK) or datetime.combine(until - timedelta(days=6), time())
    m = compute(mine, mailer.calendar, start, end)
    routes = routes_from(snapshot, 24.0)
    done = []
    for kind in RequestType:
        route = routes.get(kind.value) or Route(checklist=DEFAULT_CHECKLISTS.get(kind.value, ()))
        steps = "; ".join(route.checklist) or "nothing to tick"
        done.append((kind.value, f"{route.sla:g} business hours", steps))
    context: dict[str, Any] = {
        "pilot": pilot.describe(),
        "until": until,
        "paragraph": verdict(pilot, m, _before(snapshot)),
        "done": done,
    }
    out = []
    for member in readers:
        key = f"pilot-{until:%Y%m%d}-{member.email}"
        rendered = mailer.render("pilot_report", {**context, "name": member.name})
        proof = (PILOT_SENT, "", until.isoformat())
        out.append(
            Outgoing(key, "pilot report", mailer.message(member.email, rendered, key), proof)
        )
    record = mailer.log(PILOT_SENT, until.isoformat(), f"to {', '.join(r.name for r in readers)}")
    out[0] = replace(out[0], record=record)
    return out

"""A small agency in memory, for the rules: team, accounts, routing, and requests to review."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sheets_ops.model import REQUESTS, TABS
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.review import Review, review
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Batch, NewRow, Snapshot, check_tab
from sheets_ops.sync.memory import MemoryTracker

TEAM = [
    # name, role, on duty, out until, backup
    ("Dana Ruiz", "Owner", "No", None, ""),
    ("Marcus Lee", "Ops Manager", "No", None, "Dana Ruiz"),
    ("Priya Shah", "Account Manager", "No", None, "Marcus Lee"),
    ("Tom Becker", "CSR", "Yes", None, "Alicia Gomez"),
    ("Alicia Gomez", "CSR", "Yes", None, "Tom Becker"),
    ("Sam Ortiz", "CSR", "No", None, "Tom Becker"),
]
ROUTES = [
    # type, route to, complex route to, SLA, escalate after idle
    ("COI", "On-duty CSR", "Account Owner", 8, 24),
    ("Endorsement", "Account Owner", "Account Manager", 24, 24),
    ("Claim", "Account Owner", "Ops Manager", 4, 8),
    ("Billing", "Billing Desk", "", 16, 24),
    ("Renewal", "Account Owner", "", 40, 24),
    ("Other", "On-duty CSR", "", 24, 24),
]


def office(
    team: list[tuple[Any, ...]] | None = None,
    routes: list[tuple[Any, ...]] | None = None,
    holidays: tuple[date, ...] = (),
) -> MemoryTracker:
    tracker = MemoryTracker()
    tracker.init(TABS)
    batch = Batch()
    for name, role, duty, out, backup in team if team is not None else TEAM:
        cells = {
            "Name": name,
            "Email": f"{name.split()[0].lower()}@agency.example",
            "Role": role,
            "On Duty": duty,
            "Out Until": out,
            "Backup": backup,
        }
        batch.rows.append(NewRow("Team", cells))
    batch.rows.append(
        NewRow(
            "Accounts",
            {
                "Client": "Brightline Electric LLC",
                "Contact Emails": "@brightline.example",
                "Policies": "GL-4481920",
                "Account Owner": "Priya Shah",
            },
        )
    )
    batch.rows.append(
        NewRow("Accounts", {"Client": "Harbor Street Bakery", "Account Owner": "Sam Ortiz"})
    )
    for kind, to, complex_to, sla, idle in routes if routes is not None else ROUTES:
        batch.rows.append(
            NewRow(
                "Routing",
                {
                    "Type": kind,
                    "Route To": to,
                    "Complex Route To": complex_to,
                    "SLA": sla,
                    "Escalate After Idle": idle,
                },
            )
        )
    for day in holidays:
        batch.rows.append(NewRow("Holidays", {"Date": day, "Name": "holiday"}))
    tracker.write(batch)
    return tracker


def add(tracker: MemoryTracker, **cells: Any) -> str:
    """A request, by column (Policy # as policy, Age (h) as age...), with sensible defaults."""
    requests = tracker.tabs["Requests"]
    rid = cells.pop("id", None) or f"REQ-{len(requests.rows) + 1:06d}"
    names = {
        "policy": "Policy #",
        "holder": "Certificate Holder",
        "deadline": "Client Deadline",
        "follow_up": "Next Follow-up",
        "touched": "Last Touched",
    }
    row = {
        "ID": rid,
        "Received": datetime(2026, 11, 30, 9, 0),
        "Channel": "Email",
        "From": "a@brightline.example",
        "Type": "COI",
        "Summary": "a request",
        "Status": "New",
        "Source": f"<{rid}@x>",
    }
    for key, value in cells.items():
        row[names.get(key, key.replace("_", " ").title())] = value
    tracker.write(Batch(rows=[NewRow("Requests", row)]))
    return rid


def reviewed(snapshot: Snapshot, now: datetime, seen: Any = None, **options: Any) -> Review:
    """The review of a snapshot at `now`, with its own settings, calendar and directory."""
    settings = read_settings(snapshot)
    return review(
        snapshot,
        check_tab(snapshot, REQUESTS),
        directory_.from_snapshot(snapshot),
        settings.calendar,
        settings.values,
        now,
        seen,
        **options,
    )


def look(tracker: MemoryTracker, now: datetime, seen: Any = None, write: bool = True) -> Review:
    result = reviewed(tracker.read(), now, seen)
    if write:
        tracker.write(result.batch)
    return result


def row(tracker: MemoryTracker, rid: str) -> dict[str, Any]:
    tab = tracker.tabs["Requests"]
    for values in tab.rows:
        record = {h: (values[j] if j < len(values) else None) for j, h in enumerate(tab.header)}
        if record["ID"] == rid:
            return record
    raise KeyError(rid)


def log(tracker: MemoryTracker, rid: str | None = None) -> list[dict[str, Any]]:
    tab = tracker.tabs["Log"]
    rows = [{h: (v[j] if j < len(v) else None) for j, h in enumerate(tab.header)} for v in tab.rows]
    return [r for r in rows if rid is None or r["Request"] == rid]

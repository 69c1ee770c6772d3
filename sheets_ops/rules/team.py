"""The people and the routes: who is on Team (role, on duty, out until, backup), what the
Routing tab says about each Type (who takes it, its SLA, idle limit and close checklist), and
the Assigner that picks an owner from them, balancing the open load."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sheets_ops.model import DEFAULT_CHECKLISTS, ROUTING, TEAM, Role
from sheets_ops.rules.directory import Directory
from sheets_ops.sheet import Snapshot, as_day, as_number, cell_text, header_problems


@dataclass(frozen=True)
class Member:
    name: str
    email: str
    role: str
    on_duty: bool
    out_until: date | None
    backup: str


@dataclass(frozen=True)
class Route:
    route_to: str = "On-duty CSR"
    complex_route_to: str = ""
    sla: float = 24.0
    idle: float | None = None
    checklist: tuple[str, ...] = ()


def team_from(snapshot: Snapshot) -> list[Member]:
    tab = snapshot.tab(TEAM.name)
    if tab is None or header_problems(tab, TEAM):
        return []
    members = []
    for _row, rec in tab.records():
        name = cell_text(rec.get("name"))
        if name:
            members.append(
                Member(
                    name,
                    cell_text(rec.get("email")).lower(),
                    cell_text(rec.get("role")),
                    cell_text(rec.get("on duty")).lower() in ("yes", "y", "true", "1", "x"),
                    as_day(rec.get("out until")),
                    cell_text(rec.get("backup")),
                )
            )
    return members


def routes_from(snapshot: Snapshot, default_idle: float) -> dict[str, Route]:
    tab = snapshot.tab(ROUTING.name)
    if tab is None or header_problems(tab, ROUTING):
        return {}
    routes = {}
    for _row, rec in tab.records():
        kind = cell_text(rec.get("type"))
        if not kind:
            continue
        listed = cell_text(rec.get("close checklist")).split(";")
        steps = tuple(s.strip() for s in listed if s.strip())
        routes[kind] = Route(
            route_to=cell_text(rec.get("route to")) or "On-duty CSR",
            complex_route_to=cell_text(rec.get("complex route to")),
            sla=as_number(rec.get("sla")) or 24.0,
            idle=as_number(rec.get("escalate after idle")) or default_idle,
            # blank: the defaults for the Type; "none": no checklist at all
            checklist=(
                ()
                if [s.lower() for s in steps] == ["none"]
                else steps or DEFAULT_CHECKLISTS.get(kind, ())
            ),
        )
    return routes


class Assigner:
    """Owners from Routing, Accounts and Team; counts what it hands out, to balance load."""

    def __init__(
        self, team: list[Member], directory: Directory, today: date, open_load: Mapping[str, int]
    ) -> None:
        self.team = {m.name.lower(): m for m in team}
        self.directory = directory
        self.today = today
        self.load = {name.lower(): n for name, n in open_load.items()}

    def available(self, name: str) -> Member | None:
        """The person, or whoever covers for them (Backup, and the backup's backup)."""
        seen: set[str] = set()
        member = self.team.get(name.strip().lower())
        while member is not None and member.name.lower() not in seen:
            if member.out_until is None or member.out_until <= self.today:
                return member
            seen.add(member.name.lower())
            member = self.team.get(member.backup.strip().lower())
        return None

    def least_loaded(self, members: Iterable[Member]) -> Member | None:
        ready = [m for m in members if self.available(m.name) is m]
        if not ready:
            return None
        return min(ready, key=lambda m: (self.load.get(m.name.lower(), 0), m.name.lower()))

    def on_duty_csr(self) -> Member | None:
        csrs = [m for m in self.team.values() if m.role.lower() == Role.CSR.lower() and m.on_duty]
        return self.least_loaded(csrs) or self.least_loaded(
            m for m in self.team.values() if m.role.lower() == Role.CSR.lower()
        )

    def target(self, how: str, client: str) -> tuple[Member | None, str]:
        how = how.strip()
        if how.lower() == "account owner":
            account = self.directory.account(client) if client else None
            if account is None:
                return self.on_duty_csr(), "client not in Accounts: on-duty CSR"
            if not account.owner:
                return self.on_duty_csr(), f"{client} has no Account Owner: on-duty CSR"
            member = self.available(account.owner)
            if member is None:
                return self.on_duty_csr(), f"{account.owner} and their backups are out"
            return member, "account owner" if member.name == account.owner else (
                f"covering for {account.owner}"
            )
        if how.lower() in ("on-duty csr", "on duty csr", ""):
            return self.on_duty_csr(), "on-duty CSR"
        role = [m for m in self.team.values() if m.role.lower() == how.lower()]
        if role:
            return self.least_loaded(role), how
        member = self.available(how)
        if member is None:
            return self.on_duty_csr(), f"{how} is out or not in Team: on-duty CSR"
        return member, how if member.name.lower() == how.lower() else f"covering for {how}"

    def anyone(self, why: str) -> tuple[str, str]:
        """The least loaded of the whole (assigner's) team who is in: a pilot's CSRs share
        its requests, whatever Routing says."""
        member = self.least_loaded(self.team.values())
        if member is None:
            return "", "nobody in Team can take it"
        self.load[member.name.lower()] = self.load.get(member.name.lower(), 0) + 1
        return member.name, why

    def assign(
        self, kind: str, client: str, complex_: bool, routes: Mapping[str, Route]
    ) -> tuple[str, str]:
        route = routes.get(kind) or routes.get("Other") or Route()
        how = route.complex_route_to if complex_ and route.complex_route_to else route.route_to
        member, why = self.target(how, client)
        if member is None:
            return "", "nobody in Team can take it"
        if not client and how.lower() != "on-duty csr":
            why += "; client not matched"
        self.load[member.name.lower()] = self.load.get(member.name.lower(), 0) + 1
        return member.name, why

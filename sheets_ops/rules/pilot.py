"""A pilot: one request type (or a few), one CSR (or a few), until a date.

While a pilot is on (Settings → Pilot Types, Pilot CSRs, Pilot Until), every message is
still captured as a row, but only the pilot's types are routed (to the pilot CSRs), clocked,
escalated and answered by client emails; the others say `Outside pilot` in SLA and are left
to people as before. The day after Pilot Until, or with Pilot Types blank, everything is in
the normal flow again at the next cycle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sheets_ops.sheet import normalize_header

OUTSIDE_PILOT = "Outside pilot"


@dataclass(frozen=True)
class Pilot:
    types: tuple[str, ...]  # as Settings writes them
    csrs: tuple[str, ...]
    until: date | None

    def covers(self, kind: str) -> bool:
        return kind.strip().lower() in {t.lower() for t in self.types}

    def describe(self) -> str:
        who = ", ".join(self.csrs) or "the whole team"
        until = f" until {self.until.isoformat()}" if self.until else ""
        return f"pilot of {', '.join(self.types)} with {who}{until}"


def _listed(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;,]", text) if p.strip()]


def pilot_until(text: str) -> date | None:
    """Pilot Until as a date (a date cell reads as `2026-12-04 00:00:00`), or None."""
    try:
        return date.fromisoformat(text.strip()[:10]) if text.strip() else None
    except ValueError:
        return None


def pilot_from(settings: Mapping[str, str], today: date) -> Pilot | None:
    """The pilot the Settings tab describes (`settings`: its values by normalized key), when
    it is on `today`; None when there is none (Pilot Types blank) or it has ended."""

    def setting(key: str) -> str:
        return settings.get(normalize_header(key), "")

    types = tuple(dict.fromkeys(_listed(setting("Pilot Types"))))
    if not types:
        return None
    until = pilot_until(setting("Pilot Until"))
    if until is not None and today > until:
        return None
    return Pilot(types, tuple(_listed(setting("Pilot CSRs"))), until)

"""`sheets-ops simulate`: replay a period over a copy of the tracker, writing nothing.

Each step runs the same review as a cycle, at that moment, on an in-memory copy that keeps
what earlier steps recorded (owners routed, levels raised), so a level shows up once, when
it would have been raised. A draft ladder (an Escalation tab from a CSV) can stand in for the
tracker's, to see what an edit would do before anyone is told.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timedelta

from sheets_ops.model import ESCALATION, REQUESTS
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.review import review
from sheets_ops.rules.settings import read_settings
from sheets_ops.rules.steps import Escalation
from sheets_ops.sheet import Snapshot, Tab, check_tab, normalize_header
from sheets_ops.sync.memory import MemoryTracker


def simulate(
    snapshot: Snapshot,
    start: datetime,
    end: datetime,
    step: timedelta,
    ladder: Tab | None = None,
) -> Iterator[tuple[datetime, Escalation]]:
    """(moment, escalation) for every escalation between `start` and `end`, in order.
    Naive moments are agency time. `ladder`: an Escalation tab to try in place of the
    tracker's, before it goes live."""
    settings = read_settings(snapshot)
    tabs = copy.deepcopy(snapshot.tabs)
    if ladder is not None:
        tabs = {t: tab for t, tab in tabs.items() if normalize_header(t) != "escalation"}
        tabs[ESCALATION.name] = ladder
    copy_ = MemoryTracker(tabs)
    directory = directory_.from_snapshot(snapshot)
    moment = _wall(start, settings.zone)
    last = _wall(end, settings.zone)
    while moment <= last:
        now = copy_.read()
        looked = review(
            now,
            check_tab(now, REQUESTS),
            directory,
            settings.calendar,
            settings.values,
            moment,
            None,
        )
        copy_.write(looked.batch)
        for escalation in looked.escalations:
            yield moment, escalation
        moment += step


def _wall(moment: datetime, zone: object) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zone).replace(tzinfo=None)  # type: ignore[arg-type]

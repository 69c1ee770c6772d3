"""The owner's figures, from Requests, Archive, the Log and Renewals (pandas).

Times are business hours on the agency's calendar. A period is [start, end) in agency time:
volume counts requests received in it, completion and resolution count requests closed in
it, first response counts first responses logged in it; open work, aging, overdue (past Due)
and load are as of `end`, from Received, Closed and Due. Escalated counts the requests open at
`end` that the Log says were escalated before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sheets_ops.model import ARCHIVE, REQUESTS, CellValue, Status
from sheets_ops.rules.clock import Calendar
from sheets_ops.rules.history import CLOSED, ESCALATED, FIRST_RESPONSE
from sheets_ops.rules.review import AGE_BUCKETS, age_bucket
from sheets_ops.sheet import Snapshot, Tab, cell_text

if TYPE_CHECKING:  # pandas (about 0.15 s to import) loads when figures are computed
    import pandas as pd

BUCKETS = AGE_BUCKETS


@dataclass
class Metrics:
    start: datetime
    end: datetime
    received: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)
    closed: int = 0
    closed_in_sla: int = 0
    first_response: dict[str, float] = field(default_factory=dict)  # median, p90 (hours)
    resolution: dict[str, float] = field(default_factory=dict)
    resolution_by_type: dict[str, dict[str, float]] = field(default_factory=dict)
    resolution_by_owner: dict[str, dict[str, float]] = field(default_factory=dict)
    response_by_type: dict[str, dict[str, float]] = field(default_factory=dict)
    response_by_owner: dict[str, dict[str, float]] = field(default_factory=dict)
    open: int = 0
    aging: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    escalated: int = 0
    load: dict[str, int] = field(default_factory=dict)
    follow_ups: int = 0
    renewals_by_stage: dict[str, int] = field(default_factory=dict)
    renewal_premium: float = 0.0

    @property
    def completion_rate(self) -> float | None:
        """Closed within SLA over closed; None when nothing closed."""
        return self.closed_in_sla / self.closed if self.closed else None


def _rows(tab: Tab | None) -> list[dict[str, CellValue]]:
    return [rec for _row, rec in tab.records()] if tab is not None else []


def frame(snapshot: Snapshot) -> pd.DataFrame:
    """Requests and Archive as one table of the columns metrics need."""
    import pandas as pd

    records = _rows(snapshot.tab(REQUESTS.name)) + _rows(snapshot.tab(ARCHIVE.name))
    columns = [
        "id",
        "received",
        "channel",
        "type",
        "owner",
        "status",
        "closed",
        "due",
        "sla",
        "escalation",
        "age (h)",
    ]
    text = ("id", "channel", "type", "owner", "status", "sla", "escalation")
    data = [
        {c: cell_text(r.get(c)) if c in text else r.get(c) for c in columns}
        for r in records
        if cell_text(r.get("id"))
    ]  # text first: pandas reads a column of text with gaps as missing, not as ""
    df = pd.DataFrame(data, columns=columns)
    for c in ("received", "closed", "due"):
        df[c] = pd.to_datetime(
            df[c].where(df[c].map(lambda v: isinstance(v, datetime))), errors="coerce"
        )
    return df


def _stats(hours: pd.Series) -> dict[str, float]:
    if hours.empty:
        return {}
    return {
        "median": round(float(hours.median()), 1),
        "p90": round(float(hours.quantile(0.9)), 1),
        "count": int(hours.count()),
    }


def _grouped(df: pd.DataFrame, column: str, by: str) -> dict[str, dict[str, float]]:
    return {str(k): _stats(g[column]) for k, g in df.groupby(by) if k}


def compute(snapshot: Snapshot, calendar: Calendar, start: datetime, end: datetime) -> Metrics:
    """The period's figures: what came in, what closed and how fast, first responses, what
    was open at its end and how old, client follow-ups, the renewal pipeline."""
    m = Metrics(start, end)
    df = frame(snapshot)
    hours = _business_hours(calendar)
    got = df[(df["received"] >= start) & (df["received"] < end)]
    m.received = len(got)
    m.by_channel = {str(k): int(v) for k, v in got["channel"].value_counts().items() if k}
    m.by_type = {str(k): int(v) for k, v in got["type"].value_counts().items() if k}
    _closed(m, df, hours)
    _responded(m, df, _first_responses(snapshot), hours)
    _open_at_end(m, df, calendar, _escalated_by(snapshot, end))
    m.follow_ups = len(
        [
            r
            for r in _rows(snapshot.tab("Log"))
            if r.get("what") == "Client follow-up" and _within(r.get("when"), start, end)
        ]
    )
    for r in _rows(snapshot.tab("Renewals")):
        stage = cell_text(r.get("stage"))
        if stage:
            m.renewals_by_stage[stage] = m.renewals_by_stage.get(stage, 0) + 1
            if stage not in ("Done",) and isinstance(r.get("expiring premium"), int | float):
                m.renewal_premium += float(r["expiring premium"])  # type: ignore[arg-type]
    return m


Hours = Callable[["pd.Series[Any]", "pd.Series[Any]"], "pd.Series[Any]"]


def _business_hours(calendar: Calendar) -> Hours:
    """Business hours between two columns of moments, row by row."""
    import pandas as pd

    origin = calendar.elapsed

    def business(a: pd.Series[Any], b: pd.Series[Any]) -> pd.Series[Any]:
        return pd.Series(
            [max(0, origin(y) - origin(x)) / 3600 for x, y in zip(a, b, strict=True)],
            index=a.index,
            dtype="float64",
        )

    return business


def _closed(m: Metrics, df: pd.DataFrame, hours: Hours) -> None:
    """Requests closed in the period, within their SLA, and how long they took."""
    done = df[(df["closed"] >= m.start) & (df["closed"] < m.end) & df["received"].notna()].copy()
    m.closed = len(done)
    m.closed_in_sla = int(((done["due"].isna()) | (done["closed"] <= done["due"])).sum())
    if not done.empty:
        done["hours"] = hours(done["received"], done["closed"])
        m.resolution = _stats(done["hours"])
        m.resolution_by_type = _grouped(done, "hours", "type")
        m.resolution_by_owner = _grouped(done, "hours", "owner")


def _responded(m: Metrics, df: pd.DataFrame, firsts: Mapping[str, datetime], hours: Hours) -> None:
    """First responses made in the period, and how long after the request came."""
    if not firsts:
        return
    replies = df[df["id"].isin(list(firsts))].copy()
    replies["answered"] = replies["id"].map(firsts)
    replies = replies[
        (replies["answered"] >= m.start)
        & (replies["answered"] < m.end)
        & replies["received"].notna()
    ]
    if not replies.empty:
        replies["hours"] = hours(replies["received"], replies["answered"])
        m.first_response = _stats(replies["hours"])
        m.response_by_type = _grouped(replies, "hours", "type")
        m.response_by_owner = _grouped(replies, "hours", "owner")


def _escalated_by(snapshot: Snapshot, end: datetime) -> set[str]:
    """The requests the Log says were escalated before `end`."""
    return {
        cell_text(r.get("request"))
        for r in _rows(snapshot.tab("Log"))
        if str(r.get("what") or "").startswith(ESCALATED)
        and isinstance(r.get("when"), datetime)
        and r["when"] < end  # type: ignore[operator]
    }


def _open_at_end(m: Metrics, df: pd.DataFrame, calendar: Calendar, escalated: set[str]) -> None:
    """What was open at the period's end (received before it and not closed by then, whatever
    Status says now): how many, how old, overdue, escalated, and by owner."""
    end = m.end
    still = df[
        df["received"].notna()
        & (df["received"] < end)
        & ~(df["closed"] < end)
        & ~(df["closed"].isna() & df["status"].isin(list(CLOSED)))
    ]
    m.open = len(still)
    origin, day_hours = calendar.elapsed, calendar.day_seconds / 3600
    counts = dict.fromkeys(BUCKETS, 0)
    for received in still["received"]:
        counts[age_bucket(max(0, origin(end) - origin(received)) / 3600 / day_hours)] += 1
    m.aging = counts
    m.overdue = int((still["due"] < end).sum())
    m.escalated = int(still["id"].isin(list(escalated)).sum())  # by then, not since
    m.load = {str(k): int(v) for k, v in still["owner"].value_counts().items() if k}


def _within(value: CellValue, start: datetime, end: datetime) -> bool:
    return isinstance(value, datetime) and start <= value < end


def _first_responses(snapshot: Snapshot) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for r in _rows(snapshot.tab("Log")):
        when, rid = r.get("when"), cell_text(r.get("request"))
        if r.get("what") == FIRST_RESPONSE and isinstance(when, datetime) and rid:
            out.setdefault(rid, when)
    return out


def as_table(rows: Iterable[tuple[str, Any]]) -> list[list[CellValue]]:
    return [[str(k), v] for k, v in rows]


def open_statuses(m: Mapping[str, int]) -> dict[str, int]:
    return {s.value: m.get(s.value, 0) for s in Status if s.value not in CLOSED}

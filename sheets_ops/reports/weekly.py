"""The owner's weekly report: a period's figures beside the period before, with charts.

The same report is an email (charts as inline PNG parts, `cid:` links) and, for
`sheets-ops report --html FILE`, one self-contained HTML file (charts as `data:` links).
Charts are drawn with matplotlib's object API (no pyplot, no display needed).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sheets_ops.model import BASELINE, CellValue
from sheets_ops.reports.metrics import BUCKETS, Metrics, compute
from sheets_ops.rules.clock import Calendar
from sheets_ops.sheet import Snapshot, cell_text

CHARTS = ("volume", "aging", "load", "resolution")
THIS, LAST = "#1a73e8", "#b0bec5"


@dataclass
class Report:
    this: Metrics
    last: Metrics
    charts: dict[str, bytes] = field(default_factory=dict)  # name -> PNG
    # how things stood before sheets-ops (the Baseline tab): its period, and (what, value)
    before: tuple[str, list[tuple[str, str]]] | None = None

    @property
    def start(self) -> datetime:
        return self.this.start

    @property
    def end(self) -> datetime:
        return self.this.end


def week_before(now: datetime) -> tuple[datetime, datetime]:
    """The last whole week (Monday 00:00 to Monday 00:00) before `now`."""
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time())
    return monday - timedelta(days=7), monday


def build(snapshot: Snapshot, calendar: Calendar, start: datetime, end: datetime) -> Report:
    """This period's metrics, the same length of time just before it, and the charts."""
    report = Report(
        compute(snapshot, calendar, start, end),
        compute(snapshot, calendar, start - (end - start), start),
    )
    report.charts = draw(report)
    report.before = before_from(snapshot, _pilot_types(snapshot, end))
    return report


def _pilot_types(snapshot: Snapshot, end: datetime) -> tuple[str, ...]:
    """The types of a pilot on during the period, for their own baseline lines."""
    from sheets_ops.rules.pilot import pilot_from
    from sheets_ops.rules.settings import read_settings

    settings = read_settings(snapshot)
    pilot = pilot_from(settings.values, (end - timedelta(days=1)).date())
    return pilot.types if pilot is not None else ()


def baseline_rows(snapshot: Snapshot) -> tuple[str, dict[str, list[CellValue]]]:
    """The Baseline tab as `sheets-ops baseline` left it: its period, and its figure rows by
    name (each type, "All requests", each person who answered; the columns of
    baseline.COLUMNS), the first of each name. ("", {}) before any baseline."""
    tab = snapshot.tab(BASELINE)
    if tab is None:
        return "", {}
    period = next((cell_text(r[1]) for r in tab.rows if len(r) > 1 and r[0] == "Period"), "")
    rows: dict[str, list[CellValue]] = {}
    for r in tab.rows:
        if len(r) > 5 and isinstance(r[5], int | float) and cell_text(r[0]):
            rows.setdefault(cell_text(r[0]), r)
    return period, rows


def before_by_type(snapshot: Snapshot) -> dict[str, str]:
    """Type -> the baseline's median first response ("8.1 h"), from the Baseline tab."""
    _period, rows = baseline_rows(snapshot)
    return {name: f"{r[1]:g} h" for name, r in rows.items() if isinstance(r[1], int | float)}


def before_from(
    snapshot: Snapshot, types: Sequence[str] = ()
) -> tuple[str, list[tuple[str, str]]] | None:
    """The baseline's overall figures, as `sheets-ops baseline` left them in its tab, and
    those of `types` (a pilot's)."""
    period, rows = baseline_rows(snapshot)
    overall = rows.get("All requests")
    if not period or overall is None:
        return None

    def hours(v: object) -> str:
        return f"{v:g} h" if isinstance(v, int | float) else "-"

    def share(v: object) -> str:
        return f"{v:.0%}" if isinstance(v, int | float) else "-"

    lines = [  # the columns of baseline.COLUMNS
        ("Requests", cell_text(overall[5])),
        ("First response, median", hours(overall[1])),
        ("First response, p90", hours(overall[2])),
        ("Unanswered after 1 business day", share(overall[3])),
        ("Unanswered after 3 business days", share(overall[4])),
    ]
    for kind in types:
        row = next((r for name, r in rows.items() if name.lower() == kind.lower()), None)
        if row is not None:
            lines.append(
                (
                    f"{cell_text(row[0])} (the pilot's)",
                    f"{hours(row[1])} median, {share(row[3])} unanswered after 1 day",
                )
            )
    return period, lines


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _hours(stats: dict[str, float], key: str) -> str:
    return f"{stats[key]:g} h" if key in stats else "-"


def figures(report: Report) -> list[tuple[str, str, str]]:
    """(what, this period, period before), as the owner reads them."""
    a, b = report.this, report.last
    return [
        ("Requests received", str(a.received), str(b.received)),
        ("Requests closed", str(a.closed), str(b.closed)),
        ("Closed within SLA", _pct(a.completion_rate), _pct(b.completion_rate)),
        (
            "First response, median",
            _hours(a.first_response, "median"),
            _hours(b.first_response, "median"),
        ),
        ("First response, p90", _hours(a.first_response, "p90"), _hours(b.first_response, "p90")),
        ("Resolution, median", _hours(a.resolution, "median"), _hours(b.resolution, "median")),
        ("Resolution, p90", _hours(a.resolution, "p90"), _hours(b.resolution, "p90")),
        ("Open at the end", str(a.open), str(b.open)),
        ("Overdue at the end", str(a.overdue), str(b.overdue)),
        ("Escalated at the end", str(a.escalated), str(b.escalated)),
        ('Client "what\'s the status?"', str(a.follow_ups), str(b.follow_ups)),
    ]


def _png(draw_on: Callable[[Any], None], height: float = 2.3) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6.0, height), dpi=100)
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    draw_on(ax)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _bars(ax: Any, labels: Sequence[str], series: Sequence[tuple[str, list[float], str]]) -> None:
    width = 0.8 / len(series)
    for i, (name, values, colour) in enumerate(series):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        ax.bar(xs, values, width, label=name, color=colour)
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    top = max((v for _name, values, _c in series for v in values), default=0)
    ax.set_ylim(0, top * 1.1 if top > 0 else 1)  # counts and hours: never below zero
    if len(series) > 1:
        ax.legend(fontsize=8, frameon=False)


def draw(report: Report) -> dict[str, bytes]:
    a, b = report.this, report.last
    types = sorted(set(a.by_type) | set(b.by_type), key=lambda t: -a.by_type.get(t, 0))
    owners = sorted(a.load, key=lambda o: -a.load[o])
    solved = sorted(a.resolution_by_type, key=lambda t: -a.resolution_by_type[t]["median"])

    def volume(ax: Any) -> None:
        _bars(
            ax,
            types,
            [
                ("period before", [b.by_type.get(t, 0) for t in types], LAST),
                ("this period", [a.by_type.get(t, 0) for t in types], THIS),
            ],
        )
        ax.set_title("Requests received, by type", fontsize=10, loc="left")

    def aging(ax: Any) -> None:
        _bars(ax, list(BUCKETS), [("open", [a.aging.get(k, 0) for k in BUCKETS], "#e8710a")])
        ax.set_title("Open work by age (business days)", fontsize=10, loc="left")

    def load(ax: Any) -> None:
        _bars(ax, owners, [("open", [a.load[o] for o in owners], THIS)])
        ax.set_title("Open requests per owner", fontsize=10, loc="left")

    def resolution(ax: Any) -> None:
        _bars(
            ax,
            solved,
            [("median", [a.resolution_by_type[t]["median"] for t in solved], "#188038")],
        )
        ax.set_title("Resolution, median business hours, by type", fontsize=10, loc="left")

    return {
        name: _png(fn) for name, fn in zip(CHARTS, (volume, aging, load, resolution), strict=True)
    }


def context(report: Report, src: Callable[[str], str]) -> dict[str, Any]:
    """What the weekly_report templates show; `src(name)` is where chart `name` is found."""
    a = report.this
    return {
        "start": report.start,
        "end": report.end,
        "last_day": report.end - timedelta(days=1),
        "figures": figures(report),
        "charts": [(name, src(name)) for name in CHARTS if name in report.charts],
        "by_channel": sorted(a.by_channel.items(), key=lambda kv: -kv[1]),
        "by_owner": [
            (
                owner,
                a.load.get(owner, 0),
                _hours(a.response_by_owner.get(owner, {}), "median"),
                _hours(a.resolution_by_owner.get(owner, {}), "median"),
            )
            for owner in sorted(set(a.load) | set(a.resolution_by_owner) | set(a.response_by_owner))
        ],
        "renewals": sorted(a.renewals_by_stage.items()),
        "renewal_premium": a.renewal_premium,
        "before": report.before,
    }


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

"""`sheets-ops renewals import FILE.csv`: a policy export from the agency management system
into the Renewals tab, in one write. Re-importing the same or a newer export updates rows
(found by Policy #) and never doubles them; lines that cannot be read are listed."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from sheets_ops.model import BY_JOB, LOG, RENEWALS, CellValue
from sheets_ops.rules.exports import ImportResult, column_map, plan_import
from sheets_ops.rules.renewals import BASELINE, Told, baseline, renewal_from
from sheets_ops.rules.settings import Settings, read_settings
from sheets_ops.rules.team import team_from
from sheets_ops.sheet import (
    NewRow,
    Snapshot,
    Tab,
    TrackerError,
    cell_text,
    check_tab,
    local,
    normalize_header,
)
from sheets_ops.sync.tracker import Tracker


def read_export(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and (line number, values) of a CSV export, whatever its delimiter and
    encoding (UTF-8 with or without BOM, or Windows-1252)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, [])

    def lines() -> Iterator[tuple[int, list[str]]]:
        for values in reader:
            if any(v.strip() for v in values):
                yield reader.line_num, values

    return header, lines()


def import_renewals(
    tracker: Tracker,
    path: Path,
    extra_map: str = "",
    say: Callable[[str], None] = print,
    *,
    now: datetime | None = None,
    baseline: bool = False,
) -> ImportResult:
    """Write the export's changes to the Renewals tab in one write. The first import into an
    empty tab (or any, with `baseline`) also records the renewals already past a key date as
    the baseline, in the same write: they are not escalated for what was late before."""
    snapshot = tracker.read()
    renewals = check_tab(snapshot, RENEWALS)
    settings = read_settings(snapshot)
    mapping = column_map(settings.get("Renewal Columns"))
    mapping.update(column_map(extra_map))
    header, lines = read_export(path)

    def counted() -> Iterator[tuple[int, list[str]]]:
        for n, item in enumerate(lines, 1):
            if n % 1000 == 0:
                say(f"read {n:,} lines of {path.name}")
            yield item

    try:
        result = plan_import(header, counted(), mapping, renewals)
    except ValueError as e:
        raise TrackerError(f"{path.name}: {e}") from None
    if baseline or not renewals.rows:
        wall = local(now or datetime.now(UTC), settings.zone)
        result.baseline = _baseline(snapshot, renewals, result, settings, wall)
        result.batch.rows += [
            NewRow(
                LOG.name,
                {
                    "When": wall,
                    "Request": policy,
                    "What": BASELINE,
                    "Old": f"L{level}",
                    "New": f"{why} at import: not escalated",
                    "By": BY_JOB,
                },
            )
            for policy, level, why in result.baseline
        ]
    if result.batch:
        say(f"writing {result.added:,} new and {result.updated:,} changed policies")
    tracker.write(result.batch)
    return result


def _baseline(
    snapshot: Snapshot, renewals: Tab, result: ImportResult, settings: Settings, wall: datetime
) -> list[tuple[str, int, str]]:
    """The renewals past a key date once the import lands: the tab's rows with the import's
    changes, and the rows it adds."""
    cells: dict[str, dict[str, CellValue]] = {}
    for _row, held in renewals.records():
        cells[cell_text(held.get("policy #"))] = dict(held)
    for write in result.batch.cells:
        cells.setdefault(write.key, {})[normalize_header(write.column)] = write.value
    for new in result.batch.rows:
        cells[cell_text(new.cells.get("Policy #"))] = {
            normalize_header(k): v for k, v in new.cells.items()
        }
    found = (renewal_from(0, c) for c in cells.values())
    team = team_from(snapshot)
    told = Told.from_log(snapshot.tab(LOG.name))  # what is known already is not said again
    renewals_found = (r for r in found if r is not None)
    return baseline(renewals_found, settings.values, team, wall.date(), told)

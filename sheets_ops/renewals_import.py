"""`sheets-ops renewals import FILE.csv`: a policy export from the agency management system
into the Renewals tab, in one write. Re-importing the same or a newer export updates rows
(found by Policy #) and never doubles them; lines that cannot be read are listed."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

from sheets_ops.model import RENEWALS
from sheets_ops.rules.exports import ImportResult, column_map, plan_import
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import TrackerError, check_tab
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
    tracker: Tracker, path: Path, extra_map: str = "", say: Callable[[str], None] = print
) -> ImportResult:
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
    if result.batch:
        say(f"writing {result.added:,} new and {result.updated:,} changed policies")
    tracker.write(result.batch)
    return result

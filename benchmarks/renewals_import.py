"""How long a policy export takes to import: N policies (default 5,000) into the Renewals tab
of a workbook, then the same file again (which changes nothing).

    .venv/bin/python -m benchmarks.renewals_import [N]

Prints seconds for the first import, the second, and for parsing alone. Nothing is asserted.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sheets_ops.model import RENEWALS, SETTING_DEFAULTS, TABS
from sheets_ops.renewals_import import import_renewals, read_export
from sheets_ops.rules.exports import column_map, plan_import
from sheets_ops.sheet import Tab
from sheets_ops.sync.xlsx import XlsxTracker


def export(path: Path, count: int) -> None:
    rng = random.Random(3)
    lines = ["Named Insured,Policy Number,Company,LOB,Exp Date,Annual Premium,Producer"]
    for n in range(count):
        expires = date(2027, 1, 1) + timedelta(days=rng.randrange(0, 365))
        lines.append(
            f'"Client {n}",GL-{100000 + n},Acme,GL,{expires:%m/%d/%Y},'
            f'"${rng.randrange(500, 90000):,}.00",Priya Shah'
        )
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> None:
    count = int(argv[0]) if argv else 5_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "policies.csv"
        export(path, count)
        header, lines = read_export(path)
        started = time.perf_counter()
        plan_import(
            header,
            lines,
            column_map(SETTING_DEFAULTS["Renewal Columns"][0]),
            Tab(RENEWALS.name, list(RENEWALS.headers)),
        )
        parse = time.perf_counter() - started
        tracker = XlsxTracker(Path(folder) / "tracker.xlsx")
        tracker.init(TABS)
        quiet = lambda _line: None  # noqa: E731
        started = time.perf_counter()
        first = import_renewals(tracker, path, say=quiet)
        one = time.perf_counter() - started
        started = time.perf_counter()
        second = import_renewals(tracker, path, say=quiet)
        two = time.perf_counter() - started
    print(
        f"{count:,} policies: parse and plan {parse:.2f} s; first import {one:.2f} s "
        f"({first.added:,} added); second {two:.2f} s ({second.unchanged:,} unchanged)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

"""The demo's tracker, cell for cell, at a fixed moment: a refactor that changes what any
cell holds fails here, naming the cell. A change meant to alter the sheet regenerates the
file on purpose: `SHEETS_OPS_GOLDEN=write .venv/bin/pytest tests/test_demo_golden.py`, and
the diff of tests/golden/demo_tracker.json is reviewed with the change."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import openpyxl

from sheets_ops.demo import build_demo

GOLDEN = Path(__file__).parent / "golden" / "demo_tracker.json"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def cells(workbook: Path) -> dict[str, list[list[str | None]]]:
    """Every tab's values as text. The Log's Key column is left out: each cycle draws its
    own keys, so that a retried append is known as the same line."""
    book = openpyxl.load_workbook(workbook)
    tabs: dict[str, list[list[str | None]]] = {}
    for sheet in book.worksheets:
        rows = [
            [None if v is None else str(v) for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        if sheet.title == "Log" and rows:
            keep = [j for j, name in enumerate(rows[0]) if name != "Key"]
            rows = [[row[j] for j in keep] for row in rows]
        tabs[sheet.title] = rows
    return tabs


def test_the_demo_tracker_is_the_same_cell_for_cell(tmp_path: Path) -> None:
    build_demo(tmp_path / "demo", NOW)
    got = cells(tmp_path / "demo" / "tracker.xlsx")
    if os.environ.get("SHEETS_OPS_GOLDEN") == "write":
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    want = json.loads(GOLDEN.read_text())
    assert list(got) == list(want), "the tabs differ"
    for title, rows in want.items():
        for r, (expected, actual) in enumerate(zip(rows, got[title], strict=False), start=1):
            assert actual == expected, f"{title} row {r} differs"
        assert len(got[title]) == len(rows), f"{title}: {len(got[title])} rows, not {len(rows)}"

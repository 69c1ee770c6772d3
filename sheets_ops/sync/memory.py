"""An in-memory tracker: the reference backend for tests and dry runs.

It keeps values exactly as given and counts its calls, so tests can assert that a cycle reads
once and writes at most once, like the real backends.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from sheets_ops.model import DASHBOARD, CellValue, TabSpec
from sheets_ops.sheet import (
    Batch,
    Snapshot,
    Tab,
    normalize_header,
    renamed_as,
    renamed_line,
    seed_rows,
)
from sheets_ops.sync.tracker import WriteReport, apply_plan, merge_report, plan_batch


class MemoryTracker:
    def __init__(self, tabs: dict[str, Tab] | None = None, name: str = "memory") -> None:
        self.tabs: dict[str, Tab] = tabs if tabs is not None else {}
        self._name = name
        self.reads = 0
        self.writes = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def identity(self) -> str:
        return f"memory:{id(self)}"

    def read(self) -> Snapshot:
        self.reads += 1
        return Snapshot(copy.deepcopy(self.tabs))

    def write(self, batch: Batch) -> WriteReport:
        if not batch:
            return WriteReport()
        self.writes += 1
        snapshot = Snapshot(self.tabs)  # finds tabs the way every backend does
        plans = plan_batch(batch, snapshot.tab)
        for name, plan in plans.items():
            tab = snapshot.tab(name)
            assert tab is not None
            apply_plan(tab, plan)
        for name, grid in batch.grids.items():
            self.tabs[name] = Tab(
                name,
                [str(v) if v is not None else "" for v in grid[0]],
                [list(r) for r in grid[1:]],
            )
        return merge_report(WriteReport(), batch, plans)

    def link(self, row: int) -> str:
        return ""

    def init(self, tabs: Sequence[TabSpec]) -> list[str]:
        done = []
        for spec in tabs:
            tab = self.tabs.get(spec.name)
            if tab is None:
                tab = self.tabs[spec.name] = Tab(spec.name, [])
                done.append(f"created tab {spec.name}")
            have = {normalize_header(h) for h in tab.header}
            for column in spec.laid_out:
                renamed = renamed_as(tab.header, tab.rows, spec, column.name)
                if normalize_header(column.name) not in have and renamed is not None:
                    done.append(renamed_line(spec, renamed, column.name) + "; init added no column")
                elif normalize_header(column.name) not in have:
                    tab.header.append(column.name)
                    done.append(f'added header "{column.name}" to {spec.name}')
            rows, said = seed_rows(spec, tab)
            cols = tab.columns()
            for seed in rows:
                row: list[CellValue] = [None] * len(tab.header)
                for name, value in seed.items():
                    row[cols[normalize_header(name)]] = value
                tab.rows.append(row)
            if said:
                done.append(said)
        if DASHBOARD not in self.tabs:
            self.tabs[DASHBOARD] = Tab(DASHBOARD, [])
            done.append(f"created tab {DASHBOARD}")
        return done

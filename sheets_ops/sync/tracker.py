"""The tracker interface, shaped for a batch API, and how a Batch becomes writes.

A backend does two things per cycle: `read()` every tab in one call, and `write(batch)` a batch
of cell changes and new rows in one call. The data they exchange is `sheets_ops.sheet`; this
module plans a batch against the tab as it is at write time (relocating rows, guarding
people's cells, chunking big writes) so the backends (`memory`, `xlsx`, and Google) only move
cells.

Rows are identified by their key (the Requests ID), never by position alone: a write carries
the row number seen at read time as a hint, and `plan_tab` relocates the row by key when a person
sorted, filtered or inserted rows in between. Columns are found by header text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sheets_ops.model import CellValue, TabSpec, is_blank
from sheets_ops.sheet import (
    ADDED,
    CONFLICT,
    NOT_WRITTEN,
    PRESENT,
    Batch,
    CellWrite,
    Drop,
    Move,
    NewRow,
    Snapshot,
    Tab,
    Unguarded,
    cell_text,
    header_problems,
    normalize_header,
    spec_for,
)


@dataclass
class WriteReport:
    """What a write did. `row_outcomes[i]` says what became of `batch.rows[i]`:
    added, present (already there), conflict or not written (its tab was broken)."""

    cells_written: int = 0
    row_outcomes: list[str] = field(default_factory=list)
    cells_done: set[int] = field(default_factory=set)  # indexes into batch.cells
    skipped: list[str] = field(default_factory=list)
    rows_moved: int = 0
    # A write too big for one request, spread over cycles: (requests written, requests the
    # batch touched). None when the whole batch was written.
    catching_up: tuple[int, int] | None = None

    @property
    def rows_added(self) -> int:
        return self.row_outcomes.count(ADDED)


@dataclass
class TabPlan:
    """Cell writes by (row index into Tab.rows, column index) and rows to append."""

    updates: list[tuple[int, int, CellValue]] = field(default_factory=list)
    appends: list[list[CellValue]] = field(default_factory=list)
    append_at: int = 0  # index into Tab.rows where the first appended row goes
    outcomes: dict[int, str] = field(default_factory=dict)  # batch row index -> outcome
    skipped: list[str] = field(default_factory=list)
    cells_done: list[int] = field(default_factory=list)  # indexes into batch.cells
    deletes: list[int] = field(default_factory=list)  # rows moved out (indexes into Tab.rows)


def last_used_row(tab: Tab) -> int:
    """Number of rows up to the last one holding anything."""
    n = len(tab.rows)
    while n and all(is_blank(v) for v in tab.rows[n - 1]):
        n -= 1
    return n


def _same(a: CellValue, b: CellValue) -> bool:
    return a == b or cell_text(a) == cell_text(b)


def plan_batch(batch: Batch, tab_for: Callable[[str], Tab | None]) -> dict[str, TabPlan]:
    """Plan every tab a batch touches, keyed by the batch's tab names. Tabs holding rows that
    depend on other rows (`NewRow.after`) are planned last, once those outcomes are known."""
    seen: dict[str, Tab | None] = {}

    def tab(name: str) -> Tab | None:  # a backend may build a Tab at each call: once each
        if name not in seen:
            seen[name] = tab_for(name)
        return seen[name]

    names = batch.tabs()
    dependent = {r.tab for r in batch.rows if r.dependent}
    order = [n for n in names if n not in dependent] + [n for n in names if n in dependent]
    outcomes: dict[int, str] = {}
    cells_done: set[int] = set()
    plans: dict[str, TabPlan] = {}
    for name in order:
        found = tab(name)
        if found is not None:
            plans[name] = plan = plan_tab(found, batch, decided=outcomes, cells_done=cells_done)
            outcomes.update(plan.outcomes)
            cells_done.update(plan.cells_done)
    _plan_moves(batch.moves, tab, plans)
    _plan_drops(batch.drops, tab, plans)
    return plans


def _plan_drops(
    drops: list[Drop], tab_for: Callable[[str], Tab | None], plans: dict[str, TabPlan]
) -> None:
    """The rows each Drop deletes, found by their column's value at write time."""
    for drop in drops:
        found, plan, spec = tab_for(drop.tab), plans.get(drop.tab), spec_for(drop.tab)
        if found is None or plan is None or (spec is not None and header_problems(found, spec)):
            continue  # plan_tab said so already; nothing is deleted from a broken tab
        columns = found.columns()
        j = columns.get(normalize_header(drop.column))
        s = columns.get(normalize_header(drop.still[0])) if drop.still else None
        if j is None or (drop.still is not None and s is None):
            continue
        gone = set(plan.deletes)
        for i, row in enumerate(found.rows):
            if i in gone or j >= len(row) or cell_text(row[j]) not in drop.keys:
                continue
            held = cell_text(row[s]) if s is not None and s < len(row) else ""
            if drop.still is not None and held not in drop.still[1]:
                continue
            plan.deletes.append(i)
            gone.add(i)


def _plan_moves(
    moves: list[Move], tab_for: Callable[[str], Tab | None], plans: dict[str, TabPlan]
) -> None:
    """Rows to copy into `to` and delete from `tab`; each tab indexed once by key."""
    index: dict[tuple[str, str], tuple[dict[str, list[int]], set[str]]] = {}
    writes: dict[str, dict[int, list[tuple[int, CellValue]]]] = {}
    for move in moves:
        src, dst = tab_for(move.tab), tab_for(move.to)
        spec, dst_spec = spec_for(move.tab), spec_for(move.to)
        if src is None or dst is None or spec is None or dst_spec is None or not spec.key:
            continue
        if header_problems(src, spec) or header_problems(dst, dst_spec):
            continue  # plan_tab said so already; nothing moves out of or into a broken tab
        source, target = plans[move.tab], plans[move.to]
        key = normalize_header(spec.key)
        if (move.tab, move.to) not in index:
            k, dk = src.columns().get(key), dst.columns().get(key)
            where: dict[str, list[int]] = {}
            for i, r in enumerate(src.rows):
                if k is not None and k < len(r) and not is_blank(r[k]):
                    where.setdefault(str(r[k]).strip(), []).append(i)
            there = {
                str(r[dk]).strip()
                for r in dst.rows
                if dk is not None and dk < len(r) and not is_blank(r[dk])
            }
            index[(move.tab, move.to)] = (where, there)
        where, there = index[(move.tab, move.to)]
        found = where.get(move.key.strip(), [])
        if len(found) != 1:
            continue  # moved already (a retried write), or not one row: left where it is
        at = found[0]
        where[move.key.strip()] = []  # the same move twice in a batch moves it once
        row = list(src.rows[at])
        if move.tab not in writes:
            writes[move.tab] = {}
            for i, j, value in source.updates:
                writes[move.tab].setdefault(i, []).append((j, value))
        for j, value in writes[move.tab].get(at, []):  # this batch's writes go along
            row.extend([None] * (j + 1 - len(row)))
            row[j] = value
        by_name = {normalize_header(h): row[j] for j, h in enumerate(src.header) if j < len(row)}
        if move.key.strip() not in there:
            target.appends.append([by_name.get(normalize_header(h)) for h in dst.header])
            there.add(move.key.strip())
        source.deletes.append(at)


def plan_tab(
    tab: Tab,
    batch: Batch,
    spec: TabSpec | None = None,
    decided: dict[int, str] | None = None,
    cells_done: set[int] | None = None,
) -> TabPlan:
    """Decide, against the tab as it is now, which cells and rows of `batch` go where.
    `decided` and `cells_done` say what became of the rows and cells of tabs planned before.

    Pure: the backends call it after a fresh look at the tab, so a sort or an edit made by a
    person since the cycle read the tracker is taken into account.
    """
    spec = spec if spec is not None else spec_for(tab.title)
    plan = TabPlan(append_at=last_used_row(tab))
    title = normalize_header(tab.title)
    new_rows = [(i, r) for i, r in enumerate(batch.rows) if normalize_header(r.tab) == title]
    problems = header_problems(tab, spec) if spec is not None else []
    if problems:
        plan.skipped.append(f"{problems[0]}; nothing was written to it")
        for i, _ in new_rows:
            plan.outcomes[i] = NOT_WRITTEN
        return plan
    rows = _Rows(tab, spec)
    for n, c in enumerate(batch.cells):
        if normalize_header(c.tab) == title:
            _plan_cell(n, c, rows, plan)
    taken = _Taken(tab)
    for i, r in new_rows:
        plan.outcomes[i] = _plan_row(r, rows, taken, plan, decided or {}, cells_done or set())
    return plan


class _Rows:
    """A tab's rows as a write finds them: by sheet row, or by their key (ID)."""

    def __init__(self, tab: Tab, spec: TabSpec | None) -> None:
        self.tab = tab
        self.columns = tab.columns()
        self.key_col = self.columns.get(normalize_header(spec.key)) if spec and spec.key else None
        self._where: dict[str, list[int]] | None = None

    def key_at(self, index: int) -> CellValue:
        if self.key_col is None or index >= len(self.tab.rows):
            return None
        row = self.tab.rows[index]
        return row[self.key_col] if self.key_col < len(row) else None

    def with_key(self, key: str) -> list[int]:
        if self._where is None:
            self._where = {}
            for k in range(len(self.tab.rows)):
                value = self.key_at(k)
                if isinstance(value, str) and value.strip():
                    self._where.setdefault(value.strip(), []).append(k)
        return self._where.get(key, [])


class _Taken:
    """The values already in a tab's dedupe and unique columns, kept current as rows are
    planned."""

    def __init__(self, tab: Tab) -> None:
        self.tab = tab
        self._taken: dict[str, set[str]] = {}

    def __call__(self, column: str) -> set[str]:
        if column not in self._taken:
            values = self.tab.values(column)
            self._taken[column] = {str(v).strip() for v in values if not is_blank(v)}
        return self._taken[column]


def _plan_cell(n: int, c: CellWrite, rows: _Rows, plan: TabPlan) -> None:
    """Where cell write `n` goes: its row found by ID (it may have moved), written only while
    a person's cell still holds what the job saw; anything else is said in `skipped`."""
    tab = rows.tab
    j = rows.columns.get(normalize_header(c.column))
    if j is None:
        plan.skipped.append(f'{tab.title}: no column "{c.column}" any more; {c.key} not set')
        return
    index = c.row - 2
    if c.key == "":
        row = tab.rows[index] if 0 <= index < len(tab.rows) else []
        if not is_blank(rows.key_at(index)) or all(is_blank(v) for v in row):
            plan.skipped.append(
                f"{tab.title}: row {c.row} changed since it was read; left for the next cycle"
            )
            return
    elif not _same(rows.key_at(index), c.key):
        found = rows.with_key(c.key)
        if len(found) != 1:
            why = "is no longer in the tab" if not found else "appears more than once"
            plan.skipped.append(f"{tab.title}: {c.key} {why}; {c.column} not set")
            return
        index = found[0]
    row = tab.rows[index]
    current = row[j] if j < len(row) else None
    if not isinstance(c.only_if, Unguarded) and not _same(current, c.only_if):
        if _same(current, c.value):
            plan.cells_done.append(n)  # it holds this value already: our own earlier write
            return
        plan.skipped.append(
            f"{tab.title}: {c.key or f'row {c.row}'} {c.column} was changed by a person; kept"
        )
        return
    plan.updates.append((index, j, c.value))
    plan.cells_done.append(n)


def _plan_row(
    r: NewRow,
    rows: _Rows,
    taken: _Taken,
    plan: TabPlan,
    decided: dict[int, str],
    cells_done: set[int],
) -> str:
    """What becomes of one new row: appended, found there already (its dedupe key), refused
    (its unique key was taken), or not written (what it belongs to was not)."""
    target = decided.get(r.after) if r.after is not None else ADDED
    if not (target == ADDED or (target == PRESENT and r.dedupe)) or (
        r.after_cell is not None and r.after_cell not in cells_done
    ):
        return NOT_WRITTEN
    if r.dedupe and str(r.cells.get(r.dedupe, "")).strip() in taken(r.dedupe):
        return PRESENT
    if r.unique and str(r.cells.get(r.unique, "")).strip() in taken(r.unique):
        plan.skipped.append(
            f"{rows.tab.title}: {r.cells.get(r.unique)} was taken by another writer; "
            "its message stays in the mailbox for the next cycle"
        )
        return CONFLICT
    values: list[CellValue] = [None] * len(rows.tab.header)
    for name, value in r.cells.items():
        j = rows.columns.get(normalize_header(name))
        if j is not None:
            values[j] = value
    plan.appends.append(values)
    for column in (r.dedupe, r.unique):
        if column:
            taken(column).add(str(r.cells.get(column, "")).strip())
    return ADDED


def runs(indexes: Iterable[int]) -> list[tuple[int, int]]:
    """(start, count) of each block of consecutive indexes, the last block first: deleting
    in that order leaves every earlier index where it was."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(indexes), reverse=True):
        if out and out[-1][0] == i + 1:
            out[-1] = (i, out[-1][1] + 1)
        else:
            out.append((i, 1))
    return out


def apply_plan(tab: Tab, plan: TabPlan) -> None:
    """Apply a plan to in-memory values (the memory backend, and tests)."""
    for index, j, value in plan.updates:
        row = tab.rows[index]
        if j >= len(row):
            row.extend([None] * (j + 1 - len(row)))
        row[j] = value
    del tab.rows[plan.append_at :]
    tab.rows.extend(list(r) for r in plan.appends)
    for start, count in runs(plan.deletes):
        del tab.rows[start : start + count]


def merge_report(report: WriteReport, batch: Batch, plans: dict[str, TabPlan]) -> WriteReport:
    """Fold the per-tab plans into one report, in batch order."""
    outcomes: dict[int, str] = {}
    for plan in plans.values():
        report.cells_written += len(plan.updates)
        report.cells_done.update(plan.cells_done)
        report.skipped.extend(plan.skipped)
        report.rows_moved += len(plan.deletes)
        outcomes.update(plan.outcomes)
    report.row_outcomes = [outcomes.get(i, NOT_WRITTEN) for i in range(len(batch.rows))]
    for i, r in enumerate(batch.rows):
        if i not in outcomes:
            report.skipped.append(f"{r.tab} tab is missing; a row was not written")
    return report


class Tracker(Protocol):
    """What every tracker backend provides. Each method is one round trip."""

    @property
    def name(self) -> str:
        """Where the tracker is, for messages (a path or a sheet title)."""
        ...

    @property
    def identity(self) -> str:
        """What names this tracker for the write lock, however it was spelled (an absolute
        path, a sheet key)."""
        ...

    def read(self) -> Snapshot:
        """Every tab, in one call."""
        ...

    def write(self, batch: Batch) -> WriteReport:
        """Every change of a cycle, in one call; relocates rows by key first."""
        ...

    def init(self, tabs: Sequence[TabSpec]) -> list[str]:
        """Create or repair tabs, headers, dropdowns, colours and filters; delete nothing.
        Returns one line per thing it did."""
        ...

    def link(self, row: int) -> str:
        """A link a person can click to reach a Requests row, or "" when there is none."""
        ...

"""The tracker interface, shaped for a batch API.

A backend does two things per cycle: `read()` every tab in one call, and `write(batch)` a batch
of cell changes and new rows in one call. Everything here is data and pure planning; the
backends (`memory`, `xlsx`, and Google) only move cells.

Rows are identified by their key (the Requests ID), never by position alone: a write carries
the row number seen at read time as a hint, and `plan_tab` relocates the row by key when a person
sorted, filtered or inserted rows in between. Columns are found by header text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sheets_ops.model import TAB_BY_NAME, CellValue, TabSpec, is_blank


class TrackerError(Exception):
    """A problem with the tracker, said in one line that tells how to fix it."""


class HeaderError(TrackerError):
    """A tab or a required header is missing, renamed or ambiguous."""

    def __init__(self, tab: str, line: str) -> None:
        super().__init__(line)
        self.tab = tab


def normalize_header(text: CellValue) -> str:
    """Header (and tab name) matching forgives case and stray spaces, nothing else."""
    return " ".join(str(text or "").split()).casefold()


def spec_for(title: str) -> TabSpec | None:
    """The contract of a tab, whatever case or spacing its name has in the sheet."""
    for name, spec in TAB_BY_NAME.items():
        if normalize_header(name) == normalize_header(title):
            return spec
    return None


@dataclass
class Tab:
    """One tab's values: `header` is sheet row 1; `rows[i]` is sheet row i + 2."""

    title: str
    header: list[str]
    rows: list[list[CellValue]] = field(default_factory=list)

    def columns(self) -> dict[str, int]:
        """Normalized header text -> column index (first occurrence)."""
        index: dict[str, int] = {}
        for i, h in enumerate(self.header):
            key = normalize_header(h)
            if key and key not in index:
                index[key] = i
        return index

    def col(self, name: str) -> int | None:
        return self.columns().get(normalize_header(name))

    def records(self) -> Iterator[tuple[int, dict[str, CellValue]]]:
        """(sheet row number, {header: value}) for each non-empty row."""
        cols = self.columns()
        for i, row in enumerate(self.rows):
            if all(is_blank(v) for v in row):
                continue
            yield i + 2, {h: (row[j] if j < len(row) else None) for h, j in cols.items()}

    def values(self, name: str) -> list[CellValue]:
        """Every value in one column, blank rows included."""
        j = self.col(name)
        if j is None:
            return []
        return [row[j] if j < len(row) else None for row in self.rows]


@dataclass
class Snapshot:
    """Every tab of the tracker as read in one call."""

    tabs: dict[str, Tab]

    def tab(self, name: str) -> Tab | None:
        if name in self.tabs:
            return self.tabs[name]
        for title, tab in self.tabs.items():
            if normalize_header(title) == normalize_header(name):
                return tab
        return None


def header_problems(tab: Tab | None, spec: TabSpec) -> list[str]:
    """What is wrong with a tab's header row, each said in one line; empty when it is fine."""
    if tab is None:
        return [f"{spec.name} tab: missing from the tracker; run `sheets-ops init` to add it"]
    problems = []
    seen: dict[str, int] = {}
    for h in tab.header:
        key = normalize_header(h)
        if key:
            seen[key] = seen.get(key, 0) + 1
    for name in spec.headers:
        count = seen.get(normalize_header(name), 0)
        if count == 0:
            problems.append(
                f'{spec.name} tab: required header "{name}" is missing from row 1; '
                "rename the column back or run `sheets-ops init` to add it"
            )
        elif count > 1:
            problems.append(
                f'{spec.name} tab: header "{name}" appears {count} times in row 1; '
                "rename or delete the extra column"
            )
    return problems


def seed_rows(spec: TabSpec, tab: Tab) -> tuple[list[dict[str, CellValue]], str]:
    """The default rows `init` adds to a tab, and how to say so: all of them to an empty tab;
    to a keyed one (Settings) those whose key is missing; none otherwise."""
    names = [c.name for c in spec.columns + spec.optional]
    rows: list[dict[str, CellValue]] = [dict(zip(names, seed, strict=False)) for seed in spec.seed]
    if not any(not is_blank(v) for row in tab.rows for v in row):
        return rows, f"filled {spec.name} with defaults" if rows else ""
    if spec.key is None:
        return [], ""
    have = {normalize_header(v) for v in tab.values(spec.key) if not is_blank(v)}
    new = [r for r in rows if normalize_header(r.get(spec.key)) not in have]
    keys = ", ".join(str(r.get(spec.key)) for r in new)
    return new, f"added {keys} to {spec.name}" if new else ""


def check_tab(snapshot: Snapshot, spec: TabSpec) -> Tab:
    """The tab, or a HeaderError naming the first problem."""
    tab = snapshot.tab(spec.name)
    problems = header_problems(tab, spec)
    if problems or tab is None:
        raise HeaderError(spec.name, problems[0])
    return tab


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()  # a CellWrite that writes whatever the cell holds now


@dataclass(frozen=True)
class CellWrite:
    """Set one cell of the row whose key is `key`.

    `row` is where the row was at read time (a hint). `key` is "" for a row a person typed
    without an ID: that row is written only if it is still at `row`, still has no ID and is
    not empty. `only_if` makes the write conditional on what the cell holds at write time:
    `None` (blank) for human* fills, so a person's edit in between is never overwritten.
    """

    tab: str
    key: str
    row: int
    column: str
    value: CellValue
    only_if: CellValue | _Any = ANY

    @property
    def guarded(self) -> bool:
        """Whether the write depends on what the cell holds at write time."""
        return not isinstance(self.only_if, _Any)


@dataclass(frozen=True)
class NewRow:
    """A row to append. `dedupe`: a column whose equal value already in the tab means the
    row is already there (a retried append). `unique`: a column whose value must not be in
    the tab yet (an ID another writer took); such a row is not written. `after`: the index
    in the batch of a row this one belongs to (a Log line for a new request); it is written
    only if that row is added. `after_cell`: the same for a cell write (the ID given to a
    row a person typed in)."""

    tab: str
    cells: dict[str, CellValue]
    dedupe: str | None = None
    unique: str | None = None
    after: int | None = None
    after_cell: int | None = None

    @property
    def dependent(self) -> bool:
        return self.after is not None or self.after_cell is not None


ADDED, PRESENT, CONFLICT, NOT_WRITTEN = "added", "present", "conflict", "not written"


@dataclass(frozen=True)
class Move:
    """Move the row whose key is `key` from `tab` to the end of `to`, whole, as it is at
    write time: its cells are copied by header name, then the row is deleted. A row no
    longer in `tab` (moved already) is left alone; one already in `to` is not copied twice."""

    tab: str
    key: str
    to: str


@dataclass
class Batch:
    """`grids`: job-owned tabs (the Dashboard) whose whole content is replaced, from A1; the
    tab is created if it is missing. Grids have a fixed size, so nothing stale is left over."""

    cells: list[CellWrite] = field(default_factory=list)
    rows: list[NewRow] = field(default_factory=list)
    grids: dict[str, list[list[CellValue]]] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.cells or self.rows or self.grids or self.moves)

    def tabs(self) -> list[str]:
        names = [c.tab for c in self.cells] + [r.tab for r in self.rows]
        names += [m.tab for m in self.moves] + [m.to for m in self.moves]
        return list(dict.fromkeys(names))


@dataclass
class WriteReport:
    """What a write did. `row_outcomes[i]` says what became of `batch.rows[i]`:
    added, present (already there), conflict or not written (its tab was broken)."""

    cells_written: int = 0
    row_outcomes: list[str] = field(default_factory=list)
    cells_done: set[int] = field(default_factory=set)  # indexes into batch.cells
    skipped: list[str] = field(default_factory=list)
    rows_moved: int = 0

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
    if is_blank(a) and is_blank(b):
        return True
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return a == b


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
    return plans


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
    decided = decided or {}
    cells_done = cells_done or set()
    spec = spec if spec is not None else spec_for(tab.title)
    plan = TabPlan(append_at=last_used_row(tab))
    title = normalize_header(tab.title)
    cells = [(n, c) for n, c in enumerate(batch.cells) if normalize_header(c.tab) == title]
    new_rows = [(i, r) for i, r in enumerate(batch.rows) if normalize_header(r.tab) == title]
    if spec is not None:
        problems = header_problems(tab, spec)
        if problems:
            plan.skipped.append(f"{problems[0]}; nothing was written to it")
            for i, _ in new_rows:
                plan.outcomes[i] = NOT_WRITTEN
            return plan
    columns = tab.columns()
    key_col = columns.get(normalize_header(spec.key)) if spec and spec.key else None

    def key_at(index: int) -> CellValue:
        if key_col is None or index >= len(tab.rows):
            return None
        row = tab.rows[index]
        return row[key_col] if key_col < len(row) else None

    where: dict[str, list[int]] | None = None
    for n, c in cells:
        j = columns.get(normalize_header(c.column))
        if j is None:
            plan.skipped.append(f'{tab.title}: no column "{c.column}" any more; {c.key} not set')
            continue
        index = c.row - 2
        if c.key == "":
            row = tab.rows[index] if 0 <= index < len(tab.rows) else []
            if not is_blank(key_at(index)) or all(is_blank(v) for v in row):
                plan.skipped.append(
                    f"{tab.title}: row {c.row} changed since it was read; left for the next cycle"
                )
                continue
        elif not _same(key_at(index), c.key):
            if where is None:
                where = {}
                for k in range(len(tab.rows)):
                    kv = key_at(k)
                    if isinstance(kv, str) and kv.strip():
                        where.setdefault(kv.strip(), []).append(k)
            found = where.get(c.key, [])
            if len(found) != 1:
                why = "is no longer in the tab" if not found else "appears more than once"
                plan.skipped.append(f"{tab.title}: {c.key} {why}; {c.column} not set")
                continue
            index = found[0]
        row = tab.rows[index]
        current = row[j] if j < len(row) else None
        if not isinstance(c.only_if, _Any) and not _same(current, c.only_if):
            plan.skipped.append(
                f"{tab.title}: {c.key or f'row {c.row}'} {c.column} was changed by a person; kept"
            )
            continue
        plan.updates.append((index, j, c.value))
        plan.cells_done.append(n)

    taken: dict[str, set[str]] = {}

    def existing(column: str) -> set[str]:
        if column not in taken:
            taken[column] = {str(v).strip() for v in tab.values(column) if not is_blank(v)}
        return taken[column]

    width = len(tab.header)
    for i, r in new_rows:
        if (r.after is not None and decided.get(r.after) != ADDED) or (
            r.after_cell is not None and r.after_cell not in cells_done
        ):
            plan.outcomes[i] = NOT_WRITTEN  # what it belongs to was not written
            continue
        if r.dedupe and str(r.cells.get(r.dedupe, "")).strip() in existing(r.dedupe):
            plan.outcomes[i] = PRESENT
            continue
        if r.unique and str(r.cells.get(r.unique, "")).strip() in existing(r.unique):
            plan.outcomes[i] = CONFLICT
            plan.skipped.append(
                f"{tab.title}: {r.cells.get(r.unique)} was taken by another writer; "
                "its message stays in the mailbox for the next cycle"
            )
            continue
        values: list[CellValue] = [None] * width
        for name, value in r.cells.items():
            j = columns.get(normalize_header(name))
            if j is not None:
                values[j] = value
        plan.appends.append(values)
        plan.outcomes[i] = ADDED
        for column in (r.dedupe, r.unique):
            if column:
                existing(column).add(str(r.cells.get(column, "")).strip())
    return plan


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

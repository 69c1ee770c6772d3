"""The sheet as data: tabs, snapshots and the changes a cycle wants written.

This is the ground floor every layer stands on: `rules/` and `reports/` decide in terms of a
Snapshot (every tab as read) and return CellWrite, NewRow and Move values; `sync/` backends
read a Snapshot and apply a Batch. It also says, in one place, what a cell means: a header is
matched forgiving case and spaces (`normalize_header`), a cell compares by its text
(`cell_text`: a blank is "", a date is YYYY-MM-DD), a moment is read whichever way a backend
hands it back (`as_moment`). Nothing here does I/O.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from sheets_ops.model import TAB_BY_NAME, CellValue, Column, TabSpec, is_blank


class TrackerError(Exception):
    """A problem with the tracker, said in one line that tells how to fix it."""


class SetupError(TrackerError):
    """The tracker cannot be used as it is set up (missing, not shared, a tab or header renamed):
    a configuration error, exit status 2, fixed by a person rather than by trying again."""


class HeaderError(SetupError):
    """A tab or a required header is missing, renamed or ambiguous."""

    def __init__(self, tab: str, line: str) -> None:
        super().__init__(line)
        self.tab = tab


@functools.lru_cache(maxsize=8192)
def normalize_header(text: CellValue) -> str:
    """Header (and tab name) matching forgives case and stray spaces, nothing else. Cached:
    the same few dozen names are asked for hundreds of thousands of times a cycle."""
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
        keys, where = list(cols), list(cols.values())
        plain = where == list(range(len(where)))  # every header once, none blank: zip them
        width = len(where)
        for i, row in enumerate(self.rows):
            if blank_row(row):
                continue
            if plain:
                short = width - len(row)
                padded = row if short <= 0 else [*row, *[None] * short]
                yield i + 2, dict(zip(keys, padded, strict=False))  # longer rows: cut
            else:
                yield i + 2, {h: (row[j] if j < len(row) else None) for h, j in cols.items()}

    def picked(self, *names: str) -> Iterator[tuple[CellValue, ...]] | None:
        """Each row's cells under `names`, in that order (None past a row's end), blank rows
        included: one pass over the few columns a reader needs, with no record made per row
        (the Log, read by every cycle, is the biggest tab). None when a header is missing."""
        cols = self.columns()
        at = [cols.get(normalize_header(n)) for n in names]
        where = [j for j in at if j is not None]
        if not where or len(where) < len(at):
            return None
        width = max(where) + 1
        rows: Iterable[list[CellValue]] = self.rows
        if any(len(row) < width for row in self.rows):  # Google leaves trailing blanks off
            rows = (r if len(r) >= width else [*r, *[None] * (width - len(r))] for r in self.rows)
        if len(where) == 1:
            return ((row[where[0]],) for row in rows)
        return map(operator.itemgetter(*where), rows)

    def values(self, name: str) -> list[CellValue]:
        """Every value in one column, blank rows included."""
        j = self.col(name)
        if j is None:
            return []
        return [row[j] if j < len(row) else None for row in self.rows]


_CELL_TYPES = frozenset({type(None), str, int, float, bool, datetime, date})


def cell_value(value: object) -> CellValue:
    """What a workbook reader read (openpyxl, python-calamine), as one of the types a
    tracker cell holds."""
    if type(value) in _CELL_TYPES:
        return value  # type: ignore[return-value]
    if isinstance(value, Decimal):
        return float(value)
    return str(value)  # rich text, a time of day, a duration, an array formula


def tab_from_rows(title: str, rows: Iterable[Sequence[object]], *, converted: bool = False) -> Tab:
    """A tab from its rows, row 1 the header. `converted`: the values are tracker cell
    values already (the fast reader's), so they are not looked at one by one again."""
    it = iter(rows)
    first = next(it, ())
    header = ["" if v is None else str(v).strip() for v in first]
    while header and not header[-1]:
        header.pop()
    values: list[list[CellValue]] = (
        list(it)  # type: ignore[arg-type]
        if converted
        else [[cell_value(v) for v in r] for r in it]
    )
    tab = Tab(title, header, values)
    while tab.rows and all(is_blank(v) for v in tab.rows[-1]):
        tab.rows.pop()
    return tab


def blank_row(row: Sequence[CellValue]) -> bool:
    """Whether every cell of a row is empty (a loop that stops at the first value: a row's
    first cell is its ID, so this is one look for nearly every row)."""
    for v in row:
        if v is None or (type(v) is str and not v.strip()):
            continue
        return False
    return True


@dataclass
class Snapshot:
    """Every tab of the tracker as read in one call. `revision`: the same at two reads only
    when the tracker held exactly the same at both (the .xlsx file's identity); None when
    the backend cannot tell."""

    tabs: dict[str, Tab]
    revision: str | None = None

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
            renamed = renamed_as(tab.header, tab.rows, spec, name)
            if renamed is not None:
                problems.append(renamed_line(spec, renamed, name))
                continue
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


def renamed_line(spec: TabSpec, found: str, name: str) -> str:
    return (
        f'{spec.name} tab: "{found}" looks like the renamed "{name}" column: '
        f'rename it back to "{name}"'
    )


def _fits(column: Column, values: list[CellValue]) -> bool:
    """Whether a column's values look like what `column` holds (most of them, and some)."""
    filled = [v for v in values if not is_blank(v)]
    if len(filled) < 1:
        return False
    if column.choices:
        allowed = {normalize_header(c) for c in column.choices}
        hits = sum(normalize_header(v) in allowed for v in filled)
    elif column.kind in ("date", "datetime"):
        hits = sum(isinstance(v, date) for v in filled)
    elif column.name == "ID":
        hits = sum(isinstance(v, str) and v.strip().upper().startswith("REQ-") for v in filled)
    else:
        return False
    return hits >= 0.8 * len(filled)


def renamed_as(
    header: Sequence[CellValue], rows: Sequence[Sequence[CellValue]], spec: TabSpec, name: str
) -> str | None:
    """The header of a column that looks like the missing required column `name` renamed:
    one the contract does not know, whose values are that column's kind (a Status column
    holds Status values), or that stands where init puts `name` and holds something."""
    if name not in spec.headers:
        return None
    known = {normalize_header(c.name) for c in spec.columns + spec.optional}
    column = spec.column(name)
    where = spec.headers.index(name)
    near: str | None = None
    for j, text in enumerate(header):
        if is_blank(text) or normalize_header(text) in known:
            continue
        values = [r[j] if j < len(r) else None for r in rows[:500]]
        if _fits(column, values):
            return str(text).strip()
        if j == where and any(not is_blank(v) for v in values) and not column.choices:
            near = str(text).strip()
    return near


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


class Unguarded:
    def __repr__(self) -> str:
        return "ANY"


ANY = Unguarded()  # a CellWrite that writes whatever the cell holds now


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
    only_if: CellValue | Unguarded = ANY

    @property
    def guarded(self) -> bool:
        """Whether the write depends on what the cell holds at write time."""
        return not isinstance(self.only_if, Unguarded)


@dataclass(frozen=True)
class NewRow:
    """A row to append. `dedupe`: a column whose equal value already in the tab means the
    row is already there (a retried append). `unique`: a column whose value must not be in
    the tab yet (an ID another writer took); such a row is not written. `after`: the index
    in the batch of a row this one belongs to (a Log line for a new request); it is written
    only if that row is added, or found there when this row has a `dedupe` of its own (a
    retried write: its key then finds it too). `after_cell`: the same for a cell write (the
    ID given to a row a person typed in)."""

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


@dataclass(frozen=True)
class Drop:
    """Delete every row of `tab` whose `column` holds one of `keys`, as the tab is at write
    time, once its rows are safe elsewhere (copied to the archive first). `still`: a column
    and the values it must still hold (a request reopened since the read stays)."""

    tab: str
    column: str
    keys: frozenset[str]
    still: tuple[str, frozenset[str]] | None = None


@dataclass
class Batch:
    """`grids`: job-owned tabs (the Dashboard) whose whole content is replaced, from A1; the
    tab is created if it is missing. Grids have a fixed size, so nothing stale is left over."""

    cells: list[CellWrite] = field(default_factory=list)
    rows: list[NewRow] = field(default_factory=list)
    grids: dict[str, list[list[CellValue]]] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.cells or self.rows or self.grids or self.moves or self.drops)

    def tabs(self) -> list[str]:
        names = [c.tab for c in self.cells] + [r.tab for r in self.rows]
        names += [m.tab for m in self.moves] + [m.to for m in self.moves]
        names += [d.tab for d in self.drops]
        return list(dict.fromkeys(names))


def merged(*batches: Batch) -> Batch:
    """Several stages' changes as one batch, in order. A row's `after` and `after_cell` point
    into its own stage's batch; here they are shifted to where that stage's changes land."""
    out = Batch()
    for batch in batches:
        rows, cells = len(out.rows), len(out.cells)
        out.cells += batch.cells
        out.rows += [
            replace(
                r,
                after=None if r.after is None else r.after + rows,
                after_cell=None if r.after_cell is None else r.after_cell + cells,
            )
            if r.dependent
            else r
            for r in batch.rows
        ]
        out.grids.update(batch.grids)
        out.moves += batch.moves
        out.drops += batch.drops
    return out


def counted(n: int, thing: str) -> str:
    """ "1 email", "2 emails", "1,487 renewals": a count and its noun, as people write it."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def column_letter(index: int) -> str:
    """The letters of a 0-based column index: 0 is A, 26 is AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def local(moment: datetime, zone: tzinfo) -> datetime:
    """A naive wall-clock time in the agency's zone: what a spreadsheet cell can hold."""
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def cell_text(value: CellValue) -> str:
    """A cell as text, by what it means: the one way cells are compared (change detection,
    the state file, write guards). A blank is ""; a date is `YYYY-MM-DD` whether a backend
    hands it back as a date or as midnight of that day; a whole float is an integer."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0 and not value.microsecond:
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


SERIAL_EPOCH = datetime(1899, 12, 30)  # day 0 of spreadsheet date serial numbers


def as_moment(value: CellValue) -> datetime | None:
    """A cell that holds a moment, however the backend hands it back: a datetime, a date
    serial number (Google's answer for a date in a column of no declared kind), ISO text."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value < 2_958_466:
        return (SERIAL_EPOCH + timedelta(seconds=round(float(value) * 86_400))).replace(
            microsecond=0
        )
    if isinstance(value, str) and value.strip():
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def as_day(value: CellValue) -> date | None:
    """A cell that holds a day: a date, a datetime (its day), or ISO text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def as_number(value: CellValue) -> float | None:
    """A cell that holds a number: a number, or text that reads as one; a tick box is not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip()) if not is_blank(value) else None
    except ValueError:
        return None

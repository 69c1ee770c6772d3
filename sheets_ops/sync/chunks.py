"""Writes too big for one request: a batch cut into ordered chunks, each under a byte
bound and safe to apply twice, and what their writes did folded back into one report in the
whole batch's indexes (the Google backend; Google refuses 10 MB and advises about 2 MB)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sheets_ops.model import CellValue
from sheets_ops.sheet import ADDED, PRESENT, Batch, NewRow, cell_text, normalize_header
from sheets_ops.sync.tracker import WriteReport

CHUNK_BYTES = 1_800_000  # an upper bound per request: Google refuses 10 MB, advises ~2 MB
AGING = frozenset({"age (h)", "idle (h)"})  # refreshed last: the next cycle recomputes them


@dataclass(frozen=True)
class Chunk:
    """Part of a batch, by index into its lists, small enough for one request."""

    cells: tuple[int, ...] = ()
    rows: tuple[int, ...] = ()
    moves: tuple[int, ...] = ()
    grids: tuple[str, ...] = ()
    drops: tuple[int, ...] = ()


def _cost(value: CellValue) -> int:
    """About what one cell costs in a request, at most: its JSON, escapes and non-ASCII
    counted twice, and the wrapping of a cell that shares no request with its neighbours."""
    return 96 + len(cell_text(value)) * 2


def _write_cost(value: CellValue) -> int:
    """A cell write on an existing row: as `_cost`, with a range of its own around it."""
    return 160 + _cost(value)


def chunk_batch(batch: Batch, limit: int = CHUNK_BYTES) -> list[Chunk]:
    """The batch in ordered chunks of about `limit` bytes each: first the rows people typed
    in and every new row (new requests with their Log lines, the records of emails), then each
    existing row's changes together with the Log lines about them (never one without the
    other), then aging, then moves, then job-owned grids. Written in this order, each chunk on
    a fresh look at the sheet, every chunk is safe to apply twice (rows found by key and
    deduplicated, cells guarded by what they held), and stopping between two chunks leaves
    the sheet consistent: what is left is planned again by the next cycle."""
    return _pack(batch, _units(batch), limit)


Unit = list[tuple[str, int]]  # (kind, index): what must go in one chunk


def _units(batch: Batch) -> list[Unit]:
    """What must go together, in the order it is written (see `chunk_batch`)."""
    first: Unit = [("cell", n) for n, c in enumerate(batch.cells) if c.key == ""]
    by_row: dict[tuple[str, str], Unit] = {}
    aging: list[Unit] = []
    new = {  # requests this batch adds, or gives an ID: their Log lines go in with them
        str(r.cells.get("ID") or "").strip()
        for r in batch.rows
        if normalize_header(r.tab) == "requests"
    } | {str(c.value).strip() for c in batch.cells if c.key == "" and c.column == "ID"}
    for i, r in enumerate(batch.rows):
        about = str(r.cells.get("Request") or "").strip()
        if normalize_header(r.tab) == "log" and about and not r.dependent and about not in new:
            by_row.setdefault(("requests", about), []).append(("row", i))
        else:
            first.append(("row", i))
    for n, c in enumerate(batch.cells):
        if c.key == "":
            continue
        if normalize_header(c.column) in AGING:
            aging.append([("cell", n)])
        else:
            by_row.setdefault((normalize_header(c.tab), c.key), []).append(("cell", n))
    units: list[Unit] = [[item] for item in first]
    units += list(by_row.values()) + aging
    units += [[("move", n)] for n in range(len(batch.moves))]
    units += [[("drop", n)] for n in range(len(batch.drops))]
    return units + [[("grid", k)] for k in range(len(batch.grids))]


def _unit_cost(batch: Batch, kind: str, index: int) -> int:
    if kind == "cell":
        return _write_cost(batch.cells[index].value)
    if kind == "row":
        return 32 + sum(_cost(v) for v in batch.rows[index].cells.values())
    if kind == "move":
        return 4_000  # a whole row copied
    if kind == "drop":
        return 200 + 120 * len(batch.drops[index].keys)  # a deleteDimension per row, at most
    grid = list(batch.grids.values())[index]
    return sum(_cost(v) for row in grid for v in row)


def _pack(batch: Batch, units: list[Unit], limit: int) -> list[Chunk]:
    """The units in order, as many to a chunk as fit under `limit`."""
    names = list(batch.grids)
    chunks: list[Chunk] = []
    taken: dict[str, list[int]] = {"cell": [], "row": [], "move": [], "grid": [], "drop": []}
    size = 0

    def close() -> None:
        if any(taken.values()):
            chunks.append(
                Chunk(
                    tuple(sorted(taken["cell"])),
                    tuple(sorted(taken["row"])),
                    tuple(taken["move"]),
                    tuple(names[k] for k in taken["grid"]),
                    tuple(taken["drop"]),
                )
            )
        for v in taken.values():
            v.clear()

    for unit in units:
        weight = sum(_unit_cost(batch, kind, index) for kind, index in unit)
        if size and size + weight > limit:
            close()
            size = 0
        for kind, index in unit:
            taken[kind].append(index)
        size += weight
    close()
    return chunks


def whole(batch: Batch) -> Chunk:
    """The chunk that is all of a batch."""
    return Chunk(
        tuple(range(len(batch.cells))),
        tuple(range(len(batch.rows))),
        tuple(range(len(batch.moves))),
        tuple(batch.grids),
        tuple(range(len(batch.drops))),
    )


@dataclass
class Part:
    """One chunk as a batch of its own, and how its indexes map back to the whole."""

    batch: Batch
    rows: list[int]  # part row index -> batch row index
    cells: list[int]  # part cell index -> batch cell index
    dropped: list[int]  # batch rows left out: what they belong to was not written


def part_of(batch: Batch, chunk: Chunk, outcomes: dict[int, str], done: set[int]) -> Part:
    """A chunk's batch, given what became of the chunks written before it: a Log line for a
    request written earlier loses its dependency; one for a request that was not is dropped."""
    row_at: dict[int, int] = {}  # batch row index -> part row index, as rows are taken
    cell_at = {n: k for k, n in enumerate(chunk.cells)}
    part = Part(Batch(), [], list(chunk.cells), [])
    part.batch.cells = [batch.cells[n] for n in chunk.cells]
    for i in chunk.rows:
        r = batch.rows[i]
        after, after_cell = r.after, r.after_cell
        if after is not None:
            if after in row_at:
                after = row_at[after]
            elif outcomes.get(after) == ADDED or (outcomes.get(after) == PRESENT and r.dedupe):
                after = None
            else:
                part.dropped.append(i)
                continue
        if after_cell is not None:
            if after_cell in cell_at:
                after_cell = cell_at[after_cell]
            elif after_cell in done:
                after_cell = None
            else:
                part.dropped.append(i)
                continue
        row_at[i] = len(part.rows)
        part.rows.append(i)
        part.batch.rows.append(
            NewRow(r.tab, r.cells, r.dedupe, r.unique, after=after, after_cell=after_cell)
        )
    part.batch.moves = [batch.moves[n] for n in chunk.moves]
    part.batch.drops = [batch.drops[n] for n in chunk.drops]
    part.batch.grids = {g: batch.grids[g] for g in chunk.grids}
    return part


def fold(report: WriteReport, part: Part, written: WriteReport) -> None:
    """What a part's write did, in the whole batch's indexes."""
    report.cells_written += written.cells_written
    report.cells_done.update(part.cells[n] for n in written.cells_done)
    report.skipped.extend(written.skipped)
    report.rows_moved += written.rows_moved
    for k, outcome in enumerate(written.row_outcomes):
        report.row_outcomes[part.rows[k]] = outcome


def request_keys(batch: Batch, chunks: Iterable[Chunk]) -> set[str]:
    """The requests (by ID or Source) that these chunks of the batch change or add."""
    keys: set[str] = set()
    for chunk in chunks:
        for n in chunk.cells:
            c = batch.cells[n]
            if normalize_header(c.tab) == "requests":
                keys.add(c.key or f"row {c.row}")
        for i in chunk.rows:
            r = batch.rows[i]
            if normalize_header(r.tab) == "requests":
                keys.add(str(r.cells.get("ID") or r.cells.get("Source") or i))
    return keys

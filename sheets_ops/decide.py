"""Step 4 of a cycle: every change from (snapshot, messages, now). The review, the renewals
and the archive each return their own changes; `decide` merges them, in the order they are
written, with intake's. And whose a cell is: what the job itself writes into people's
columns is remembered, so it is never taken for a person's edit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sheets_ops.model import LOG, RENEWALS, REQUESTS, CellValue, is_blank
from sheets_ops.reports.health import AGING_REFRESHED, aging_due, health_writes
from sheets_ops.rules.archive import CHUNK, Leaving, leaving, plan_archive
from sheets_ops.rules.directory import Directory
from sheets_ops.rules.intake import IntakePlan
from sheets_ops.rules.renewals import RenewalReview, review_renewals
from sheets_ops.rules.review import HUMAN_COLUMNS, Review, review
from sheets_ops.rules.settings import Settings
from sheets_ops.rules.team import team_from
from sheets_ops.sheet import (
    ADDED,
    PRESENT,
    Batch,
    CellWrite,
    Snapshot,
    Tab,
    cell_text,
    header_problems,
    merged,
)
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import WriteReport


@dataclass(frozen=True)
class TypedRow:
    """A row a person typed without an ID: its sheet row, its cells with the ID and fills
    intake gives it and what the review adds, and the cells before the review."""

    row: int
    cells: dict[str, CellValue]
    before: dict[str, CellValue]

    @property
    def id(self) -> str:
        return cell_text(self.cells.get("ID"))

    def filled(self, fills: Mapping[str, CellValue]) -> TypedRow:
        """The row with the review's fills, in the cells the person left blank."""
        mine = {c: v for c, v in fills.items() if c not in self.before}
        return replace(self, cells={**self.cells, **mine})

    def adoption(self) -> Batch:
        """The review's fills of the row, written with its adoption."""
        return Batch(
            cells=[
                CellWrite(REQUESTS.name, "", self.row, column, value, only_if=None)
                for column, value in self.cells.items()
                if column not in self.before
            ]
        )


def typed_rows(intake: IntakePlan, requests: Tab) -> list[TypedRow]:
    """Each row a person typed without an ID, as intake adopts it."""
    out = []
    for index in intake.adopted.values():
        row = intake.batch.cells[index].row
        values = requests.rows[row - 2] if 0 <= row - 2 < len(requests.rows) else []
        cells: dict[str, CellValue] = {
            h: values[j]
            for j, h in enumerate(requests.header)
            if j < len(values)
            if not is_blank(values[j])
        }
        for fill in intake.batch.cells:  # the job's fills land only where the person left blank
            if fill.key == "" and fill.row == row and fill.column not in cells:
                cells[fill.column] = fill.value
        out.append(TypedRow(row, cells, dict(cells)))
    return out


@dataclass
class Plans:
    """What each stage of step 4 wants, and `batch`, all of it merged in the order it is
    written: intake's rows (with the review's fills), the adoptions, the review, the aging
    refresh, the renewals, the archive. `leaving`: what goes to an archive outside the
    tracker (copied there first; its drops and Log line join the batch once it holds them)."""

    intake: IntakePlan
    review: Review
    renewals: RenewalReview
    typed: list[TypedRow]
    new_rows: list[dict[str, CellValue]]  # the cells of each request intake adds
    batch: Batch
    leaving: Leaving = field(default_factory=Leaving)


def filled(intake: IntakePlan, fills: Mapping[str, Mapping[str, CellValue]]) -> Batch:
    """Intake's batch with the review's Owner, Due and SLA in the rows it adds."""
    rows = list(intake.batch.rows)
    for i in intake.request_rows:
        mine = fills.get(cell_text(rows[i].cells.get("ID")), {})
        rows[i] = replace(rows[i], cells={**rows[i].cells, **mine})
    return replace(intake.batch, rows=rows)


def _renewals(
    snapshot: Snapshot, settings: Settings, directory: Directory, wall: datetime
) -> RenewalReview:
    renewals = snapshot.tab(RENEWALS.name)
    if renewals is None or header_problems(renewals, RENEWALS):
        return RenewalReview()
    return review_renewals(
        renewals,
        snapshot.tab(LOG.name),
        settings.values,
        directory,
        team_from(snapshot),
        wall.date(),
        wall,
    )


def decide(
    snapshot: Snapshot,
    requests: Tab,
    settings: Settings,
    directory: Directory,
    intake: IntakePlan,
    wall: datetime,
    state: StateDir | None,
    archive_out: bool = False,
    chunk: int = CHUNK,
) -> Plans:
    """Step 4: every change from (snapshot, messages, now), stage by stage. `archive_out`:
    archived requests leave the tracker for an archive of their own (sync/archives.py)."""
    refresh = aging_due(snapshot, settings.get("Aging Refresh Minutes"), wall)
    typed = typed_rows(intake, requests)  # rows people typed, as they will be once adopted
    looked = review(
        snapshot,
        requests,
        directory,
        settings.calendar,
        settings.values,
        wall,
        state.load_seen() if state is not None else None,
        [intake.batch.rows[i].cells for i in intake.request_rows] + [t.cells for t in typed],
        state.load_written() if state is not None else {},
        refresh_aging=refresh,
        quiet=state.load_quiet(snapshot.revision) if state is not None else None,
    )
    typed = [t.filled(looked.fills.get(t.id, {})) for t in typed]
    aging = health_writes(snapshot, {AGING_REFRESHED: wall}, True) if refresh else Batch()
    pipeline = _renewals(snapshot, settings, directory, wall)
    so_far = merged(
        filled(intake, looked.fills),
        *(t.adoption() for t in typed),
        looked.batch,
        aging,
        pipeline.batch,
    )
    reopened = {c.key for c in so_far.cells if c.column == "Closed" and c.value is None}
    days = settings.get("Archive After Days")
    where = "the archive" if archive_out else "Archive"
    moves, record = plan_archive(snapshot, days, wall, reopened, where, chunk)
    out = leaving(snapshot, moves, record, wall, chunk) if archive_out else Leaving()
    batch = so_far if archive_out else merged(so_far, Batch(rows=record, moves=moves))
    looked = replace(looked, escalations=looked.escalations + pipeline.escalations)
    new_rows = [batch.rows[i].cells for i in intake.request_rows]
    return Plans(intake, looked, pipeline, typed, new_rows, batch, out)


# -- people's cells: what the job itself wrote is never a person's edit -------------------------


def _human_cells(cells: Mapping[str, CellValue]) -> dict[str, str]:
    return {c: cell_text(cells.get(c)) for c in HUMAN_COLUMNS}


def job_writes(plans: Plans, batch: Batch) -> dict[str, dict[str, str]]:
    """People's cells as this cycle's write will leave them, should it land: if the process
    dies before it can say so, the next cycle still knows these values for the job's own."""
    wrote: dict[str, dict[str, str]] = {}
    for write in batch.cells:
        if write.key and write.tab == REQUESTS.name and write.column in HUMAN_COLUMNS:
            wrote.setdefault(write.key, {})[write.column] = cell_text(write.value)
    for typed in plans.typed:
        wrote[typed.id] = _human_cells(typed.cells)
    for cells in plans.new_rows:
        wrote[str(cells["ID"])] = _human_cells(cells)
    return wrote


def seen_after(plans: Plans, batch: Batch, report: WriteReport) -> dict[str, dict[str, str]]:
    """People's cells as this cycle leaves them: what was read, plus the human* cells the job
    filled itself (an Owner it routed, the fills of a row it adopted, a new request's cells
    are not a person's edit next time)."""
    seen = dict(plans.review.seen)  # a request's cells are copied only when one changes
    for n, write in enumerate(batch.cells):
        ours = write.key and write.tab == REQUESTS.name and write.column in HUMAN_COLUMNS
        if ours and n in report.cells_done:
            seen[write.key] = {**seen.get(write.key, {}), write.column: cell_text(write.value)}
    for i, cells in zip(plans.intake.request_rows, plans.new_rows, strict=True):
        if report.row_outcomes[i] in (ADDED, PRESENT):
            seen[str(cells["ID"])] = _human_cells(cells)
    for typed in plans.typed:
        if plans.intake.adopted.get(typed.id) in report.cells_done:
            seen[typed.id] = _human_cells(typed.cells)
    return seen

"""The tracker interface behaves the same on every backend (memory, xlsx; Google later)."""

from __future__ import annotations

from typing import Any

import pytest

from sheets_ops.model import REQUESTS
from sheets_ops.sheet import (
    ADDED,
    CONFLICT,
    NOT_WRITTEN,
    PRESENT,
    Batch,
    CellWrite,
    Drop,
    HeaderError,
    NewRow,
    check_tab,
)
from sheets_ops.sync.tracker import Tracker
from tests.people import edit_tab, log_rows, rename_tab, requests, set_cell, sort_requests


def request_row(n: int, **cells: Any) -> NewRow:
    values = {"ID": f"REQ-{n:06d}", "Summary": f"request {n}", "Source": f"<m{n}@x>", **cells}
    return NewRow("Requests", values, dedupe="Source", unique="ID")


def add_requests(tracker: Tracker, *numbers: int) -> None:
    report = tracker.write(Batch(rows=[request_row(n) for n in numbers]))
    assert report.row_outcomes == [ADDED] * len(numbers)


def row_of(tracker: Tracker, request_id: str) -> int:
    tab = tracker.read().tabs["Requests"]
    return tab.values("ID").index(request_id) + 2


def test_new_rows_land_under_their_headers_whatever_the_column_order(tracker: Tracker) -> None:
    def reorder(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        header = ["Source", "My Own Column", *[h for h in header if h != "Source"]][::-1]
        return header, rows

    edit_tab(tracker, "Requests", reorder)
    add_requests(tracker, 1)
    [row] = requests(tracker)
    assert row["ID"] == "REQ-000001"
    assert row["Source"] == "<m1@x>"
    assert row["Summary"] == "request 1"
    assert row["My Own Column"] is None


def test_a_write_finds_its_row_by_id_after_a_person_sorts_the_tab(tracker: Tracker) -> None:
    add_requests(tracker, 1, 2, 3)
    seen = {rid: row_of(tracker, rid) for rid in ("REQ-000001", "REQ-000003")}
    sort_requests(tracker, "ID", reverse=True)  # between the cycle's read and its write
    batch = Batch(
        cells=[
            CellWrite("Requests", "REQ-000001", seen["REQ-000001"], "Age (h)", 11),
            CellWrite("Requests", "REQ-000003", seen["REQ-000003"], "Age (h)", 33),
        ]
    )
    report = tracker.write(batch)
    assert report.cells_written == 2
    ages = {r["ID"]: r["Age (h)"] for r in requests(tracker)}
    assert ages == {"REQ-000001": 11, "REQ-000002": None, "REQ-000003": 33}


def test_a_cell_a_person_filled_since_the_read_is_kept(tracker: Tracker) -> None:
    add_requests(tracker, 1)
    row = row_of(tracker, "REQ-000001")
    set_cell(tracker, "REQ-000001", "Owner", "Alicia Gomez")
    fill = CellWrite("Requests", "REQ-000001", row, "Owner", "Tom Becker", only_if=None)
    report = tracker.write(Batch(cells=[fill]))
    assert report.cells_written == 0
    assert "changed by a person" in report.skipped[0]
    assert requests(tracker)[0]["Owner"] == "Alicia Gomez"


def test_a_missing_header_names_the_tab_and_header_and_nothing_is_written_there(
    tracker: Tracker,
) -> None:
    def rename(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        return ["Message Key" if h == "Source" else h for h in header], rows

    edit_tab(tracker, "Requests", rename)
    with pytest.raises(HeaderError) as e:
        check_tab(tracker.read(), REQUESTS)
    assert str(e.value).startswith('Requests tab: required header "Source" is missing')
    assert "\n" not in str(e.value)

    log = NewRow("Log", {"What": "something else"})
    report = tracker.write(Batch(rows=[request_row(1), log]))
    assert report.row_outcomes == [NOT_WRITTEN, ADDED]
    assert requests(tracker) == []
    assert [r["What"] for r in log_rows(tracker)] == ["something else"]
    assert 'required header "Source" is missing' in report.skipped[0]


def test_a_header_that_appears_twice_is_an_error(tracker: Tracker) -> None:
    def twice(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        return [*header, "status"], rows

    edit_tab(tracker, "Requests", twice)
    with pytest.raises(HeaderError, match='header "Status" appears 2 times'):
        check_tab(tracker.read(), REQUESTS)


def test_headers_are_matched_forgiving_case_and_spaces(tracker: Tracker) -> None:
    def loosen(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        return [f" {h.lower()}  " if h == "Summary" else h for h in header], rows

    edit_tab(tracker, "Requests", loosen)
    check_tab(tracker.read(), REQUESTS)
    add_requests(tracker, 1)
    [row] = requests(tracker)
    assert [v for h, v in row.items() if h.strip() == "summary"] == ["request 1"]


def test_a_row_already_in_the_tab_by_source_is_not_appended_again(tracker: Tracker) -> None:
    add_requests(tracker, 1)
    again = request_row(2, Source="<m1@x>")
    report = tracker.write(Batch(rows=[again]))
    assert report.row_outcomes == [PRESENT]
    assert len(requests(tracker)) == 1


def test_an_id_another_writer_took_is_a_conflict_and_not_written(tracker: Tracker) -> None:
    add_requests(tracker, 1)
    clash = request_row(1, Source="<another@x>")
    report = tracker.write(Batch(rows=[clash]))
    assert report.row_outcomes == [CONFLICT]
    assert [r["Source"] for r in requests(tracker)] == ["<m1@x>"]


def test_a_row_typed_without_an_id_is_written_only_while_it_still_has_none(
    tracker: Tracker,
) -> None:
    def type_in(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        row: list[Any] = [None] * len(header)
        row[header.index("Summary")] = "Called: needs auto ID cards"
        return header, [row]

    edit_tab(tracker, "Requests", type_in)
    write = CellWrite("Requests", "", 2, "ID", "REQ-000007", only_if=None)
    assert tracker.write(Batch(cells=[write])).cells_written == 1
    assert requests(tracker)[0]["ID"] == "REQ-000007"
    again = CellWrite("Requests", "", 2, "ID", "REQ-000008", only_if=None)
    report = tracker.write(Batch(cells=[again]))
    assert report.cells_written == 0
    assert requests(tracker)[0]["ID"] == "REQ-000007"


def test_an_empty_batch_writes_nothing(tracker: Tracker) -> None:
    before = tracker.read()
    report = tracker.write(Batch())
    assert report.cells_written == 0 and report.row_outcomes == []
    assert tracker.read() == before


def test_a_tab_name_in_another_case_is_still_the_tab(tracker: Tracker) -> None:
    rename_tab(tracker, "Requests", "requests ")
    check_tab(tracker.read(), REQUESTS)
    add_requests(tracker, 1)
    assert tracker.read().tab("Requests").values("ID") == ["REQ-000001"]  # type: ignore[union-attr]


def test_a_log_line_is_written_only_with_the_request_it_belongs_to(tracker: Tracker) -> None:
    add_requests(tracker, 1)
    batch = Batch(
        rows=[
            NewRow("Log", {"What": "Captured", "Request": "REQ-000002"}, after=1),
            request_row(2, Source="<m1@x>"),  # already there: a retried append
            request_row(3),
            NewRow("Log", {"What": "Captured", "Request": "REQ-000003"}, after=2),
        ]
    )
    report = tracker.write(batch)
    assert report.row_outcomes == [NOT_WRITTEN, PRESENT, ADDED, ADDED]
    assert [r["Request"] for r in log_rows(tracker)] == ["REQ-000003"]


def test_a_drop_deletes_scattered_rows_by_value_and_keeps_the_rest_in_order(
    tracker: Tracker,
) -> None:
    add_requests(tracker, *range(1, 13))
    lines = [NewRow("Log", {"What": "Captured", "Request": f"REQ-{n % 6:06d}"}) for n in range(24)]
    tracker.write(Batch(rows=lines))
    sort_requests(tracker, "Summary", reverse=True)  # a person sorted the tab since
    gone = frozenset({"REQ-000002", "REQ-000005", "REQ-000009", "REQ-000012"})
    out = Batch(drops=[Drop("Requests", "ID", gone), Drop("Log", "Request", gone)])
    tracker.write(out)
    left = [r["ID"] for r in requests(tracker)]
    assert left == [f"REQ-{n:06d}" for n in (8, 7, 6, 4, 3, 11, 10, 1)]  # "request 9" > "12"
    assert [r["Request"] for r in log_rows(tracker)] == [
        f"REQ-{n % 6:06d}" for n in range(24) if f"REQ-{n % 6:06d}" not in gone
    ]
    tracker.write(out)  # retried after a kill: nothing more goes
    assert [r["ID"] for r in requests(tracker)] == left


def test_a_drop_leaves_a_row_that_changed_since_the_read(tracker: Tracker) -> None:
    add_requests(tracker, 1, 2)
    set_cell(tracker, "REQ-000001", "Status", "Done")
    set_cell(tracker, "REQ-000002", "Status", "In Progress")  # reopened by a person
    ids = frozenset({"REQ-000001", "REQ-000002"})
    tracker.write(Batch(drops=[Drop("Requests", "ID", ids, ("Status", frozenset({"Done"})))]))
    assert [r["ID"] for r in requests(tracker)] == ["REQ-000002"]

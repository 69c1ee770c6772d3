"""Policy exports from the agency management system: their dates and amounts as exports
write them, and what an export changes in the Renewals tab (rows found by Policy #). Pure:
the export's lines and the tab in, the changes out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sheets_ops.model import RENEWALS, CellValue, is_blank
from sheets_ops.rules.directory import policy_key
from sheets_ops.sheet import Batch, CellWrite, NewRow, Tab, cell_text, normalize_header

_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%Y-%m-%d",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y%m%d",
)


def parse_date(value: CellValue) -> date | None:
    """A date as exports write them: 1/15/2027, 2027-01-15, 15-Jan-2027, Jan 15, 2027, a
    spreadsheet serial, a date-time. None when it is none of those."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 20000 < value < 80000:
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = str(value or "").strip()
    if not text:
        return None
    text = re.sub(r"[T ]\d{1,2}:\d{2}(:\d{2})?(\.\d+)?$", "", text)
    if text.isdigit() and 20000 < int(text) < 80000 and len(text) == 5:
        return date(1899, 12, 30) + timedelta(days=int(text))
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_amount(value: CellValue) -> float | None:
    """ "$1,234.50", "1234", "(250.00)", "USD 1 234" -> a number; "" -> None.
    Raises ValueError for text that is no amount."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value or "").strip()
    if not text:
        return None
    negative = (text.startswith("(") and text.endswith(")")) or text.startswith("-")
    cleaned = re.sub(r"(?i)usd|[$€£,\s()+-]", "", text)
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise ValueError(f"{text!r} is not an amount")
    amount = float(cleaned)
    return -amount if negative else amount


def column_map(setting: str) -> dict[str, list[str]]:
    """ "Client=Named Insured, Insured; ..." -> {Renewals column: [export headers]}."""
    out: dict[str, list[str]] = {}
    for part in setting.split(";"):
        column, _, headers = part.partition("=")
        if column.strip() and headers.strip():
            out[column.strip()] = [h.strip() for h in headers.split(",") if h.strip()]
    return out


@dataclass
class ImportResult:
    batch: Batch = field(default_factory=Batch)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # line, reason
    baseline: list[tuple[str, int, str]] = field(default_factory=list)  # late at import


def plan_import(
    header: list[str],
    lines: Iterable[tuple[int, list[str]]],
    mapping: Mapping[str, list[str]],
    renewals: Tab,
) -> ImportResult:
    """What an export changes in the Renewals tab: new policies added, changed ones updated
    (found by Policy #), unchanged ones left alone; unreadable lines reported, not guessed."""
    result = ImportResult()
    where = export_columns(header, mapping)
    existing: dict[str, tuple[int, dict[str, CellValue]]] = {}
    for row, cells in renewals.records():
        key = policy_key(cell_text(cells.get("policy #")))
        if key:
            existing[key] = (row, cells)
    seen: dict[str, int] = {}
    for line, values in lines:
        read = read_line(values, where)
        if isinstance(read, str):
            result.problems.append((line, read))
            continue
        policy, cells, owner = read
        key = policy_key(policy)
        if key in seen:
            result.problems.append(
                (line, f"{policy} is also on line {seen[key]}; that one is kept")
            )
            continue
        seen[key] = line
        if key not in existing:
            new: dict[str, CellValue] = {"Policy #": policy}
            new.update({k: v for k, v in cells.items() if v is not None})
            if owner:
                new["Owner"] = owner
            result.batch.rows.append(NewRow(RENEWALS.name, new, dedupe="Policy #"))
            result.added += 1
        elif update(result.batch, *existing[key], cells, owner):
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def export_columns(header: list[str], mapping: Mapping[str, list[str]]) -> dict[str, int]:
    """Renewals column -> its index in the export, by the header names Settings lists.
    Raises ValueError when Policy # or Expiration has none."""
    wanted = {normalize_header(h): i for i, h in enumerate(header)}
    where: dict[str, int] = {}
    for column, names in mapping.items():
        for name in names:
            if normalize_header(name) in wanted:
                where[column] = wanted[normalize_header(name)]
                break
    for needed in ("Policy #", "Expiration"):
        if needed not in where:
            tried = ", ".join(mapping.get(needed, []))
            raise ValueError(
                f"the export has no column for {needed} (tried {tried}); "
                "add its header to Settings, Renewal Columns"
            )
    return where


def read_line(
    values: list[str], where: Mapping[str, int]
) -> tuple[str, dict[str, CellValue], str] | str:
    """(Policy #, the imported cells, Owner) of one export line, or why it cannot be read."""

    def get(column: str) -> str:
        i = where.get(column)
        return values[i].strip() if i is not None and i < len(values) else ""

    policy = get("Policy #")
    if not policy:
        return "no policy number"
    expiration = parse_date(get("Expiration"))
    if expiration is None:
        return f"expiration {get('Expiration')!r} is not a date"
    try:
        premium = parse_amount(get("Expiring Premium"))
    except ValueError as e:
        return f"premium: {e}"
    cells: dict[str, CellValue] = {
        "Client": get("Client") or None,
        "Carrier": get("Carrier") or None,
        "Line": get("Line") or None,
        "Expiration": expiration,
        "Expiring Premium": premium,
    }
    return policy, cells, get("Owner")


def update(
    batch: Batch,
    row: int,
    held: Mapping[str, CellValue],
    cells: Mapping[str, CellValue],
    owner: str,
) -> bool:
    """The cell writes that bring a policy's row to the export; whether there were any. An
    Owner is filled only while blank."""
    ref = cell_text(held.get("policy #"))
    changes = [
        c for c, v in cells.items() if v is not None and not same_value(v, held.get(c.lower()))
    ]
    for column in changes:
        batch.cells.append(CellWrite(RENEWALS.name, ref, row, column, cells[column]))
    if owner and is_blank(held.get("owner")):
        batch.cells.append(CellWrite(RENEWALS.name, ref, row, "Owner", owner, only_if=None))
        changes.append("Owner")
    return bool(changes)


def same_value(new: CellValue, old: CellValue) -> bool:
    """Whether an imported value is what the sheet holds (a workbook gives dates back as
    date-times, and numbers as floats)."""
    if isinstance(new, date):
        return parse_date(old) == new
    if isinstance(new, float):
        return isinstance(old, int | float) and abs(float(old) - new) < 0.005
    return cell_text(new) == cell_text(old)

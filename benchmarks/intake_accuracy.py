"""How often intake gets each field right, on labelled inboxes: `inspect` scored.

    .venv/bin/python -m benchmarks.intake_accuracy DIR[@ZONE] ...
    .venv/bin/python -m benchmarks.intake_accuracy tests/corpus \\
        ../shared/corpus/keystone@America/New_York ../shared/corpus/sandhill@America/Denver

Each DIR is a labelled inbox: `messages/*.eml`, `expected.jsonl` (one object per message, in
file-name order: channel, type, client, policy_number, certificate_holder, deadline and
`deadline_alt`, complex, new_request) and `accounts.csv` (the Accounts tab's headers). ZONE
is the agency's time zone (default America/Chicago). The messages of a folder go through one
`sheets-ops inspect --json` call, in file-name order, so that a follow-up finds its original,
exactly as the command line runs them. Prints a table of accuracy per field and per folder,
then every miss (`--quiet` leaves them out). Nothing is asserted; tests/test_corpus.py holds
the bar.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheets_ops.cli import main as cli

FIELDS = (
    "type",
    "client",
    "policy_number",
    "deadline",
    "complex",
    "certificate_holder",
    "channel",
    "new_request",
)
DEFAULT_ZONE = "America/Chicago"


def normal(fieldname: str, value: Any) -> str:
    """A value as compared: blank is blank, a holder's name forgives case and punctuation."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    if fieldname == "certificate_holder":
        text = re.sub(r"[^\w&]+", " ", text.casefold()).strip()
    if fieldname == "channel":
        text = text.lower()
    return text


def right(fieldname: str, got: dict[str, Any], want: dict[str, Any]) -> bool:
    value = normal(fieldname, got.get(fieldname))
    if fieldname == "deadline" and want.get("deadline_alt"):  # "before X": X, or the day before
        return value in (
            normal(fieldname, want["deadline"]),
            normal(fieldname, want["deadline_alt"]),
        )
    return value == normal(fieldname, want.get(fieldname))


@dataclass
class Score:
    folder: str
    total: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def percent(self, fieldname: str) -> float:
        return 100.0 * self.hits.get(fieldname, 0) / self.total if self.total else 0.0


def inspect(folder: Path, zone: str) -> list[dict[str, Any]]:
    files = sorted((folder / "messages").glob("*.eml"))
    out = io.StringIO()
    args = ["inspect", "--json", "--accounts", str(folder / "accounts.csv"), "--time-zone", zone]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        cli([*args, *map(str, files)])
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def score(folder: Path, zone: str) -> Score:
    expected = [
        json.loads(line)
        for line in (folder / "expected.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    answers = {Path(a["file"]).name: a for a in inspect(folder, zone)}
    result = Score(folder.name if folder.name != "corpus" else str(folder))
    for want in expected:
        got = answers.get(want["file"], {})
        result.total += 1
        for name in FIELDS:
            if right(name, got, want):
                result.hits[name] = result.hits.get(name, 0) + 1
            else:
                shown = got.get(name) if got else got.get("error", "no answer")
                result.misses.append(
                    f"{result.folder}/{want['file']}: {name} {shown!r}, expected "
                    f"{want.get(name)!r}"
                    + (
                        f" or {want['deadline_alt']!r}"
                        if name == "deadline" and want.get("deadline_alt")
                        else ""
                    )
                )
    return result


def table(scores: list[Score]) -> str:
    names = [s.folder for s in scores]
    lines = [
        "| field | "
        + " | ".join(f"{n} ({s.total})" for n, s in zip(names, scores, strict=True))
        + " |",
        "|---|" + "---:|" * len(scores),
    ]
    for name in FIELDS:
        cells = [f"{s.percent(name):.0f}%" for s in scores]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    quiet = "--quiet" in argv
    scores = []
    for arg in (a for a in argv if not a.startswith("--")):
        where, _, zone = arg.partition("@")
        scores.append(score(Path(where), zone or DEFAULT_ZONE))
    print(table(scores))
    if not quiet:
        for s in scores:
            for miss in s.misses:
                print(miss)


if __name__ == "__main__":
    main(sys.argv[1:])

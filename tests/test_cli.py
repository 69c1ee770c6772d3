"""The command line: documented with examples, honest exit codes, and the demo."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from sheets_ops.cli import build_parser, main
from sheets_ops.demo_data import SAMPLES
from sheets_ops.model import TABS
from sheets_ops.sync.xlsx import XlsxTracker
from tests.conftest import make_eml
from tests.people import edit_tab, requests

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_commands_are_those_of_the_contract() -> None:
    assert {"init", "run", "demo"} <= set(COMMANDS)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_ends_with_examples(
    command: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main([command, "--help"] if command else ["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    examples = text[text.index("examples:") :]
    assert re.search(r"^  sheets-ops " + (command or ""), examples, re.MULTILINE)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command: str) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert f"sheets-ops {command}" in readme


def test_the_demo_builds_a_sample_agency_and_captures_every_message(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "demo", "--now", "2026-12-01T09:00")
    assert code == 0
    fresh = [s for s in SAMPLES if not s.follow_up]  # a follow-up joins its request
    assert f"Demo agency ready: demo/tracker.xlsx ({len(fresh)} requests)" in out
    assert f"{len(SAMPLES) - len(fresh)} follow-ups," in out
    wb = load_workbook(agency / "demo" / "tracker.xlsx")
    for spec in TABS:
        assert [c.value for c in wb[spec.name][1]] == [c.name for c in spec.laid_out]
    for tab in ("Team", "Accounts", "Routing", "Rules", "Settings", "Holidays"):
        assert wb[tab].max_row > 3, tab
    tracker = XlsxTracker(agency / "demo" / "tracker.xlsx")
    rows = requests(tracker)
    assert len(SAMPLES) >= 20
    assert len(rows) == len(fresh)
    assert len({r["Source"] for r in rows}) == len(fresh)
    assert {r["Channel"] for r in rows} == {"Email", "Voicemail", "Text"}
    assert list((agency / "demo" / "outbox").glob("info-request-*.eml"))
    assert list((agency / "demo" / "inbox").glob("*.eml")) == []

    code, out, _err = run(capsys, "demo", "--now", "2026-12-01T09:00")  # again: nothing doubles
    assert code == 0 and out.startswith("0 new")
    assert len(requests(tracker)) == len(fresh)

    (agency / "demo" / "tracker.xlsx").rename(agency / "tracker.xlsx")
    (agency / "demo" / "inbox").rename(agency / "inbox")
    code, out, _err = run(capsys, "run", "--once", "--now", "2026-12-01T09:01")  # adds no row
    assert (code, out) == (0, out)
    assert out.startswith("0 new, 0 updated, 0 rejected, 0 already in the tracker")


def test_run_once_captures_mail_and_prints_a_summary(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "init")[0] == 0
    (agency / "inbox").mkdir(exist_ok=True)
    (agency / "inbox" / "a.eml").write_bytes(make_eml(1))
    (agency / "inbox" / "b.eml").write_bytes(b"")
    code, out, _err = run(capsys, "run", "--once", "--now", "2026-11-27T09:00")  # not the clock
    assert code == 0
    assert re.match(r"1 new, 0 updated, 1 rejected, 0 already in the tracker \(\d+\.\d s\)", out)


def test_a_dry_run_prints_what_it_would_add(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "init")
    (agency / "inbox").mkdir(exist_ok=True)
    (agency / "inbox" / "a.eml").write_bytes(make_eml(1, subject="COI for Riverside"))
    code, out, _err = run(capsys, "run", "--once", "--dry-run")
    assert code == 0
    assert "+ REQ-000001  2026-11-27 08:30  Email  client1@example.com  COI for Riverside" in out
    assert "nothing was written" in out
    assert (agency / "inbox" / "a.eml").exists()


def test_now_replays_a_moment_in_agency_time(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "init")
    tracker = XlsxTracker(agency / "tracker.xlsx")

    def phone_call(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        row: list[Any] = [None] * len(header)
        row[header.index("Summary")] = "Called about ID cards"
        return header, [row]

    edit_tab(tracker, "Requests", phone_call)
    assert run(capsys, "run", "--once", "--now", "2026-12-01T10:15")[0] == 0
    assert requests(tracker)[0]["Received"] == datetime(2026, 12, 1, 10, 15)


def test_bad_configuration_exits_2_with_one_line(
    agency: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER", "requests.csv")
    code, out, err = run(capsys, "run", "--once")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("sheets-ops: TRACKER:")


def test_bad_configuration_in_the_env_file_is_named_too(
    agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (agency / ".env").write_text("OUTBOX=ftp://files.example\n")
    code, _out, err = run(capsys, "init")
    assert code == 2 and err.startswith("sheets-ops: OUTBOX:")


MISSING_TRACKER = (
    "sheets-ops: tracker.xlsx does not exist; run `sheets-ops init` to create the tracker"
)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--once"],
        ["run", "--once", "--dry-run"],
        ["digest", "--preview", "out"],
        ["report"],
        ["simulate", "--from", "2026-11-30T08:00", "--to", "2026-12-01T17:00"],
        ["renewals", "import", "export.csv"],
    ],
    ids=" ".join,
)
def test_a_missing_tracker_is_a_configuration_error_for_every_command(
    agency: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    (agency / "export.csv").write_text("Client,Policy #,Expiration\nAcme,P-1,2027-01-31\n")
    code, _out, err = run(capsys, *args)
    assert code == 2
    assert err.startswith(MISSING_TRACKER) and err.count("\n") == 1


@pytest.mark.parametrize("command", [["run", "--once"], ["report"], ["digest", "--preview", "o"]])
def test_a_renamed_header_is_a_configuration_error(
    agency: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert run(capsys, "init")[0] == 0
    book = load_workbook(agency / "tracker.xlsx")
    (status,) = [c for c in book["Requests"][1] if c.value == "Status"]
    status.value = "Stat"  # renamed by a person
    book.save(agency / "tracker.xlsx")
    code, _out, err = run(capsys, *command)
    assert code == 2 and err.count("\n") == 1 and "Status" in err, err


def test_a_bad_now_is_a_usage_error(agency: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["run", "--once", "--now", "next tuesday"])
    assert e.value.code == 2
    assert "--now: 'next tuesday' is not an ISO date and time" in capsys.readouterr().err


def test_init_twice_says_it_is_up_to_date(agency: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "init")
    assert code == 0 and "created tab Requests" in out
    code, out, _err = run(capsys, "init")
    assert (code, out) == (0, "tracker.xlsx: already up to date\n")


@pytest.mark.parametrize("now", ["2026-12-01T15:00", "2027-03-13T18:00", "2027-06-07T21:30"])
def test_the_demo_looks_like_a_real_morning_whatever_the_day(
    now: str, agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Tuesday, a Saturday, a Monday evening: a mix of SLA states, never a wall of red."""
    assert main(["demo", "--now", now]) == 0
    rows = requests(XlsxTracker(agency / "demo" / "tracker.xlsx"))
    states = {r["SLA"] for r in rows}
    assert len(states) >= 4 and {"On track", "Overdue"} <= states, states
    assert sum(r["SLA"] == "Overdue" for r in rows) <= len(rows) // 3
    assert {r["Status"] for r in rows} >= {"New", "Waiting on Carrier", "Done"}
    renewals = XlsxTracker(agency / "demo" / "tracker.xlsx").read().tab("Renewals")
    assert renewals is not None and len(renewals.rows) >= 5


def test_help_lists_the_exit_status_and_describes_every_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    assert "exit status:" in parser.format_help() and "  2  bad usage" in parser.format_help()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    bare = [
        f"{name} {action.dest}"
        for name, sub in choices.items()
        for action in sub._actions
        if not action.help
    ]
    assert bare == []
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.endswith("\n")

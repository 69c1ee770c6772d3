"""`sheets-ops doctor`: one line per check, how to fix each failure, exit 2 on any."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheets_ops.cli import main


def test_a_good_setup_is_all_good(agency: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    (agency / "inbox").mkdir(exist_ok=True)
    capsys.readouterr()
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "all good"
    assert all(line.startswith("ok ") for line in out[:-1])
    assert "ok   tab Health: all headers present" in out


def test_a_broken_setup_names_each_problem_and_its_fix(
    agency: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILBOX_PASSWORD", "secret-that-must-not-show")
    assert main(["doctor"]) == 2
    out = capsys.readouterr().out
    assert "FAIL tracker: tracker.xlsx does not exist; run `sheets-ops init`" in out
    assert "FAIL mailbox: MAILBOX: inbox does not exist; create it" in out
    assert out.rstrip().endswith("2 problems: fix the lines marked FAIL and run doctor again")
    assert "secret-that-must-not-show" not in out


def test_a_bad_variable_stops_doctor_at_the_first_line(
    agency: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    assert main(["doctor"]) == 2
    assert "FAIL configuration: LOG_LEVEL: 'LOUD' is not one of" in capsys.readouterr().out

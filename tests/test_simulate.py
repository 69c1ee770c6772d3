"""`simulate` replays a period over the tracker and writes nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from sheets_ops.cli import main
from sheets_ops.model import TABS
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.xlsx import XlsxTracker


def test_simulate_prints_when_each_level_would_be_raised(
    agency: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tracker = XlsxTracker(agency / "tracker.xlsx")
    tracker.init(TABS)
    tracker.write(
        Batch(
            rows=[
                NewRow("Team", {"Name": "Priya Shah", "Role": "Account Manager"}),
                NewRow("Team", {"Name": "Marcus Lee", "Role": "Ops Manager"}),
                NewRow("Team", {"Name": "Dana Ruiz", "Role": "Owner"}),
                NewRow(
                    "Routing",
                    {
                        "Type": "Renewal",
                        "Route To": "Priya Shah",
                        "SLA": 40,
                        "Escalate After Idle": 24,
                    },
                ),
                NewRow(
                    "Requests",
                    {
                        "ID": "REQ-000001",
                        "Received": datetime(2026, 11, 16, 8, 0),
                        "Type": "Renewal",
                        "Status": "New",
                        "Summary": "renewal questions",
                        "Source": "<r1@x>",
                    },
                ),
            ]
        )
    )
    before = tracker.path.read_bytes()
    code = main(
        ["simulate", "--from", "2026-11-16T08:00", "--to", "2026-11-25T17:00", "--step", "1h"]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out == [
        "Wed 2026-11-18 14:00  REQ-000001 L1 → Priya Shah: untouched 24 business hours",
        "Fri 2026-11-20 13:00  REQ-000001 L2 → Marcus Lee, Priya Shah: overdue since "
        "2026-11-20 12:00",
        "Wed 2026-11-25 17:00  REQ-000001 L3 → Dana Ruiz, Priya Shah: untouched 72 business hours",
        "3 escalations from 2026-11-16 08:00 to 2026-11-25 17:00; nothing was written or sent",
    ]
    assert tracker.path.read_bytes() == before


def test_a_bad_step_is_a_usage_error(agency: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--from", "2026-11-16", "--to", "2026-11-17", "--step", "soon"])
    assert e.value.code == 2
    assert "--step: 'soon' is not like 30m, 1h or 1d" in capsys.readouterr().err

"""The scheduled job (`python jobs.py`): survives a failing job, stops cleanly on SIGTERM,
refuses a second instance, and sends a digest once across a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sheets_ops.model import TABS
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.xlsx import XlsxTracker
from tests.people import set_setting

ROOT = Path(__file__).resolve().parent.parent
CHICAGO = ZoneInfo("America/Chicago")


def agency(folder: Path) -> XlsxTracker:
    """A tracker with a request the ladder raised before today's first digest time."""
    tracker = XlsxTracker(folder / "tracker.xlsx")
    tracker.init(TABS)
    seen = datetime.now(CHICAGO).replace(tzinfo=None) - timedelta(days=8)
    yesterday = datetime.now(CHICAGO).replace(tzinfo=None, hour=12) - timedelta(days=1)
    tracker.write(
        Batch(
            rows=[
                NewRow(
                    "Team", {"Name": "Dana Ruiz", "Role": "Owner", "Email": "dana@agency.example"}
                ),
                NewRow(
                    "Team",
                    {
                        "Name": "Tom Becker",
                        "Role": "CSR",
                        "On Duty": "Yes",
                        "Email": "tom@agency.example",
                    },
                ),
                NewRow(
                    "Requests",
                    {
                        "ID": "REQ-000001",
                        "Received": seen,
                        "Type": "COI",
                        "Status": "New",
                        "Owner": "Tom Becker",
                        "Summary": "certificate",
                        "Source": "<a@x>",
                    },
                ),
                NewRow(
                    "Log",
                    {
                        "When": yesterday,
                        "Request": "REQ-000001",
                        "What": "Escalated L1",
                        "New": "untouched 24 business hours → Tom Becker",
                        "By": "sheets-ops",
                    },
                ),
            ]
        )
    )
    soon = datetime.now(CHICAGO) + timedelta(seconds=8)
    set_setting(tracker, "Cycle Minutes", "0.05")  # every 3 seconds
    set_setting(tracker, "Digest Times", "00:00")  # long passed: due at start
    set_setting(tracker, "Daily Summary Time", "23:59")
    set_setting(tracker, "Backup Time", f"{soon:%H:%M:%S}")
    # Business every day, so that the test means the same on a weekend.
    set_setting(tracker, "Business Days", "Mon-Sun")
    return tracker


def start(folder: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "TRACKER": str(folder / "tracker.xlsx"),
        "MAILBOX": str(folder / "inbox"),
        "OUTBOX": str(folder / "outbox"),
        "STATE_DIR": str(folder / "state"),
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "jobs.py")],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    return process.returncode, out


def digests(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "outbox").glob("digest-*.eml"))


def test_the_loop_survives_a_failing_job_stops_cleanly_and_sends_a_digest_once(
    tmp_path: Path,
) -> None:
    tracker = agency(tmp_path)
    (tmp_path / "inbox").mkdir()
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "backups").write_text("a file where the backups folder should be")

    first = start(tmp_path)
    time.sleep(14)  # the backup fails at its time; captures go on around it
    second = start(tmp_path)  # a second instance on the same tracker
    assert second.wait(60) == 2
    assert "already running" in (second.stdout.read() if second.stdout else "")
    code, log = stop(first)
    assert code == 0, log
    assert "job backup failed: backup: FileExistsError" in log
    assert log.count("cycle: ") >= 3  # captures before and after the failure
    assert "received SIGTERM: finishing the current job" in log and log.rstrip().endswith("stopped")
    sent = digests(tmp_path)
    assert len(sent) == 1 and sent[0].endswith("-tom@agency.example.eml")
    health = {r[0]: r[1] for r in tracker.read().tabs["Health"].rows}
    assert str(health["Last error"]).startswith("backup: FileExistsError")
    assert isinstance(health["Last good cycle"], datetime)

    again = start(tmp_path)  # a restart: the digest already went out
    time.sleep(5)
    code, log = stop(again)
    assert code == 0, log
    assert digests(tmp_path) == sent
    log_rows = tracker.read().tabs["Log"].rows
    assert sum(1 for r in log_rows if r[2] == "Digest sent") == 1

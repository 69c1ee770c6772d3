"""Kill the real process at any point of a cycle, rerun: every message is there exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from openpyxl import load_workbook

from sheets_ops.rules.message import message_id_of
from tests.conftest import make_eml


def sheets_ops(folder: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TRACKER": str(folder / "tracker.xlsx"),
        "MAILBOX": str(folder / "inbox"),
        "OUTBOX": str(folder / "outbox"),
        "STATE_DIR": str(folder / "state"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "sheets_ops", *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def sources(tracker: Path) -> list[str]:
    ws = load_workbook(tracker, read_only=True)["Requests"]
    rows = list(ws.iter_rows(values_only=True))
    j = list(rows[0]).index("Source")
    return [message_id_of(r[j]) for r in rows[1:] if r[j]]


def drop(inbox: Path, first: int, count: int) -> int:
    for n in range(first, first + count):
        (inbox / f"{n:05d}.eml").write_bytes(make_eml(n))
    return first + count


def test_killing_the_job_at_any_moment_loses_and_doubles_nothing(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert sheets_ops(tmp_path, "init").wait(60) == 0
    batch = 200
    sent = drop(inbox, 0, batch)
    whole = finish(tmp_path)  # how long one round takes here, to spread the kills over it
    killed_before_save = killed_after_save = 0
    for fraction in (0.2, 0.5, 0.8, 0.9, 0.94, 0.96, 0.98, 1.0):
        sent = drop(inbox, sent, batch)
        before = len(sources(tmp_path / "tracker.xlsx"))
        process = sheets_ops(tmp_path, "run", "--once")
        time.sleep(whole * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait(60)
        seen = sources(tmp_path / "tracker.xlsx")  # the workbook is whole after every kill
        assert len(seen) == len(set(seen))
        pending = [p for p in inbox.iterdir() if p.suffix == ".eml"]
        killed_before_save += len(seen) == before and len(pending) == batch
        killed_after_save += len(seen) == before + batch and len(pending) > 0
        whole = finish(tmp_path)  # the rerun, timed: the next round is as long
        seen = sources(tmp_path / "tracker.xlsx")
        assert sorted(seen) == sorted(f"<msg-{n}@example.com>" for n in range(sent))
        assert [p for p in inbox.iterdir() if p.suffix == ".eml"] == []
        assert len(list((inbox / "processed").iterdir())) == sent
    print(
        f"kills before the save: {killed_before_save}, between save and acknowledge: "
        f"{killed_after_save}, of 8"
    )


def finish(folder: Path) -> float:
    started = time.monotonic()
    process = sheets_ops(folder, "run", "--once")
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()
    return time.monotonic() - started

"""One writer per tracker on this machine.

Every command that writes the tracker or sends mail (`run`, `run --once`, `init`, `demo`,
`renewals import`) holds the tracker's write lock while it works. A second one waits a little
for the first to finish, then gives up with one line naming the holder, so two cycles never
save the same workbook at once, never acknowledge the same messages and never send the same
queue. `sheets-ops run` takes the lock for each job, not for its whole life: a `renewals import`
started beside the service waits for the current cycle, not for the service to stop.

The lock is an advisory `flock` on a small file in the system's temporary folder, named by a
digest of the tracker's identity (the workbook's absolute path, or the Google Sheet key). The
kernel releases it when its process dies, however it dies: a killed job never leaves a stale
lock behind. The file holds the holder's pid, command and start time, for the message.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

DEFAULT_WAIT = 60.0  # seconds a command waits for another writer (LOCK_WAIT in .env)


class TrackerBusy(Exception):
    """Another sheets-ops holds the tracker's lock, and did not let go in time."""

    def __init__(self, line: str, holder: str) -> None:
        super().__init__(line)
        self.holder = holder


def lock_path(identity: str, kind: str = "write") -> Path:
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"sheets-ops-{digest}.{kind}.lock"


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    text = handle.read().strip()
    return text or "another sheets-ops"


@contextlib.contextmanager
def tracker_lock(
    identity: str,
    what: str,
    *,
    wait: float = DEFAULT_WAIT,
    poll: float = 0.2,
    kind: str = "write",
    say: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the lock of the tracker `identity` for `what` (a command, for the message).
    Waits up to `wait` seconds for another holder, then raises TrackerBusy."""
    path = lock_path(identity, kind)
    handle: IO[str] = open(path, "a+")  # noqa: SIM115  (held until the block ends)
    try:
        deadline = time.monotonic() + max(0.0, wait)
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(handle)
                    raise TrackerBusy(
                        f"{holder} is using this tracker; waited {wait:g} s. Run again "
                        "when it has finished (LOCK_WAIT in .env sets the wait)",
                        holder,
                    ) from None
                if not told and say is not None:
                    say(f"{_holder(handle)} is using this tracker; waiting up to {wait:g} s")
                    told = True
                time.sleep(poll)
        handle.seek(0)
        handle.truncate()
        started = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        handle.write(f"sheets-ops {what} (pid {os.getpid()}, since {started})")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock

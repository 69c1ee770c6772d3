"""The agency's day, run by `schedule`: which job runs when.

    every Cycle Minutes (Settings; 2)   capture: new mail in, the rules, the sheet, due emails
    at each of the Digest Times         digests: the escalation digests (business days)
    at the Daily Summary Time           summary: the owner's daily summary (business days)
    at the Backup Time (02:00)          backup: a dated copy of the workbook (kept 14 days)

Times are the agency's (Settings, Time Zone). Every job catches its own errors: one logs
what went wrong, records it on the Health tab, and the others keep their times (a loop that
caught around `run_pending()` would rerun a failing job on every tick). One instance runs per
tracker; SIGTERM or SIGINT lets the running job finish, then the loop exits 0. A digest missed
while the machine slept goes out once when the job is back: the tracker's Log remembers
what was sent, so neither a restart nor a late start sends it twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import schedule

from sheets_ops import __version__, config
from sheets_ops.config import Config, ConfigError
from sheets_ops.cycle import DEFAULT_SENDER, CycleResult, run_cycle
from sheets_ops.model import CellValue
from sheets_ops.rules.settings import Settings, read_settings
from sheets_ops.sheet import SetupError, TrackerError
from sheets_ops.sync import open_mailbox, open_outbox, open_tracker
from sheets_ops.sync.lock import TrackerBusy, tracker_lock
from sheets_ops.sync.mailbox import MailboxError, MailSource
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.xlsx import XlsxTracker

log = logging.getLogger("sheets_ops")
BACKUPS_KEPT = 14


class AlreadyRunning(Exception):
    """Another instance holds the lock for this tracker."""


@contextlib.contextmanager
def instance_lock(tracker: Tracker) -> Iterator[None]:
    """One scheduled job per tracker on this machine: a second one refuses to start. (Each
    job also takes the tracker's write lock while it runs, which one-off commands share.)"""
    lock = tracker_lock(tracker.identity, "run", wait=0, kind="instance")
    try:
        lock.__enter__()
    except TrackerBusy as e:
        raise AlreadyRunning(
            f"another sheets-ops is already running on {tracker.name} ({e.holder}); "
            "stop it first, or use `run --once` for a single cycle"
        ) from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


@dataclass
class Jobs:
    """The jobs, and what the Health tab says about them."""

    cfg: Config
    tracker: Tracker
    mailbox: MailSource
    outbox: Outbox
    state: StateDir
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    cycles: int = 0
    errors: int = 0
    last_error: str = ""
    last_error_at: datetime | None = None
    ran: dict[str, int] = field(default_factory=dict)  # job name -> times it ran well
    zone: ZoneInfo | None = None  # the agency's, as the last cycle read it
    say: Callable[[str], None] | None = None  # progress lines of long cycles
    problems: set[str] = field(default_factory=set)  # the last cycle's, each logged once

    def guarded(self, name: str, job: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                with tracker_lock(self.tracker.identity, name, wait=self.cfg.lock_wait):
                    job()
                self.ran[name] = self.ran.get(name, 0) + 1
            except Exception as e:  # one job failing must not stop the others
                self.errors += 1
                self.last_error = f"{name}: {type(e).__name__}: {e}"
                self.last_error_at = self.clock()
                log.error("job %s failed: %s", name, self.last_error)

        run.__name__ = name
        return run

    def health(self, now: datetime | None = None) -> dict[str, CellValue]:
        """What the Health tab says about the job at `now` (default: the clock). Aware moments
        are written in the agency's time by the cycle; a naive `now` is agency time already."""

        def second(moment: datetime | None) -> CellValue:
            return None if moment is None else moment.replace(microsecond=0)

        return {
            "Last good cycle": second(now or self.clock()),
            "Last error": self.last_error or "none",
            "Last error at": second(self.last_error_at),
            "Cycles since start": self.cycles + 1,
            "Errors since start": self.errors,
            "Running since": second(self.started),
            "Version": __version__,
        }

    def capture(self, now: datetime | None = None) -> CycleResult:
        """One cycle, with the Health tab and, when it read the mail, the healthcheck ping."""
        result = run_cycle(
            self.tracker,
            self.mailbox,
            now or self.clock(),
            outbox=self.outbox,
            state=self.state,
            mail_from=self.cfg.mail_from or DEFAULT_SENDER,
            health=self.health(now),
            progress=self.say,
        )
        self.cycles += 1
        self.zone = result.zone or self.zone
        log.info("cycle: %s", result.summary())
        for line in result.problems:  # each said once, when it appears; the Health tab keeps it
            if line not in self.problems:
                log.warning("problem: %s", line)
        self.problems = set(result.problems)
        for e in result.review.escalations:
            log.info(
                "escalation: %s L%s to %s: %s", e.request_id, e.level, ", ".join(e.to), e.reason
            )
        if result.mailbox_error:  # the rest of the cycle went on; the next one reconnects
            self.errors += 1
            self.last_error = f"capture: {result.mailbox_error}"
            self.last_error_at = self.clock()
            log.error("mailbox: %s", result.mailbox_error)
        elif self.cfg.healthcheck_url:
            self.ping()  # only a cycle that read the mail is a good one
        return result

    def once(self, now: datetime | None = None) -> CycleResult:
        """What `run --once` does from cron: the cycle the loop would run, and the day's
        backup when the Backup Time has passed and today's copy is not there yet."""
        result = self.capture(now)
        wall, at = result.wall, result.backup_at
        if wall is not None and at is not None and wall.time() >= at:
            self.backup_if_missing(wall)
        return result

    def digests(self) -> None:
        """The cycle sends the digests due at this time; run it now rather than wait."""
        if self.business_day():
            self.capture()

    def summary(self) -> None:
        if self.business_day():
            self.capture()

    def backup_path(self, day: datetime) -> Path:
        stem = self.tracker.path.stem if isinstance(self.tracker, XlsxTracker) else "tracker"
        return self.state.folder / "backups" / f"{stem}-{day:%Y%m%d}.xlsx"

    def backup_if_missing(self, wall: datetime) -> None:
        if not self.backup_path(wall).exists():
            self.backup(wall)

    def backup(self, wall: datetime | None = None) -> None:
        """A dated copy of the workbook in STATE_DIR/backups; BACKUPS_KEPT are kept."""
        if not isinstance(self.tracker, XlsxTracker):
            log.info("backup: Google Sheets keeps its own version history; nothing to copy")
            return
        if wall is None:
            wall = self.clock().astimezone(self.zone or self.settings().zone)
        target = self.backup_path(wall)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copy2(self.tracker.path, tmp)
        os.replace(tmp, target)
        for old in sorted(target.parent.glob(f"{self.tracker.path.stem}-*.xlsx"))[:-BACKUPS_KEPT]:
            old.unlink()
        log.info("backup: %s", target)

    def ping(self) -> None:
        try:
            with urllib.request.urlopen(self.cfg.healthcheck_url, timeout=10) as answer:
                answer.read(64)
        except OSError as e:
            log.warning("could not ping HEALTHCHECK_URL (%s); the cycle itself went well", e)

    def settings(self) -> Settings:
        return read_settings(self.tracker.read())

    def business_day(self) -> bool:
        s = self.settings()
        return s.calendar.is_business_day(self.clock().astimezone(s.zone).date())


def plan(every: schedule.Scheduler, jobs: Jobs, settings: Settings) -> None:
    """Which job runs when. Change the times in the Settings tab; restart to apply them."""
    zone = str(settings.zone)
    minutes = max(0.05, float(settings.get("Cycle Minutes") or 2))
    every.every(minutes).minutes.do(jobs.guarded("capture", jobs.capture))  # type: ignore[arg-type]
    for at in _times(settings.get("Digest Times")):
        every.every().day.at(at, zone).do(jobs.guarded("digests", jobs.digests))
    for at in _times(settings.get("Daily Summary Time"))[:1]:
        every.every().day.at(at, zone).do(jobs.guarded("summary", jobs.summary))
    for at in _times(settings.get("Backup Time"))[:1]:
        every.every().day.at(at, zone).do(jobs.guarded("backup", jobs.backup))


def _times(text: str) -> list[str]:
    """ "08:30; 13:30" as schedule wants them (HH:MM, or HH:MM:SS)."""
    out = []
    for part in text.replace(",", ";").split(";"):
        numbers = [int(n) for n in part.strip().split(":") if n.strip().isdigit()]
        if numbers:
            numbers += [0] * (2 - len(numbers))
            out.append(":".join(f"{n:02d}" for n in numbers[:3]))
    return out


def main(tick: float = 1.0) -> int:
    """Run the schedule until SIGTERM or SIGINT. Exit 0 then; 2 for bad configuration or a
    second instance; 1 when the tracker cannot be read at start."""
    try:
        cfg = config.load()
    except ConfigError as e:
        print(f"sheets-ops: {e}", flush=True)
        return 2
    logging.basicConfig(level=cfg.log_level, format="%(asctime)s %(levelname)s %(message)s")
    try:
        tracker = open_tracker(cfg, say=log.info)
        with instance_lock(tracker):
            jobs = Jobs(cfg, tracker, open_mailbox(cfg), open_outbox(cfg), StateDir(cfg.state_dir))
            every = schedule.Scheduler()
            plan(every, jobs, jobs.settings())
            stop = {"now": False}

            def on_signal(signum: int, _frame: object) -> None:
                stop["now"] = True
                log.info("received %s: finishing the current job", signal.Signals(signum).name)

            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
            log.info(
                "sheets-ops %s started on %s; %d jobs scheduled",
                __version__,
                tracker.name,
                len(every.get_jobs()),
            )
            for job in every.get_jobs():
                log.info("  %s", job)
            jobs.guarded("capture", jobs.capture)()  # a first look right away
            while not stop["now"]:
                every.run_pending()
                idle = every.idle_seconds
                time.sleep(min(tick, max(0.05, idle if idle is not None else tick)))
            jobs.mailbox.close()
            jobs.outbox.close()
            log.info("stopped")
            return 0
    except AlreadyRunning as e:
        print(f"sheets-ops: {e}", flush=True)
        return 2
    except (ConfigError, TrackerError, MailboxError) as e:
        print(f"sheets-ops: {e}", flush=True)
        return 2 if isinstance(e, ConfigError | SetupError) else 1

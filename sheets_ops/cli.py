"""`sheets-ops`: a thin shell over the package. Each command's help ends with examples.

Exit status: 0 done; 1 failed while running; 2 bad usage or configuration (one clear line).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import gc
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sheets_ops import config, usage
from sheets_ops.config import ConfigError
from sheets_ops.cycle import DEFAULT_SENDER, CycleResult, run_cycle
from sheets_ops.jobs import Jobs
from sheets_ops.model import ESCALATION, REQUESTS, TABS, CellValue
from sheets_ops.reports.emails import render
from sheets_ops.rules.learning import MIN_EXAMPLES, MIN_PER_LABEL
from sheets_ops.rules.steps import Escalation
from sheets_ops.sheet import SetupError, Snapshot, Tab, TrackerError, check_tab, counted
from sheets_ops.sync import open_mailbox, open_outbox, open_tracker
from sheets_ops.sync.lock import TrackerBusy, tracker_lock
from sheets_ops.sync.mailbox import MailboxError
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker
from sheets_ops.usage import parse_now


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _print_dry_run(result: CycleResult) -> None:
    plan = result.plan
    for request in plan.created:
        received = request.received.strftime("%Y-%m-%d %H:%M") if request.received else ""
        print(
            f"  + {request.id}  {received}  {request.channel}  {request.from_}  {request.summary}"
        )
    for rid in plan.adopted:
        print(f"  + {rid}  a row typed into Requests becomes a Manual request")
    for item, reason in plan.rejected:
        print(f"  ! {item.ref}: {reason}")
    print("dry run: nothing was written, no message was moved")


def _writing(tracker: Tracker, what: str, wait: float) -> contextlib.AbstractContextManager[None]:
    """The tracker's write lock, for a command that writes it or sends mail."""
    return tracker_lock(tracker.identity, what, wait=wait, say=_stderr)


def cmd_init(args: argparse.Namespace) -> int:
    cfg = config.load()
    tracker = open_tracker(cfg, say=_stderr)
    with _writing(tracker, "init", cfg.lock_wait):
        done = tracker.init(TABS)
    folder = cfg.mailbox.path if cfg.mailbox.kind == "folder" else None
    if folder is not None and not folder.is_dir():  # where mail is dropped for the job
        folder.mkdir(parents=True)
        done.append(f"created the mail folder {folder} (MAILBOX)")
    for line in done:
        print(f"  {line}")
    print(f"{tracker.name}: " + ("ready" if done else "already up to date"))
    return 0


ESCALATIONS_SHOWN = 20  # lines `run --once` prints; the Log has every one


def _escalation_line(e: Escalation) -> str:
    level = f"L{e.level}" if e.level else "chase"
    return f"{e.request_id} {level} → {', '.join(e.to) or 'nobody'}: {e.reason}"


def cmd_renewals(args: argparse.Namespace) -> int:
    from sheets_ops.renewals_import import import_renewals

    cfg = config.load()
    tracker = open_tracker(cfg, say=_stderr)
    if not args.file.is_file():
        raise ConfigError(f"renewals import: no file at {args.file}")
    with _writing(tracker, "renewals import", cfg.lock_wait):
        result = import_renewals(
            tracker, args.file, args.map or "", _stderr, now=args.now, baseline=args.baseline
        )
    total = result.added + result.updated + result.unchanged
    print(
        f"{total:,} policies: {result.added:,} added, {result.updated:,} updated, "
        f"{result.unchanged:,} unchanged"
    )
    if result.baseline:
        late = len(result.baseline)
        print(
            f"{late:,} renewal{'s' if late != 1 else ''} past a key date: recorded as the "
            'baseline (the Log\'s "Renewal baseline" lines list them), not escalated'
        )
    if result.problems:
        print(
            f"{len(result.problems)} line{'s' if len(result.problems) != 1 else ''} "
            "could not be read:"
        )
        for line, reason in result.problems:
            print(f"  line {line}: {reason}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from sheets_ops.doctor import doctor

    return doctor(print)


def cmd_digest(args: argparse.Namespace) -> int:
    from sheets_ops.preview import preview

    cfg = config.load()
    tracker = open_tracker(cfg, say=_stderr)
    written = preview(tracker.read(), args.now, args.preview, cfg.mail_from or DEFAULT_SENDER)
    for path in written:
        print(f"  {path}")
    print(
        f"{counted(len(written), 'email')} would go out; written as HTML to {args.preview}; "
        "nothing was sent"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sheets_ops.reports import weekly
    from sheets_ops.rules.settings import read_settings
    from sheets_ops.sync.archives import archive_for

    cfg = config.load()
    tracker = open_tracker(cfg, say=_stderr)
    snapshot = tracker.read()
    check_tab(snapshot, REQUESTS)  # a broken header is one line, not a report of zeros
    settings = read_settings(snapshot)
    archive = archive_for(tracker, settings.get("Archive Location"), StateDir(cfg.state_dir))
    now = args.now.astimezone(settings.zone).replace(tzinfo=None) if args.now.tzinfo else args.now
    start, end = weekly.week_before(now)
    if args.start is not None:
        start = datetime.combine(args.start, time())
    if args.end is not None:
        end = datetime.combine(args.end + timedelta(days=1), time())
    if end <= start:
        raise ConfigError("--to: must be on or after --from")
    if archive is not None:  # the period and the one before it, from the archive too
        snapshot = archive.joined(snapshot, start - (end - start))
    report = weekly.build(snapshot, settings.calendar, start, end)
    if args.html is None:
        context = weekly.context(report, lambda name: f"{name}.png")
        print(render("weekly_report", context).text.rstrip("\n"))  # ends with one newline
        return 0
    context = weekly.context(report, lambda name: weekly.data_uri(report.charts[name]))
    args.html.write_text(render("weekly_report", context).html, "utf-8")
    last = end - timedelta(days=1)
    print(f"report for {start:%a %Y-%m-%d} to {last:%a %Y-%m-%d} written to {args.html}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from sheets_ops.simulate import simulate

    cfg = config.load()
    tracker = open_tracker(cfg, say=_stderr)
    if args.step <= timedelta(0):
        raise ConfigError("--step: must be longer than zero, like 1h or 30m")
    snapshot = tracker.read()
    ladder = _ladder_csv(args.ladder) if args.ladder else None
    if ladder is not None:
        from sheets_ops.rules.ladder import ladder_from
        from sheets_ops.rules.team import team_from

        trial = Snapshot({**snapshot.tabs, ESCALATION.name: ladder})
        for line in ladder_from(trial, team_from(snapshot))[1]:
            print(f"{args.ladder}: {line}", file=sys.stderr)
    count = 0
    for moment, escalation in simulate(snapshot, args.start, args.end, args.step, ladder):
        print(f"{moment:%a %Y-%m-%d %H:%M}  {_escalation_line(escalation)}")
        count += 1
    print(
        f"{counted(count, 'escalation')} from {args.start:%Y-%m-%d %H:%M} "
        f"to {args.end:%Y-%m-%d %H:%M}; "
        "nothing was written or sent"
    )
    return 0


def _ladder_csv(path: Path) -> Tab:
    """An Escalation tab drafted as a CSV with Level, When and Notify headers."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = [list(r) for r in csv.reader(f)]
    except OSError as e:
        raise ConfigError(f"--ladder: cannot read {path} ({e.strerror})") from None
    if not rows:
        raise ConfigError(f"--ladder: {path} is empty; write Level,When,Notify and one row a level")
    body: list[list[CellValue]] = [list(r) for r in rows[1:]]
    return Tab(ESCALATION.name, rows[0], body)


class _Stop(Exception):
    """SIGTERM or SIGINT while waiting for mail."""


def cmd_run(args: argparse.Namespace) -> int:
    if not args.once and not args.idle:
        from sheets_ops.jobs import main as loop

        return loop()
    cfg = config.load()
    tracker = open_tracker(cfg, say=_stderr)
    mailbox = open_mailbox(cfg)

    jobs = Jobs(cfg, tracker, mailbox, open_outbox(cfg), StateDir(cfg.state_dir), say=_stderr)

    def one_cycle(now: datetime) -> bool:
        """One cycle, as the scheduled job runs it (Health tab, ping, the day's backup);
        False when the mailbox could not be read (the rest was done)."""
        with _writing(tracker, "run --once" if args.once else "run --idle", cfg.lock_wait):
            if args.dry_run:
                result = run_cycle(tracker, mailbox, now, dry_run=True, progress=_stderr)
            else:
                result = jobs.once(now)
        if args.dry_run:
            _print_dry_run(result)
        for line in result.problems:
            _stderr(f"problem: {line}")
        for line in result.report.skipped:
            _stderr(f"note: {line}")
        shown = result.review.escalations[:ESCALATIONS_SHOWN]
        for e in shown:
            print(f"  {_escalation_line(e)}")
        if len(result.review.escalations) > len(shown):
            more = len(result.review.escalations) - len(shown)
            print(f"  and {more:,} more escalations: the Log lists them all")
        print(result.summary(), flush=True)
        if result.mailbox_error:
            _stderr(f"sheets-ops: {result.mailbox_error}")
        return not result.mailbox_error

    try:
        if args.once:
            return 0 if one_cycle(args.now) else 1
        return _run_idle(one_cycle, mailbox.wait)
    finally:
        mailbox.close()
        jobs.outbox.close()


def _run_idle(one_cycle: Callable[[datetime], bool], wait: Callable[[float], bool]) -> int:
    """Cycle whenever mail may have come (IMAP IDLE, or a folder poll), until SIGTERM or
    SIGINT: a signal during a cycle lets it finish; one while waiting ends the wait."""
    state = {"stop": False, "waiting": False}

    def on_signal(signum: int, _frame: object) -> None:
        state["stop"] = True
        if state["waiting"]:
            raise _Stop

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _stderr("waiting for mail; SIGTERM or Ctrl-C stops")
    while not state["stop"]:
        try:
            one_cycle(datetime.now(UTC))
        except (TrackerError, MailboxError, TrackerBusy) as e:
            _stderr(f"sheets-ops: {e}")  # the next mail, or the next minute, tries again
        if state["stop"]:
            break
        try:
            state["waiting"] = True
            wait(60.0)
        except _Stop:
            break
        finally:
            state["waiting"] = False
    _stderr("stopped")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from sheets_ops.inspect import inspect_files

    return inspect_files(
        args.files,
        accounts=args.accounts,
        as_json=args.json,
        say=_stderr,
        zone=args.time_zone,
        history=args.history,
    )


def cmd_baseline(args: argparse.Namespace) -> int:
    from sheets_ops.baseline import run_baseline

    since = datetime.combine(args.since, time()) if args.since else None  # agency midnight
    return run_baseline(since, args.sent, args.html, args.now, _stderr)


def cmd_learn(args: argparse.Namespace) -> int:
    from sheets_ops.learn import learn
    from sheets_ops.rules.settings import read_settings
    from sheets_ops.sync.archives import archive_for

    cfg = config.load()
    tracker = open_tracker(cfg, say=_stderr)
    snapshot = tracker.read()
    settings = read_settings(snapshot)
    state = StateDir(cfg.state_dir)
    wall = args.now.astimezone(settings.zone).replace(tzinfo=None) if args.now.tzinfo else args.now
    archive = archive_for(tracker, settings.get("Archive Location"), state, _stderr)
    learned = learn(snapshot, archive, wall)
    state.save_learned(learned)
    print(f"learned from history: {learned.describe()}; kept in {cfg.state_dir}")
    if not learned.sure:
        print(
            f"  too few labelled requests for a model yet (it takes {MIN_EXAMPLES}, with "
            f"{MIN_PER_LABEL} of a Type): the rules decide alone until then"
        )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sheets_ops.demo import build_demo
    from sheets_ops.sync.xlsx import XlsxTracker

    folder = Path(args.dir)
    with tracker_lock(XlsxTracker(folder / "tracker.xlsx").identity, "demo", say=_stderr):
        return build_demo(folder, args.now, say=_stderr)


def build_parser() -> argparse.ArgumentParser:
    """The `sheets-ops` parser (its shape: usage.py)."""
    return usage.build_parser(
        {
            "init": cmd_init,
            "run": cmd_run,
            "renewals": cmd_renewals,
            "doctor": cmd_doctor,
            "digest": cmd_digest,
            "report": cmd_report,
            "simulate": cmd_simulate,
            "inspect": cmd_inspect,
            "learn": cmd_learn,
            "baseline": cmd_baseline,
            "demo": cmd_demo,
        }
    )


@functools.cache
def _keep_imported() -> None:
    """Set what the imports made (some 33,000 objects; openpyxl, pandas and dateparser,
    50,000 more, load only when a cycle writes, computes figures or reads dates) out of the
    garbage collector's sight, once a process: they live as long as it does, and each full
    collection a cycle triggers would otherwise walk them all again. What a cycle makes is
    collected as before."""
    gc.freeze()


def main(argv: Sequence[str] | None = None) -> int:
    _keep_imported()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    if getattr(args, "now", "absent") is None:
        args.now = parse_now(None)
    try:
        return int(args.handler(args))
    except (ConfigError, SetupError, TrackerBusy) as e:
        _stderr(f"sheets-ops: {e}")
        return 2
    except (TrackerError, MailboxError) as e:
        _stderr(f"sheets-ops: {e}")
        return 1
    except Exception as e:
        if args.traceback:
            traceback.print_exc()
        else:
            _stderr(f"sheets-ops: failed: {type(e).__name__}: {e} (--traceback shows where)")
        return 1

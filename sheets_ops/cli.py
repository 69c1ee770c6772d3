"""`sheets-ops`: a thin shell over the package. Each command's help ends with examples.

Exit status: 0 done; 1 failed while running; 2 bad usage or configuration (one clear line).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import re
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheets_ops import __version__, config
from sheets_ops.config import ConfigError
from sheets_ops.cycle import DEFAULT_SENDER, CycleResult, run_cycle
from sheets_ops.jobs import Jobs
from sheets_ops.model import ESCALATION, REQUESTS, TABS, CellValue
from sheets_ops.reports.emails import render
from sheets_ops.rules.steps import Escalation
from sheets_ops.sheet import Snapshot, Tab, TrackerError, check_tab
from sheets_ops.sync import open_mailbox, open_outbox, open_tracker
from sheets_ops.sync.lock import TrackerBusy, tracker_lock
from sheets_ops.sync.mailbox import MailboxError
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker

MAIN_HELP = """\
Keep an insurance agency's service requests in the spreadsheet it already uses.

Every email, voicemail and text becomes one row of the tracker's Requests tab, exactly once;
the owner scans the sheet, CSRs change status cells. Configuration comes from .env (see
.env.example): with nothing set, the tracker is ./tracker.xlsx, the inbox ./inbox (a folder of
.eml files) and the outbox ./outbox.
"""

MAIN_EXAMPLES = """\
examples:
  sheets-ops demo                      build a sample agency in ./demo and run a cycle on it
  sheets-ops init                      create (or repair) the tracker named by TRACKER
  sheets-ops run --once                capture new mail into the tracker, once
  sheets-ops run --once --dry-run      show what a cycle would write, write nothing
  sheets-ops inspect message.eml       what intake understands of a message
  sheets-ops simulate --from 2026-11-30T08:00 --to 2026-12-04T17:00   what would escalate
  sheets-ops COMMAND --help            more about one command
"""

INSPECT_EXAMPLES = """\
examples:
  sheets-ops inspect inbox/*.eml
  sheets-ops inspect --json message.eml
  sheets-ops inspect --accounts accounts.csv --json a.eml b.eml     one JSON object per line
  sheets-ops inspect --time-zone America/New_York --accounts accounts.csv inbox/*.eml

Shows what intake understands of each message (channel, type, client, policy number,
certificate holder, deadline, complexity, whether it is a new request, what is missing),
without touching the tracker. Files are read in the order given: a later file that replies to
an earlier one is a follow-up. --accounts takes a CSV with the Accounts tab's headers; without
it, the tracker's Accounts tab is used.
"""

RENEWALS_EXAMPLES = """\
examples:
  sheets-ops renewals import expiring-policies.csv
  sheets-ops renewals import epic-export.csv --map "Policy #=Pol No; Client=Insured Name"

Reads a policy/expiration export (client, policy number, carrier, line, expiration, premium,
account owner) into the Renewals tab. Headers are matched through Settings, Renewal Columns
(and --map); dates and amounts are read as exports write them. Importing again updates rows
and never doubles them; lines that cannot be read are listed with their reason.
"""

DOCTOR_EXAMPLES = """\
examples:
  sheets-ops doctor
  TRACKER=https://docs.google.com/spreadsheets/d/KEY/edit sheets-ops doctor

Checks every setting, the credentials, the tracker's tabs and headers, the Settings values,
the mailbox (login and folder) and the outbox (SMTP login, or the folder), one line each,
and says how to fix what fails. Exit status 2 when anything fails. Sends nothing.
"""

DIGEST_EXAMPLES = """\
examples:
  sheets-ops digest --preview preview/
  sheets-ops digest --preview preview/ --now 2026-11-30T08:30

Writes every email that would go out at that moment (escalation digests, the daily summary,
carrier reminders, client emails) as HTML files in DIR, one per email, named by its key.
Sends nothing and writes nothing to the tracker.
"""

REPORT_EXAMPLES = """\
examples:
  sheets-ops report                                   last week, as text
  sheets-ops report --html report.html                the same, with its charts, in one file
  sheets-ops report --from 2026-11-01 --to 2026-11-30 --html november.html

The owner's report for a period (both dates included; default: last Monday to Sunday) beside
the period of the same length just before it: requests received and closed, closed within SLA,
first response and resolution in business hours (median and p90), open work by age, load per
owner, client follow-ups, renewals. The job emails it every week (Settings, Weekly Report).
Reads the tracker; writes and sends nothing.
"""

SIMULATE_EXAMPLES = """\
examples:
  sheets-ops simulate --from 2026-11-30T08:00 --to 2026-12-04T17:00
  sheets-ops simulate --from 2026-11-30 --to 2026-12-31 --step 4h
  sheets-ops simulate --from 2026-11-30 --to 2026-12-04T17:00 --ladder draft.csv

Replays the period over the tracker as it is now, under the current Settings and Routing,
and prints each escalation the ladder would raise, when and to whom. Writes and sends
nothing: change thresholds in the sheet and run it again before they go live, or draft the
Escalation tab as a CSV (Level,When,Notify) and try it with --ladder first. Times without an
offset are agency time.
"""

INIT_EXAMPLES = """\
examples:
  sheets-ops init
  TRACKER=./agency.xlsx sheets-ops init

Creates every tab of the contract (Requests, Team, Accounts, Routing, Rules, Settings,
Holidays, Log) with headers, dropdowns, SLA colours, a frozen header row and filters. On an
existing tracker it adds what is missing and deletes nothing.
"""

RUN_EXAMPLES = """\
examples:
  sheets-ops run                                        the agency's day, until SIGTERM
  sheets-ops run --once
  sheets-ops run --once --dry-run
  sheets-ops run --once --now 2026-11-30T09:00          replay Monday 9 am, agency time
  sheets-ops run --once --now 2026-11-30T15:00:00Z      a moment in UTC
  sheets-ops run --idle                                 capture mail within seconds

--now without an offset is read in the agency's time zone (Settings tab, Time Zone).
"""

DEMO_EXAMPLES = """\
examples:
  sheets-ops demo                 build ./demo and run a cycle
  sheets-ops demo /tmp/agency     somewhere else

Writes DIR/tracker.xlsx with a sample agency (Team, Accounts, Routing, Rules, Settings,
Holidays), DIR/inbox with sample messages, DIR/outbox and DIR/.env, then runs `init` and one
cycle. Run it again: nothing is added twice.
"""


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _parse_now(text: str | None) -> datetime:
    """The cycle's clock: --now, or the real time. A naive --now is agency local time and is
    resolved by the cycle once it has read the Settings tab."""
    if text is None:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--now: {text!r} is not an ISO date and time (like 2026-11-30T09:00)"
        ) from None


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
    for line in done:
        print(f"  {line}")
    print(f"{tracker.name}: " + ("ready" if done else "already up to date"))
    return 0


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
        result = import_renewals(tracker, args.file, args.map or "", say=_stderr)
    total = result.added + result.updated + result.unchanged
    print(
        f"{total:,} policies: {result.added:,} added, {result.updated:,} updated, "
        f"{result.unchanged:,} unchanged"
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
        f"{len(written)} emails would go out; written as HTML to {args.preview}; nothing was sent"
    )
    return 0


def _parse_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time zone; use an IANA name like America/New_York"
        ) from None


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30") from None


def cmd_report(args: argparse.Namespace) -> int:
    from sheets_ops.reports import weekly
    from sheets_ops.rules.settings import read_settings

    cfg = config.load()
    snapshot = open_tracker(cfg, say=_stderr).read()
    check_tab(snapshot, REQUESTS)  # a broken header is one line, not a report of zeros
    settings = read_settings(snapshot)
    now = args.now.astimezone(settings.zone).replace(tzinfo=None) if args.now.tzinfo else args.now
    start, end = weekly.week_before(now)
    if args.start is not None:
        start = datetime.combine(args.start, time())
    if args.end is not None:
        end = datetime.combine(args.end + timedelta(days=1), time())
    if end <= start:
        raise ConfigError("--to: must be on or after --from")
    report = weekly.build(snapshot, settings.calendar, start, end)
    if args.html is None:
        context = weekly.context(report, lambda name: f"{name}.png")
        print(render("weekly_report", context).text, end="")
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
        f"{count} escalations from {args.start:%Y-%m-%d %H:%M} to {args.end:%Y-%m-%d %H:%M}; "
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


def _duration(text: str) -> timedelta:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhd])\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError(f"--step: {text!r} is not like 30m, 1h or 1d")
    unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
    return timedelta(**{unit: float(m.group(1))})


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
        for line in [*result.review.problems, *result.report.skipped]:
            _stderr(f"note: {line}")
        for e in result.review.escalations:
            print(f"  {_escalation_line(e)}")
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
        args.files, accounts=args.accounts, as_json=args.json, say=_stderr, zone=args.time_zone
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from sheets_ops.demo import build_demo
    from sheets_ops.sync.xlsx import XlsxTracker

    folder = Path(args.dir)
    with tracker_lock(XlsxTracker(folder / "tracker.xlsx").identity, "demo", say=_stderr):
        return build_demo(folder, datetime.now(UTC), say=_stderr)


def build_parser() -> argparse.ArgumentParser:
    def command(
        name: str, handler: Callable[[argparse.Namespace], int], summary: str, examples: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=handler)
        return p

    parser = argparse.ArgumentParser(
        prog="sheets-ops",
        description=MAIN_HELP,
        epilog=MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sheets-ops {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback when a command fails"
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    command("init", cmd_init, "create or repair the tracker's tabs and headers", INIT_EXAMPLES)

    run = command(
        "run", cmd_run, "run the schedule (or one cycle) that keeps the tracker", RUN_EXAMPLES
    )
    run.add_argument("--once", action="store_true", help="run one full cycle and exit")
    run.add_argument(
        "--idle",
        action="store_true",
        help="stay connected and run a cycle as soon as mail arrives (IMAP IDLE)",
    )
    run.add_argument(
        "--now",
        type=_parse_now,
        default=None,
        metavar="ISO",
        help="the cycle's clock, to replay a moment (default: now)",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="print what would change; write and move nothing"
    )

    renewals = command(
        "renewals", cmd_renewals, "import a policy export into the Renewals tab", RENEWALS_EXAMPLES
    )
    renewals.add_argument("action", choices=["import"], help="what to do (import)")
    renewals.add_argument("file", type=Path, metavar="FILE.csv")
    renewals.add_argument(
        "--map", metavar="MAP", help='extra header names, like "Policy #=Pol Num; Client=Insured"'
    )

    command(
        "doctor",
        cmd_doctor,
        "check the configuration, the tracker, the mailbox and SMTP",
        DOCTOR_EXAMPLES,
    )

    digest = command("digest", cmd_digest, "preview the emails a cycle would send", DIGEST_EXAMPLES)
    digest.add_argument(
        "--preview",
        type=Path,
        required=True,
        metavar="DIR",
        help="where to write one HTML file per email",
    )
    digest.add_argument(
        "--now",
        type=_parse_now,
        default=None,
        metavar="ISO",
        help="the moment to preview (default: now)",
    )

    report = command(
        "report", cmd_report, "the owner's report for a period, with charts", REPORT_EXAMPLES
    )
    report.add_argument("--html", type=Path, metavar="FILE", help="write HTML with its charts")
    report.add_argument("--from", dest="start", type=_parse_day, metavar="DATE", default=None)
    report.add_argument("--to", dest="end", type=_parse_day, metavar="DATE", default=None)
    report.add_argument(
        "--now",
        type=_parse_now,
        default=None,
        metavar="ISO",
        help="the moment whose last week is reported (default: now)",
    )

    simulate = command(
        "simulate",
        cmd_simulate,
        "replay a period and show what would escalate",
        SIMULATE_EXAMPLES,
    )
    simulate.add_argument("--from", dest="start", type=_parse_now, required=True, metavar="ISO")
    simulate.add_argument("--to", dest="end", type=_parse_now, required=True, metavar="ISO")
    simulate.add_argument(
        "--step", type=_duration, default=timedelta(hours=1), help="how often to look (default 1h)"
    )
    simulate.add_argument(
        "--ladder",
        type=Path,
        metavar="CSV",
        help="a draft Escalation tab (Level,When,Notify) to try instead of the tracker's",
    )

    inspect = command(
        "inspect", cmd_inspect, "show what intake understands of messages", INSPECT_EXAMPLES
    )
    inspect.add_argument("files", nargs="+", metavar="FILE.eml", type=Path)
    inspect.add_argument(
        "--accounts", type=Path, metavar="CSV", help="accounts to match clients against"
    )
    inspect.add_argument("--json", action="store_true", help="one JSON object per line")
    inspect.add_argument(
        "--time-zone",
        type=_parse_zone,
        metavar="ZONE",
        default=None,
        help="the agency's time zone, for dates like 'tomorrow' (default: the tracker's "
        "Settings, else America/Chicago)",
    )

    demo = command("demo", cmd_demo, "build a sample agency and run a cycle on it", DEMO_EXAMPLES)
    demo.add_argument("dir", nargs="?", default="demo", metavar="DIR", help="default: ./demo")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    if getattr(args, "now", "absent") is None:
        args.now = _parse_now(None)
    try:
        return int(args.handler(args))
    except (ConfigError, TrackerBusy) as e:
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

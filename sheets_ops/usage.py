"""The command line's shape: each command's arguments, help and examples, and the types
that read what people type (a moment, a day, a zone, a step). cli.py holds what each
command does."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheets_ops import __version__

Handler = Callable[[argparse.Namespace], int]

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

exit status:
  0  done
  1  failed while running: the tracker or the mailbox could not be used (one line says why);
     nothing was acknowledged, the next run tries again
  2  bad usage or configuration (a variable, a file, a tracker that is missing, not shared
     or has a renamed header, another sheets-ops holding the tracker), or doctor found a problem
"""

INSPECT_EXAMPLES = """\
examples:
  sheets-ops inspect inbox/*.eml
  sheets-ops inspect --json message.eml
  sheets-ops inspect --accounts accounts.csv --json a.eml b.eml     one JSON object per line
  sheets-ops inspect --time-zone America/New_York --accounts accounts.csv inbox/*.eml
  sheets-ops inspect --accounts accounts.csv --history tracker.xlsx inbox/*.eml

Shows what intake understands of each message (channel, type, client, policy number,
certificate holder, deadline, complexity, whether it is a new request, what is missing),
without touching the tracker. Files are read in the order given: a later file that replies to
an earlier one is a follow-up. --accounts takes a CSV with the Accounts tab's headers; without
it, the tracker's Accounts tab is used, and what its history taught intake (as the next cycle
would: STATE_DIR's models, or trained from the tracker now). --history learns from another
tracker workbook's history.
"""

BASELINE_EXAMPLES = """\
examples:
  sheets-ops baseline --sent Sent
  sheets-ops baseline --since 2026-09-01 --sent "Sent Items" --html baseline.html
  sheets-ops baseline --sent sent/ --now 2026-12-01T17:00       a folder of .eml files

How service stood before sheets-ops, from the mailbox as it is: each client message of the
inbox (MAILBOX) understood as intake would, paired with the agency's first reply (--sent: the
Sent folder's name on the IMAP account, a folder of .eml files, or an mbox file), by request
type and by who answered: volume, first response in business hours (median, p90), share
unanswered after 1 and 3 business days, client follow-ups, busiest hours and days. Read-only:
nothing is moved or flagged. Prints which workflow hurts most, writes the Baseline tab and,
with --html, a report.
"""

LEARN_EXAMPLES = """\
examples:
  sheets-ops learn
  sheets-ops learn --now 2026-12-01T02:00

Trains intake on what people did in the tracker: the Type of every request a CSR corrected
or closed, whether it was complex (who did the work: the Routing tab's Complex Route To),
and which client each sender was matched to. Kept in STATE_DIR; the scheduled job does the
same once a night (after the Backup Time) and whenever STATE_DIR has none. Intake uses the
models where its rules are unsure (Context's Check line says "Type from your history: like
REQ-000812"); a Rules tab row the owner wrote always wins.
"""

RENEWALS_EXAMPLES = """\
examples:
  sheets-ops renewals import expiring-policies.csv
  sheets-ops renewals import epic-export.csv --map "Policy #=Pol No; Client=Insured Name"
  sheets-ops renewals import book.csv --baseline

Reads a policy/expiration export (client, policy number, carrier, line, expiration, premium,
account owner) into the Renewals tab. Headers are matched through Settings, Renewal Columns
(and --map); dates and amounts are read as exports write them. Importing again updates rows
and never doubles them; lines that cannot be read are listed with their reason. The first
import into an empty Renewals tab (or one with --baseline) records the renewals already past a
key date as the baseline, so what was late before sheets-ops is not escalated.
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
  sheets-ops demo                           build ./demo and run a cycle
  sheets-ops demo /tmp/agency               somewhere else
  sheets-ops demo --now 2026-12-01T09:00    as it looks that morning

Writes DIR/tracker.xlsx with a sample agency (Team, Accounts, Routing, Rules, Settings,
Holidays, a renewals export), DIR/inbox with a week of sample messages pressed into the
business days before now, DIR/outbox and DIR/.env, then runs `init` and a cycle, changes a few
cells as CSRs would, and runs another. Run it again: nothing is added twice.
"""


def parse_now(text: str | None) -> datetime:
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


def parse_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time zone; use an IANA name like America/New_York"
        ) from None


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30") from None


def duration(text: str) -> timedelta:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhd])\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError(f"--step: {text!r} is not like 30m, 1h or 1d")
    unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
    return timedelta(**{unit: float(m.group(1))})


def _with_now(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--now", type=parse_now, default=None, metavar="ISO", help=f"{what} (default: now)"
    )


def _run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--once", action="store_true", help="run one full cycle and exit")
    p.add_argument(
        "--idle",
        action="store_true",
        help="stay connected and run a cycle as soon as mail arrives (IMAP IDLE)",
    )
    _with_now(p, "the cycle's clock, to replay a moment")
    p.add_argument(
        "--dry-run", action="store_true", help="print what would change; write and move nothing"
    )


def _renewals(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["import"], help="what to do (import)")
    p.add_argument("file", type=Path, metavar="FILE.csv", help="the export, as CSV")
    p.add_argument(
        "--map", metavar="MAP", help='extra header names, like "Policy #=Pol Num; Client=Insured"'
    )
    p.add_argument(
        "--baseline",
        action="store_true",
        help="record renewals already past a key date as known, not escalated (the first "
        "import into an empty Renewals tab always does)",
    )
    _with_now(p, "the moment the import is made, for what is already late")


def _digest(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--preview",
        type=Path,
        required=True,
        metavar="DIR",
        help="where to write one HTML file per email",
    )
    _with_now(p, "the moment to preview")


def _report(p: argparse.ArgumentParser) -> None:
    p.add_argument("--html", type=Path, metavar="FILE", help="write HTML with its charts")
    p.add_argument(
        "--from",
        dest="start",
        type=parse_day,
        metavar="DATE",
        default=None,
        help="the first day reported (default: last week's Monday)",
    )
    p.add_argument(
        "--to",
        dest="end",
        type=parse_day,
        metavar="DATE",
        default=None,
        help="the last day reported (default: last week's Sunday)",
    )
    _with_now(p, "the moment whose last week is reported")


def _simulate(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--from",
        dest="start",
        type=parse_now,
        required=True,
        metavar="ISO",
        help="where the replay starts (agency time)",
    )
    p.add_argument(
        "--to",
        dest="end",
        type=parse_now,
        required=True,
        metavar="ISO",
        help="where it ends",
    )
    p.add_argument(
        "--step", type=duration, default=timedelta(hours=1), help="how often to look (default 1h)"
    )
    p.add_argument(
        "--ladder",
        type=Path,
        metavar="CSV",
        help="a draft Escalation tab (Level,When,Notify) to try instead of the tracker's",
    )


def _inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE.eml", type=Path, help="messages to read")
    p.add_argument("--accounts", type=Path, metavar="CSV", help="accounts to match clients against")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument(
        "--history",
        type=Path,
        metavar="TRACKER.xlsx",
        help="learn from this tracker's history too (with --accounts; without it, the "
        "tracker's own history is used)",
    )
    p.add_argument(
        "--time-zone",
        type=parse_zone,
        metavar="ZONE",
        default=None,
        help="the agency's time zone, for dates like 'tomorrow' (default: the tracker's "
        "Settings, else America/Chicago)",
    )


def _baseline(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since",
        type=parse_day,
        metavar="DATE",
        default=None,
        help="the first day read (default: 90 days before now)",
    )
    p.add_argument(
        "--sent",
        metavar="FOLDER",
        help="what the agency sent: the IMAP Sent folder's name, a folder of .eml, or an mbox",
    )
    p.add_argument("--html", type=Path, metavar="FILE", help="write the report as HTML too")
    _with_now(p, "the moment the baseline is taken at")


def _learn(p: argparse.ArgumentParser) -> None:
    _with_now(p, "the moment the models are trained at")


def _demo(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", default="demo", metavar="DIR", help="default: ./demo")
    _with_now(p, "the demo's moment (agency time); its mail arrives in the days before")


def _nothing(_p: argparse.ArgumentParser) -> None:
    pass


# name: (what it does, its examples, its arguments), in the order --help lists them
COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = {
    "init": ("create or repair the tracker's tabs and headers", INIT_EXAMPLES, _nothing),
    "run": ("run the schedule (or one cycle) that keeps the tracker", RUN_EXAMPLES, _run),
    "renewals": ("import a policy export into the Renewals tab", RENEWALS_EXAMPLES, _renewals),
    "doctor": (
        "check the configuration, the tracker, the mailbox and SMTP",
        DOCTOR_EXAMPLES,
        _nothing,
    ),
    "digest": ("preview the emails a cycle would send", DIGEST_EXAMPLES, _digest),
    "report": ("the owner's report for a period, with charts", REPORT_EXAMPLES, _report),
    "simulate": ("replay a period and show what would escalate", SIMULATE_EXAMPLES, _simulate),
    "inspect": ("show what intake understands of messages", INSPECT_EXAMPLES, _inspect),
    "learn": ("train intake on the tracker's history now", LEARN_EXAMPLES, _learn),
    "baseline": ("how service stood before, from the mailbox", BASELINE_EXAMPLES, _baseline),
    "demo": ("build a sample agency and run a cycle on it", DEMO_EXAMPLES, _demo),
}


def build_parser(handlers: Mapping[str, Handler]) -> argparse.ArgumentParser:
    """The `sheets-ops` parser; each command runs its handler."""
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
    for name, (summary, examples, arguments) in COMMANDS.items():
        command = sub.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.set_defaults(handler=handlers[name])
        arguments(command)
    return parser

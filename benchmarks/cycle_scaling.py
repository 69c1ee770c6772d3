"""What a cycle costs as the agency's history grows, beside the floor, in one run.

    .venv/bin/python -m benchmarks.cycle_scaling [ARCHIVED ...]   (default: 0 10000 50000 100000)
    .venv/bin/python -m benchmarks.cycle_scaling --single 10000
    .venv/bin/python -m benchmarks.cycle_scaling --google 0 10000   (and on the Google fake)

Each tracker holds OPEN (1,000) open requests and ARCHIVED closed ones, built the way an
agency's tracker looks after years of use: every one of the 25 Requests columns filled, a
Closed date past Archive After Days on each closed request, two Log lines per request. The
closed ones start in the tracker's Archive tab, as an earlier version left them; the first
cycles move them out to the archive workbooks (`Archive 2026.xlsx`...), a chunk a cycle, timed
together on their own. `--single` builds the same rows with everything in Requests and
Archive After Days Off, for comparison.

Then, each in a process of its own (`sheets-ops run --once`, as cron runs it; the seconds
of the cycle itself, imports left out, and the process's peak memory):

- idle: a cycle with no new mail that writes nothing, a few minutes after the last (not the
  one right after the first, which records the emails the first sent, nor one whose quarter
  hour rewrites the Age (h) and Idle (h) columns: the tracker file's modification time tells),
  the least of IDLE_RUNS (9), with its ratio to the calamine read (the first quiet cycle after a
  write reviews every request; the next ones skip those that changed nothing, steps.Quiet);
  the floor's read is timed right after each of them, so both see the machine alike;
- 50 new: a cycle with 50 new messages;

and beside them the floor on the same tracker file: python-calamine reading every tab, and
openpyxl loading and saving the workbook. With `--google`, each size's line is followed by
the bytes a cycle reads and sends on the Google fake (`benchmarks.google_history`, run in a
process of its own). Nothing is asserted; the README quotes the output.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from openpyxl import load_workbook

from sheets_ops.model import TABS
from sheets_ops.sync.xlsx import XlsxTracker

NOW = datetime(2026, 11, 30, 10, 0)  # agency local time, a Monday morning
NEW_MESSAGES = 50
IDLE_RUNS = 9  # idle cycles timed, each beside a read of the floor: a busy machine varies
TYPES = ("COI", "Endorsement", "Billing", "Claim", "Renewal", "Other")
PEOPLE = ("Alicia Gomez", "Ben Carter", "Dana Whitfield")


TICKED = dict.fromkeys(
    ("Certificate Sent", "Carrier Confirmed", "Billing Adjusted", "Client Notified"), "Yes"
)  # a closed request's close-checklist steps, done


def request_row(n: int, closed: bool) -> dict[str, object]:
    # closed ones: past Archive After Days (30), a request every 20 minutes before that
    back = timedelta(days=31, minutes=20 * n) if closed else timedelta(hours=n % 90)
    received = NOW - back
    kind = TYPES[n % len(TYPES)]
    row: dict[str, object] = {
        "ID": f"REQ-{n:06d}",
        "Received": received.replace(microsecond=0),
        "Channel": "Email",
        "From": f"client{n % 3000}@client{n % 700}.example",
        "Client": f"Client {n % 700} LLC",
        "Policy #": f"GL-{100000 + n % 9000}",
        "Type": kind,
        "Summary": f"{kind} request from Client {n % 700}: please see the attached details",
        "Certificate Holder": f"Holder {n % 40} Properties" if kind == "COI" else None,
        "Client Deadline": (received + timedelta(days=3)).date(),
        "Owner": PEOPLE[n % len(PEOPLE)],
        "Status": "Done" if closed else ("New", "In Progress", "Waiting on Client")[n % 3],
        "Next Follow-up": None,
        "Notes": "Called the carrier; sent to the holder" if n % 4 == 0 else None,
        "Last Touched": (received + timedelta(hours=2)).replace(microsecond=0),
        "Age (h)": 4.5,
        "Idle (h)": 1.5,
        "Due": (received + timedelta(hours=8)).replace(microsecond=0),
        "SLA": "Met" if closed else "On Track",
        "Escalation": None,
        "Missing Info": None,
        "Thread": 1,
        "Context": (
            f"Check: client matched by sender\nFrom client{n % 3000}@client{n % 700}.example\n"
            "Hello, could you please send the certificate for the job next week? Thank you."
        ),
        "Closed": (received + timedelta(hours=6)).replace(microsecond=0) if closed else None,
        "Source": f"<bench-{n}@client{n % 700}.example> #{n:08x}",
        **(TICKED if closed else {}),
    }
    return row


def log_rows(row: dict[str, object]) -> list[list[object]]:
    created = [row["Received"], row["ID"], "Created", None, row["Type"], "sheets-ops"]
    if row["Closed"] is None:
        return [created, [row["Last Touched"], row["ID"], "Assigned", None, row["Owner"], "job"]]
    return [created, [row["Closed"], row["ID"], "sheet edit: Status", "In Progress", "Done", "ok"]]


def build(path: Path, open_n: int, archived: int, single: bool) -> None:
    """A tracker as years of use leave it: a team of three, closed requests in the Archive
    tab (or, single, all in Requests with archiving off), open ones in Requests, two Log
    lines each."""
    XlsxTracker(path).init(TABS)
    wb = load_workbook(path)
    requests, archive, log = wb["Requests"], wb["Archive"], wb["Log"]
    for k, name in enumerate(PEOPLE):  # a team, the owner last: digests go to someone
        role = "Owner" if k == len(PEOPLE) - 1 else "CSR"
        first = name.split()[0].lower()
        wb["Team"].append([name, f"{first}@agency.example", role, "Yes", None, None])
    headers = {ws.title: [str(c.value) for c in ws[1]] for ws in (requests, archive)}
    closed_to = requests if single else archive
    for n in range(1, archived + open_n + 1):
        closed = n <= archived
        row = request_row(n, closed)
        into = closed_to if closed else requests
        into.append([row.get(h) for h in headers[into.title]])
        for line in log_rows(row):
            log.append(line)
    if single:
        for r in wb["Settings"].iter_rows(min_row=2):
            if r[0].value == "Archive After Days":
                r[1].value = "Off"
    wb.save(path)


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"new{n}@newclient{n % 7}.example"
    msg["To"] = "service@agency.example"
    msg["Subject"] = f"Certificate of insurance needed for job {n}"
    msg["Date"] = format_datetime((NOW - timedelta(minutes=n)).astimezone())
    msg["Message-ID"] = f"<scaling-{n}@newclient.example>"
    msg.set_content("Please send a certificate of insurance for our GL policy to the holder.")
    return bytes(msg)


CHILD = """
import sys, time
{setup}
started = time.perf_counter()
{work}
print(time.perf_counter() - started)
"""
CYCLE = CHILD.format(
    setup="from sheets_ops.cli import main",
    work="assert main(['run', '--once', '--now', sys.argv[1]]) == 0",
)
FLOOR_READ = CHILD.format(
    setup="from python_calamine import CalamineWorkbook",
    work="""book = CalamineWorkbook.from_path(sys.argv[1])
for name in book.sheet_names:
    book.get_sheet_by_name(name).to_python(skip_empty_area=False)""",
)
FLOOR_SAVE = CHILD.format(
    setup="from openpyxl import load_workbook",
    work="load_workbook(sys.argv[1]).save(sys.argv[1] + '.copy')",
)


def timed(code: str, arg: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds of the work (imports left out), and the process's peak memory in MiB."""
    args = [sys.executable, "-c", code, arg]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        if status != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read().decode()}")
        return float(out.read().decode().split()[-1]), usage.ru_maxrss / 1024


def cycle(folder: Path, at: datetime) -> tuple[float, float]:
    env = {
        **os.environ,
        "TRACKER": str(folder / "tracker.xlsx"),
        "MAILBOX": str(folder / "inbox"),
        "STATE_DIR": str(folder / "state"),
        "OUTBOX": str(folder / "outbox"),
    }
    return timed(CYCLE, at.isoformat(), env)


def floor(code: str, path: Path) -> tuple[float, float]:
    return timed(code, str(path), dict(os.environ))


COUNT_ARCHIVE_TAB = """
import sys
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
print(len(book.get_sheet_by_name("Archive").to_python(skip_empty_area=False)) - 1)
"""


def archive_tab_rows(path: Path) -> int:
    """Rows the tracker's Archive tab still holds (the move out is not finished), counted in
    a process of its own so that this one stays small (see `measure`)."""
    out = subprocess.run(
        [sys.executable, "-c", COUNT_ARCHIVE_TAB, str(path)], capture_output=True, check=True
    )
    return int(out.stdout.decode().split()[-1])


def least(runs: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """The fastest of several runs, and the largest peak memory among them."""
    done = list(runs)
    return min(t for t, _m in done), max(m for _t, m in done)


def size_of(folder: Path) -> str:
    files = sorted(folder.glob("*.xlsx"))  # the tracker, then its archives
    return " + ".join(f"{f.stat().st_size / 2**20:.1f}" for f in files) + " MiB"


def measure(archived: int, open_n: int, single: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "tracker.xlsx"
        (folder / "inbox").mkdir()
        # Built in a process of its own: a child forked from a parent that holds the
        # workbook would count the parent's pages in its peak memory.
        code = (
            "import sys; from pathlib import Path; from benchmarks.cycle_scaling import build; "
            "build(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == '1')"
        )
        subprocess.run(
            [sys.executable, "-c", code, str(path), str(open_n), str(archived), str(int(single))],
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        at, first, first_mem, cycles = NOW, 0.0, 0.0, 0
        while True:  # the first cycles move the history out, a chunk each, once
            seconds, mem = cycle(folder, at)
            first, first_mem, cycles = first + seconds, max(first_mem, mem), cycles + 1
            at += timedelta(minutes=1)
            if single or not archive_tab_rows(path):
                break
        # the cycle after the first records what the first sent: not an idle one, untimed
        at += timedelta(minutes=1)
        cycle(folder, at)
        # the least of several runs each: one run on a busy machine says little
        quiet: list[tuple[float, float]] = []
        reads: list[tuple[float, float]] = []  # the floor, each beside an idle cycle
        for _minute in range(30):
            at += timedelta(minutes=1)
            written = path.stat().st_mtime_ns
            seconds, mem = cycle(folder, at)
            if path.stat().st_mtime_ns == written:  # it wrote nothing: an idle cycle
                quiet.append((seconds, mem))
                reads.append(floor(FLOOR_READ, path))
            if len(quiet) == IDLE_RUNS:
                break
        else:
            raise SystemExit(
                f"fewer than {IDLE_RUNS} cycles in 30 minutes wrote nothing ({len(quiet)})"
            )
        idle, idle_mem = least(quiet)
        runs = []
        for k in range(3):
            for n in range(NEW_MESSAGES):
                m = k * NEW_MESSAGES + n
                (folder / "inbox" / f"{m:04d}.eml").write_bytes(message(m))
            at += timedelta(minutes=1)
            runs.append(cycle(folder, at))
        mail, mail_mem = least(runs)
        read, _read_mem = least(reads)
        save, _save_mem = floor(FLOOR_SAVE, path)
        label = f"{archived:>7,} {'in Requests' if single else 'archived':<11}"
        print(
            f"{label} {'first cycle' if single else 'moving out'} {first:6.1f} s in {cycles} "
            f"cycles, {first_mem:4.0f} MiB | "
            f"idle {idle:5.2f} s ({idle / read:3.1f}x the read) "
            f"{idle_mem:4.0f} MiB | 50 new {mail:5.2f} s {mail_mem:4.0f} MiB | "
            f"floor: calamine read {read:4.2f} s, openpyxl load+save {save:5.2f} s | "
            f"{size_of(folder)}",
            flush=True,
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archived", nargs="*", type=int, default=[0, 10_000, 50_000, 100_000])
    parser.add_argument("--open", type=int, default=1_000, help="open requests (default 1000)")
    parser.add_argument("--single", action="store_true", help="everything in Requests")
    parser.add_argument(
        "--google",
        action="store_true",
        help="also, under each, the bytes a cycle reads and sends on the Google fake "
        "(benchmarks.google_history; 1,000 open requests)",
    )
    args = parser.parse_args(argv)
    print(f"one cycle, {args.open:,} open requests, by archived requests (sheets-ops run --once)")
    for archived in args.archived:
        measure(archived, args.open, args.single)
        if args.google:  # a process of its own: this one stays small (see `measure`)
            google = [sys.executable, "-m", "benchmarks.google_history", str(archived)]
            out = subprocess.run(google, stdout=subprocess.PIPE, check=True, text=True)
            print(out.stdout.splitlines()[-1], flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

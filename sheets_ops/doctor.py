"""`sheets-ops doctor`: one line per check, and how to fix what fails. Sends nothing and
writes nothing."""

from __future__ import annotations

import functools
import os
import smtplib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sheets_ops import config
from sheets_ops.config import Config, ConfigError
from sheets_ops.model import TABS, TabSpec
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.ladder import ladder_from
from sheets_ops.rules.learning import MIN_EXAMPLES
from sheets_ops.rules.problems import sheet_problems
from sheets_ops.rules.settings import read_settings
from sheets_ops.rules.team import team_from
from sheets_ops.sheet import Snapshot, TrackerError, counted, header_problems
from sheets_ops.sync import open_mailbox, open_tracker, open_transport
from sheets_ops.sync.mailbox import FolderMailbox, MailboxError
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.transport import SmtpTransport, TransportError
from sheets_ops.sync.xlsx import describe_lock, lock_files

OK, FAIL = "ok  ", "FAIL"


PROBLEMS = (ConfigError, TrackerError, MailboxError, TransportError, OSError, smtplib.SMTPException)
T = TypeVar("T")


class _Checks:
    """Runs each check, says one line for it, and counts what failed."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.failures = 0

    def __call__(self, name: str, check: Callable[[], tuple[str, T]]) -> T | None:
        try:
            detail, found = check()
        except PROBLEMS as e:
            self.failures += 1
            self.say(f"{FAIL} {name}: {e}")
            return None
        self.say(f"{OK} {name}: {detail}")
        return found

    def fail(self, name: str, line: str) -> None:
        self.failures += 1
        self.say(f"{FAIL} {name}: {line}")


def doctor(say: Callable[[str], None]) -> int:
    """Check the configuration, the tracker and its tabs, the mailbox, the outbox and the
    state folder; 0 when all is well, 2 when something needs fixing."""
    check = _Checks(say)
    cfg = check("configuration", configuration)
    if cfg is None:
        say("     fix the variable named above in .env, then run doctor again")
        return 2
    snapshot = check("tracker", lambda: tracker(cfg))
    check("workbook", lambda: workbook(cfg))
    if snapshot is not None:
        for spec in TABS:
            check(f"tab {spec.name}", functools.partial(tab, snapshot, spec))
        check("settings", lambda: settings(snapshot))
        found = typed_values(snapshot)
        for where, line in found:
            check.fail(where, line)
        if not found:
            say(f"{OK} values: every Status, Type, Owner, Routing hour and setting reads")
    check("mailbox", lambda: mailbox(cfg))
    check("outbox", lambda: outbox(cfg))
    check("state", lambda: state(cfg))
    suggestions = check("history", lambda: history(cfg, snapshot))
    for address, client, count in suggestions or []:
        say(
            f"     suggest: add {address} to the Contact Emails of {client} on the Accounts "
            f"tab (people matched {counted(count, 'request')} from it to {client})"
        )
    failures = check.failures
    say(
        "all good"
        if not failures
        else f"{failures} problem{'s' if failures != 1 else ''}: "
        "fix the lines marked FAIL and run doctor again"
    )
    return 2 if failures else 0


def configuration() -> tuple[str, Config]:
    cfg = config.load()
    secrets = ", ".join(sorted(cfg.secrets)) or "none"
    return f"read (.env and the environment; secrets given: {secrets})", cfg


def tracker(cfg: Config) -> tuple[str, Snapshot]:
    snapshot = open_tracker(cfg).read()
    return f"{cfg.tracker.kind} tracker opens ({len(snapshot.tabs)} tabs)", snapshot


def workbook(cfg: Config) -> tuple[str, None]:
    """Whether Excel or LibreOffice has the workbook open: the job cannot save it then."""
    path = cfg.tracker.path
    if cfg.tracker.kind != "xlsx" or path is None:
        return "not a workbook", None
    locks = lock_files(path)
    if locks:
        raise TrackerError(
            f"{path.name} is {describe_lock(locks[0])}: close it there, or the job waits to save"
        )
    return f"{path.name} is not open in another program", None


def typed_values(snapshot: Snapshot) -> list[tuple[str, str]]:
    """(where, what is wrong and how to fix it) for every value the job cannot use."""
    found = [(p.where, f"{p.what}; {p.fix}") for p in sheet_problems(snapshot)]
    _ladder, ladder_problems = ladder_from(snapshot, team_from(snapshot))
    return found + [("Escalation", line) for line in ladder_problems]


def tab(snapshot: Snapshot, spec: TabSpec) -> tuple[str, None]:
    problems = header_problems(snapshot.tab(spec.name), spec)
    if problems:
        raise TrackerError(f"{problems[0]}")
    return "all headers present", None


def settings(snapshot: Snapshot) -> tuple[str, None]:
    s = read_settings(snapshot)
    cal = s.calendar
    hours = f"{cal.opens:%H:%M}-{cal.closes:%H:%M}"
    return f"time zone {s.zone}, business hours {hours}, {len(cal.holidays)} holidays", None


def mailbox(cfg: Config) -> tuple[str, None]:
    box = open_mailbox(cfg)
    if isinstance(box, FolderMailbox):
        if not box.folder.is_dir():
            raise MailboxError(
                f"MAILBOX: {box.folder} does not exist; create it, or point "
                "MAILBOX at the folder your mail lands in"
            )
        return f"folder {box.folder}, {counted(len(box.pending()), 'message')} waiting", None
    try:
        count = sum(1 for _ in box.fetch())
    finally:
        box.close()
    return f"{box.name}: logged in, {counted(count, 'message')} waiting", None


def outbox(cfg: Config) -> tuple[str, None]:
    transport = open_transport(cfg)
    if isinstance(transport, SmtpTransport):
        return transport.check(), None  # the same STARTTLS and login as a delivery
    folder = Path(transport.name)
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise OSError(f"OUTBOX: cannot write to {folder}; fix its permissions")
    return f"folder {folder} is writable", None


def state(cfg: Config) -> tuple[str, None]:
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(cfg.state_dir, os.W_OK):
        raise OSError(f"STATE_DIR: cannot write to {cfg.state_dir}; fix its permissions")
    return f"{cfg.state_dir} is writable", None


def history(cfg: Config, snapshot: Snapshot | None) -> tuple[str, list[tuple[str, str, int]]]:
    """What intake learned from the tracker's history, and the senders people matched to a
    client that Accounts does not list yet."""
    learned = StateDir(cfg.state_dir).load_learned()
    if learned is None:
        return "nothing learned yet: the next cycle trains on the tracker's history", []
    suggested = learned.suggested_contacts(
        directory_.from_snapshot(snapshot) if snapshot is not None else directory_.Directory()
    )
    if not learned.sure:
        return (
            f"{counted(learned.examples, 'labelled request')} so far, too few for a model "
            f"(it takes {MIN_EXAMPLES}): the rules decide alone",
            suggested,
        )
    return f"trained {learned.trained:%Y-%m-%d %H:%M} on {learned.describe()}", suggested

"""`sheets-ops doctor`: one line per check, and how to fix what fails. Sends nothing and
writes nothing."""

from __future__ import annotations

import os
import smtplib
from collections.abc import Callable
from pathlib import Path

from sheets_ops import config
from sheets_ops.config import Config, ConfigError
from sheets_ops.model import TABS
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Snapshot, TrackerError, header_problems
from sheets_ops.sync import open_mailbox, open_tracker, open_transport
from sheets_ops.sync.mailbox import FolderMailbox, MailboxError
from sheets_ops.sync.transport import SmtpTransport, TransportError

OK, FAIL = "ok  ", "FAIL"


def doctor(say: Callable[[str], None]) -> int:
    failures = 0

    def check(name: str, fn: Callable[[], str]) -> object:
        nonlocal failures
        try:
            detail = fn()
        except (
            ConfigError,
            TrackerError,
            MailboxError,
            TransportError,
            OSError,
            smtplib.SMTPException,
        ) as e:
            failures += 1
            say(f"{FAIL} {name}: {e}")
            return None
        say(f"{OK} {name}: {detail}")
        return detail

    cfg: Config | None = None

    def configuration() -> str:
        nonlocal cfg
        cfg = config.load()
        secrets = ", ".join(sorted(cfg.secrets)) or "none"
        return f"read (.env and the environment; secrets given: {secrets})"

    check("configuration", configuration)
    if cfg is None:
        say("     fix the variable named above in .env, then run doctor again")
        return 2
    snapshot: Snapshot | None = None

    def tracker() -> str:
        nonlocal snapshot
        assert cfg is not None
        snapshot = open_tracker(cfg).read()
        return f"{cfg.tracker.kind} tracker opens ({len(snapshot.tabs)} tabs)"

    check("tracker", tracker)
    if snapshot is not None:
        for spec in TABS:
            problems = header_problems(snapshot.tab(spec.name), spec)

            def tab(problems: list[str] = problems, spec_name: str = spec.name) -> str:
                if problems:
                    raise TrackerError(f"{problems[0]}")
                return "all headers present"

            check(f"tab {spec.name}", tab)

        def settings() -> str:
            assert snapshot is not None
            s = read_settings(snapshot)
            cal = s.calendar
            return (
                f"time zone {s.zone}, business hours {cal.opens:%H:%M}-{cal.closes:%H:%M}, "
                f"{len(cal.holidays)} holidays"
            )

        check("settings", settings)

    def mailbox() -> str:
        assert cfg is not None
        box = open_mailbox(cfg)
        if isinstance(box, FolderMailbox):
            if not box.folder.is_dir():
                raise MailboxError(
                    f"MAILBOX: {box.folder} does not exist; create it, or point "
                    "MAILBOX at the folder your mail lands in"
                )
            return f"folder {box.folder}, {len(box.pending())} messages waiting"
        try:
            count = sum(1 for _ in box.fetch())
        finally:
            box.close()
        return f"{box.name}: logged in, {count} messages waiting"

    check("mailbox", mailbox)

    def outbox() -> str:
        assert cfg is not None
        transport = open_transport(cfg)
        if isinstance(transport, SmtpTransport):
            return transport.check()  # the same STARTTLS and login as a delivery
        folder = Path(transport.name)
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise OSError(f"OUTBOX: cannot write to {folder}; fix its permissions")
        return f"folder {folder} is writable"

    check("outbox", outbox)

    def state() -> str:
        assert cfg is not None
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(cfg.state_dir, os.W_OK):
            raise OSError(f"STATE_DIR: cannot write to {cfg.state_dir}; fix its permissions")
        return f"{cfg.state_dir} is writable"

    check("state", state)
    say(
        "all good"
        if not failures
        else f"{failures} problem{'s' if failures != 1 else ''}: "
        "fix the lines marked FAIL and run doctor again"
    )
    return 2 if failures else 0

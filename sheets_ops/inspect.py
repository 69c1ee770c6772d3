"""`sheets-ops inspect`: what intake understands of messages, without touching the tracker."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sheets_ops import config
from sheets_ops.config import ConfigError
from sheets_ops.model import SETTING_DEFAULTS
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.message import MessageError, parse_message
from sheets_ops.rules.settings import read_settings
from sheets_ops.rules.threads import Threads
from sheets_ops.rules.understand import Understanding, known_from, understand
from sheets_ops.sheet import Snapshot, TrackerError, local
from sheets_ops.sync import open_tracker


def _tracker_snapshot(say: Callable[[str], None], needed: bool) -> Snapshot | None:
    try:
        return open_tracker(config.load()).read()
    except (ConfigError, TrackerError) as e:
        if needed:
            raise TrackerError(
                f"{e} (inspect reads the tracker's Accounts tab; or pass --accounts FILE.csv)"
            ) from e
        return None


def describe(name: str, u: Understanding) -> str:
    """A few readable lines about one message."""
    if u.ignore:
        verdict = f"ignored: {u.ignore}"
    elif u.thread_of:
        verdict = f"follow-up on {u.thread_of} ({u.thread_how})"
    else:
        verdict = "new request"
    lines = [
        f"{name}: {verdict}",
        f"  {u.summary}" if u.call else f"  from {u.sender}: {u.summary}",
        f"  type {u.type}{' (complex)' if u.complex else ''}; "
        f"client {u.client or '-'}{f' (by {u.matched_by})' if u.matched_by else ''}"
        f"{'' if u.known_contact or not u.client else ', sender not a known contact'}",
        f"  policy {u.policy or '-'}; deadline {u.deadline or '-'}; "
        f"certificate holder {u.holder or '-'}",
    ]
    if u.missing:
        lines.append(f"  missing: {'; '.join(u.missing)}")
    if u.unsure:
        lines.append(f"  check: {', '.join(u.unsure)} (read from weak evidence)")
    if u.parsed.attachments:
        lines.append("  attachments: " + ", ".join(a.name for a in u.parsed.attachments))
    if u.parsed.notes:
        lines.append("  notes: " + "; ".join(u.parsed.notes))
    return "\n".join(lines)


def inspect_files(
    files: Sequence[Path],
    *,
    accounts: Path | None = None,
    as_json: bool = False,
    say: Callable[[str], None] = print,
    now: datetime | None = None,
    zone: ZoneInfo | None = None,
) -> int:
    """Print what intake makes of each file, in order. Returns 1 when a file was unreadable."""
    snapshot = _tracker_snapshot(say, needed=accounts is None)
    if snapshot is not None:
        directory = directory_.from_snapshot(snapshot)
        threads = Threads.from_snapshot(snapshot)
        zone = zone or read_settings(snapshot).zone
    else:
        directory, threads = directory_.Directory(), Threads()
        zone = zone or ZoneInfo(SETTING_DEFAULTS["Time Zone"][0])
    if accounts is not None:
        try:
            directory = directory_.from_accounts_csv(accounts, directory)
        except (OSError, ValueError) as e:
            raise ConfigError(f"--accounts: {e}") from None
    now = now or datetime.now(UTC)
    failed = 0
    for n, path in enumerate(files, 1):
        try:
            raw = path.read_bytes()
            parsed = parse_message(raw, None, now)
            u = understand(parsed, directory, threads, zone)
        except Exception as e:  # one file, however broken, is one line: never a traceback
            failed += 1
            if isinstance(e, OSError):
                reason = f"cannot read it ({e.strerror})"
            elif isinstance(e, MessageError):
                reason = str(e)
            else:
                reason = f"could not be read ({type(e).__name__}: {e})"
            if as_json:
                print(json.dumps({"file": str(path), "error": reason}))
            else:
                print(f"{path}: cannot be a request: {reason}")
            continue
        if u.new_request:  # later files may reply to this one
            pending = f"(file {n})"
            received = local(parsed.received, zone)
            threads.add(known_from(pending, u, received), parsed.source)
        if as_json:
            print(json.dumps({"file": str(path), **u.as_json()}, ensure_ascii=False))
        else:
            print(describe(str(path), u))
    return 1 if failed else 0

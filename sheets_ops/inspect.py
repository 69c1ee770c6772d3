"""`sheets-ops inspect`: what intake understands of messages, without touching the tracker."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sheets_ops import config
from sheets_ops.config import ConfigError
from sheets_ops.learn import learn
from sheets_ops.model import SETTING_DEFAULTS
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.learning import Learned
from sheets_ops.rules.message import MessageError, parse_message
from sheets_ops.rules.settings import read_settings
from sheets_ops.rules.threads import Threads
from sheets_ops.rules.understand import Understanding, known_from, understand
from sheets_ops.sheet import Snapshot, TrackerError, local
from sheets_ops.sync import open_tracker
from sheets_ops.sync.archives import archive_for
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.xlsx import XlsxTracker


def _tracker_snapshot(
    say: Callable[[str], None], needed: bool
) -> tuple[Snapshot, Tracker, StateDir] | None:
    try:
        cfg = config.load()
        tracker = open_tracker(cfg)
        return tracker.read(), tracker, StateDir(cfg.state_dir)
    except (ConfigError, TrackerError) as e:
        if needed:
            raise TrackerError(
                f"{e} (inspect reads the tracker's Accounts tab; or pass --accounts FILE.csv)"
            ) from e
        return None


def _learned(
    snapshot: Snapshot, tracker: Tracker, state: StateDir | None, wall: datetime
) -> Learned:
    """What the next cycle would know of the tracker's history: the models in STATE_DIR
    when they are there, else trained now from the tracker and its archive (kept nowhere)."""
    kept = state.load_learned() if state is not None else None
    if kept is not None:
        return kept
    where = read_settings(snapshot).get("Archive Location")
    return learn(snapshot, archive_for(tracker, where, None), wall)


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
    if u.learned:
        lines.append(f"  check: {'; '.join(u.learned)}")
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
    history: Path | None = None,
) -> int:
    """Print what intake makes of each file, in order. Returns 1 when a file was unreadable.
    What the tracker's history taught intake is used as the next cycle would use it: with
    the tracker (no `accounts`), or from the workbook `history` beside `accounts`."""
    now = now or datetime.now(UTC)
    opened = _tracker_snapshot(say, needed=accounts is None and history is None)
    if opened is not None:
        snapshot = opened[0]
        directory = directory_.from_snapshot(snapshot)
        threads = Threads.from_snapshot(snapshot)
        zone = zone or read_settings(snapshot).zone
    else:
        directory, threads = directory_.Directory(), Threads()
        zone = zone or ZoneInfo(SETTING_DEFAULTS["Time Zone"][0])
    wall = now.astimezone(zone).replace(tzinfo=None) if now.tzinfo else now
    if history is not None:
        if not history.exists():
            raise ConfigError(f"--history: {history} does not exist; give the tracker workbook")
        past = XlsxTracker(history)
        learned: Learned | None = _learned(past.read(), past, None, wall)
    elif opened is not None and accounts is None:
        learned = _learned(*opened, wall)
    else:
        learned = None
    if accounts is not None:
        try:
            directory = directory_.from_accounts_csv(accounts, directory)
        except (OSError, ValueError) as e:
            raise ConfigError(f"--accounts: {e}") from None
    directory = replace(directory, history=lambda: learned)
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

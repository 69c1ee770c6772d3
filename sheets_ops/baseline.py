"""`sheets-ops baseline`: how the agency's service stood before the tool, from its mailbox.

Reads the inbox (MAILBOX) and what the agency sent (`--sent`: the Sent folder's name on the
IMAP account, a folder of .eml files, or an mbox file), read-only: nothing is moved, flagged
or deleted. Understands each client message as intake would, pairs it with the first reply
(rules/baseline.py), prints the figures and the one line that says which workflow hurts
most, writes them to the tracker's Baseline tab, and with `--html FILE` a report.
"""

from __future__ import annotations

import html
import mailbox
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from sheets_ops import config
from sheets_ops.config import Config, ConfigError
from sheets_ops.model import BASELINE, CellValue, RequestType
from sheets_ops.rules import directory as directory_
from sheets_ops.rules.baseline import DAYS, Asked, Baseline, Figures, Reply, pair, reply_from
from sheets_ops.rules.baseline import baseline as compute
from sheets_ops.rules.message import MessageError, parse_message
from sheets_ops.rules.settings import read_settings
from sheets_ops.rules.team import team_from
from sheets_ops.rules.text import bare_subject
from sheets_ops.rules.threads import Threads
from sheets_ops.rules.understand import known_from, understand
from sheets_ops.sheet import Batch, Snapshot, TrackerError, counted, local
from sheets_ops.sync import open_tracker
from sheets_ops.sync.mailbox import MailboxError

GRID_ROWS, GRID_COLUMNS = 80, 8  # the tab is rewritten whole: blank beyond what is used
PROGRESS_EVERY = 1000


def _files(path: Path) -> Iterator[bytes]:
    """A folder of .eml files, or an mbox file."""
    if path.is_dir():
        for f in sorted(path.glob("*.eml")):
            yield f.read_bytes()
    elif path.is_file():
        for entry in mailbox.mbox(path, create=False):
            yield entry.as_bytes()
    else:
        raise ConfigError(f"{path} is neither a folder of .eml files nor an mbox file")


def _imap(cfg: Config, folder: str | None) -> Iterator[bytes]:
    """A folder of the IMAP account (None: MAILBOX's own), read-only."""
    from sheets_ops.sync.imap import ImapMailbox

    password = cfg.secrets.get("MAILBOX_PASSWORD", "")
    box = ImapMailbox(cfg.mailbox.url, cfg.mailbox_user, password, readonly=True)
    try:
        for item in box.examine(folder or box.folder):
            yield item.raw
    finally:
        box.close()


def inbox_of(cfg: Config) -> Iterator[bytes]:
    if cfg.mailbox.kind == "imap":
        return _imap(cfg, None)
    if cfg.mailbox.path is None:
        raise ConfigError("MAILBOX: set it to the inbox folder or an imap:// URL")
    return _files(cfg.mailbox.path)


def sent_of(cfg: Config, where: str) -> Iterator[bytes]:
    path = Path(where).expanduser()
    if path.exists():
        return _files(path)
    if cfg.mailbox.kind == "imap":
        return _imap(cfg, where)
    raise ConfigError(
        f"--sent: {where} does not exist (a folder of .eml files, an mbox file, or "
        "the Sent folder's name on an IMAP MAILBOX)"
    )


def requests_in(
    messages: Iterator[bytes],
    snapshot: Snapshot | None,
    since: datetime,
    now: datetime,
    ours: set[str],
    say: Callable[[str], None],
) -> list[Asked]:
    """The client requests in the inbox since `since`, in Date order, follow-ups joined."""
    directory = directory_.from_snapshot(snapshot) if snapshot else directory_.Directory()
    zone = read_settings(snapshot or Snapshot({})).zone
    parsed = []
    unreadable = 0
    for n, raw in enumerate(messages, 1):
        try:
            p = parse_message(raw, None, now)  # by its Date, as replies are read
        except MessageError:
            unreadable += 1
            continue
        if p.received >= since and p.sender not in ours and _domain(p.sender) not in ours:
            parsed.append(p)
        if n % PROGRESS_EVERY == 0:
            say(f"read {counted(n, 'inbox message')}")
    if unreadable:
        say(
            f"{counted(unreadable, 'inbox message')} could not be read as email and are not counted"
        )
    parsed.sort(key=lambda p: p.received)
    threads = Threads()
    asked: list[Asked] = []
    by_pending: dict[str, Asked] = {}
    for p in parsed:
        u = understand(p, directory, threads, zone)
        if u.ignore:
            continue
        if u.thread_of:
            original = by_pending.get(u.thread_of)
            if original is not None:
                original.ids.add(p.message_id)
                original.follow_ups += 1
            continue
        pending = f"(message {len(asked) + 1})"
        a = Asked({p.message_id}, p.received, p.sender, bare_subject(p.subject).lower(), u.type)
        asked.append(a)
        by_pending[pending] = a
        threads.add(known_from(pending, u, local(p.received, zone)), p.source)
    return asked


def _domain(address: str) -> str:
    return "@" + address.rpartition("@")[2] if "@" in address else ""


COLUMNS = (
    "Type",
    "Median first response (bh)",
    "p90 (bh)",
    "Unanswered after 1 day",
    "Unanswered after 3 days",
    "Requests",
    "Client follow-ups",
)


def _line(f: Figures) -> list[CellValue]:
    def hours(x: float | None) -> CellValue:
        return None if x is None else round(x, 2)

    def share(x: float | None) -> CellValue:
        return None if x is None else round(x, 3)

    return [
        f.name,
        hours(f.median),
        hours(f.p90),
        share(f.unanswered_1),
        share(f.unanswered_3),
        f.volume,
        f.follow_ups,
    ]


def grid(b: Baseline, hurts: str) -> list[list[CellValue]]:
    """The Baseline tab: a row per request type at fixed rows (6 to 12, charted by
    BASELINE_CHART), then all requests, who answered, the busiest days and hours."""
    by_type = {f.name: f for f in b.by_type}
    stamp = f"{b.now:%Y-%m-%d %H:%M}"
    rows: list[list[CellValue]] = [
        ["Baseline", stamp, "written by sheets-ops baseline; edits here are replaced"],
        ["Period", f"{b.since:%Y-%m-%d} to {b.now:%Y-%m-%d}"],
        ["Hurts most", hurts],
        [],
        list(COLUMNS),
    ]
    rows += [_line(by_type.get(k.value) or Figures(k.value)) for k in RequestType]
    rows += [_line(b.overall), []]
    rows.append(["Answered by", *COLUMNS[1:3], "", "", "Requests"])
    rows += [[*_line(f)[:3], None, None, f.volume] for f in b.by_person] + [[]]
    rows.append(["Busiest days", *[f"{d} {b.days.get(d, 0)}" for d in DAYS]])
    busiest = sorted(b.hours.items(), key=lambda kv: (-kv[1], kv[0]))[:6]
    rows.append(["Busiest hours", *[f"{h:02d}:00 {n}" for h, n in busiest]])
    rows = rows[:GRID_ROWS]
    return [[*r, *[None] * (GRID_COLUMNS - len(r))][:GRID_COLUMNS] for r in rows] + [
        [None] * GRID_COLUMNS for _ in range(GRID_ROWS - len(rows))
    ]


def as_html(b: Baseline, hurts: str) -> str:
    cells = grid(b, hurts)
    body = "\n".join(
        "<tr>"
        + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r)
        + "</tr>"
        for r in cells
        if any(v is not None for v in r)
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>Baseline</title>"
        "<style>body{font-family:sans-serif}"
        "td{padding:2px 8px;border-bottom:1px solid #ddd}</style>"
        f"<h1>Service baseline</h1><p>{html.escape(hurts)}</p><table>{body}</table>"
    )


def run_baseline(
    since: datetime | None,
    sent: str | None,
    html_file: Path | None,
    now: datetime,
    say: Callable[[str], None],
) -> int:
    cfg = config.load()
    tracker, snapshot = None, None
    try:
        tracker = open_tracker(cfg)
        snapshot = tracker.read()
    except TrackerError as e:
        tracker = None  # nothing to write the Baseline tab into
        say(f"baseline: {e}; the figures use the default business hours and no Accounts")
    calendar = read_settings(snapshot or Snapshot({})).calendar
    now = now if now.tzinfo else now.replace(tzinfo=calendar.zone)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=calendar.zone)
    start = since or now - timedelta(days=90)
    team = team_from(snapshot) if snapshot else []
    people = {m.email.lower(): m.name for m in team if m.email}
    replies: list[Reply] = []
    if sent:
        for n, raw in enumerate(sent_of(cfg, sent), 1):
            r = reply_from(raw)
            if r is not None and r.at >= start:
                replies.append(r)
            if n % PROGRESS_EVERY == 0:
                say(f"read {counted(n, 'sent message')}")
    # the agency's own addresses: what it sent from, the Team's, MAIL_FROM; and the domains
    # of the Team's and MAIL_FROM (a colleague's forward is no client request)
    own = set(people) | ({cfg.mail_from.lower()} if cfg.mail_from else set())
    ours = own | {r.sender for r in replies if r.sender} | {_domain(a) for a in own}
    try:
        asked = requests_in(inbox_of(cfg), snapshot, start, now, ours, say)
    except MailboxError as e:
        raise ConfigError(str(e)) from None
    pair(asked, replies)
    figures = compute(asked, calendar, start, now, people)
    hurts = figures.hurts_most()
    for f in [*figures.by_type, figures.overall]:
        median = f"{f.median:.1f} bh" if f.median is not None else "-"
        late = f"{f.unanswered_1:.0%}" if f.unanswered_1 is not None else "-"
        print(
            f"  {f.name:<14} {f.volume:>6} requests, median first response {median}, "
            f"unanswered after a business day {late}, {counted(f.follow_ups, 'follow-up')}"
        )
    print(hurts)
    if tracker is not None:
        batch = Batch()
        batch.grids[BASELINE] = grid(figures, hurts)
        tracker.write(batch)
        print(f"written to the {BASELINE} tab of {tracker.name}")
    if html_file is not None:
        html_file.write_text(as_html(figures, hurts), "utf-8")
        print(f"written to {html_file}")
    return 0

"""The Context and Thread cells of a request: what a CSR needs at hand, in one cell, and how
the conversation has gone so far. Pure text from what intake understood and the sheet."""

from __future__ import annotations

from datetime import datetime

from sheets_ops.model import CellValue, Channel, is_blank
from sheets_ops.rules.directory import Account
from sheets_ops.rules.message import plain_text
from sheets_ops.rules.understand import Understanding
from sheets_ops.sheet import Tab

CONTEXT_CHARS = 30_000  # fits a cell in Excel (32,767) and Google Sheets (50,000)


def fit(text: str, limit: int = CONTEXT_CHARS) -> str:
    """The text, cut to fit a cell when it would not."""
    if len(text) <= limit:
        return text
    return (
        text[: limit - 60].rstrip() + "\n… (cut to fit the cell; the full text is in the mailbox)"
    )


class ByClient:
    """A tab's requests by Client, in sheet order, indexed on first use: one pass over the
    rows a cycle, however many messages arrive (not one pass per message)."""

    def __init__(self, requests: Tab) -> None:
        self.requests = requests
        self._index: dict[str, list[dict[str, CellValue]]] | None = None

    def of(self, client: str) -> list[dict[str, CellValue]]:
        if self._index is None:
            self._index = {}
            for _row, cells in self.requests.records():
                name = str(cells.get("client") or "").strip()
                if name:
                    self._index.setdefault(name, []).append(cells)
        return self._index.get(client, [])


def context_for(u: Understanding, account: Account | None, requests: ByClient) -> str:
    """What the CSR needs at hand, in one cell: warnings first, the message last."""
    parts = []
    if u.learned:  # what the agency's history decided, and from which request
        parts.append(f"Check: {'; '.join(u.learned)}")
    if u.unsure:  # first, where the eye lands: the cells intake guessed from weak evidence
        parts.append(f"Check: {', '.join(u.unsure)} (read from weak evidence)")
    if account is None:
        parts.append("⚠ No client in Accounts matches this sender: check and fill Client.")
    elif not u.known_contact:
        parts.append(
            f"⚠ {u.sender} is not a known contact of {account.name} (matched by {u.matched_by}): "
            "act only on the named insured's instruction."
        )
    if account is not None:
        parts += account_lines(account, requests)
    if u.call is not None and u.channel is Channel.VOICEMAIL:
        parts.append(f"Caller {u.call.phone or 'unknown'}, {u.call.duration or 'length unknown'}")
    if u.effective:
        parts.append(f"Effective: {u.effective.isoformat()}")
    if u.parsed.attachments:
        files = ", ".join(f"{a.name} ({size_text(a.size)})" for a in u.parsed.attachments)
        parts.append(f"Attachments (kept in the mailbox): {files}")
    if u.parsed.notes:
        parts.append(f"Intake notes: {'; '.join(u.parsed.notes)}")
    parts.append(f"Message: {plain_text(u.words).strip()}")
    return fit("\n".join(parts))


def account_lines(account: Account, requests: ByClient) -> list[str]:
    """The client's standing instructions and policies, their last three requests and the
    last certificate holder named for them."""
    parts = []
    if account.instructions:
        parts.append(f"Instructions: {account.instructions}")
    if account.policies:
        parts.append(f"Policies: {'; '.join(account.policies)}")
    recent: list[str] = []
    holder = ""
    for cells in reversed(requests.of(account.name)):
        if len(recent) < 3:
            when = cells.get("received")
            day = f" {when:%m/%d}" if isinstance(when, datetime) else ""
            status = str(cells.get("status") or "").strip()
            recent.append(f"{cells.get('id')} {cells.get('type') or ''}{day} ({status})".strip())
        if not holder and not is_blank(cells.get("certificate holder")):
            holder = str(cells.get("certificate holder"))
    if recent:
        parts.append(f"Recent: {'; '.join(recent)}")
    if holder:
        parts.append(f"Last certificate holder: {holder}")
    return parts


def size_text(n: int) -> str:
    """A file size as people say it."""
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.1f} KB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"


def thread_text(messages: int, followed_up: datetime | None) -> str:
    """The Thread cell: how many messages, and when the client last followed up."""
    text = f"{messages} message{'s' if messages != 1 else ''}"
    if followed_up is not None:
        text += f"; client followed up {followed_up:%Y-%m-%d %H:%M}"
    return text

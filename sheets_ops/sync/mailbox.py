"""Mail sources: where requests arrive. The embedded default is a folder of `.eml` files.

A source hands out raw messages and forgets nothing until told: `acknowledge` is called only
after the tracker holds the messages' rows, and `reject` only after the rejection is logged.
A process killed in between leaves the messages where they were, and the next cycle's Source
check keeps them from being appended twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sheets_ops.model import MailItem

log = logging.getLogger(__name__)

__all__ = ["MailItem", "MailSource", "MailboxError"]


class MailboxError(Exception):
    """The mailbox cannot be used, said in one line that tells how to fix it."""


class MailSource(Protocol):
    @property
    def name(self) -> str: ...

    def fetch(self) -> Iterator[MailItem]:
        """New messages, oldest first, without marking them read."""
        ...

    def acknowledge(self, items: Sequence[MailItem]) -> None:
        """These are in the tracker: set them aside for good."""
        ...

    def reject(self, item: MailItem, reason: str) -> None:
        """This one cannot become a request: set it aside with its reason."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block until new mail may have come, or `timeout` seconds pass."""
        ...

    def close(self) -> None:
        """Let go of any connection."""
        ...


class FolderMailbox:
    """`MAILBOX=./inbox`: every `*.eml` file directly in the folder is a new message.

    Acknowledged files move to `processed/`, rejected ones to `rejected/` beside a
    `NAME.reason.txt`. Whatever drops mail here should write to a temporary name that does
    not end in `.eml` and rename it when complete.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.processed = self.folder / "processed"
        self.rejected = self.folder / "rejected"

    @property
    def name(self) -> str:
        return str(self.folder)

    def pending(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(
            p for p in self.folder.iterdir() if p.is_file() and p.suffix.lower() == ".eml"
        )

    def fetch(self) -> Iterator[MailItem]:
        if not self.folder.is_dir():
            raise MailboxError(
                f"MAILBOX: {self.folder} does not exist; create it, or point MAILBOX at the "
                "folder your mail lands in"
            )
        for path in self.pending():
            try:
                raw = path.read_bytes()
                arrived = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except OSError as e:  # left in place: the next cycle tries again
                log.warning("cannot read %s (%s); it stays in the inbox", path, e)
                continue
            yield MailItem(path.name, raw, arrived)

    def acknowledge(self, items: Sequence[MailItem]) -> None:
        for item in items:
            self._move(item.ref, self.processed)

    def reject(self, item: MailItem, reason: str) -> None:
        target = self._move(item.ref, self.rejected)
        if target is not None:
            target.with_name(target.name + ".reason.txt").write_text(reason + "\n", "utf-8")

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending():
                return True
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        return bool(self.pending())

    def close(self) -> None:
        pass

    def _move(self, ref: str, into: Path) -> Path | None:
        source = self.folder / ref
        if not source.exists():  # already moved by an earlier, interrupted cycle
            return None
        into.mkdir(exist_ok=True)
        target = into / ref
        n = 1
        while target.exists():
            target = into / f"{source.stem}-{n}{source.suffix}"
            n += 1
        with contextlib.suppress(FileNotFoundError):
            os.replace(source, target)
        return target

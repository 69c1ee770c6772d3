"""Mail transports: where emails go. The embedded default is a folder of `.eml` files.

Each email has an idempotency key, and the folder holds at most one file per key: writing the
same email twice leaves one file. Sending over SMTP comes with the notifications work.
"""

from __future__ import annotations

import contextlib
import os
from email.message import EmailMessage
from pathlib import Path


class FolderOutbox:
    """`OUTBOX=./outbox`: each email is written as `KEY.eml`, atomically."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    @property
    def name(self) -> str:
        return str(self.folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.eml"

    def has(self, key: str) -> bool:
        return self.path(key).exists()

    def put(self, key: str, message: EmailMessage) -> bool:
        """Write the email unless one with this key is there; True when it was written."""
        target = self.path(key)
        if target.exists():
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            tmp.write_bytes(bytes(message))
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return True

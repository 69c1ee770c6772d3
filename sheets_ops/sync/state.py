"""Local state in STATE_DIR: a cache only. Losing it loses no request and doubles none; the
next cycle takes the sheet as it is as its new starting point."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

SEEN = "seen.json"  # the human cells of every request, as the last good cycle left them


class StateDir:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def load_seen(self) -> dict[str, dict[str, str]] | None:
        """What people's cells held after the last good cycle; None when unknown."""
        try:
            data = json.loads((self.folder / SEEN).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        return {
            str(k): {str(c): str(v) for c, v in row.items()}
            for k, row in data.items()
            if isinstance(row, dict)
        }

    def save_seen(self, seen: Mapping[str, Mapping[str, str]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / SEEN
        tmp = target.with_name(f".{SEEN}.tmp")
        try:
            tmp.write_text(json.dumps(seen, ensure_ascii=False), "utf-8")
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

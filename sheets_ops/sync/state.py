"""Local state in STATE_DIR: a cache only. Losing it loses no request and doubles none; the
next cycle takes the sheet as it is as its new starting point."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sheets_ops import __version__
from sheets_ops.rules.learning import Learned
from sheets_ops.rules.steps import Quiet

SEEN = "seen.json"  # the human cells of every request, as the last good cycle left them
WRITTEN = "written.json"  # what a cycle was about to write into them, until it finished
LEARNED = "learned.pickle"  # what intake learned from the sheet's history (`sheets-ops learn`)
LEARNED_FORMAT = 2  # of learned.pickle: 2 holds NumPy arrays only (1 held scikit-learn's)
TRAINED = "learned.json"  # when it was trained, read by every cycle without the models
QUIET = "quiet.json"  # requests that changed nothing, and until when they stay so


class StateDir:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._seen: dict[str, dict[str, str]] | None = None  # as loaded, to save only changes
        self._quiet: tuple[str, dict[str, Quiet]] | None = None  # likewise

    def load_seen(self) -> Mapping[str, Mapping[str, str]] | None:
        """What people's cells held after the last good cycle; None when unknown."""
        self._seen = self._load(SEEN)
        return self._seen

    def save_seen(self, seen: Mapping[str, Mapping[str, str]]) -> None:
        """The cycle finished: its view of people's cells replaces the last one (a quiet
        cycle's is the one it loaded: nothing is written)."""
        if self._seen is None or seen != self._seen:
            self._save(SEEN, seen)
            self._seen = {rid: dict(cells) for rid, cells in seen.items()}
        with contextlib.suppress(FileNotFoundError):
            (self.folder / WRITTEN).unlink()

    def save_written(self, cells: Mapping[str, Mapping[str, str]]) -> None:
        """What the job is about to write into people's columns: kept until `save_seen`, so a
        cycle that dies after its write landed does not leave the next one taking the job's
        own values for a person's edits. Nothing to keep when the job writes none."""
        if cells or (self.folder / WRITTEN).exists():
            self._save(WRITTEN, cells)

    def load_written(self) -> dict[str, dict[str, str]]:
        """The job's writes of a cycle that did not finish; empty when the last one did."""
        return self._load(WRITTEN) or {}

    def _load(self, name: str) -> dict[str, dict[str, str]] | None:
        try:
            text = (self.folder / name).read_text("utf-8")
            data = json.loads(text)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        rows = {k: row for k, row in data.items() if isinstance(row, dict)}
        plain = all(type(v) is str for row in rows.values() for v in row.values())
        if plain and ' 00:00"' not in text:  # as this version writes it: taken as it is
            return rows
        # An earlier version kept a date cell read back as midnight ("2026-12-03 00:00").
        return {
            k: {c: str(v).removesuffix(" 00:00") for c, v in row.items()} for k, row in rows.items()
        }

    def _save(self, name: str, data: Mapping[str, Mapping[str, str]]) -> None:
        self._put(name, json.dumps(data, ensure_ascii=False))

    def _put(self, name: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        with contextlib.suppress(OSError):
            if target.read_text("utf-8") == text:
                return  # as it is already: a quiet cycle writes nothing here either
        tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, "utf-8")
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    # requests that changed nothing --------------------------------------------------------

    def load_quiet(self, revision: str | None) -> dict[str, Quiet]:
        """What the last cycle found for requests that changed nothing (steps.Quiet), when
        the tracker still holds exactly what it read (`revision`, the same sheets-ops);
        empty otherwise, and for a file that cannot be read: the review looks at all."""
        try:
            data = json.loads((self.folder / QUIET).read_text("utf-8"))
            if revision is None or data["revision"] != [revision, __version__]:
                return {}
            quiet = {
                str(rid): Quiet(
                    datetime.fromisoformat(since),
                    datetime.fromisoformat(until),
                    None if ahead is None else float(ahead),
                )
                for rid, (since, until, ahead) in data["requests"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}
        self._quiet = (revision, quiet)
        return dict(quiet)

    def save_quiet(self, revision: str | None, quiet: Mapping[str, Quiet]) -> None:
        """Kept for the next cycle only when this one wrote nothing (its `revision` is still
        the tracker's); None forgets it."""
        if revision is None:
            with contextlib.suppress(FileNotFoundError):
                (self.folder / QUIET).unlink()
            return
        if self._quiet == (revision, quiet):
            return  # what it loaded: a cycle that found nothing new writes nothing here
        requests = {
            rid: [q.since.isoformat(), q.until.isoformat(), q.until_clock]
            for rid, q in quiet.items()
        }
        self._put(QUIET, json.dumps({"revision": [revision, __version__], "requests": requests}))

    # what intake learned ------------------------------------------------------------------

    def trained(self) -> datetime | None:
        """When the models in STATE_DIR were trained (agency wall clock), or None when there
        are none: a small file, read by every cycle without the models."""
        try:
            meta = json.loads((self.folder / TRAINED).read_text("utf-8"))
            if meta.get("format") != LEARNED_FORMAT or not (self.folder / LEARNED).exists():
                return None  # none, or made by an earlier sheets-ops: trained again now
            return datetime.fromisoformat(str(meta["trained"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def load_learned(self) -> Learned | None:
        """The models, or None when missing or unreadable. Unreadable ones are forgotten,
        so that the next cycle trains them again: they are made from the sheet alone."""
        if self.trained() is None:
            return None
        try:
            with (self.folder / LEARNED).open("rb") as f:
                learned = pickle.load(f)  # our own file in STATE_DIR, written below
        except (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            learned = None
        if isinstance(learned, Learned):
            return learned
        with contextlib.suppress(OSError):
            (self.folder / TRAINED).unlink()
        return None

    def save_learned(self, learned: Learned) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / LEARNED
        tmp = target.with_name(f".{LEARNED}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                pickle.dump(learned, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        meta = {"trained": learned.trained.isoformat(), "format": LEARNED_FORMAT}
        (self.folder / TRAINED).write_text(json.dumps(meta), "utf-8")

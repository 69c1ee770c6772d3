"""Learning from the agency's own sheet: when intake's models are trained, and from what.

The cycle trains them when STATE_DIR has none, and again once a day after the Backup Time
(the night's run); `sheets-ops learn` trains them now. They are made from the tracker and
its archive alone (rules/learning.py), so a lost STATE_DIR costs one training, nothing else.
A message arriving is what loads them: a quiet cycle reads a small file, not the models.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from datetime import time as dt_time

from sheets_ops.rules.directory import Directory
from sheets_ops.rules.learning import Learned, examples_from, train
from sheets_ops.rules.team import routes_from, team_from
from sheets_ops.sheet import Snapshot
from sheets_ops.sync.archives import Archive
from sheets_ops.sync.state import StateDir

NIGHTLY = dt_time(2, 0)  # when Settings has no Backup Time


def learn(snapshot: Snapshot, archive: Archive | None, wall: datetime) -> Learned:
    """The models, trained on every labelled request of the tracker and its archive."""
    everything = archive.joined(snapshot) if archive is not None else snapshot
    routes = routes_from(everything, 24.0)
    examples = examples_from(everything, routes, team_from(everything))
    return train(examples, wall)


def due(state: StateDir, wall: datetime, nightly: dt_time | None) -> bool:
    """Whether the cycle at `wall` trains: none yet, or trained before today and the night's
    moment has passed (at most once a day)."""
    trained = state.trained()
    if trained is None:
        return True
    return trained.date() < wall.date() and wall.time() >= (nightly or NIGHTLY)


def with_history(
    directory: Directory,
    snapshot: Snapshot,
    archive: Archive | None,
    state: StateDir,
    wall: datetime,
    nightly: dt_time | None,
    say: Callable[[str], None],
    train_now: bool = True,
) -> Directory:
    """The directory with what history taught, trained first when `due`; loaded when a
    message first asks for it."""
    if train_now and due(state, wall, nightly):
        started = time.monotonic()
        learned = learn(snapshot, archive, wall)
        state.save_learned(learned)
        say(f"learned from history: {learned.describe()} ({time.monotonic() - started:.1f} s)")
        return replace(directory, history=lambda: learned)
    return replace(directory, history=functools.cache(state.load_learned))

"""What `sheets-ops baseline` costs on a big mailbox: MESSAGES inbox and Sent messages (the
generator of tests/test_baseline.py), read from folders of .eml files as the command reads
them, beside the floor (Python's email parser reading the same files' headers).

    .venv/bin/python -m benchmarks.baseline_speed [REQUESTS]     (default 3600: ~10,000 messages)

Nothing is asserted; the README quotes the output.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from email.parser import BytesParser
from pathlib import Path

from sheets_ops.cli import main as cli
from sheets_ops.rules.settings import read_settings
from sheets_ops.sheet import Snapshot
from tests.mailbox_gen import NOW, generate


def main(argv: list[str]) -> None:
    requests = int(argv[0]) if argv else 3600
    box = generate(read_settings(Snapshot({})).calendar, requests=requests)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, raws in (("inbox", box.inbox), ("sent", box.sent)):
            (folder / name).mkdir()
            for n, raw in enumerate(raws):
                (folder / name / f"{n:05d}.eml").write_bytes(raw)
        count = len(box.inbox) + len(box.sent)
        started = time.perf_counter()
        for f in [*(folder / "inbox").glob("*.eml"), *(folder / "sent").glob("*.eml")]:
            BytesParser().parsebytes(f.read_bytes(), headersonly=True)
        floor = time.perf_counter() - started
        os.chdir(folder)
        os.environ.update(MAILBOX="inbox", TRACKER=str(folder / "none.xlsx"))
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = cli(
                ["baseline", "--sent", "sent", "--since", "2026-09-01", "--now", NOW.isoformat()]
            )
        seconds = time.perf_counter() - started
        assert code == 0
        print(
            f"baseline of {count:,} messages ({requests:,} requests): {seconds:.1f} s "
            f"({count / seconds:,.0f} messages/s); floor, the email parser on the headers: "
            f"{floor:.1f} s"
        )


if __name__ == "__main__":
    main(sys.argv[1:])

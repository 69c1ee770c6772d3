"""The README's console examples are what the code prints. Each block after a
`<!-- checked -->` line is run, command by command, in a fresh folder (with `.venv/bin` on
the PATH and the repository's tests/ beside it): a line `$ COMMAND` runs COMMAND, the lines
after it are its output, `...` stands for any lines, and timings read `(N s)`. The way
sqlite-utils keeps its docs true with cog, without a generator: a changed example fails here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MARK = "<!-- checked -->"


def examples(readme: str) -> list[tuple[int, list[tuple[str, list[str]]]]]:
    """(line number, [(command, expected output lines)]) of each checked console block."""
    lines = readme.splitlines()
    out = []
    for n, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        assert lines[n + 1].startswith("```console"), f"README line {n + 2}: a console block"
        steps: list[tuple[str, list[str]]] = []
        for body in lines[n + 2 :]:
            if body.startswith("```"):
                break
            if body.startswith("$ "):
                steps.append((body[2:], []))
            elif steps and steps[-1][0].endswith("\\"):  # a command continued
                steps[-1] = (steps[-1][0][:-1] + " " + body.strip(), [])
            else:
                steps[-1][1].append(body)
        out.append((n + 1, steps))
    return out


def normal(text: str) -> str:
    return re.sub(r"\(\d+(\.\d+)? s\)", "(N s)", text.rstrip())


def matches(expected: list[str], got: list[str]) -> bool:
    """Whether `got` reads as `expected`, `...` standing for any lines."""
    pattern = "\n".join(
        ".*?" if line.strip() == "..." else re.escape(normal(line)) for line in expected
    )
    return re.fullmatch(pattern, "\n".join(normal(g) for g in got), re.DOTALL) is not None


def check(readme: str, folder: Path) -> list[str]:
    """One line per example whose output is not what the README shows."""
    (folder / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (folder / "tests").symlink_to(ROOT / "tests")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER", "MAILBOX"))}
    env["PATH"] = f"{folder / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"  # what is printed and said, in the order it happens
    wrong = []
    for line, steps in examples(readme):
        for command, expected in steps:
            run = subprocess.run(
                command,
                shell=True,
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            got = run.stdout.splitlines()
            if not matches(expected, got):
                wrong.append(f"README line {line}: `{command}` printed:\n" + "\n".join(got))
    return wrong


@pytest.mark.skipif(not (ROOT / ".venv" / "bin").is_dir(), reason="needs make's .venv")
def test_every_checked_example_in_the_readme_is_what_the_code_prints(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(examples(readme)) >= 4
    assert check(readme, tmp_path) == []


def test_a_changed_example_fails(tmp_path: Path) -> None:
    readme = f"""{MARK}
```console
$ {sys.executable} -m sheets_ops --version
sheets-ops 0.0.0-not-this-one
```
"""
    [wrong] = check(readme, tmp_path)
    assert "README line 1" in wrong and "printed:" in wrong


def test_matching_reads_ellipses_and_timings() -> None:
    assert matches(["a (2.0 s)", "...", "z"], ["a (0.3 s)", "b", "c", "z"])
    assert not matches(["a", "z"], ["a", "b", "z"])


def test_the_tab_table_lists_every_tab_and_column() -> None:
    from sheets_ops.model import TABS

    readme = (ROOT / "README.md").read_text("utf-8")
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| \*\*([^*]+)\*\* \| ([^|]+) \|$", readme, re.MULTILINE)
    }
    for spec in TABS:
        listed = rows[spec.name].split(":")[0].split(", ")
        assert listed == [c.name for c in spec.laid_out], spec.name

"""The layers hold: the pure decisions in rules/ and the reports stand on the model and the
sheet model, never on the I/O in sync/ or on the cycle; rules/ uses the standard library and
the parsing libraries intake needs, nothing else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sheets_ops"
# pure libraries rules may use: to read text, and to learn from the sheet's history
PARSING = {"dateparser", "phonenumbers", "rapidfuzz", "lxml", "sklearn", "scipy", "numpy"}
FORBIDDEN = ("sheets_ops.sync", "sheets_ops.cycle", "sheets_ops.jobs", "sheets_ops.cli")


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_rules_and_reports_never_import_the_io_layer() -> None:
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for layer in ("rules", "reports")
        for path in sorted((PACKAGE / layer).glob("*.py"))
        for name in sorted(imports(path))
        if name.startswith(FORBIDDEN) or (layer == "rules" and name == "sheets_ops.reports")
    ]
    assert wrong == []


def test_rules_use_only_the_standard_library_and_parsing_libraries() -> None:
    wrong = [
        f"{path.name} imports {name}"
        for path in sorted((PACKAGE / "rules").glob("*.py"))
        for name in sorted(imports(path))
        if (top := name.split(".")[0]) not in sys.stdlib_module_names
        and top not in PARSING
        and name not in ("sheets_ops.model", "sheets_ops.sheet")
        and not name.startswith("sheets_ops.rules")
    ]
    assert wrong == []

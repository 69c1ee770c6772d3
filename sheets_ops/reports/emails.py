"""Emails from templates: each kind is `templates/KIND.subject.txt`, `KIND.text.txt` and
`KIND.html`, rendered together by `render`. HTML is autoescaped: client text is untrusted.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sheets_ops.rules.message import plain_line


def template_folders() -> list[Path]:
    """Where the templates are: beside the package in a checkout, or where pip put them."""
    here = Path(__file__).resolve().parents[2] / "templates"
    installed = Path(sys.prefix) / "share" / "sheets-ops" / "templates"
    return [p for p in (here, installed) if p.is_dir()]


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def environment(folders: list[Path] | None = None) -> Environment:
    return Environment(
        loader=FileSystemLoader([str(f) for f in (folders or template_folders())]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(kind: str, context: Mapping[str, Any], env: Environment | None = None) -> Rendered:
    env = env or environment()
    subject = env.get_template(f"{kind}.subject.txt").render(context)
    return Rendered(
        subject=plain_line(subject, 250),  # one line, whatever the template or the client wrote
        text=env.get_template(f"{kind}.text.txt").render(context),
        html=env.get_template(f"{kind}.html").render(context),
    )

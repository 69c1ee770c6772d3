"""Infrastructure settings from the environment and `.env` (DESIGN section 2).

Strict: a bad value stops the program at start with one line naming the variable. Friendly:
with nothing set, everything points at the embedded default (a local workbook, a folder
inbox, a folder outbox). Secrets may come from `NAME_FILE` and are never printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values


class ConfigError(Exception):
    """A bad setting, said in one line that names the variable."""


DEFAULTS = {
    "TRACKER": "./tracker.xlsx",
    "MAILBOX": "./inbox",
    "OUTBOX": "./outbox",
    "STATE_DIR": "./.sheets_ops",
}
SECRETS = ("MAILBOX_PASSWORD", "SMTP_PASSWORD")
PLAIN = (
    "GOOGLE_APPLICATION_CREDENTIALS",
    "MAILBOX_USER",
    "SMTP_USER",
    "MAIL_FROM",
    "HEALTHCHECK_URL",
    "LOG_LEVEL",
    "LOCK_WAIT",
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
KNOWN = (*DEFAULTS, *SECRETS, *PLAIN)

_SHEET_URL = re.compile(r"^https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]{20,})")
_SHEET_KEY = re.compile(r"^[A-Za-z0-9_-]{30,}$")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True)
class Location:
    """Where a tracker, mailbox or outbox is: a local path, or a URL for a remote one."""

    kind: str  # xlsx, google, folder, imap, smtp
    path: Path | None = None
    url: str = ""
    key: str = ""  # a Google Sheets key


@dataclass(frozen=True)
class Config:
    tracker: Location
    mailbox: Location
    outbox: Location
    state_dir: Path
    google_credentials: Path | None = None
    mailbox_user: str = ""
    smtp_user: str = ""
    mail_from: str = ""
    healthcheck_url: str = ""
    log_level: str = "INFO"
    lock_wait: float = 60.0  # seconds to wait for another sheets-ops using the tracker
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:  # secrets stay out of logs and tracebacks
        shown = {k: "***" for k in self.secrets}
        return (
            f"Config(tracker={self.tracker}, mailbox={self.mailbox}, outbox={self.outbox}, "
            f"state_dir={self.state_dir}, secrets={shown})"
        )


def environment(env_file: str | os.PathLike[str] | None = ".env") -> dict[str, str]:
    """`.env` (when present) overlaid by the real environment: the process's own settings win."""
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    names = {*KNOWN, *(f"{k}_FILE" for k in KNOWN)}
    values.update({k: v for k, v in os.environ.items() if k in names})
    return values


def _value(env: Mapping[str, str], name: str) -> str:
    """A variable's value, or the content of the file named by NAME_FILE."""
    direct = env.get(name, "").strip()
    file_name = env.get(f"{name}_FILE", "").strip()
    if direct and file_name:
        raise ConfigError(f"{name}: set {name} or {name}_FILE, not both")
    if file_name:
        try:
            return Path(file_name).read_text("utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{name}_FILE: cannot read {file_name} ({e.strerror})") from None
    return direct or DEFAULTS.get(name, "")


def _tracker(value: str) -> Location:
    m = _SHEET_URL.match(value)
    if m:
        return Location("google", url=value, key=m.group(1))
    if value.startswith(("http://", "https://")):
        raise ConfigError(
            f"TRACKER: {value!r} is not a Google Sheets URL "
            "(expected https://docs.google.com/spreadsheets/d/KEY/...)"
        )
    if _SHEET_KEY.match(value) and not value.lower().endswith(".xlsx"):
        return Location("google", key=value)
    if not value.lower().endswith(".xlsx"):
        raise ConfigError(
            f"TRACKER: {value!r} is neither an .xlsx path nor a Google Sheets URL or key"
        )
    path = Path(value).expanduser()
    if path.exists() and path.is_dir():
        raise ConfigError(f"TRACKER: {value!r} is a folder; name the .xlsx file inside it")
    return Location("xlsx", path=path)


def _remote(name: str, value: str, schemes: dict[str, int], kind: str) -> Location:
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ConfigError(
            f"{name}: {value!r} has scheme {parts.scheme!r}; use "
            + " or ".join(f"{s}://" for s in schemes)
            + " or a folder"
        )
    if not parts.hostname:
        raise ConfigError(f"{name}: {value!r} names no host")
    try:
        _port = parts.port
    except ValueError:
        raise ConfigError(f"{name}: {value!r} has a bad port") from None
    return Location(kind, url=value)


def _folder(name: str, value: str) -> Location:
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{name}: {value!r} is a file; {name} wants a folder")
    return Location("folder", path=path)


def load(env: Mapping[str, str] | None = None) -> Config:
    """Read and check every setting. Raises ConfigError naming the first bad variable."""
    env = environment() if env is None else env
    tracker = _tracker(_value(env, "TRACKER"))
    mailbox_value = _value(env, "MAILBOX")
    if "://" in mailbox_value:
        mailbox = _remote("MAILBOX", mailbox_value, {"imap": 143, "imaps": 993}, "imap")
    else:
        mailbox = _folder("MAILBOX", mailbox_value)
    outbox_value = _value(env, "OUTBOX")
    if "://" in outbox_value:
        outbox = _remote("OUTBOX", outbox_value, {"smtp": 587, "smtps": 465}, "smtp")
    else:
        outbox = _folder("OUTBOX", outbox_value)
    state_dir = Path(_value(env, "STATE_DIR")).expanduser()
    if state_dir.exists() and not state_dir.is_dir():
        raise ConfigError(f"STATE_DIR: {state_dir} is a file; STATE_DIR wants a folder")
    credentials = _value(env, "GOOGLE_APPLICATION_CREDENTIALS")
    if credentials and not Path(credentials).expanduser().is_file():
        raise ConfigError(
            f"GOOGLE_APPLICATION_CREDENTIALS: no file at {credentials}; "
            "point it at the service account's JSON key"
        )
    mail_from = _value(env, "MAIL_FROM")
    if mail_from and not _ADDRESS.match(mail_from):
        raise ConfigError(f"MAIL_FROM: {mail_from!r} is not an email address")
    secrets = {name: v for name in SECRETS if (v := _value(env, name))}
    ping = _value(env, "HEALTHCHECK_URL")
    if ping and not (urlsplit(ping).scheme in ("http", "https") and urlsplit(ping).hostname):
        raise ConfigError(f"HEALTHCHECK_URL: {ping!r} is not an http(s) URL")
    level = (_value(env, "LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL: {level!r} is not one of {', '.join(LOG_LEVELS)}")
    wait_text = _value(env, "LOCK_WAIT") or "60"
    try:
        lock_wait = float(wait_text)
    except ValueError:
        lock_wait = -1.0
    if not 0 <= lock_wait <= 3600:
        raise ConfigError(
            f"LOCK_WAIT: {wait_text!r} is not a number of seconds from 0 to 3600 (default 60)"
        )
    return Config(
        tracker=tracker,
        mailbox=mailbox,
        outbox=outbox,
        state_dir=state_dir,
        google_credentials=Path(credentials).expanduser() if credentials else None,
        mailbox_user=_value(env, "MAILBOX_USER"),
        smtp_user=_value(env, "SMTP_USER"),
        mail_from=mail_from,
        healthcheck_url=ping,
        log_level=level,
        lock_wait=lock_wait,
        secrets=secrets,
    )

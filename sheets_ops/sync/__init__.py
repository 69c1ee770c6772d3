"""Every outside system: tracker backends, mail sources, mail transports.

Registries are plain functions over the configuration: `.env` picks the backend, code does not.
"""

from __future__ import annotations

from collections.abc import Callable

from sheets_ops.config import Config, ConfigError
from sheets_ops.sync.mailbox import FolderMailbox, MailSource
from sheets_ops.sync.outbox import Outbox
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.transport import FolderTransport, SmtpTransport, Transport
from sheets_ops.sync.xlsx import XlsxTracker


def open_tracker(config: Config, say: Callable[[str], None] | None = None) -> Tracker:
    """The tracker that TRACKER names."""
    location = config.tracker
    if location.kind == "xlsx" and location.path is not None:
        return XlsxTracker(location.path, say=say)
    if location.kind == "google":
        from sheets_ops.sync.google import open_google  # gspread loads only when needed

        return open_google(location.key, config.google_credentials, say=say)
    raise ConfigError(f"TRACKER: cannot open a {location.kind} tracker")


def open_transport(config: Config) -> Transport:
    """How emails leave: a folder of .eml files, or SMTP."""
    location = config.outbox
    if location.kind == "folder" and location.path is not None:
        return FolderTransport(location.path)
    if location.kind == "smtp":
        password = config.secrets.get("SMTP_PASSWORD", "")
        if config.smtp_user and not password:
            raise ConfigError(
                "SMTP_PASSWORD: SMTP_USER is set but no password (or SMTP_PASSWORD_FILE)"
            )
        if not config.mail_from:
            raise ConfigError("MAIL_FROM: an SMTP OUTBOX needs the address emails come from")
        return SmtpTransport(location.url, config.smtp_user, password)
    raise ConfigError(f"OUTBOX: cannot open a {location.kind} outbox")


def open_outbox(config: Config) -> Outbox:
    """The outbox: emails kept in STATE_DIR until the transport takes them."""
    return Outbox(config.state_dir, open_transport(config))


def open_mailbox(config: Config) -> MailSource:
    """The mail source that MAILBOX names."""
    location = config.mailbox
    if location.kind == "folder" and location.path is not None:
        return FolderMailbox(location.path)
    if location.kind == "imap":
        from sheets_ops.sync.imap import ImapMailbox  # imap-tools loads only when needed

        if not config.mailbox_user:
            raise ConfigError("MAILBOX_USER: an IMAP MAILBOX needs a login; set MAILBOX_USER")
        password = config.secrets.get("MAILBOX_PASSWORD", "")
        if not password:
            raise ConfigError(
                "MAILBOX_PASSWORD: an IMAP MAILBOX needs a password; set MAILBOX_PASSWORD "
                "(or MAILBOX_PASSWORD_FILE)"
            )
        return ImapMailbox(location.url, config.mailbox_user, password)
    raise ConfigError(f"MAILBOX: cannot open a {location.kind} mailbox")

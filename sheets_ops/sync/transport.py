"""Mail transports: how an email leaves. A folder of `.eml` files (the embedded default) or
SMTP (`smtp://host:port` with STARTTLS when the server offers it, `smtps://host` with TLS).

`send` returns when the message is handed over, or raises TransportError, `permanent` when
trying again cannot help (a refused address, a refused login): the outbox retries the rest.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit


class TransportError(Exception):
    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, key: str, message: EmailMessage) -> None:
        """Hand the message over; `key` is its idempotency key."""
        ...


class FolderTransport:
    """`OUTBOX=./outbox`: each email is written as `KEY.eml`, atomically, once."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    @property
    def name(self) -> str:
        return str(self.folder)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.eml"

    def send(self, key: str, message: EmailMessage) -> None:
        target = self.path(key)
        if target.exists():
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(bytes(message))
            os.replace(tmp, target)
        except OSError as e:
            raise TransportError(f"cannot write {target}: {e.strerror}") from e
        finally:
            with contextlib.suppress(OSError, UnboundLocalError):
                tmp.unlink()


class SmtpTransport:
    def __init__(self, url: str, user: str = "", password: str = "", timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 587)
        self.user, self.password, self.timeout = user, password, timeout

    @property
    def name(self) -> str:
        return f"{'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}"

    def send(self, key: str, message: EmailMessage) -> None:
        try:
            if self.tls:
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with server:
                server.ehlo()
                if not self.tls and server.has_extn("starttls"):
                    server.starttls(context=ssl.create_default_context())
                    server.ehlo()
                elif not self.tls and self.user:
                    raise TransportError(
                        f"{self.name} offers no STARTTLS: the login would cross the network "
                        "in clear; use smtps:// or a server with STARTTLS",
                        permanent=True,
                    )
                if self.user:
                    server.login(self.user, self.password)
                server.send_message(message)
        except smtplib.SMTPAuthenticationError as e:
            raise TransportError(
                f"{self.name} refused the login of {self.user!r} ({e.smtp_code}): "
                "check SMTP_USER and SMTP_PASSWORD",
                permanent=True,
            ) from e
        except smtplib.SMTPRecipientsRefused as e:
            refused = ", ".join(e.recipients)
            raise TransportError(f"{self.name} refused {refused}", permanent=True) from e
        except smtplib.SMTPResponseException as e:
            text = (
                e.smtp_error.decode(errors="replace")
                if isinstance(e.smtp_error, bytes)
                else str(e.smtp_error)
            )
            raise TransportError(
                f"{self.name} answered {e.smtp_code} {text}", permanent=500 <= e.smtp_code < 600
            ) from e
        except (TimeoutError, OSError, smtplib.SMTPException) as e:
            raise TransportError(f"{self.name}: {type(e).__name__}: {e}") from e

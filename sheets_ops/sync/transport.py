"""Mail transports: how an email leaves. A folder of `.eml` files (the embedded default) or
SMTP (`smtp://host:port` with STARTTLS, `smtps://host` with TLS).

`send` returns once the message is handed over, or raises TransportError, `permanent` when
trying again cannot help (a refused address, a refused login): the outbox retries the rest.
`close` ends a delivery run and never raises.

SMTP facts this module is built on: once the server answers 250 to the end of DATA the
message is accepted, whatever QUIT answers afterwards (a 421 to QUIT is not a failure); any 4xx
reply, on connect, MAIL, RCPT or DATA (greylisting is a 451 to RCPT), is temporary and 5xx is
permanent; and a server that accepts the connection and never answers must cost seconds, not
minutes, so every connection and command has a timeout.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

SMTP_TIMEOUT = 15.0  # seconds for the connection and for each command


class TransportError(Exception):
    def __init__(self, message: str, permanent: bool = False, unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable  # the server did not answer: the others wait too


class Transport(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, key: str, message: EmailMessage) -> None:
        """Hand the message over; `key` is its idempotency key."""
        ...

    def close(self) -> None:
        """End the delivery run (an SMTP QUIT); never raises."""
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
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(bytes(message))
            os.replace(tmp, target)
        except OSError as e:
            raise TransportError(f"cannot write {target}: {e.strerror}") from e
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def close(self) -> None:
        pass


def _reply_text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


class SmtpTransport:
    """One SMTP session per delivery run: connect, STARTTLS, log in once, send each message,
    QUIT at `close`. A login never crosses the network in clear: a server without STARTTLS
    gets no password unless the URL says `?insecure=1` (a test server on this machine)."""

    def __init__(
        self, url: str, user: str = "", password: str = "", timeout: float = SMTP_TIMEOUT
    ) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 587)
        self.insecure = query.get("insecure", ["0"])[0].lower() in ("1", "yes", "true")
        self.user, self.password, self.timeout = user, password, timeout
        self._server: smtplib.SMTP | None = None

    @property
    def name(self) -> str:
        return f"{'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}"

    def connect(self) -> smtplib.SMTP:
        """An open, secured and logged-in session (the one already open, if any)."""
        if self._server is not None:
            return self._server
        try:
            if self.tls:
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except smtplib.SMTPConnectError as e:
            raise self._refused(e) from e
        except (OSError, smtplib.SMTPException) as e:
            raise TransportError(
                f"{self.name}: no answer ({type(e).__name__}: {e}); the emails wait for the "
                "next cycle",
                unreachable=True,
            ) from e
        try:
            server.ehlo()
            if not self.tls and server.has_extn("starttls"):
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            elif not self.tls and self.user and not self.insecure:
                raise TransportError(
                    f"{self.name} offers no STARTTLS: the login would cross the network in "
                    "clear; use smtps://, a server with STARTTLS, or add ?insecure=1 to OUTBOX "
                    "for a test server on this machine",
                    permanent=True,
                )
            if self.user:
                server.login(self.user, self.password)
        except BaseException as e:
            with contextlib.suppress(Exception):
                server.close()
            if isinstance(e, TransportError):
                raise
            if isinstance(e, smtplib.SMTPAuthenticationError):
                raise TransportError(
                    f"{self.name} refused the login of {self.user!r} ({e.smtp_code}): "
                    "check SMTP_USER and SMTP_PASSWORD",
                    permanent=not 400 <= e.smtp_code < 500,
                ) from e
            if isinstance(e, smtplib.SMTPResponseException):
                raise self._refused(e) from e
            if isinstance(e, ssl.SSLError):
                raise TransportError(
                    f"{self.name}: STARTTLS failed ({e}); check the server's certificate",
                    permanent=True,
                ) from e
            if isinstance(e, OSError | smtplib.SMTPException):
                raise TransportError(
                    f"{self.name}: {type(e).__name__}: {e}", unreachable=True
                ) from e
            raise
        self._server = server
        return server

    def send(self, key: str, message: EmailMessage) -> None:
        for attempt in (1, 2):
            reused = self._server is not None
            server = self.connect()
            try:
                server.send_message(message)  # returns at the server's 250 to the data
                return
            except smtplib.SMTPServerDisconnected as e:
                self._drop()
                if reused and attempt == 1:
                    continue  # the server closed an idle session: open a new one, once
                raise TransportError(f"{self.name}: the server hung up ({e})") from e
            except smtplib.SMTPRecipientsRefused as e:
                self._drop()
                codes = [code for code, _text in e.recipients.values()]
                refused = "; ".join(
                    f"{who} ({code} {_reply_text(text)})"
                    for who, (code, text) in e.recipients.items()
                )
                temporary = any(400 <= code < 500 for code in codes)
                raise TransportError(
                    f"{self.name} {'deferred' if temporary else 'refused'} {refused}",
                    permanent=not temporary,
                ) from e
            except smtplib.SMTPResponseException as e:
                self._drop()
                raise self._refused(e) from e
            except (OSError, smtplib.SMTPException) as e:
                self._drop()
                raise TransportError(
                    f"{self.name}: {type(e).__name__}: {e}", unreachable=isinstance(e, OSError)
                ) from e
        raise AssertionError("unreachable")

    def close(self) -> None:
        """QUIT, whatever the server answers: every message it took is delivered already."""
        server, self._server = self._server, None
        if server is None:
            return
        with contextlib.suppress(Exception):
            server.quit()
        with contextlib.suppress(Exception):
            server.close()

    def check(self) -> str:
        """Connect, secure and log in as a delivery would, then QUIT: for `doctor`."""
        try:
            server = self.connect()
            secured = isinstance(server.sock, ssl.SSLSocket)
        finally:
            self.close()
        how = "TLS" if secured else "no encryption"
        return f"{self.name}: connected ({how}){' and logged in' if self.user else ''}"

    def _drop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                server.close()

    def _refused(self, e: smtplib.SMTPResponseException) -> TransportError:
        text = _reply_text(e.smtp_error)
        return TransportError(
            f"{self.name} answered {e.smtp_code} {text}",
            permanent=500 <= e.smtp_code < 600,
        )

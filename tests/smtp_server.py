"""Real SMTP servers for the tests: aiosmtpd's Controller, told how to misbehave, and a server
that accepts connections and never says a word."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.imap_server import free_port

USER, PASSWORD = "service@agency.example", "smtp-secret"


class Recorder:
    """An SMTP server's delivery end: keeps what it accepts (250 to DATA). `replies` are
    answers given to DATA instead, in turn; `rcpt` to RCPT; `quit` is the answer to QUIT.
    `on_data`, when set, is called at each DATA before the answer; when it returns a reply,
    that is the answer and the message is not accepted (a test may kill the client there)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.replies: list[str] = []
        self.rcpt: list[str] = []
        self.quit = ""
        self.on_data: Callable[[EmailMessage], str] | None = None
        self.lock = threading.Lock()
        self.sessions = 0  # EHLO greetings (two per session when STARTTLS is used)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt:
            return self.rcpt.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if self.on_data is not None and (answer := self.on_data(message)):
            return answer
        if self.replies:
            return self.replies.pop(0)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        return self.quit or "221 Bye"

    def keys(self) -> list[str]:
        with self.lock:
            return sorted(str(m["X-Sheets-Ops-Key"]) for m in self.messages)


def _login(user: str, password: str) -> Callable[..., AuthResult]:
    def check(_server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server(
    handler: Recorder | None = None,
    *,
    tls: ssl.SSLContext | None = None,
    login: bool = False,
) -> Iterator[tuple[Recorder, int]]:
    """An aiosmtpd server on 127.0.0.1; with `tls` it offers STARTTLS, with `login` it asks
    for USER and PASSWORD (over TLS only, as a real server would)."""
    recorder = handler or Recorder()
    port = free_port()
    options: dict[str, Any] = {}
    if tls is not None:
        options["tls_context"] = tls
    if login:
        options.update(authenticator=_login(USER, PASSWORD), auth_require_tls=tls is not None)
    else:
        options["auth_require_tls"] = False
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """Accepts every connection and never answers: the worst SMTP server there is. Yields
    its port and the connections it accepted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1]), held
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and 127.0.0.2 and its key, made now (never committed). Point
    SSL_CERT_FILE at the certificate and clients trust it like any public one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.2")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.chmod(0o644)
    key_path.chmod(0o644)
    return cert_path, key_path


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context

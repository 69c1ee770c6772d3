"""Real IMAP servers for the tests: Dovecot (Debian's dovecot-imapd, started as root in the
foreground on 127.0.0.1) when it is installed, and pymap (pure Python) always."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from imap_tools import MailBoxUnencrypted

USER, PASSWORD = "agency", "imap-secret"


@dataclass
class ImapServer:
    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    command: tuple[str, ...] = ()
    address: str = "127.0.0.1"

    def stop(self) -> None:
        """Stop the server and every connection it holds, as a restart of the service does
        (Dovecot's imap processes outlive a master that is only sent SIGTERM)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        time.sleep(0.2)  # the children go with their group

    def start(self) -> None:
        """Start the same server again, on the same port, with the same mail."""
        self.process = subprocess.Popen(
            list(self.command),
            stdout=subprocess.DEVNULL,
            stderr=open(self.log.with_name("stderr.log"), "ab"),  # noqa: SIM115
            start_new_session=True,
        )
        wait_for_port(self.port, self.process, self.log.with_name("stderr.log"), self.address)

    def url(self, folder: str, **query: str) -> str:
        """The MAILBOX URL of a folder. These servers speak plain IMAP on this machine, so
        the URL allows a login without STARTTLS, as a test server's must say."""
        query = {"insecure": "1", **query}
        suffix = f"?{urlencode(query)}"
        return f"imap://{self.address}:{self.port}/{folder}{suffix}"

    def admin(self) -> MailBoxUnencrypted:
        """A separate client, as the agency's mail program would be."""
        box = MailBoxUnencrypted("127.0.0.1", self.port, timeout=10)
        box.login(USER, PASSWORD)
        return box

    def new_folder(self) -> str:
        name = f"t{uuid.uuid4().hex[:10]}"
        with self.admin() as box:
            box.folder.create(name)
        return name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, address: str = "127.0.0.1"
) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the IMAP server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection((address, port), timeout=0.5) as s:
                if s.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the IMAP server did not start: {log.read_text()[-2000:]}")


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    return found if found and os.geteuid() == 0 else None


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {address}
ssl = no
{tls}
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
mail_uid = mail
mail_gid = mail
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {address}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


PLAIN = "ssl = no\ndisable_plaintext_auth = no"
# STARTTLS offered, and no login before it: the server says LOGINDISABLED until then.
TLS = "ssl = required\nssl_cert = <{cert}\nssl_key = <{key}\ndisable_plaintext_auth = yes"


def start_dovecot(
    _scratch: Path, tls: tuple[Path, Path] | None = None, address: str = "127.0.0.1"
) -> ImapServer:
    """Dovecot on `address`. Dovecot counts a client on its own address as secure and lets
    it log in in clear; on 127.0.0.2 a client connects from 127.0.0.1, so Dovecot treats it as
    a client from elsewhere: with `tls`, it says LOGINDISABLED until STARTTLS."""
    # Dovecot's own users (dovecot, dovenull, mail) must reach these files: pytest's folders
    # are private to root, so this one lives in a folder of its own.
    root = Path(tempfile.mkdtemp(prefix="sheets-ops-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.chown(root / "mail", "mail", "mail")
    shutil.chown(root / "home", "mail", "mail")
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "users").chmod(0o644)
    conf = root / "dovecot.conf"
    security = PLAIN
    if tls is not None:
        for path in tls:
            shutil.copy(path, root / path.name)
        security = TLS.format(cert=root / tls[0].name, key=root / tls[1].name)
    conf.write_text(DOVECOT_CONF.format(root=root, port=port, tls=security, address=address))
    log = root / "dovecot.log"
    command = (str(dovecot_binary()), "-F", "-c", str(conf))
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.DEVNULL,
        stderr=open(root / "stderr.log", "wb"),  # noqa: SIM115
        start_new_session=True,
    )
    wait_for_port(port, process, root / "stderr.log", address)
    return ImapServer("dovecot", port, process, log, command, address)


def start_pymap(root: Path) -> ImapServer:
    port = free_port()
    log = root / "pymap.log"
    pymap = Path(sys.executable).with_name("pymap")
    command = (
        str(pymap),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-tls",
        "--no-service",
        "admin",
        "dict",
        "--demo-user",
        USER,
        "--demo-password",
        PASSWORD,
    )
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115
        start_new_session=True,
    )
    wait_for_port(port, process, log)
    return ImapServer("pymap", port, process, log, command)


def servers() -> list[str]:
    return (["dovecot"] if dovecot_binary() else []) + ["pymap"]


def running(kind: str, root: Path) -> Iterator[ImapServer]:
    server = start_dovecot(root) if kind == "dovecot" else start_pymap(root)
    try:
        yield server
    finally:
        stopped(server)


def stopped(server: ImapServer) -> None:
    if server.process.poll() is None:
        server.stop()
    if server.kind == "dovecot":
        shutil.rmtree(server.log.parent, ignore_errors=True)

"""Real IMAP servers for the tests: Dovecot (Debian's dovecot-imapd, started as root in the
foreground on 127.0.0.1) when it is installed, and pymap (pure Python) always."""

from __future__ import annotations

import os
import shutil
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

    def url(self, folder: str, **query: str) -> str:
        """The MAILBOX URL of a folder. These servers speak plain IMAP on this machine, so
        the URL allows a login without STARTTLS, as a test server's must say."""
        query = {"insecure": "1", **query}
        suffix = f"?{urlencode(query)}"
        return f"imap://127.0.0.1:{self.port}/{folder}{suffix}"

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


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the IMAP server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(64).startswith(b"* OK"):
                    return
        except OSError:
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
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
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
    address = 127.0.0.1
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


def start_dovecot(_scratch: Path) -> ImapServer:
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
    conf.write_text(DOVECOT_CONF.format(root=root, port=port))
    log = root / "dovecot.log"
    process = subprocess.Popen(
        [str(dovecot_binary()), "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "stderr.log", "wb"),  # noqa: SIM115
    )
    wait_for_port(port, process, root / "stderr.log")
    return ImapServer("dovecot", port, process, log)


def start_pymap(root: Path) -> ImapServer:
    port = free_port()
    log = root / "pymap.log"
    pymap = Path(sys.executable).with_name("pymap")
    process = subprocess.Popen(
        [
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
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115
    )
    wait_for_port(port, process, log)
    return ImapServer("pymap", port, process, log)


def servers() -> list[str]:
    return (["dovecot"] if dovecot_binary() else []) + ["pymap"]


def running(kind: str, root: Path) -> Iterator[ImapServer]:
    server = start_dovecot(root) if kind == "dovecot" else start_pymap(root)
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
        if kind == "dovecot":
            shutil.rmtree(server.log.parent, ignore_errors=True)

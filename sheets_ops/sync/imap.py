"""An IMAP mailbox (`MAILBOX=imap://host:port/FOLDER` or `imaps://host/FOLDER`), with imap-tools.

`imaps://` is TLS from the first byte; `imap://` upgrades with STARTTLS, and when the server
offers no STARTTLS the password is not sent at all (it would cross the network in clear) unless
the URL says `?insecure=1`, for a test server on this machine. Every connection and command
has a timeout. A dropped connection (a server restart, a network blip) is noticed at the next
command: the mailbox reconnects once at once, and otherwise on the next cycle.

Messages are fetched by UID with BODY.PEEK, so nothing is marked read; only after the tracker
holds their rows are they flagged \\Seen and moved to the processed folder. A run killed in
between leaves them in place, and the next cycle finds their Source in the sheet. UIDs are only
good within one UIDVALIDITY: if the server renumbers the folder between a fetch and the
acknowledgement, nothing is moved and the next cycle sorts it out by Source.

Folders: `?processed=NAME&rejected=NAME` on the URL (defaults: Processed, Rejected).
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

from imap_tools import MailBox
from imap_tools.errors import MailboxFolderSelectError, MailboxLoginError
from imap_tools.mailbox import BaseMailBox
from imap_tools.utils import encode_folder

from sheets_ops.sync.mailbox import MailboxError, MailItem

_UID = re.compile(rb"\bUID (\d+)")
_CHUNK = 50  # messages per FETCH: bounded memory on a full inbox
RECONNECT_PAUSE = 10.0  # seconds between attempts while the server is down (run --idle)
# What a dead or dying connection raises: the socket, imaplib, or TLS underneath it.
_CONNECTION = (OSError, imaplib.IMAP4.error, ssl.SSLError, EOFError)


class _StartTlsMailBox(BaseMailBox):
    """imap:// as it should be: STARTTLS when the server offers it; without it, no login
    unless the URL allows it explicitly."""

    def __init__(self, host: str, port: int, timeout: float, insecure: bool) -> None:
        self._host, self._port, self._timeout, self._insecure = host, port, timeout, insecure
        super().__init__()

    def _get_mailbox_client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self._host, self._port, timeout=self._timeout)
        if "STARTTLS" in client.capabilities:
            client.starttls(ssl.create_default_context())  # also asks the capabilities anew
        elif not self._insecure:
            with contextlib.suppress(*_CONNECTION):
                client.shutdown()
            raise MailboxError(
                f"MAILBOX: {self._host}:{self._port} offers no STARTTLS, so the password would "
                "cross the network in clear; use imaps://, or add ?insecure=1 to MAILBOX for a "
                "test server on this machine"
            )
        return client


class ImapMailbox:
    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        *,
        timeout: float = 60.0,
        readonly: bool = False,
    ) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.secure = parts.scheme == "imaps"
        self.host = parts.hostname or ""
        self.port = parts.port or (993 if self.secure else 143)
        self.folder = unquote(parts.path.lstrip("/")) or "INBOX"
        self.processed = query.get("processed", ["Processed"])[0]
        self.rejected = query.get("rejected", ["Rejected"])[0]
        self.insecure = query.get("insecure", ["0"])[0].lower() in ("1", "yes", "true")
        self.user, self.password, self.timeout = user, password, timeout
        self.readonly = readonly  # then no folder is SELECTed, only EXAMINEd (`examine`)
        self._box: BaseMailBox | None = None
        self._validity: int | None = None
        self._listed: set[str] = set()  # the UIDs the last listing saw

    @property
    def name(self) -> str:
        return f"{'imaps' if self.secure else 'imap'}://{self.host}:{self.port}/{self.folder}"

    # the connection ---------------------------------------------------------------------

    def box(self) -> BaseMailBox:
        if self._box is not None:
            return self._box
        try:
            if self.secure:
                box: BaseMailBox = MailBox(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    ssl_context=ssl.create_default_context(),
                )
            else:
                box = _StartTlsMailBox(self.host, self.port, self.timeout, self.insecure)
            initial = None if self.readonly else self.folder
            box.login(self.user, self.password, initial_folder=initial)
        except MailboxLoginError:
            raise MailboxError(
                f"MAILBOX: {self.host} refused the login of {self.user!r}: "
                "check MAILBOX_USER and MAILBOX_PASSWORD"
            ) from None
        except _CONNECTION as e:
            raise MailboxError(
                f"MAILBOX: cannot use {self.name} ({type(e).__name__}: {e}); "
                "check the host, port and folder"
            ) from None
        # imaplib keeps the capabilities it saw before login, and imap-tools picks MOVE from
        # them: without asking again, Dovecot would get COPY + EXPUNGE, which also expunges
        # other messages marked \\Deleted.
        typ, data = box.client.capability()
        if typ == "OK" and data and data[0]:
            box.client.capabilities = tuple(data[0].decode().upper().split())
        self._box = box
        return box

    def close(self) -> None:
        box, self._box = self._box, None
        if box is not None:
            with contextlib.suppress(Exception):  # a dead connection answers nothing
                box.logout()
            with contextlib.suppress(Exception):
                box.client.shutdown()

    def _listing(self) -> tuple[BaseMailBox, list[str]]:
        """The folder's UIDs; a connection that died since the last cycle is replaced once."""
        for attempt in (1, 2):
            fresh = self._box is None
            box = self.box()
            try:
                status = box.folder.status(self.folder, ["UIDVALIDITY"])
                self._validity = int(status["UIDVALIDITY"])
                uids = list(box.uids("UNDELETED"))  # mail someone deleted is no request
                self._listed = set(uids)
                return box, uids
            except _CONNECTION as e:
                self.close()
                if fresh or attempt == 2:
                    raise MailboxError(f"MAILBOX: cannot list {self.name} ({e})") from None
        raise AssertionError("unreachable")

    def examine(self, folder: str) -> Iterator[MailItem]:
        """Every message of `folder`, read-only: EXAMINE and BODY.PEEK, so that no flag
        changes and nothing moves (`sheets-ops baseline` reads the inbox and Sent this way)."""
        box = self.box()
        try:
            box.folder.set(folder, readonly=True)  # EXAMINE
            typ, data = box.client.uid("SEARCH", "ALL")
            uids = data[0].decode().split() if typ == "OK" and data and data[0] else []
            for start in range(0, len(uids), _CHUNK):
                chunk = ",".join(uids[start : start + _CHUNK])
                typ, data = box.client.uid("FETCH", chunk, "(UID INTERNALDATE BODY.PEEK[])")
                for entry in data if typ == "OK" else []:
                    if isinstance(entry, tuple) and len(entry) >= 2:
                        stamp = imaplib.Internaldate2tuple(entry[0])
                        arrived = datetime(*stamp[:6], tzinfo=UTC) if stamp else None
                        yield MailItem(f"{folder}:{start}", bytes(entry[1]), arrived)
        except _CONNECTION as e:
            self.close()
            raise MailboxError(f"MAILBOX: cannot read {folder} on {self.host} ({e})") from None
        except MailboxFolderSelectError:
            raise MailboxError(
                f"MAILBOX: {self.host} has no folder {folder!r}; give the Sent folder's name as "
                "the server spells it"
            ) from None

    # MailSource -------------------------------------------------------------------------

    def fetch(self) -> Iterator[MailItem]:
        box, uids = self._listing()
        for start in range(0, len(uids), _CHUNK):
            chunk = ",".join(uids[start : start + _CHUNK])
            try:
                typ, data = box.client.uid("FETCH", chunk, "(UID INTERNALDATE BODY.PEEK[])")
            except _CONNECTION as e:
                self.close()
                raise MailboxError(f"MAILBOX: {self.name} dropped the connection ({e})") from None
            if typ != "OK":
                raise MailboxError(f"MAILBOX: {self.host} would not hand out messages ({data!r})")
            for entry in data:
                if not isinstance(entry, tuple) or len(entry) < 2:
                    continue
                head, raw = entry[0], entry[1]
                uid = _UID.search(head)
                if uid is None:
                    continue
                stamp = imaplib.Internaldate2tuple(head)
                arrived = datetime(*stamp[:6], tzinfo=UTC) if stamp is not None else None
                ref = f"{self._validity}:{uid.group(1).decode()}"
                yield MailItem(ref, bytes(raw), arrived)

    def _uids(self, items: Sequence[MailItem]) -> list[str]:
        """The UIDs of these items, when they are still good (same UIDVALIDITY)."""
        box = self.box()
        current = int(box.folder.status(self.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        uids = []
        for item in items:
            validity, _, uid = item.ref.partition(":")
            if validity == str(current):
                uids.append(uid)
        return uids

    def _ensure(self, folder: str) -> None:
        box = self.box()
        if not box.folder.exists(folder):
            box.folder.create(folder)

    def acknowledge(self, items: Sequence[MailItem]) -> None:
        if not items:
            return
        try:
            uids = self._uids(items)
            if not uids:
                return
            self._store(uids, "+FLAGS", "(\\Seen)")
            self._move(uids, self.processed)
        except _CONNECTION as e:
            self.close()
            raise MailboxError(f"MAILBOX: {self.name} dropped the connection ({e})") from None

    def reject(self, item: MailItem, reason: str) -> None:
        try:
            uids = self._uids([item])
            if uids:
                self._move(uids, self.rejected)
        except _CONNECTION as e:
            self.close()
            raise MailboxError(f"MAILBOX: {self.name} dropped the connection ({e})") from None

    def _store(self, uids: list[str], what: str, flags: str) -> None:
        # Not imap-tools' flag(): it EXPUNGEs after every STORE, which would also remove
        # mail that someone else marked \Deleted in this folder.
        typ, data = self.box().client.uid("STORE", ",".join(uids), what, flags)
        if typ != "OK":
            raise MailboxError(f"MAILBOX: {self.host} would not flag messages ({data!r})")

    def _move(self, uids: list[str], folder: str) -> None:
        """MOVE when the server has it; else COPY, mark, and expunge only these (UIDPLUS)."""
        self._ensure(folder)
        client = self.box().client
        target = encode_folder(folder).decode("ascii")  # quoted, modified UTF-7
        ok = ("OK",)
        if "MOVE" in client.capabilities:
            if client.uid("MOVE", ",".join(uids), target)[0] in ok:
                return
        elif client.uid("COPY", ",".join(uids), target)[0] in ok:
            self._store(uids, "+FLAGS", "(\\Deleted)")
            if "UIDPLUS" in client.capabilities:
                client.uid("EXPUNGE", ",".join(uids))
            return  # without UIDPLUS they stay, marked deleted: fetch skips them
        raise MailboxError(f"MAILBOX: {self.host} would not move messages to {folder!r}")

    def wait(self, timeout: float) -> bool:
        """Block until the server says something changed (IMAP IDLE) or `timeout` passes;
        True when there may be new mail."""
        try:
            box = self.box()
            # Mail that came between the last listing and now raises no IDLE event: look first.
            box.client.noop()  # the session learns of mail other sessions added
            if set(box.uids("UNDELETED")) - self._listed:
                return True
            return bool(box.idle.wait(timeout=timeout))
        except (MailboxError, *_CONNECTION):
            self.close()  # a dropped connection: the next fetch reconnects...
            time.sleep(min(timeout, RECONNECT_PAUSE))  # ...after a pause, not in a tight loop
            return True

"""One IMAP connection to one mailbox, through IMAPClient; every method blocks and runs on the mailbox's own thread.

Why IMAPClient (not aioimaplib): it is complete and well kept (STARTTLS, XOAUTH2, MOVE, IDLE with a timed check,
keywords) and parses every response into Python values (SELECT's UIDVALIDITY, FETCH by UID, sizes); aioimaplib
is asyncio-native but has no STARTTLS and leaves FETCH responses as raw lines to parse. The cost of a blocking
library is one thread per mailbox, which the reader (reader.py) gives each mailbox, so the event loop never waits.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Iterable
from typing import Any, Literal

from imapclient import DELETED, IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientError, LoginError

from notifbot.config.settings import ImapSettings
from notifbot.sources.email.poll import MailboxError

IDLE_CHECK_SECONDS = 0.5  # how often an IDLE wait looks at the stop flag
FALLBACK_KEYWORD = "NotifbotProcessed"  # marks read mail on a server with neither MOVE nor UIDPLUS
Marking = Literal["move", "copy", "keyword"]
__all__ = ["ImapSession", "MailboxError"]


def _tls_context(imap: ImapSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=imap.ca_file) if imap.ca_file else ssl.create_default_context()


def _search_criteria(after: int, keyword: str | None) -> list[Any]:
    criteria: list[Any] = ["UID", f"{after + 1}:*"]
    if keyword is not None:
        criteria += ["UNKEYWORD", keyword]
    return criteria


class ImapSession:
    """A logged-in connection with the mailbox's folder selected."""

    def __init__(self, name: str, imap: ImapSettings) -> None:
        self.name = name
        self.imap = imap
        self.client: IMAPClient | None = None
        self.uidvalidity = 0
        self.can_idle = False
        self.marking: Marking = "move"
        self.keyword: str | None = imap.processed_keyword
        self._delimiter: str | None = None
        self._prefix = ""
        self._processed_ready = False

    def error(self, what: str, exc: BaseException | None = None, *, transient: bool = True) -> MailboxError:
        """An error naming the mailbox, its login and server (never its password)."""
        imap = self.imap
        detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
        where = f"{imap.username}@{imap.host}:{imap.effective_port}"
        return MailboxError(f"mailbox {self.name!r} ({where}): {what}{detail}", transient=transient)

    def open(self, secret: str) -> None:
        """Connects, logs in with the password or XOAUTH2 token `secret`, and selects the folder."""
        imap = self.imap
        try:
            client = IMAPClient(
                imap.host,
                port=imap.effective_port,
                ssl=imap.security == "tls",
                ssl_context=_tls_context(imap) if imap.security == "tls" else None,
                timeout=imap.timeout_seconds,
            )
        except (OSError, IMAPClientError) as exc:
            raise self.error("cannot connect (is the server up and the port right?)", exc) from None
        self.client = client
        try:
            if imap.security == "starttls":
                client.starttls(_tls_context(imap))
            if imap.password is not None:
                client.login(imap.username, secret)
            else:
                client.oauth2_login(imap.username, secret)
        except LoginError:
            self.close()
            how = "password" if imap.password is not None else "XOAUTH2 access token"
            raise self.error(f"login refused: check the username and {how}", transient=False) from None
        except CapabilityError:
            self.close()
            raise self.error(
                "the server does not offer STARTTLS: use security tls", transient=False
            ) from None
        except (OSError, IMAPClientError) as exc:
            self.close()
            raise self.error("TLS or login failed", exc) from None
        self.select()

    def select(self) -> None:
        """Selects the folder and reads its UIDVALIDITY."""
        client = self._client()
        folder = self.imap.folder
        try:
            name = self.server_folder(folder)
            if not client.folder_exists(name):
                raise self.error(f"folder {folder!r} does not exist: create it or fix imap.folder")
            info = client.select_folder(name)
        except (OSError, IMAPClientError) as exc:
            raise self.error(f"cannot open folder {folder!r}", exc) from None
        self.uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        self.can_idle = client.has_capability("IDLE")
        self.marking, self.keyword = self._marking(client)

    def _marking(self, client: IMAPClient) -> tuple[Marking, str | None]:
        """How read mail is marked: the configured keyword, MOVE, COPY + UID EXPUNGE (RFC 6851 §3.3), else a keyword."""
        if self.imap.processed_keyword is not None:
            return "keyword", self.imap.processed_keyword
        if client.has_capability("MOVE"):
            return "move", None
        if client.has_capability("UIDPLUS"):
            return "copy", None
        return "keyword", FALLBACK_KEYWORD  # a plain EXPUNGE would also remove others' \\Deleted mail

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise self.error("not connected")
        return self.client

    def new_uids(self, after: int) -> list[int]:
        """UIDs above `after` in UID order (without the processed keyword, when marking by keyword)."""
        client = self._client()
        uids = client.search(_search_criteria(after, self.keyword))
        return sorted(int(u) for u in uids if int(u) > after)  # `n:*` also matches the highest UID below n

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of each UID still there."""
        fetched = self._client().fetch(uids, ["RFC822.SIZE"])
        return {
            int(uid): int(data[b"RFC822.SIZE"]) for uid, data in fetched.items() if b"RFC822.SIZE" in data
        }

    def bodies(self, uids: list[int]) -> dict[int, bytes]:
        """The whole raw messages (BODY.PEEK: the \\Seen flag is left alone)."""
        if not uids:
            return {}
        fetched = self._client().fetch(uids, ["BODY.PEEK[]"])
        return {int(uid): bytes(data[b"BODY[]"]) for uid, data in fetched.items() if b"BODY[]" in data}

    def headers(self, uids: list[int]) -> dict[int, bytes]:
        """Only the header section of each message (for messages over the size cap)."""
        if not uids:
            return {}
        fetched = self._client().fetch(uids, ["BODY.PEEK[HEADER]"])
        return {
            int(uid): bytes(data[b"BODY[HEADER]"]) for uid, data in fetched.items() if b"BODY[HEADER]" in data
        }

    def server_folder(self, path: str) -> str:
        """A `/`-separated folder path in the server's own hierarchy delimiter and personal namespace."""
        client = self._client()
        if self._delimiter is None:
            prefix, delimiter = "", "/"
            try:
                personal = client.namespace().personal if client.has_capability("NAMESPACE") else None
                if personal:
                    prefix = personal[0][0] or ""
                    delimiter = personal[0][1] or "/"
            except IMAPClientError:
                pass
            if isinstance(delimiter, bytes):
                delimiter = delimiter.decode()
            self._delimiter, self._prefix = delimiter, str(prefix)
        name = path.strip("/").replace("/", self._delimiter)
        if name.upper() == "INBOX" or not self._prefix or name.startswith(self._prefix):
            return name
        return self._prefix + name

    def mark(self, uids: Iterable[int]) -> None:
        """Marks read mail as processed: a keyword, or into the processed folder (created when missing)."""
        uids = list(uids)
        if not uids:
            return
        client = self._client()
        if self.marking == "keyword":
            assert self.keyword is not None
            client.add_flags(uids, [self.keyword], silent=True)
            return
        target = self.server_folder(self.imap.processed_folder)
        if not self._processed_ready:
            if not client.folder_exists(target):
                client.create_folder(target)
            self._processed_ready = True
        if self.marking == "move":
            client.move(uids, target)
            return
        # RFC 6851 §3.3 without MOVE: COPY, then \Deleted and UID EXPUNGE of exactly these UIDs (UIDPLUS)
        client.copy(uids, target)
        client.add_flags(uids, [DELETED], silent=True)
        client.uid_expunge(uids)

    def idle_wait(self, seconds: float, stop: threading.Event) -> bool:
        """Waits in IDLE up to `seconds` for new mail (EXISTS); True when some arrived. Ends early when `stop` is set."""
        client = self._client()
        client.idle()
        woke = False
        try:
            deadline = time.monotonic() + seconds
            while not woke and not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                for response in client.idle_check(timeout=min(IDLE_CHECK_SECONDS, left)):
                    if len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT"):
                        woke = True
        finally:
            client.idle_done()
        return woke

    def noop(self) -> None:
        """Asks the server for news (polling without IDLE also keeps the connection alive)."""
        self._client().noop()

    def close(self) -> None:
        """Logs out (or just drops the connection when that fails)."""
        client, self.client = self.client, None
        self._processed_ready = False
        self._delimiter = None
        if client is None:
            return
        try:
            client.logout()
        except (TimeoutError, OSError, IMAPClientError):
            with contextlib.suppress(OSError, IMAPClientError):
                client.shutdown()

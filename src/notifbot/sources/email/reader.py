"""Reads one mailbox: new mail in UID order becomes notifications, committed before the mail is marked processed.

One poll (`run_once`, run by the scheduler) connects when needed, drains what is new, then waits in IDLE for more
(woken by EXISTS) when the server offers IDLE, else returns `poll_seconds` as the wait; a server that refuses or
drops IDLE is polled from then on (logged once). The UID cursor per
(mailbox, folder) is stored with its UIDVALIDITY: when that changes the cursor restarts at 0, and mail read before
is not posted again because its Message-ID key is already in the store (a duplicate is stored and sent once).
Order for each batch: fetch → accept (commit) → MOVE (or COPY + UID EXPUNGE of those UIDs) or keyword → save cursor. A crash after the commit re-reads
at most that batch, which the Message-ID dedupe absorbs (and then marks); nothing is ever deleted.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from imapclient.exceptions import IMAPClientError

from notifbot.config.settings import MailboxSettings
from notifbot.kinds.mail import EmailRule
from notifbot.logs import add_secret
from notifbot.model import Kind, Notification
from notifbot.sources.email.imap import ImapSession, MailboxError
from notifbot.sources.email.message import MailMeta, handle, sender_allowed, sender_of
from notifbot.store.email_cursors import email_cursor, save_email_cursor
from notifbot.store.events import Accepted
from notifbot.store.marketo_state import record_poll_error, record_poll_success
from notifbot.store.runner import Database

log = logging.getLogger("notifbot.email")
Accept = Callable[[Sequence[Notification]], Awaitable[list[Accepted]]]
P = ParamSpec("P")
T = TypeVar("T")

BATCH_MESSAGES = 100  # per fetch and per commit
BATCH_BYTES = 8 * 1024 * 1024  # of message bodies held at once (bounded memory for any backlog)
HEADER_BYTES = 64 * 1024  # what an over-limit message is counted as (only its headers are fetched)
IDLE_RENEW_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
TOKEN_COMMAND_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 300.0
POLLER = "imap"  # with "mailbox <name>" as the instance: a line of /marketo status (store/marketo_state.py)
STOP_WAIT_SECONDS = 5.0  # for a poll in progress to finish its batch; a hung connect is left to its timeout


@dataclass
class _Batch:
    """What one fetch produced, computed on the mailbox's thread."""

    last_uid: int = 0
    read: list[tuple[int, Notification]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def backoff_seconds(failures: int) -> float:
    """5 s after the first failure, doubling up to 5 minutes."""
    return float(min(MAX_BACKOFF_SECONDS, 5 * 2 ** max(0, failures - 1)))


class MailboxReader:
    """One mailbox: its IMAP session lives on its own thread; `run_once` is its scheduled poll."""

    def __init__(
        self,
        mailbox: MailboxSettings,
        db: Database,
        accept: Accept,
        getenv: Callable[[str], str | None],
        rules: Sequence[tuple[Kind, EmailRule]] = (),
    ) -> None:
        self.mailbox = mailbox
        self._rules = tuple(rules)  # the config's `email.rules`, tried before the built-in ones
        self.name = mailbox.name
        self._db = db
        self._accept = accept
        self._getenv = getenv
        self._session = ImapSession(mailbox.name, mailbox.imap)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"imap-{mailbox.name}")
        self._lock = asyncio.Lock()
        self._stop = threading.Event()
        self._connected = False
        self._idle_off = False  # the server refused or dropped IDLE once: poll from then on
        self._told_keyword = False
        self.failures = 0
        self.last_error: str | None = None

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def run_once(self) -> float:
        """One poll: read what is new, then wait in IDLE (or not); returns the seconds until the next poll."""
        poll = self.mailbox.poll_seconds
        async with self._lock:
            if self._stop.is_set():
                return poll
            try:
                if not self._connected:
                    await self._connect()
                await self._drain()
                await self._succeeded()
                delay = poll
                if self._session.can_idle and not self._idle_off:
                    delay = await self._idle(poll)
            except MailboxError as exc:
                return await self._failed(str(exc))
            except (OSError, IMAPClientError) as exc:  # the connection dropped or the server answered NO/BAD
                return await self._failed(str(self._session.error("connection lost or command refused", exc)))
            except Exception as exc:  # a protocol error, a store failure: retried, never fatal
                return await self._failed(
                    f"mailbox {self.name!r}: {type(exc).__name__}: {exc}", unexpected=True
                )
            return delay

    async def _idle(self, poll: float) -> float:
        """Waits in IDLE, then reads what arrived; a refused or dropped IDLE means polling from then on."""
        try:
            woke = await self._run(self._session.idle_wait, min(poll, IDLE_RENEW_SECONDS), self._stop)
        except (OSError, IMAPClientError) as exc:
            self._idle_off = True
            log.warning(
                "the server refused or dropped IDLE: polling every %.0f s instead",
                poll,
                extra={"mailbox": self.name, "error": f"{type(exc).__name__}: {exc}"},
            )
            await self._disconnect()  # the connection's state after a failed IDLE is unknown
            return poll
        if woke and not self._stop.is_set():
            await self._drain()
        return 0.0

    async def _succeeded(self) -> None:
        if self.failures:
            log.info("mailbox readable again", extra={"mailbox": self.name})
        self.failures, self.last_error = 0, None
        await self._record(None)

    async def _record(self, error: str | None) -> None:
        """The last success or error, for `/marketo status`; a store failure here is only logged."""
        label, now = f"mailbox {self.name}", datetime.now(UTC)
        try:
            if error is None:
                await self._db.call(record_poll_success, label, POLLER, now, 0)
            else:
                await self._db.call(record_poll_error, label, POLLER, now, error)
        except Exception:
            log.warning("could not record the mailbox's state", exc_info=True, extra={"mailbox": self.name})

    async def _failed(self, message: str, *, unexpected: bool = False) -> float:
        self.failures += 1
        self.last_error = message
        delay = backoff_seconds(self.failures)
        log.error(
            "%s; retrying in %.0f s",
            message,
            delay,
            exc_info=unexpected,
            extra={"mailbox": self.name, "failures": self.failures},
        )
        await self._disconnect()
        await self._record(message)
        return delay

    async def _connect(self) -> None:
        secret = await self._secret()
        await self._run(self._session.open, secret)
        self._connected = True
        log.info(
            "mailbox connected",
            extra={
                "mailbox": self.name,
                "folder": self.mailbox.imap.folder,
                "idle": self._session.can_idle,
                "uidvalidity": self._session.uidvalidity,
                "marking": self._session.marking,
            },
        )
        if self._session.keyword is not None and self.mailbox.imap.processed_keyword is None:
            if not self._told_keyword:
                log.warning(
                    "the server supports neither MOVE nor UIDPLUS: read mail stays in the folder, flagged with "
                    "the keyword %s (set imap.processed_keyword to choose the keyword)",
                    self._session.keyword,
                    extra={"mailbox": self.name},
                )
            self._told_keyword = True

    async def _disconnect(self) -> None:
        self._connected = False
        try:
            await self._run(self._session.close)
        except Exception:  # closing a broken connection may fail too; it is gone either way
            log.debug("closing the IMAP connection failed", exc_info=True)

    async def _secret(self) -> str:
        """The password, or an XOAUTH2 access token from the environment or the token command."""
        imap = self.mailbox.imap
        if imap.password is not None:
            return imap.password
        if imap.xoauth2_token_env is not None:
            token = (self._getenv(imap.xoauth2_token_env) or "").strip()
            if not token:
                raise MailboxError(
                    f"mailbox {self.name!r}: the environment variable {imap.xoauth2_token_env} "
                    "(imap.xoauth2_token_env) is empty: set it to an OAuth2 access token",
                    transient=False,
                )
            add_secret(token)
            return token
        assert imap.xoauth2_token_command is not None  # the settings require one of the three
        token = await self._token_from_command(imap.xoauth2_token_command)
        add_secret(token)
        return token

    async def _token_from_command(self, argv: list[str]) -> str:
        what = f"mailbox {self.name!r}: imap.xoauth2_token_command ({argv[0]})"
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
        except OSError as exc:
            raise MailboxError(f"{what} could not be started: {exc.strerror}") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), TOKEN_COMMAND_SECONDS)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise MailboxError(f"{what} did not finish within {TOKEN_COMMAND_SECONDS:.0f} s") from None
        token = out.decode("utf-8", "replace").strip()
        if proc.returncode != 0 or not token:
            reason = err.decode("utf-8", "replace").strip().splitlines()[:1]
            raise MailboxError(
                f"{what} exited {proc.returncode} without a token"
                + (f": {reason[0][:200]}" if reason else "")
            )
        return token

    async def _start_cursor(self) -> int:
        folder, validity = self.mailbox.imap.folder, self._session.uidvalidity
        cursor = await self._db.call(email_cursor, self.name, folder)
        if cursor is None:
            return 0
        if cursor[0] != validity:
            log.warning(
                "the folder's UIDVALIDITY changed: reading it again from the start; mail stored before is "
                "recognised by its Message-ID and not posted again",
                extra={"mailbox": self.name, "folder": folder, "old": cursor[0], "new": validity},
            )
            return 0
        return cursor[1]

    async def _drain(self) -> None:
        """Reads, commits and marks everything above the cursor, one bounded batch at a time."""
        last = await self._start_cursor()
        while not self._stop.is_set():
            uids = await self._run(self._session.new_uids, last)
            if not uids:
                return
            while uids and not self._stop.is_set():
                batch = await self._run(self._read_batch, uids[: BATCH_MESSAGES * 2])
                await self._commit(batch)
                last = batch.last_uid
                uids = [u for u in uids if u > last]

    def _read_batch(self, candidates: list[int]) -> _Batch:
        """On the mailbox's thread: sizes first, then up to a bounded number of bytes of whole messages, parsed."""
        session, box = self._session, self.mailbox
        sizes = session.sizes(candidates)
        chosen: list[int] = []
        total = 0
        for uid in candidates:
            size = sizes.get(uid)
            if size is None:
                continue  # expunged meanwhile
            cost = size if size <= box.max_message_bytes else HEADER_BYTES
            if chosen and (len(chosen) >= BATCH_MESSAGES or total + cost > BATCH_BYTES):
                break
            chosen.append(uid)
            total += cost
        batch = _Batch(last_uid=chosen[-1] if chosen else candidates[-1])
        whole = session.bodies([u for u in chosen if sizes[u] <= box.max_message_bytes])
        heads = session.headers([u for u in chosen if sizes[u] > box.max_message_bytes])
        for uid in chosen:
            raw = whole.get(uid, heads.get(uid))
            if raw is None:
                continue
            sender = sender_of(raw)
            if not sender_allowed(sender, box.allowed_senders):
                batch.refused.append((uid, sender))
                continue
            over = box.max_message_bytes if uid in heads else None
            meta = MailMeta(box.name, box.instance, uid, sizes[uid], over_limit=over)
            batch.read.append((uid, handle(raw, meta, rules=self._rules)))
        return batch

    async def _commit(self, batch: _Batch) -> None:
        for uid, sender in batch.refused:
            log.warning(
                "e-mail from a sender not in allowed_senders left unread in the mailbox",
                extra={"mailbox": self.name, "uid": uid, "sender": sender or "(none)"},
            )
        if batch.read:
            await self._accept([n for _, n in batch.read])
            try:
                await self._run(self._session.mark, [uid for uid, _ in batch.read])
            except Exception as exc:  # stored and posted already; only the marking is missing
                error = (
                    exc
                    if isinstance(exc, MailboxError)
                    else MailboxError(
                        f"mailbox {self.name!r}: read mail could not be marked processed: "
                        f"{type(exc).__name__}: {exc}"
                    )
                )
                if not error.transient:  # retrying cannot help: go on past this batch (it is stored)
                    await self._save_cursor(batch.last_uid)
                raise error from None
        await self._save_cursor(batch.last_uid)

    async def _save_cursor(self, last_uid: int) -> None:
        folder, validity = self.mailbox.imap.folder, self._session.uidvalidity
        await self._db.call(save_email_cursor, self.name, folder, validity, last_uid)

    async def aclose(self) -> None:
        """Stops polling (an IDLE wait ends within half a second), logs out and ends the thread."""
        self._stop.set()
        try:
            async with asyncio.timeout(STOP_WAIT_SECONDS):  # a poll waiting in IDLE ends within half a second
                async with self._lock:
                    await self._disconnect()
        except TimeoutError:
            log.warning("mailbox did not stop in time", extra={"mailbox": self.name})
        self._executor.shutdown(wait=False)

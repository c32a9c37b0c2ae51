"""Reads one IMAP mailbox: new mail in UID order becomes notifications, committed before the mail is marked processed.

One poll (`run_once` in poll.py, run by the scheduler) connects when needed, drains what is new, then waits in IDLE
for more (woken by EXISTS) when the server offers IDLE, else returns `poll_seconds` as the wait; a server that
refuses or drops IDLE is polled for a few polls, then IDLE is tried again (the pause doubling while it keeps
failing, logged each time). The UID cursor per
(mailbox, folder) is stored with its UIDVALIDITY: when that changes the cursor restarts at 0, and mail read before
is not posted again because its Message-ID key is already in the store (a duplicate is stored and sent once).
Order for each batch: fetch → accept (commit) → MOVE (or COPY + UID EXPUNGE of those UIDs) or keyword → save cursor. A crash after the commit re-reads
at most that batch, which the Message-ID dedupe absorbs (and then marks); nothing is ever deleted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from imapclient.exceptions import IMAPClientError

from notifbot.config.settings import MailboxSettings
from notifbot.kinds.mail import EmailRule
from notifbot.logs import add_secret
from notifbot.model import Kind
from notifbot.sources.email.imap import ImapSession, MailboxError
from notifbot.sources.email.poll import HEADER_BYTES, Accept, Batch, PollingReader, backoff_seconds
from notifbot.store.email_cursors import email_cursor, save_email_cursor
from notifbot.store.runner import Database

__all__ = ["Accept", "MailboxReader", "backoff_seconds"]
log = logging.getLogger("notifbot.email")
P = ParamSpec("P")
T = TypeVar("T")

BATCH_MESSAGES = 100  # per fetch and per commit
BATCH_BYTES = 8 * 1024 * 1024  # of message bodies held at once (bounded memory for any backlog)
IDLE_RENEW_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
IDLE_RETRY_POLLS = 3  # after IDLE failed: plain polls before trying it again, doubled while it keeps failing
IDLE_RETRY_MAX_POLLS = 96
TOKEN_COMMAND_SECONDS = 30.0


class MailboxReader(PollingReader[int]):
    """One IMAP mailbox: its session lives on its own thread; `run_once` is its scheduled poll."""

    poller = "imap"

    def __init__(
        self,
        mailbox: MailboxSettings,
        db: Database,
        accept: Accept,
        getenv: Callable[[str], str | None],
        rules: Sequence[tuple[Kind, EmailRule]] = (),
    ) -> None:
        super().__init__(mailbox, db, accept, rules)
        assert mailbox.imap is not None  # wiring builds this reader for IMAP mailboxes only
        self.imap = mailbox.imap
        self._getenv = getenv
        self._session = ImapSession(mailbox.name, mailbox.imap)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"imap-{mailbox.name}")
        self._connected = False
        self._idle_pause = 0  # polls left before IDLE is tried again (it failed)
        self._idle_retry = IDLE_RETRY_POLLS  # the next pause, doubled while IDLE keeps failing
        self._told_keyword = False

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def _poll(self) -> float:
        """Connects when needed, drains, then waits in IDLE (unless paused after it failed)."""
        if not self._connected:
            await self._connect()
        await self._drain()
        await self._succeeded()
        if not self._session.can_idle:
            return self.mailbox.poll_seconds
        if self._idle_pause > 0:
            self._idle_pause -= 1
            if self._idle_pause > 0:
                return self.mailbox.poll_seconds
            log.info("trying IDLE again", extra={"mailbox": self.name})
        return await self._idle(self.mailbox.poll_seconds)

    def _explain(self, exc: Exception) -> MailboxError | None:
        if isinstance(exc, OSError | IMAPClientError):  # the connection dropped or the server answered NO/BAD
            return self._session.error("connection lost or command refused", exc)
        return None

    async def _after_failure(self) -> None:
        await self._disconnect()

    async def _idle(self, poll: float) -> float:
        """Waits in IDLE, then reads what arrived; a refused or dropped IDLE means polling for a few polls."""
        try:
            woke = await self._run(self._session.idle_wait, min(poll, IDLE_RENEW_SECONDS), self._stop)
        except (OSError, IMAPClientError) as exc:
            self._idle_pause, self._idle_retry = (
                self._idle_retry,
                min(IDLE_RETRY_MAX_POLLS, self._idle_retry * 2),
            )
            log.warning(
                "the server refused or dropped IDLE: polling every %.0f s instead, IDLE is tried again in %d polls",
                poll,
                self._idle_pause,
                extra={"mailbox": self.name, "error": f"{type(exc).__name__}: {exc}"},
            )
            await self._disconnect()  # the connection's state after a failed IDLE is unknown
            return poll
        self._idle_retry = IDLE_RETRY_POLLS  # IDLE works (again)
        if woke and not self._stop.is_set():
            await self._drain()
        return 0.0

    async def _connect(self) -> None:
        secret = await self._secret()
        await self._run(self._session.open, secret)
        self._connected = True
        log.info(
            "mailbox connected",
            extra={
                "mailbox": self.name,
                "folder": self.imap.folder,
                "idle": self._session.can_idle,
                "uidvalidity": self._session.uidvalidity,
                "marking": self._session.marking,
            },
        )
        if self._session.keyword is not None and self.imap.processed_keyword is None:
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
        imap = self.imap
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
        folder, validity = self.imap.folder, self._session.uidvalidity
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
                batch, last = await self._run(self._read_batch, uids[: BATCH_MESSAGES * 2])
                await self._commit(batch, self._mark, partial(self._save_cursor, last))
                uids = [u for u in uids if u > last]

    def _read_batch(self, candidates: list[int]) -> tuple[Batch[int], int]:
        """On the mailbox's thread: sizes first, then up to a bounded number of bytes of whole messages, parsed;
        returns the batch and the last UID it covers."""
        session, limit = self._session, self.mailbox.max_message_bytes
        sizes = session.sizes(candidates)
        chosen: list[int] = []
        total = 0
        for uid in candidates:
            size = sizes.get(uid)
            if size is None:
                continue  # expunged meanwhile
            cost = size if size <= limit else HEADER_BYTES
            if chosen and (len(chosen) >= BATCH_MESSAGES or total + cost > BATCH_BYTES):
                break
            chosen.append(uid)
            total += cost
        batch: Batch[int] = Batch()
        whole = session.bodies([u for u in chosen if sizes[u] <= limit])
        heads = session.headers([u for u in chosen if sizes[u] > limit])
        for uid in chosen:
            raw = whole.get(uid, heads.get(uid))
            if raw is not None:
                self._parse(batch, uid, raw, sizes[uid], uid)
        return batch, chosen[-1] if chosen else candidates[-1]

    async def _mark(self, uids: list[int]) -> None:
        await self._run(self._session.mark, uids)

    async def _save_cursor(self, last_uid: int) -> None:
        folder, validity = self.imap.folder, self._session.uidvalidity
        await self._db.call(save_email_cursor, self.name, folder, validity, last_uid)

    async def _closed(self) -> None:
        await self._disconnect()

    async def aclose(self) -> None:
        """Stops polling (an IDLE wait ends within half a second), logs out and ends the thread."""
        await super().aclose()
        self._executor.shutdown(wait=False)

"""The poll skeleton every mailbox reader shares (IMAP, Microsoft Graph): failures, backoff, status, commit-then-mark.

A reader subclass says how to read one round (`_poll`) and how to explain its library's errors (`_explain`); this
class runs the round under a lock, counts failures, waits with the delivery backoff (or a server's Retry-After),
records every success and error for `/marketo status`, and commits a batch's notifications before marking its mail.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from notifbot.config.settings import MailboxSettings
from notifbot.delivery.policy import backoff
from notifbot.errors import UpstreamError
from notifbot.kinds.mail import EmailRule
from notifbot.model import Kind, Notification
from notifbot.sources.email.message import MailMeta, handle, sender_allowed, sender_of
from notifbot.store.events import Accepted
from notifbot.store.marketo_state import record_poll_error, record_poll_success
from notifbot.store.runner import Database

log = logging.getLogger("notifbot.email")
Accept = Callable[[Sequence[Notification]], Awaitable[list[Accepted]]]
Ref = TypeVar("Ref")  # how a reader names one message on its server: an IMAP UID, a Graph message id

BACKOFF_BASE_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 300.0
HEADER_BYTES = 64 * 1024  # what an over-limit message is counted as (only its headers are kept)
STOP_WAIT_SECONDS = 5.0  # for a poll in progress to finish its batch; a hung connect is left to its timeout


class MailboxError(UpstreamError):
    """A mailbox cannot be read now (server down, login refused, missing folder); the message names the mailbox."""


def backoff_seconds(failures: int) -> float:
    """About 5 s after the first failure, doubling up to 5 minutes (the delivery backoff, with its jitter)."""
    return backoff(failures, base=BACKOFF_BASE_SECONDS, cap=MAX_BACKOFF_SECONDS)


@dataclass
class Batch(Generic[Ref]):
    """What one read produced: notifications to commit (then mark), and mail refused by allowed_senders."""

    read: list[tuple[Ref, Notification]] = field(default_factory=list)
    refused: list[tuple[Ref, str]] = field(default_factory=list)


class PollingReader(ABC, Generic[Ref]):
    """One mailbox's scheduled poll: `run_once` reads a round and returns the seconds until the next."""

    # with "mailbox <name>" as the instance: a line of /marketo status (store/marketo_state.py)
    poller = "email"
    ref_name = "uid"  # the log field naming one message on the server

    def __init__(
        self, mailbox: MailboxSettings, db: Database, accept: Accept, rules: Sequence[tuple[Kind, EmailRule]]
    ) -> None:
        self.mailbox = mailbox
        self.name = mailbox.name
        self._rules = tuple(rules)  # the config's `email.rules`, tried before the built-in ones
        self._db = db
        self._accept = accept
        self._lock = asyncio.Lock()
        self._stop = threading.Event()
        self.failures = 0
        self.last_error: str | None = None

    @abstractmethod
    async def _poll(self) -> float:
        """Reads what is new (calling `_succeeded` once read); returns the seconds until the next poll."""

    def _explain(self, exc: Exception) -> MailboxError | None:
        """The MailboxError an expected library failure means (None: unexpected, logged with its traceback)."""
        return None

    async def _after_failure(self) -> None:
        """Drops what a failure leaves in an unknown state (a connection)."""

    async def run_once(self) -> float:
        """One poll; a failure is recorded and retried after a backoff, never fatal."""
        async with self._lock:
            if self._stop.is_set():
                return self.mailbox.poll_seconds
            try:
                return await self._poll()
            except MailboxError as exc:
                return await self._failed(exc)
            except Exception as exc:  # a protocol error, a store failure: retried, never fatal
                known = self._explain(exc)
                if known is not None:
                    return await self._failed(known)
                text = f"mailbox {self.name!r}: {type(exc).__name__}: {exc}"
                return await self._failed(MailboxError(text), unexpected=True)

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
                await self._db.call(record_poll_success, label, self.poller, now, 0)
            else:
                await self._db.call(record_poll_error, label, self.poller, now, error)
        except Exception:
            log.warning("could not record the mailbox's state", exc_info=True, extra={"mailbox": self.name})

    async def _failed(self, error: MailboxError, *, unexpected: bool = False) -> float:
        self.failures += 1
        self.last_error = message = str(error)
        delay = max(backoff_seconds(self.failures), error.retry_after or 0.0)
        log.error(
            "%s; retrying in %.0f s",
            message,
            delay,
            exc_info=unexpected,
            extra={"mailbox": self.name, "failures": self.failures},
        )
        await self._after_failure()
        await self._record(message)
        return delay

    def _parse(self, batch: Batch[Ref], ref: Ref, raw: bytes, size: int, uid: int | None = None) -> None:
        """Adds one raw message to `batch` (the headers only when over max_message_bytes), or refuses its sender."""
        box = self.mailbox
        sender = sender_of(raw)
        if not sender_allowed(sender, box.allowed_senders):
            batch.refused.append((ref, sender))
            return
        over = box.max_message_bytes if size > box.max_message_bytes else None
        meta = MailMeta(box.name, box.instance, uid, size, over_limit=over)
        batch.read.append((ref, handle(raw, meta, rules=self._rules)))

    async def _commit(
        self,
        batch: Batch[Ref],
        mark: Callable[[list[Ref]], Awaitable[None]],
        save: Callable[[], Awaitable[None]],
    ) -> None:
        """Commits the notifications, then marks their mail, then saves the cursor: a crash re-reads, never loses.

        A marking that cannot succeed on retry (`transient` False) saves the cursor anyway: the mail is stored."""
        for ref, sender in batch.refused:
            log.warning(
                "e-mail from a sender not in allowed_senders left unread in the mailbox",
                extra={"mailbox": self.name, self.ref_name: ref, "sender": sender or "(none)"},
            )
        if batch.read:
            await self._accept([n for _, n in batch.read])
            try:
                await mark([ref for ref, _ in batch.read])
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
                    await save()
                raise error from None
        await save()

    async def aclose(self) -> None:
        """Stops polling: waits (bounded) for a poll in progress, then `_closed` releases what the reader holds."""
        self._stop.set()
        try:
            async with asyncio.timeout(STOP_WAIT_SECONDS):
                async with self._lock:
                    await self._closed()
        except TimeoutError:
            log.warning("mailbox did not stop in time", extra={"mailbox": self.name})

    async def _closed(self) -> None:
        """Releases the reader's connection (called under the lock once stopped)."""

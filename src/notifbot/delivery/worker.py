"""The outbox worker: one task per channel claims due rows as leases, paces, sends, and records the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from notifbot.delivery import digest_flush, group_flush
from notifbot.delivery.group_flush import GroupSender
from notifbot.delivery.pacing import Pacer
from notifbot.delivery.policy import backoff
from notifbot.delivery.settings import DeliverySettings
from notifbot.errors import MaybeSentError, PermanentDeliveryError, TransientDeliveryError
from notifbot.groups import MESSAGE_ITEMS
from notifbot.metrics import Metrics
from notifbot.model import Notification
from notifbot.store import digests, leases, outbox
from notifbot.store.events import get_event
from notifbot.store.groups import Done, record_flush
from notifbot.store.runner import Database

log = logging.getLogger("notifbot.delivery")

MAX_INLINE_RATE_LIMITS = 10


class Sender(Protocol):
    """Sends one notification to one destination type; returns the provider's message id if any."""

    dest_type: str

    async def send(self, row: outbox.OutboxRow, n: Notification) -> str | None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class _Attempt:
    """One send for a claimed row: the call, how its success is recorded, and the notification it is about."""

    send: Callable[[], Awaitable[str | None]]
    record: Callable[[str | None, float], Awaitable[None]]
    notification: Notification
    timed: bool = True  # observed as delivery latency (a digest waits for its period's end by design)


class DeliveryWorker:
    """Drains the outbox: concurrent across channels, serial and paced within one."""

    def __init__(
        self,
        db: Database,
        senders: dict[str, Sender],
        settings: DeliverySettings,
        metrics: Metrics,
        *,
        intervals: dict[str, float],
        clock: Callable[[], float] = time.time,
        holder: str | None = None,
        channel_lease_seconds: float = 15.0,
    ) -> None:
        self._db = db
        self._senders = senders
        self._settings = settings
        self._metrics = metrics
        self._intervals = intervals  # seconds between sends to one target, per destination type (0 if absent)
        self._clock = clock
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        # several replicas: one drains a channel at a time (its lease), so pacing stays a local matter
        self.holder = holder or self.worker_id
        self._channel_lease = channel_lease_seconds
        self._pacers: dict[tuple[str, str], Pacer] = {}
        self._channels: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._hinted: set[tuple[str, str]] = set()
        self._stopping = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._poll_now = True
        self.last_delivery_at: float | None = None

    @property
    def running(self) -> bool:
        """True while the dispatcher loop is alive."""
        return self._dispatcher is not None and not self._dispatcher.done()

    def start(self) -> None:
        """Starts the dispatcher on the running loop."""
        self._dispatcher = asyncio.create_task(self._dispatch(), name="outbox-dispatch")

    async def __aenter__(self) -> DeliveryWorker:
        """Starts the dispatcher (the worker as a component)."""
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Drains in-flight sends within `delivery.drain_seconds`, then closes the senders."""
        await self.stop(self._settings.drain_seconds)

    def wake(self, targets: Iterable[tuple[str, str]] = ()) -> None:
        """Tells the dispatcher that these (dest_type, target) channels have new rows; no argument: look for any."""
        hinted = set(targets)
        if hinted - self._hinted:
            self._hinted |= hinted
            self._wake.set()
        elif not hinted:
            self._poll_now = True
            self._wake.set()

    async def stop(self, drain_seconds: float) -> None:
        """Stops claiming, lets in-flight sends finish within `drain_seconds`, then releases the rest."""
        self._stopping = True
        self._wake.set()
        if self._dispatcher:
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        tasks = list(self._channels.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=drain_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for sender in self._senders.values():
            await sender.close()

    async def _dispatch(self) -> None:
        # New rows announce their channels through wake(); the database is only polled every poll_seconds
        # (retries coming due, rows re-queued by the CLI), so a burst of ingest never turns into a burst of queries.
        loop = asyncio.get_running_loop()
        next_poll = 0.0
        while not self._stopping:
            keys, self._hinted = self._hinted, set()
            if self._poll_now or loop.time() >= next_poll:
                self._poll_now = False
                next_poll = loop.time() + self._settings.poll_seconds
                try:
                    now = self._clock()
                    keys |= set(await self._db.call(leases.due_free_targets, now, self.holder))
                    due = await self._db.read(outbox.next_due, now)  # off the writer thread
                    if due is not None:  # a group's wait ending before the next poll is acted on when it ends
                        next_poll = min(next_poll, loop.time() + max(0.0, due - now) + 0.01)
                except Exception:
                    log.exception("outbox poll failed; retrying")
            for key in keys:
                task = self._channels.get(key)
                if key[0] in self._senders and (task is None or task.done()):
                    self._channels[key] = asyncio.create_task(self._drain_channel(*key))
            self._wake.clear()
            if self._hinted:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, next_poll - loop.time()))

    def _pacer(self, dest_type: str, target: str) -> Pacer:
        key = (dest_type, target)
        if key not in self._pacers:
            self._pacers[key] = Pacer(self._intervals.get(dest_type, 0.0))
        return self._pacers[key]

    async def _drain_channel(self, dest_type: str, target: str) -> None:
        """Drains one channel while this replica holds its lease (taken first, released when nothing is due)."""
        if not await self._db.call(leases.take_channel, dest_type, target, self.holder, self._channel_lease):
            return  # another replica drains it
        lost = asyncio.Event()
        keeper = asyncio.create_task(self._keep_channel(dest_type, target, lost))
        try:
            await self._drain_held(dest_type, target, lost)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await asyncio.shield(self._db.call(leases.release_channel, dest_type, target, self.holder))

    async def _keep_channel(self, dest_type: str, target: str, lost: asyncio.Event) -> None:
        """Renews the channel's lease every third of it while the drain runs; sets `lost` if another took it."""
        while True:
            await asyncio.sleep(self._channel_lease / 3)
            try:
                kept = await self._db.call(
                    leases.take_channel, dest_type, target, self.holder, self._channel_lease
                )
            except Exception:
                log.exception("channel lease renewal failed", extra={"target": target})
                continue
            if not kept:
                lost.set()
                return

    async def _drain_held(self, dest_type: str, target: str, lost: asyncio.Event) -> None:
        pacer = self._pacer(dest_type, target)
        while not self._stopping and not lost.is_set():
            await pacer.wait()
            if self._stopping or lost.is_set():
                return
            row = await self._db.call(
                outbox.claim_next,
                dest_type,
                target,
                self.worker_id,
                self._clock(),
                self._settings.lease_seconds,
            )
            if row is None:
                return
            await self._deliver(row, pacer)

    async def _attempt(self, row: outbox.OutboxRow, sender: Sender) -> _Attempt | None:
        """The send to make for `row` and how to record its success; None when nothing is to be sent."""
        if row.digest_id is not None:
            return await self._digest_attempt(row, sender)
        if row.group_id is not None:
            return await self._group_attempt(row, sender)
        n = await self._db.call(get_event, row.event_id)
        if n is None:
            await self._db.call(outbox.mark_dead, row.id, self.worker_id, "event row missing")
            return None

        return _Attempt(lambda: sender.send(row, n), self._delivered(row), n)

    def _delivered(self, row: outbox.OutboxRow) -> Callable[[str | None, float], Awaitable[None]]:
        """How a row delivered by one message records its success."""

        async def delivered(message_id: str | None, now: float) -> None:
            await self._db.call(outbox.mark_delivered, row.id, self.worker_id, message_id, now)

        return delivered

    async def _group_attempt(self, row: outbox.OutboxRow, sender: Sender) -> _Attempt | None:
        """The one call due now for an alert group's row (group_flush), recorded by the group's lifecycle."""
        assert row.group_id is not None
        if not isinstance(sender, GroupSender):
            await self._db.call(
                outbox.mark_dead, row.id, self.worker_id, f"{row.dest_type} cannot show alert groups"
            )
            return None
        flush, attempt = await group_flush.prepare(self._db, row, sender, self._clock())
        if flush is None:
            await self._db.call(outbox.mark_dead, row.id, self.worker_id, "alert group row missing")
            return None
        can_edit = sender.can_edit
        # nothing due (an event joined and was shown already): the row is left as the group says
        if attempt is None:
            await self._db.call(
                record_flush, row.id, flush.group_id, Done((), None, 0, 0), can_edit, self._clock()
            )
            return None
        done = attempt.done

        async def record(message_id: str | None, now: float) -> None:
            await self._db.call(record_flush, row.id, flush.group_id, done(message_id), can_edit, now)

        return _Attempt(attempt.send, record, flush.first)

    async def _digest_attempt(self, row: outbox.OutboxRow, sender: Sender) -> _Attempt | None:
        """A digest's one summary message, posted through the group sender (looked for first when unsure)."""
        assert row.digest_id is not None
        if not isinstance(sender, GroupSender):
            await self._db.call(
                outbox.mark_dead, row.id, self.worker_id, f"{row.dest_type} cannot show digests"
            )
            return None
        content = await self._db.call(digests.seal, row.digest_id, head=MESSAGE_ITEMS)
        if content is None:
            await self._db.call(outbox.mark_dead, row.id, self.worker_id, "digest row missing")
            return None
        view = digest_flush.view_of(content, sender.texts(row.target))
        return _Attempt(
            lambda: sender.post_group(row, view), self._delivered(row), content.first, timed=False
        )

    async def _deliver(self, row: outbox.OutboxRow, pacer: Pacer) -> None:
        sender = self._senders[row.dest_type]
        attempt = await self._attempt(row, sender)
        if attempt is None:
            return
        n = attempt.notification
        rate_limited = 0
        while True:
            started = self._clock()
            try:
                message_id = await attempt.send()
            except MaybeSentError as exc:  # the retry looks for this attempt's message before sending again
                pacer.sent()
                await self._failed(row, str(exc), exc.recheck_after, unsure_since=started)
                return
            except TransientDeliveryError as exc:
                pacer.sent()
                wait = exc.retry_after
                if (
                    wait is not None
                    and wait <= self._settings.max_retry_after_seconds
                    and rate_limited < MAX_INLINE_RATE_LIMITS
                    and not self._stopping
                ):
                    # a 429 is not a failed attempt: hold the row (and the channel) for Retry-After, then resend
                    rate_limited += 1
                    self._metrics.retries.labels(row.dest_type).inc()
                    log.warning(
                        "rate limited; waiting",
                        extra={"outbox_id": row.id, "destination": row.destination, "retry_after": wait},
                    )
                    pacer.block(wait)
                    until = self._clock() + wait + self._settings.lease_seconds
                    await self._db.call(outbox.extend_lease, row.id, self.worker_id, until)
                    try:
                        await pacer.wait()
                    except asyncio.CancelledError:
                        await asyncio.shield(self._db.call(outbox.release, row.id, self.worker_id))
                        raise
                    continue
                await self._failed(row, str(exc), wait)
                return
            except PermanentDeliveryError as exc:
                pacer.sent()
                await self._dead(row, str(exc))
                return
            except asyncio.CancelledError:  # shutdown cut the send short: it may have reached the destination
                await asyncio.shield(self._db.call(outbox.release, row.id, self.worker_id, started))
                raise
            except Exception as exc:  # a bug in a sender must not kill the channel; retry like a transient
                pacer.sent()
                log.exception("unexpected delivery error", extra={"outbox_id": row.id})
                error = f"unexpected error: {type(exc).__name__}: {exc}"
                await self._failed(row, error, None, unsure_since=started)
                return
            pacer.sent()
            now = self._clock()
            await attempt.record(message_id, now)
            self.last_delivery_at = now
            self._metrics.delivered.labels(row.dest_type).inc()
            if n.received_at is not None and attempt.timed:
                self._metrics.latency.labels(row.dest_type).observe(max(0.0, now - n.received_at.timestamp()))
            log.info(
                "delivered",
                extra={"outbox_id": row.id, "destination": row.destination, "message_id": message_id},
            )
            return

    async def _failed(
        self,
        row: outbox.OutboxRow,
        error: str,
        retry_after: float | None,
        *,
        unsure_since: float | None = None,
    ) -> None:
        self._metrics.failed.labels(row.dest_type).inc()
        attempts = row.attempts + 1
        if attempts >= self._settings.max_attempts:
            if unsure_since is not None or row.unsure_since is not None:
                error += (
                    " (it may have reached the destination; for Slack, `notifbot outbox retry` looks for it"
                    " before posting again)"
                )
            await self._dead(row, f"gave up after {attempts} attempts; last error: {error}", unsure_since)
            return
        delay = backoff(
            attempts, base=self._settings.backoff_base_seconds, cap=self._settings.backoff_max_seconds
        )
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._metrics.retries.labels(row.dest_type).inc()
        await self._db.call(
            outbox.mark_retry, row.id, self.worker_id, error, self._clock() + delay, unsure_since
        )
        log.warning(
            "delivery failed; will retry",
            extra={
                "outbox_id": row.id,
                "destination": row.destination,
                "error": error,
                "retry_in": round(delay, 1),
            },
        )

    async def _dead(self, row: outbox.OutboxRow, error: str, unsure_since: float | None = None) -> None:
        self._metrics.dead.labels(row.dest_type).inc()
        await self._db.call(outbox.mark_dead, row.id, self.worker_id, error, unsure_since)
        log.error(
            "delivery dead; fix and run `notifbot outbox retry ID`",
            extra={"outbox_id": row.id, "destination": row.destination, "error": error},
        )

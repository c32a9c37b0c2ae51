"""Group commit: concurrent ingest requests share one SQLite transaction, each awaiting its own result."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from notifbot.errors import Detail, InputError
from notifbot.model import Notification
from notifbot.store.dialect import is_storage_failure
from notifbot.store.events import Accepted, Target, insert_notifications
from notifbot.store.runner import Database

log = logging.getLogger(__name__)

Item = tuple[Notification, Sequence[Target]]
Waiter = tuple[list[Item], asyncio.Future[list[Accepted]]]

# Raised while converting or binding one event's values: the event's fault, the same on every retry.
DATA_ERRORS = (ValueError, TypeError, OverflowError, RecursionError)


def _for_sender(exc: Exception) -> Exception:
    """What one submission's waiter gets: a 400-worthy InputError when its own data could not be stored."""
    if isinstance(exc, DATA_ERRORS):
        error = InputError(
            "an event could not be stored as sent; nothing of this request was accepted",
            [Detail("body", f"{type(exc).__name__}: {str(exc)[:200]}")],
        )
        error.__cause__ = exc
        return error
    return exc


class IngestBatcher:
    """Collects submissions while a commit is running and writes them all in the next one.

    When the shared commit fails for anything but an operational (storage) error, each submission is committed on
    its own, so only the submission whose data caused the failure fails.
    """

    def __init__(self, db: Database, *, max_batch: int = 500) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: list[Waiter] = []
        self._muted: dict[str, int] = {}
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, items: list[Item], muted: dict[str, int] | None = None) -> list[Accepted]:
        """Stores `items` (durably, once committed) and returns one Accepted per item, in order."""
        if muted:
            self._muted.update(muted)
        future: asyncio.Future[list[Accepted]] = asyncio.get_running_loop().create_future()
        self._queue.append((items, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        return await future

    async def _flush_all(self) -> None:
        while self._queue:
            batch: list[Waiter] = []
            size = 0
            while self._queue and (not batch or size + len(self._queue[0][0]) <= self._max_batch):
                entry = self._queue.pop(0)
                batch.append(entry)
                size += len(entry[0])
            flat = [item for items, _ in batch for item in items]
            muted = {n.key: self._muted.pop(n.key) for n, _ in flat if n.key in self._muted}
            try:
                results = await self._db.call(insert_notifications, flat, muted)
            except Exception as exc:
                if len(batch) == 1 or is_storage_failure(exc):
                    # one sender, or the store itself failing (locked, full, read-only): nothing was stored
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(_for_sender(exc))
                    continue
                log.warning(
                    "a shared commit failed (%s); committing its %d requests one by one",
                    type(exc).__name__,
                    len(batch),
                )
                await self._one_by_one(batch, muted)
                continue
            start = 0
            for items, fut in batch:
                if not fut.done():
                    fut.set_result(results[start : start + len(items)])
                start += len(items)

    async def _one_by_one(self, batch: list[Waiter], muted: dict[str, int]) -> None:
        for items, fut in batch:
            own = {n.key: muted[n.key] for n, _ in items if n.key in muted}
            try:
                results = await self._db.call(insert_notifications, items, own)
            except Exception as exc:
                if not fut.done():
                    fut.set_exception(_for_sender(exc))
                continue
            if not fut.done():
                fut.set_result(results)

"""Accepts notifications from any source: route them, store them with their outbox rows, wake the worker."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime

from prometheus_client import Counter

from notifbot import routing
from notifbot.config import Settings
from notifbot.destinations import spec_for, target_of
from notifbot.digests import DigestPolicy, DigestRef, digest_id
from notifbot.groups import GroupRef, Reminder
from notifbot.metrics import Metrics
from notifbot.model import Kind, Mute, Notification
from notifbot.routing import group_id, group_key
from notifbot.store.batch import IngestBatcher
from notifbot.store.events import Accepted, Target
from notifbot.store.mutes import active_mutes
from notifbot.store.runner import Database
from notifbot.tasks import stop_task

log = logging.getLogger(__name__)
Observer = Callable[[Sequence[Notification]], Awaitable[object]]
MUTE_REFRESH_SECONDS = 15.0


def destination_targets(settings: Settings) -> dict[str, Target]:
    """Each configured destination as an outbox target (channel id, or a stable stand-in without secrets)."""
    return {name: Target(name, dest.type, target_of(dest)) for name, dest in settings.destinations.items()}


class Pipeline:
    """The single entry for notifications: every source calls `accept`."""

    def __init__(
        self,
        settings: Settings,
        batcher: IngestBatcher,
        metrics: Metrics,
        on_commit: Callable[[Iterable[tuple[str, str]]], None],
    ) -> None:
        self._routes = settings.routes
        self._repeat_window = settings.delivery.repeat_window
        self._targets = destination_targets(settings)
        self._edits = {name: spec_for(dest).edits for name, dest in settings.destinations.items()}
        self._batcher = batcher
        self._metrics = metrics
        self._on_commit = on_commit
        self._mutes: list[Mute] = []
        self._observers: list[tuple[frozenset[Kind], Observer]] = []
        self._observed: frozenset[Kind] = frozenset()

    def observe(self, kinds: Iterable[Kind], observer: Observer) -> None:
        """Calls `observer` with newly stored notifications of `kinds` (after commit; its failure is logged)."""
        self._observers.append((frozenset(kinds), observer))
        self._observed |= frozenset(kinds)

    def set_mutes(self, mutes: Sequence[Mute]) -> None:
        """Replaces the mutes in force (from the store; refreshed when a command changes them)."""
        self._mutes = list(mutes)

    def mute_for(self, n: Notification, now: datetime) -> Mute | None:
        """The mute silencing `n` now, if any; an expired mute simply stops matching."""
        return next((m for m in self._mutes if m.covers(n, now)), None)

    @functools.cache  # noqa: B019 - one Pipeline per app; the cache holds a handful of counters
    def _count(self, source: str, duplicate: bool) -> Counter:
        return (self._metrics.duplicates if duplicate else self._metrics.received).labels(source)

    def targets_for(self, n: Notification) -> list[Target]:
        """Where `n` goes under the route table, each with the alert group or digest it joins there (if any)."""
        out = []
        for t in routing.targets(n, self._routes, self._repeat_window):
            base = self._targets[t.destination]
            if t.digest is not None:
                d = t.digest
                policy = DigestPolicy(d.every, d.at, d.timezone)
                digest = DigestRef(digest_id(t.destination, t.match, policy), t.match, policy)
                out.append(Target(base.destination, base.dest_type, base.target, digest=digest))
                continue
            if t.group is None:
                out.append(base)
                continue
            key = group_key(n, t.group.by)
            remind = t.remind and Reminder(t.remind.after, t.remind.max, t.remind.severity, t.remind.mention)
            ref = GroupRef(
                group_id(t.destination, key),
                key,
                t.group,
                can_edit=self._edits[t.destination],
                remind=remind or None,
            )
            out.append(Target(base.destination, base.dest_type, base.target, ref))
        return out

    async def accept(self, notifications: Sequence[Notification]) -> list[Accepted]:
        """Stores the notifications durably (returns after commit) and schedules their delivery."""
        items: list[tuple[Notification, Sequence[Target]]] = [(n, self.targets_for(n)) for n in notifications]
        muted: dict[str, int] = {}
        if self._mutes:
            now = datetime.now(UTC)
            for n in notifications:
                if (mute := self.mute_for(n, now)) is not None:
                    muted[n.key] = mute.id
                    self._metrics.muted.inc()
        results = await self._batcher.submit(items, muted)
        fresh: set[tuple[str, str]] = set()
        observed: list[Notification] = []
        for (n, targets), r in zip(items, results, strict=True):
            self._count(n.source, r.duplicate).inc()
            if not r.duplicate:
                if n.kind in self._observed:
                    observed.append(n)
                if n.key not in muted:
                    fresh.update((t.dest_type, t.target) for t in targets)
        if fresh:
            self._on_commit(fresh)
        if observed:
            await self._notify_observers(observed)
        return results

    async def _notify_observers(self, observed: list[Notification]) -> None:
        for kinds, observer in self._observers:
            mine = [n for n in observed if n.kind in kinds]
            if not mine:
                continue
            try:
                await observer(mine)
            except (
                Exception
            ):  # the notifications are stored and will be delivered; only the side record is lost
                log.exception("observer failed", extra={"observer": getattr(observer, "__name__", "?")})


class MuteRefresh:
    """Keeps the pipeline's mutes current: loaded on start, after a command changes them, and every 15 s."""

    def __init__(self, db: Database, pipeline: Pipeline, every: float = MUTE_REFRESH_SECONDS) -> None:
        self._db = db
        self._pipeline = pipeline
        self._every = every
        self._task: asyncio.Task[None] | None = None

    async def reload(self) -> None:
        """Loads the mutes in force into the pipeline."""
        self._pipeline.set_mutes(await self._db.read(active_mutes, datetime.now(UTC)))

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.reload()
            except Exception:
                log.exception("could not reload mutes")

    async def __aenter__(self) -> MuteRefresh:
        """Loads the mutes, then refreshes them in the background."""
        await self.reload()
        self._task = asyncio.create_task(self._forever(), name="mutes-refresh")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await stop_task(self._task)

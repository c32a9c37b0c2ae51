"""Runs pollers on APScheduler 3.11 (`AsyncIOScheduler`): one job each, never overlapping, cadence set by the poller."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("notifbot.scheduler")

# A poll returns how many seconds to wait before the next one (pollers adapt their cadence, e.g. to quota use).
Poll = Callable[[], Awaitable[float]]


class Gate(Protocol):
    """Whether this replica runs a job now (it holds, or just took, the job's lease), and when a standby asks again."""

    standby_seconds: float

    async def holds(self, name: str) -> bool: ...


class Pollers:
    """Schedules polls; a missed run is coalesced into one, and a poll still running is never started twice."""

    def __init__(
        self,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        min_delay: float = 1.0,
        gate: Gate | None = None,
    ) -> None:
        self._scheduler: Any = AsyncIOScheduler(timezone=UTC)
        self._min_delay = min_delay
        self._gate = gate  # several replicas: a job runs on the one holding its lease, the others stand by
        self._clock = clock
        self._polls: dict[str, Poll] = {}

    def add(self, name: str, poll: Poll, first_delay: float = 1.0) -> None:
        """Registers a poll under a unique job name; it first runs after `first_delay` seconds."""
        self._polls[name] = poll
        self._schedule(name, first_delay)

    def _schedule(self, name: str, delay: float) -> None:
        self._scheduler.add_job(
            self._run,
            "date",
            run_date=self._clock() + timedelta(seconds=delay),
            args=[name],
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=300,
            replace_existing=True,
        )

    async def _held(self, name: str) -> bool:
        if self._gate is None:
            return True
        try:
            return await self._gate.holds(name)
        except (
            Exception
        ):  # e.g. the database is away: stand by, as a replica that does not hold the lease would
            log.exception("lease check failed", extra={"poller": name})
            return False

    async def _run(self, name: str) -> None:
        if not await self._held(name):
            assert self._gate is not None
            self._schedule(name, self._gate.standby_seconds)
            return
        try:
            delay = await self._polls[name]()
        except Exception:  # a poller must never take the scheduler down; it logs and tries again later
            log.exception("poll failed", extra={"poller": name})
            delay = 300.0
        self._schedule(name, max(self._min_delay, delay))

    async def run_now(self, name: str) -> float:
        """Runs one poll at once, outside the schedule, and returns its requested delay (tests drive pollers so)."""
        return await self._polls[name]()

    @property
    def names(self) -> list[str]:
        """The registered polls."""
        return sorted(self._polls)

    @property
    def running(self) -> bool:
        """True while polls are being scheduled."""
        return bool(self._scheduler.running)

    def start(self) -> None:
        """Starts the scheduler on the running event loop."""
        if self._polls:
            self._scheduler.start()

    async def __aenter__(self) -> Pollers:
        """Starts scheduling (the pollers as a component)."""
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops scheduling; a poll in progress is left to finish or be cancelled with the loop."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

"""This process as one of several replicas on one database: its id, its heartbeat, and the pollers it holds.

Every `lease_seconds / 3` the replica beats (the `replicas` row `/marketo status` lists) and renews the poller
leases it holds; a poller's job asks `holds(name)` before each tick, which takes the lease if it is free or expired,
and a standby replica asks again every `lease_seconds / 2` (`standby_seconds`). A replica that dies stops renewing:
its leases end at most `lease_seconds` after its last renewal and a standby takes them within `lease_seconds / 2`
after that, so failover takes under two lease periods. A clean stop releases everything at once. On SQLite the one
process always holds everything, through the same code.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket

from notifbot.store import leases, replicas
from notifbot.store.runner import Database
from notifbot.tasks import stop_task

log = logging.getLogger("notifbot.replicas")

ENV_REPLICA_ID = "NOTIFBOT_REPLICA_ID"
DEFAULT_LEASE_SECONDS = 15.0


def new_replica_id(configured: str | None = None) -> str:
    """`configured` (NOTIFBOT_REPLICA_ID) when set, else `<host>-<pid>-<4 random hex digits>`."""
    if configured and configured.strip():
        return configured.strip()
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


class Replica:
    """Heartbeat and poller leases of this process (a component, and the scheduler's `Gate`)."""

    def __init__(
        self,
        db: Database,
        *,
        replica_id: str,
        version: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._db = db
        self.id = replica_id
        self.version = version
        self.lease_seconds = lease_seconds
        self.standby_seconds = lease_seconds / 2
        self.held: set[str] = set()
        self.last_renewal: float | None = None  # loop time of the last heartbeat that reached the database
        self._task: asyncio.Task[None] | None = None

    async def holds(self, name: str) -> bool:
        """True if this replica holds the poller's lease now (taking it when free or expired)."""
        held = await self._db.call(leases.take_poller, name, self.id, self.lease_seconds)
        if held and name not in self.held:
            log.info("took poller lease", extra={"poller": name, "replica": self.id})
        (self.held.add if held else self.held.discard)(name)
        return held

    def renewal_problem(self) -> str | None:
        """Why this replica is not ready as far as its leases go: its heartbeat has not reached the database for a
        whole lease period (its pollers and channels may already be another replica's)."""
        if self.last_renewal is None or self._task is None:
            return None
        late = asyncio.get_running_loop().time() - self.last_renewal
        if late <= self.lease_seconds:
            return None
        return f"lease renewal failing: no heartbeat reached the database for {late:.0f} s"

    async def beat(self) -> None:
        """One heartbeat: the replica row and the renewal of every poller lease held."""
        await self._db.call(replicas.beat, self.id, socket.gethostname(), os.getpid(), self.version)
        names = sorted(self.held)
        if names:
            kept = await self._db.call(leases.renew_pollers, names, self.id, self.lease_seconds)
            for lost in set(names) - kept:
                log.warning("lost poller lease", extra={"poller": lost, "replica": self.id})
            self.held = kept | (self.held - set(names))
        self.last_renewal = asyncio.get_running_loop().time()

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.beat()
            except Exception:
                log.exception("heartbeat failed", extra={"replica": self.id})

    async def __aenter__(self) -> Replica:
        """Registers the replica, then beats in the background."""
        await self._db.call(leases.void_others_on_sqlite, self.id)
        await self.beat()
        self._task = asyncio.create_task(self._forever(), name="replica-heartbeat")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stops beating and releases every lease at once (a standby need not wait for them to end)."""
        await stop_task(self._task)
        try:
            await self._db.call(leases.release_all, self.id)
            await self._db.call(replicas.remove, self.id)
        except Exception:
            log.exception("could not release leases on stop", extra={"replica": self.id})
        self.held.clear()

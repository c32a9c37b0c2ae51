"""The background pruner runs retention only on the replica holding the `retention` lease."""

from __future__ import annotations

import asyncio
from pathlib import Path

from notifbot.replicas import Replica
from notifbot.store import leases
from notifbot.store.pruner import LEASE, Pruner
from notifbot.store.retention import Windows
from notifbot.store.runner import Database


async def test_only_the_replica_holding_the_retention_lease_prunes(tmp_path: Path) -> None:
    db = Database(tmp_path / "notifbot.db")
    try:
        other = Replica(db, replica_id="other", version="t", lease_seconds=15)
        assert await other.holds(LEASE)
        this = Replica(db, replica_id="this", version="t", lease_seconds=15)
        pruner = Pruner(db, Windows(), every=0.05, first=0.0, gate=this.holds)
        async with pruner:
            await asyncio.sleep(0.3)
            assert pruner.runs == 0  # the other replica prunes
            await db.call(leases.release_poller, LEASE, "other")
            for _ in range(100):
                if pruner.runs:
                    break
                await asyncio.sleep(0.02)
        assert pruner.runs >= 1
        assert await db.read(leases.poller_holders) == {LEASE: "this"}
    finally:
        db.close()

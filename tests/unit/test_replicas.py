"""Replicas: one runs each poller (the scheduler asks its lease), a standby takes over within two lease periods."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from notifbot.replicas import Replica, new_replica_id
from notifbot.scheduler import Pollers
from notifbot.store import leases, replicas
from notifbot.store.runner import Database

LEASE = 1.0  # seconds: failover must take under 2


class PgCalls:
    """`Database.call`/`read` over one PostgreSQL store connection, on a worker thread (as the pool runner does)."""

    def __init__(self, url: str) -> None:
        from notifbot.store import pg

        self.conn = pg.connect(url)
        self._lock = threading.Lock()

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            with self._lock:
                return fn(self.conn, *args, **kwargs)

        return await asyncio.to_thread(run)

    read = call

    def close(self) -> None:
        self.conn.close()


def test_a_replica_id_is_configured_or_host_pid_and_random() -> None:
    assert new_replica_id(" bot-a ") == "bot-a"
    made = new_replica_id(None)
    host, pid, rand = made.rsplit("-", 2)
    assert host and int(pid) > 0 and len(rand) == 4
    assert new_replica_id("") != new_replica_id("")


async def test_on_sqlite_the_one_process_holds_everything_and_leaves_cleanly(tmp_path: Path) -> None:
    db = Database(tmp_path / "notifbot.db")
    try:
        async with Replica(db, replica_id="solo", version="1.2.3", lease_seconds=LEASE) as replica:
            assert await replica.holds("quota:123")
            assert await db.read(leases.poller_holders) == {"quota:123": "solo"}
            alive = await db.read(replicas.alive, LEASE)
            assert [(r.id, r.version) for r in alive] == [("solo", "1.2.3")]
            await asyncio.sleep(LEASE * 1.2)  # renewed by the heartbeat meanwhile
            assert await db.read(leases.poller_holders) == {"quota:123": "solo"}
        assert await db.read(leases.poller_holders) == {}
        assert await db.read(replicas.alive, LEASE) == []
    finally:
        db.close()


@pytest.fixture
def pg_calls(pg_store_url: str) -> Iterator[tuple[PgCalls, PgCalls]]:
    from tests.pg_support import empty_store

    empty_store(pg_store_url)
    a, b = PgCalls(pg_store_url), PgCalls(pg_store_url)
    yield a, b
    a.close()
    b.close()


async def _two_replicas(
    pg_calls: tuple[PgCalls, PgCalls], runs: list[tuple[str, float]]
) -> tuple[list[Replica], list[Pollers]]:
    made_replicas, made_pollers = [], []
    for name, calls in zip(("a", "b"), pg_calls, strict=True):
        replica = Replica(calls, replica_id=name, version="t", lease_seconds=LEASE)  # type: ignore[arg-type]
        await replica.__aenter__()
        pollers = Pollers(min_delay=0.01, gate=replica)

        async def poll(name: str = name) -> float:
            runs.append((name, time.monotonic()))
            return 0.1

        pollers.add("quota:123", poll, first_delay=0.01)
        pollers.start()
        made_replicas.append(replica)
        made_pollers.append(pollers)
    return made_replicas, made_pollers


async def test_one_replica_runs_a_poller_and_a_standby_takes_over_when_it_dies(
    pg_calls: tuple[PgCalls, PgCalls],
) -> None:
    runs: list[tuple[str, float]] = []
    (ra, rb), (pa, pb) = await _two_replicas(pg_calls, runs)
    try:
        await asyncio.sleep(LEASE * 1.5)
        holders = {name for name, _ in runs}
        assert len(holders) == 1 and len(runs) >= 5  # every 0.1 s, on one replica only
        holder = holders.pop()
        (dead_replica, dead_pollers), (live_replica, _) = (
            ((ra, pa), (rb, pb)) if holder == "a" else ((rb, pb), (ra, pa))
        )
        # killed, not stopped: no release, the heartbeat just ends
        dead_pollers.stop()
        assert dead_replica._task is not None
        dead_replica._task.cancel()
        died = time.monotonic()
        deadline = died + 2 * LEASE + 0.5
        while time.monotonic() < deadline and not any(n == live_replica.id for n, _ in runs):
            await asyncio.sleep(0.02)
        took_over = [t for n, t in runs if n == live_replica.id]
        assert took_over, "the standby never ran the poller"
        assert took_over[0] - died < 2 * LEASE
        assert await pg_calls[0].read(leases.poller_holders) == {"quota:123": live_replica.id}
        # the dead one is no longer listed once two lease periods have passed without its beat
        await asyncio.sleep(2 * LEASE)
        assert [r.id for r in await pg_calls[0].read(replicas.alive, LEASE)] == [live_replica.id]
    finally:
        pa.stop()
        pb.stop()
        for r in (ra, rb):
            await r.__aexit__(None, None, None)


async def test_a_clean_stop_hands_the_poller_over_at_the_standbys_next_try(
    pg_calls: tuple[PgCalls, PgCalls],
) -> None:
    runs: list[tuple[str, float]] = []
    (ra, rb), (pa, pb) = await _two_replicas(pg_calls, runs)
    try:
        await asyncio.sleep(0.5)
        holder = runs[0][0]
        assert {n for n, _ in runs} == {holder}
        stopping, stopping_pollers, other = (ra, pa, rb) if holder == "a" else (rb, pb, ra)
        stopping_pollers.stop()
        await stopping.__aexit__(None, None, None)
        stopped = time.monotonic()
        while time.monotonic() < stopped + LEASE and not any(n == other.id for n, _ in runs):
            await asyncio.sleep(0.02)
        assert any(n == other.id for n, _ in runs)  # within lease/2 (its next try), not after the lease ends
        assert [r.id for r in await pg_calls[0].read(replicas.alive, LEASE)] == [other.id]
    finally:
        pa.stop()
        pb.stop()
        for r in (ra, rb):
            await r.__aexit__(None, None, None)


async def test_readiness_says_so_when_the_heartbeat_stops_reaching_the_database(tmp_path: Path) -> None:
    db = Database(tmp_path / "notifbot.db")
    async with Replica(db, replica_id="solo", version="1", lease_seconds=LEASE) as replica:
        await asyncio.sleep(LEASE * 0.5)
        assert replica.renewal_problem() is None
        db.close()  # every heartbeat from now on fails
        await asyncio.sleep(LEASE * 1.5)
        problem = replica.renewal_problem()
        assert problem is not None and problem.startswith("lease renewal failing")

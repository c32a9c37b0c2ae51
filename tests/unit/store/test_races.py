"""On PostgreSQL, replicas joining one group, digest or mute scope at once: the key lock makes them take turns.

Each test holds the key's lock on a third connection, starts two writers that both block on it (checked in
pg_locks), then lets go: without the lock both would read "nothing open yet" and write, leaving two episodes (or the
unique index failing one), two digests, or two active mutes. SQLite needs no test: BEGIN IMMEDIATE admits one writer.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from notifbot.digests import DigestPolicy, DigestRef
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store import digests, groups, mutes
from notifbot.store.db import transaction
from notifbot.store.dialect import lock_keys
from notifbot.store.events import Target, insert_notifications
from tests.pg_support import empty_store

NOW = datetime(2026, 12, 1, tzinfo=UTC)
T0 = 2_000_000_000.0
GROUP = GroupRef(
    "g1",
    "kind=campaign_failure",
    GroupPolicy(("kind",), timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4)),
)
DIGEST = DigestRef("d1", "kind=crm_sync", DigestPolicy(timedelta(hours=1), time(0, 0), "UTC"))


@pytest.fixture
def pg(pg_store_url: str) -> Iterator[Callable[[], Any]]:
    """Opens PostgreSQL store connections on the module's emptied database; closes them after the test."""
    from notifbot.store import pg as store_pg

    empty_store(pg_store_url)
    opened: list[store_pg.PgConn] = []

    def open_conn() -> store_pg.PgConn:
        conn = store_pg.connect(pg_store_url)
        opened.append(conn)
        return conn

    yield open_conn
    for conn in opened:
        conn.close()


def race(open_conn: Callable[[], Any], key: str, write: Callable[[Any, int], object]) -> list[object]:
    """Runs `write(conn, i)` for i = 0, 1 on two connections at once, both released together from `key`'s lock."""
    holder, watcher = open_conn(), open_conn()
    conns = [open_conn(), open_conn()]
    with ThreadPoolExecutor(2) as pool:
        with transaction(holder):
            lock_keys(holder, key)
            futures: list[Future[object]] = [pool.submit(write, conns[i], i) for i in range(2)]
            deadline = clock.monotonic() + 10
            while waiting(watcher) < 2:  # both writers are inside their transaction, blocked on the key
                assert clock.monotonic() < deadline, "the writers never blocked on the key lock"
                assert not any(f.done() for f in futures), [f.exception() for f in futures if f.done()]
                clock.sleep(0.01)
        return [f.result(timeout=10) for f in futures]


def waiting(conn: Any) -> int:
    return int(
        conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()[
            0
        ]
    )


def test_two_replicas_joining_one_group_share_one_episode(pg: Callable[[], Any]) -> None:
    def write(conn: Any, i: int) -> object:
        n = parse_event({"kind": "campaign_failure", "id": f"e{i}"}, now=NOW)
        return insert_notifications(conn, [(n, [Target("ops", "slack", "C1", GROUP)])], now=T0 + i)

    race(pg, groups.lock_key(GROUP.key_id), write)
    check = pg()
    assert [tuple(r) for r in check.execute("SELECT count, closed FROM alert_groups")] == [(2, 0)]
    seqs = [r[0] for r in check.execute("SELECT seq FROM alert_group_events ORDER BY seq")]
    assert seqs == [1, 2]
    assert check.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


def test_two_replicas_joining_one_digest_share_one_row(pg: Callable[[], Any]) -> None:
    def write(conn: Any, i: int) -> object:
        n = parse_event({"kind": "crm_sync", "id": f"e{i}"}, now=NOW)
        return insert_notifications(conn, [(n, [Target("crm", "slack", "C1", digest=DIGEST)])], now=T0 + i)

    race(pg, digests.lock_key(DIGEST.key_id), write)
    check = pg()
    assert [r[0] for r in check.execute("SELECT count FROM digests")] == [2]
    assert [r[0] for r in check.execute("SELECT seq FROM digest_events ORDER BY seq")] == [1, 2]
    assert check.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1


def test_two_replicas_muting_one_scope_leave_one_active_mute(pg: Callable[[], Any]) -> None:
    scope = (("instance", "123-ABC-456"),)

    def write(conn: Any, i: int) -> object:
        return mutes.add_mute(conn, "crm_sync", NOW + timedelta(hours=1 + i), f"U{i}", None, NOW, scope)

    created = race(pg, mutes.lock_key("crm_sync", scope), write)
    check = pg()
    active = mutes.active_mutes(check, NOW)
    assert len(active) == 1 and active[0] in created
    assert check.execute("SELECT count(*) FROM mutes WHERE ended_at IS NOT NULL").fetchone()[0] == 1

"""Channel and poller leases, and the replicas table, on SQLite and PostgreSQL alike (store_conn)."""

from __future__ import annotations

from typing import Any

from notifbot.store import leases, replicas
from notifbot.store.db import transaction

T0 = 1_800_000_000.0


def _outbox_row(conn: Any, event_id: int, target: str) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO events (id, key, kind, severity, occurred_at, received_at, fields, labels, source,"
            " routed_to) VALUES (?, ?, 'other', 'info', 'x', 'x', '{}', '{}', 'test', '[]')",
            (event_id, f"k{event_id}"),
        )
        conn.execute(
            "INSERT INTO outbox (event_id, destination, dest_type, target, next_attempt_at, created_at)"
            " VALUES (?, 'ops', 'slack', ?, ?, ?)",
            (event_id, target, T0 - 1, T0 - 1),
        )


def test_a_channel_lease_is_its_holders_until_it_ends(store_conn: Any) -> None:
    assert leases.take_channel(store_conn, "slack", "C1", "a", 15, now=T0)
    assert leases.take_channel(store_conn, "slack", "C1", "a", 15, now=T0 + 5)  # renewed by its holder
    assert not leases.take_channel(store_conn, "slack", "C1", "b", 15, now=T0 + 19)  # a's runs to T0 + 20
    assert leases.channel_holders(store_conn, now=T0 + 19) == {("slack", "C1"): "a"}
    assert leases.take_channel(store_conn, "slack", "C2", "b", 15, now=T0 + 19)  # another channel is free
    assert leases.take_channel(store_conn, "slack", "C1", "b", 15, now=T0 + 20.5)  # taken over once it ended
    assert not leases.take_channel(store_conn, "slack", "C1", "a", 15, now=T0 + 21)
    assert leases.channel_holders(store_conn, now=T0 + 21) == {("slack", "C1"): "b", ("slack", "C2"): "b"}
    assert leases.channel_holders(store_conn, now=T0 + 40) == {}


def test_a_released_channel_is_free_at_once_and_only_its_holder_releases(store_conn: Any) -> None:
    assert leases.take_channel(store_conn, "slack", "C1", "a", 15, now=T0)
    leases.release_channel(store_conn, "slack", "C1", "b")  # not b's: stays
    assert not leases.take_channel(store_conn, "slack", "C1", "b", 15, now=T0 + 1)
    leases.release_channel(store_conn, "slack", "C1", "a")
    assert leases.take_channel(store_conn, "slack", "C1", "b", 15, now=T0 + 1)


def test_due_targets_leave_out_channels_another_replica_drains(store_conn: Any) -> None:
    _outbox_row(store_conn, 1, "C1")
    _outbox_row(store_conn, 2, "C2")
    assert leases.take_channel(store_conn, "slack", "C1", "a", 15, now=T0)
    assert sorted(leases.due_free_targets(store_conn, T0, "a", lease_now=T0)) == [
        ("slack", "C1"),
        ("slack", "C2"),
    ]
    assert leases.due_free_targets(store_conn, T0, "b", lease_now=T0) == [("slack", "C2")]
    assert len(leases.due_free_targets(store_conn, T0, "b", lease_now=T0 + 16)) == 2  # a's lease ended


def test_a_poller_lease_keeps_since_when_and_fails_over_after_it_ends(store_conn: Any) -> None:
    assert leases.take_poller(store_conn, "quota:123", "a", 15, now=T0)
    assert leases.renew_pollers(store_conn, ["quota:123", "campaigns:123"], "a", 15, now=T0 + 5) == {
        "quota:123",
        "campaigns:123",
    }
    assert not leases.take_poller(store_conn, "quota:123", "b", 15, now=T0 + 10)
    row = store_conn.execute(
        "SELECT taken_at, beat_at FROM poller_leases WHERE name = 'quota:123'"
    ).fetchone()
    assert (row[0], row[1]) == (T0, T0 + 5)
    assert leases.poller_holders(store_conn, now=T0 + 10) == {"campaigns:123": "a", "quota:123": "a"}
    assert leases.take_poller(store_conn, "quota:123", "b", 15, now=T0 + 21)  # a stopped renewing at T0 + 5
    # a late renewal gets back only what nobody took meanwhile
    assert leases.renew_pollers(store_conn, ["quota:123", "campaigns:123"], "a", 15, now=T0 + 21) == {
        "campaigns:123"
    }
    row = store_conn.execute("SELECT holder, taken_at FROM poller_leases WHERE name = 'quota:123'").fetchone()
    assert (row[0], row[1]) == ("b", T0 + 21)


def test_a_clean_stop_releases_everything_its_replica_held(store_conn: Any) -> None:
    assert leases.take_poller(store_conn, "quota:123", "a", 15, now=T0)
    assert leases.take_poller(store_conn, "email-ops", "b", 15, now=T0)
    assert leases.take_channel(store_conn, "slack", "C1", "a", 15, now=T0)
    leases.release_poller(store_conn, "email-ops", "a")  # b's: stays
    leases.release_all(store_conn, "a")
    assert leases.poller_holders(store_conn, now=T0) == {"email-ops": "b"}
    assert leases.channel_holders(store_conn, now=T0) == {}
    assert leases.take_poller(store_conn, "quota:123", "b", 15, now=T0 + 1)


def test_the_database_clock_is_used_without_a_now(store_conn: Any) -> None:
    import time

    assert abs(leases.db_time(store_conn) - time.time()) < 5  # the test server runs on this machine
    assert leases.take_poller(store_conn, "quota:123", "a", 15)
    assert leases.poller_holders(store_conn) == {"quota:123": "a"}
    assert not leases.take_poller(store_conn, "quota:123", "b", 15)


def test_replicas_beat_and_are_listed_while_alive(store_conn: Any) -> None:
    assert replicas.beat(store_conn, "h1-10-abcd", "h1", 10, "1.0", now=T0) == T0
    replicas.beat(store_conn, "h2-20-ef01", "h2", 20, "1.0", now=T0 + 1)
    replicas.beat(store_conn, "h1-10-abcd", "h1", 10, "1.1", now=T0 + 10)
    alive = replicas.alive(store_conn, 15, now=T0 + 32)  # h2's beat at T0 + 1 is older than two lease periods
    assert [(r.id, r.version, r.started_at, r.beat_at, r.pid) for r in alive] == [
        ("h1-10-abcd", "1.1", T0, T0 + 10, 10)
    ]
    assert [r.id for r in replicas.alive(store_conn, 15, now=T0 + 20)] == ["h1-10-abcd", "h2-20-ef01"]
    replicas.remove(store_conn, "h1-10-abcd")
    assert [r.id for r in replicas.alive(store_conn, 15, now=T0 + 20)] == ["h2-20-ef01"]
    assert replicas.forget_dead(store_conn, T0 + 5) == 1
    assert replicas.alive(store_conn, 15, now=T0 + 2) == []


def test_on_sqlite_a_starting_process_voids_the_leases_an_earlier_one_left(store_conn: Any) -> None:
    assert leases.take_poller(store_conn, "quota:123", "killed", 15, now=T0)
    assert leases.take_channel(store_conn, "slack", "C1", "killed", 15, now=T0)
    leases.void_others_on_sqlite(store_conn, "restarted")
    sqlite = type(store_conn).__module__ == "sqlite3"
    assert leases.take_poller(store_conn, "quota:123", "restarted", 15, now=T0 + 1) is sqlite
    assert leases.take_channel(store_conn, "slack", "C1", "restarted", 15, now=T0 + 1) is sqlite

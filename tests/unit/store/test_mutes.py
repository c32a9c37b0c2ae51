"""Mutes on both backends: a new mute replaces the same scope's only, ending cuts `until` short, expiry stops it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.store.conn import Conn
from notifbot.store.mutes import active_mutes, add_mute, end_mutes

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SCOPE = (("instance", "123-ABC-456"),)


def test_a_mute_replaces_only_the_active_mute_of_its_kind_and_scope(store_conn: Conn) -> None:
    conn = store_conn
    plain = add_mute(conn, "crm_sync", NOW + timedelta(hours=1), "U1", "noisy", NOW)
    scoped = add_mute(conn, "crm_sync", NOW + timedelta(hours=2), "U1", None, NOW, SCOPE)
    assert {m.id for m in active_mutes(conn, NOW)} == {plain.id, scoped.id}
    later = NOW + timedelta(minutes=1)
    again = add_mute(conn, "crm_sync", NOW + timedelta(hours=3), "U2", None, later)  # no matchers: NULL scope
    assert [m.id for m in active_mutes(conn, later)] == [scoped.id, again.id]  # soonest expiry first
    ended = conn.execute("SELECT ended_by FROM mutes WHERE id = ?", (plain.id,)).fetchone()
    assert ended[0] == "U2"
    assert (again.matchers, scoped.matchers, again.author, plain.reason) == ((), SCOPE, "U2", "noisy")
    assert again.until == NOW + timedelta(hours=3) and again.created_at == later


def test_ending_mutes_cuts_until_to_now_and_counts_them(store_conn: Conn) -> None:
    conn = store_conn
    add_mute(conn, "audit", NOW + timedelta(hours=1), "U1", None, NOW)
    add_mute(conn, "audit", NOW + timedelta(hours=1), "U1", None, NOW, SCOPE)
    add_mute(conn, "crm_sync", NOW + timedelta(hours=1), "U1", None, NOW)
    stop = NOW + timedelta(minutes=5)
    assert end_mutes(conn, "audit", "U3", stop) == 2
    assert end_mutes(conn, "audit", "U3", stop) == 0
    assert [m.kind for m in active_mutes(conn, stop)] == ["crm_sync"]
    untils = [r[0] for r in conn.execute("SELECT until FROM mutes WHERE kind = 'audit'")]
    assert untils == [stop.timestamp()] * 2


def test_an_expired_mute_is_not_active(store_conn: Conn) -> None:
    add_mute(store_conn, "audit", NOW + timedelta(minutes=1), "U1", None, NOW)
    assert active_mutes(store_conn, NOW + timedelta(minutes=1)) == []

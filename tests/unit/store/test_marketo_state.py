"""Poller state and quota samples on both backends: an error keeps the stored day and count unless it brings them."""

from __future__ import annotations

from datetime import UTC, datetime

from notifbot.store import marketo_state as state
from notifbot.store.conn import Conn

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 12:00 US Central
LATER = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)


def test_quota_samples_get_their_ids_and_read_back_per_day(store_conn: Conn) -> None:
    conn = store_conn
    first = state.insert_quota_sample(
        conn, "I1", 2.0, "2026-12-01", 10, 50_000, [{"userId": 7, "count": 3}], {}
    )
    second = state.insert_quota_sample(conn, "I1", 1.0, "2026-12-01", 5, 50_000, [], {"606": 2})
    assert second == first + 1
    assert state.day_samples(conn, "I1", "2026-12-01") == [(1.0, 5), (2.0, 10)]


def test_an_error_without_a_count_keeps_the_stored_day_and_count(store_conn: Conn) -> None:
    conn = store_conn
    state.record_poll_success(conn, "I1", "activities", NOW, 40)
    state.record_poll_error(conn, "I1", "activities", LATER, "HTTP 503")
    row = state.poller_state(conn, "I1", "activities")
    assert row is not None
    assert (row["day"], row["calls_today"], row["last_error"]) == ("2026-12-01", 40, "HTTP 503")
    assert row["last_success_at"] == NOW.timestamp()
    state.record_poll_error(conn, "I1", "activities", LATER, "HTTP 502", calls_today=3)
    assert state.calls_made_on(conn, "I1", "2026-12-02") == {"activities": 3}
    state.record_poll_error(
        conn, "I1", "fresh", NOW, "first poll failed"
    )  # no row yet: the error's own values
    assert state.calls_made_on(conn, "I1", "2026-12-01") == {"fresh": 0}


def test_a_cursor_is_saved_and_a_missing_count_is_kept(store_conn: Conn) -> None:
    conn = store_conn
    state.save_cursor(conn, "I1", "leads", "token-1", NOW, calls_today=12)
    state.save_cursor(conn, "I1", "leads", "token-2", NOW)
    row = state.poller_state(conn, "I1", "leads")
    assert row is not None and (row["cursor"], row["calls_today"]) == ("token-2", 12)
    assert state.poller_state(conn, "I1", "nothing") is None

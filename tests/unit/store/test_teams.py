"""Teams subscriptions and inbox on both backends: a notification Graph sends twice is queued once."""

from __future__ import annotations

from notifbot.store import teams
from notifbot.store.conn import Conn


def test_enqueue_counts_only_new_resources(store_conn: Conn) -> None:
    conn = store_conn
    assert teams.enqueue(conn, [("r/1", "s1"), ("r/2", "s1"), ("r/1", "s1")], 10.0) == 2
    assert teams.enqueue(conn, [("r/2", "s1"), ("r/3", "s2")], 11.0) == 1
    assert teams.enqueue(conn, [], 12.0) == 0
    due = teams.due(conn, 11.0)
    assert [(r.resource, r.subscription_id, r.attempts) for r in due] == [
        ("r/1", "s1", 0),
        ("r/2", "s1", 0),
        ("r/3", "s2", 0),
    ]
    teams.retry(conn, due[0].id, "timeout", 50.0)
    teams.finish(conn, due[1].id, "answered", reply_id="m-9")
    assert [r.resource for r in teams.due(conn, 20.0)] == ["r/3"]
    assert teams.is_own_post(conn, "T/C", "x", "m-9") and not teams.is_own_post(conn, "T/C", "x", "m-8")


def test_a_subscription_replaces_the_older_one_for_its_resource(store_conn: Conn) -> None:
    conn = store_conn
    teams.save_subscription(conn, teams.StoredSubscription("s1", "chats/1", "secret-1", 100.0), 1.0)
    teams.save_subscription(conn, teams.StoredSubscription("s2", "chats/1", "secret-2", 200.0), 2.0)
    teams.renewed(conn, "s2", 300.0)
    assert teams.subscriptions(conn) == [teams.StoredSubscription("s2", "chats/1", "secret-2", 300.0)]
    teams.forget_subscription(conn, "s2")
    assert teams.subscriptions(conn) == []

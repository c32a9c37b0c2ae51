"""The saved Adobe I/O key paths that verified a genuine signature: upserted, newest first, bounded."""

from __future__ import annotations

from notifbot.store.adobe_keys import record_verified_key_path, verified_key_paths
from notifbot.store.conn import Conn


def test_paths_are_upserted_and_only_the_most_recent_are_kept(store_conn: Conn) -> None:
    conn = store_conn
    assert verified_key_paths(conn, 16) == {}
    for i in range(4):
        record_verified_key_path(conn, f"/prod/keys/pub-key-{i}.pem", float(i), keep=3)
    assert verified_key_paths(conn, 16) == {f"/prod/keys/pub-key-{i}.pem": float(i) for i in (1, 2, 3)}
    record_verified_key_path(conn, "/prod/keys/pub-key-1.pem", 10.0, keep=3)
    record_verified_key_path(conn, "/prod/keys/pub-key-9.pem", 5.0, keep=3)
    assert verified_key_paths(conn, 16) == {
        "/prod/keys/pub-key-1.pem": 10.0,
        "/prod/keys/pub-key-9.pem": 5.0,
        "/prod/keys/pub-key-3.pem": 3.0,
    }
    assert list(verified_key_paths(conn, 2)) == ["/prod/keys/pub-key-1.pem", "/prod/keys/pub-key-9.pem"]

"""Adobe I/O key paths that verified a genuine delivery, kept so a restart does not put them behind the fetch limit."""

from __future__ import annotations

from notifbot.store.conn import Conn
from notifbot.store.db import transaction


def verified_key_paths(conn: Conn, limit: int) -> dict[str, float]:
    """The `limit` most recently verified key paths, with when each last verified (epoch seconds)."""
    rows = conn.execute(
        "SELECT path, verified_at FROM adobe_io_key_paths ORDER BY verified_at DESC, path LIMIT ?", (limit,)
    ).fetchall()
    return {str(path): float(at) for path, at in rows}


def record_verified_key_path(conn: Conn, path: str, at: float, keep: int) -> None:
    """Records that `path` verified a signature at `at`, keeping only the `keep` most recent paths."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO adobe_io_key_paths (path, verified_at) VALUES (?, ?)"
            " ON CONFLICT (path) DO UPDATE SET verified_at = excluded.verified_at",
            (path, at),
        )
        conn.execute(
            "DELETE FROM adobe_io_key_paths WHERE path NOT IN"
            " (SELECT path FROM adobe_io_key_paths ORDER BY verified_at DESC, path LIMIT ?)",
            (keep,),
        )

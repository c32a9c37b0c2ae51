"""The IMAP UID cursor per (mailbox, folder): where reading resumes after a restart, under one UIDVALIDITY."""

from __future__ import annotations

import time

from notifbot.store.conn import Conn
from notifbot.store.db import transaction


def email_cursor(conn: Conn, mailbox: str, folder: str) -> tuple[int, int] | None:
    """(uidvalidity, last_uid) read so far in `folder` of `mailbox`, or None before the first message."""
    row = conn.execute(
        "SELECT uidvalidity, last_uid FROM email_cursors WHERE mailbox = ? AND folder = ?", (mailbox, folder)
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def save_email_cursor(conn: Conn, mailbox: str, folder: str, uidvalidity: int, last_uid: int) -> None:
    """Records that every message up to `last_uid` under `uidvalidity` is committed (or deliberately skipped)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO email_cursors (mailbox, folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (mailbox, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
            " last_uid = excluded.last_uid, updated_at = excluded.updated_at",
            (mailbox, folder, uidvalidity, last_uid, time.time()),
        )

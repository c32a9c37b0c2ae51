"""The Microsoft Graph delta link per (mailbox, folder): where reading a mail folder resumes after a restart."""

from __future__ import annotations

import time

from notifbot.store.conn import Conn
from notifbot.store.db import transaction


def graph_delta_link(conn: Conn, mailbox: str, folder: str) -> str | None:
    """The @odata.deltaLink saved for `folder` of `mailbox`, or None before the first full round."""
    row = conn.execute(
        "SELECT delta_link FROM graph_mail_cursors WHERE mailbox = ? AND folder = ?", (mailbox, folder)
    ).fetchone()
    return None if row is None else str(row[0])


def save_graph_delta_link(conn: Conn, mailbox: str, folder: str, delta_link: str) -> None:
    """Records that every message before `delta_link` is committed and marked (or deliberately skipped)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO graph_mail_cursors (mailbox, folder, delta_link, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (mailbox, folder) DO UPDATE SET delta_link = excluded.delta_link,"
            " updated_at = excluded.updated_at",
            (mailbox, folder, delta_link, time.time()),
        )


def forget_graph_delta_link(conn: Conn, mailbox: str, folder: str) -> None:
    """Drops the saved link (it expired): the next round reads the folder from the start."""
    with transaction(conn):
        conn.execute("DELETE FROM graph_mail_cursors WHERE mailbox = ? AND folder = ?", (mailbox, folder))

"""The IMAP UID cursor per (mailbox, folder) survives a reopen and is replaced, not duplicated."""

from __future__ import annotations

from pathlib import Path

from notifbot.store.conn import Conn
from notifbot.store.db import connect
from notifbot.store.email_cursors import email_cursor, save_email_cursor


def test_cursor_round_trip_per_mailbox_and_folder(tmp_path: Path) -> None:
    conn = connect(tmp_path / "n.db")
    assert email_cursor(conn, "alerts", "INBOX") is None
    save_email_cursor(conn, "alerts", "INBOX", 17, 100)
    save_email_cursor(conn, "alerts", "INBOX", 18, 3)  # a new UIDVALIDITY replaces the old cursor
    save_email_cursor(conn, "alerts", "Other", 5, 9)
    conn.close()
    conn = connect(tmp_path / "n.db")
    assert email_cursor(conn, "alerts", "INBOX") == (18, 3)
    assert email_cursor(conn, "alerts", "Other") == (5, 9)
    assert email_cursor(conn, "second", "INBOX") is None
    assert conn.execute("SELECT count(*) FROM email_cursors").fetchone()[0] == 2
    conn.close()


def test_cursors_are_upserted_per_folder_on_each_backend(store_conn: Conn) -> None:
    conn = store_conn
    assert email_cursor(conn, "alerts", "INBOX") is None
    save_email_cursor(conn, "alerts", "INBOX", 17, 100)
    save_email_cursor(conn, "alerts", "INBOX", 18, 2**40)  # a new UIDVALIDITY replaces the old cursor; 64-bit
    save_email_cursor(conn, "alerts", "Other", 5, 9)
    assert email_cursor(conn, "alerts", "INBOX") == (18, 2**40)
    assert email_cursor(conn, "alerts", "Other") == (5, 9)
    assert conn.execute("SELECT count(*) FROM email_cursors").fetchone()[0] == 2

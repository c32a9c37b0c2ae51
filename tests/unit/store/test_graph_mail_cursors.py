"""The Graph delta link per (mailbox, folder) survives a reopen, is replaced, not duplicated, and can be forgotten."""

from __future__ import annotations

from pathlib import Path

from notifbot.store.conn import Conn
from notifbot.store.db import connect
from notifbot.store.graph_mail_cursors import forget_graph_delta_link, graph_delta_link, save_graph_delta_link


def test_delta_link_round_trip_per_mailbox_and_folder(tmp_path: Path) -> None:
    conn = connect(tmp_path / "n.db")
    assert graph_delta_link(conn, "alerts", "Inbox") is None
    save_graph_delta_link(conn, "alerts", "Inbox", "https://graph/…/delta?$skiptoken=1")
    save_graph_delta_link(
        conn, "alerts", "Inbox", "https://graph/…/delta?$deltatoken=2"
    )  # the next page's link
    save_graph_delta_link(conn, "alerts", "Inbox/Marketo", "https://graph/…/delta?$deltatoken=9")
    conn.close()
    conn = connect(tmp_path / "n.db")
    assert graph_delta_link(conn, "alerts", "Inbox") == "https://graph/…/delta?$deltatoken=2"
    assert graph_delta_link(conn, "second", "Inbox") is None
    assert conn.execute("SELECT count(*) FROM graph_mail_cursors").fetchone()[0] == 2
    forget_graph_delta_link(conn, "alerts", "Inbox")  # expired: read from the start
    assert graph_delta_link(conn, "alerts", "Inbox") is None
    assert graph_delta_link(conn, "alerts", "Inbox/Marketo") == "https://graph/…/delta?$deltatoken=9"
    conn.close()


def test_delta_links_are_upserted_per_folder_on_each_backend(store_conn: Conn) -> None:
    conn = store_conn
    save_graph_delta_link(conn, "alerts", "Inbox", "https://graph/…/delta?$skiptoken=1")
    save_graph_delta_link(conn, "alerts", "Inbox", "https://graph/…/delta?$deltatoken=2")
    save_graph_delta_link(conn, "alerts", "Inbox/Marketo", "https://graph/…/delta?$deltatoken=9")
    assert graph_delta_link(conn, "alerts", "Inbox") == "https://graph/…/delta?$deltatoken=2"
    assert conn.execute("SELECT count(*) FROM graph_mail_cursors").fetchone()[0] == 2
    forget_graph_delta_link(conn, "alerts", "Inbox")
    assert graph_delta_link(conn, "alerts", "Inbox") is None
    assert graph_delta_link(conn, "alerts", "Inbox/Marketo") == "https://graph/…/delta?$deltatoken=9"

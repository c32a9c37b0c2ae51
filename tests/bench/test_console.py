"""The console bench's store part at a small size: its fill has the shape the requests need, and each request runs."""

from __future__ import annotations

from pathlib import Path

from bench import console, retention
from notifbot.commands.listing import Filters, recent_page
from notifbot.store.db import connect


def test_every_request_type_runs_on_the_console_shaped_fill(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    retention.fill(path, 12_000, 30.0, console.console_shape())
    conn = connect(path)
    try:
        console.acknowledge(conn)
        middle = int(conn.execute("SELECT max(id) FROM events").fetchone()[0]) // 2
        figures = {}
        for backlog in (False, True):  # as bench/console.py runs them: the pending requests after the outage
            if backlog:
                console.outage(conn)
            group = [r for r in console.REQUESTS if r.after_backlog == backlog]
            figures.update(console.store_timings(conn, group, middle, 2))
        assert sorted(figures) == sorted(r.label for r in console.REQUESTS)
        rows = {label: f["rows"] for label, f in figures.items()}
        assert rows["first page"] == rows["kind=audit (common)"] == console.PAGE
        assert (
            rows["kind=linkedin (rare), first page"] == 3 and rows["status=dead"] == 6
        )  # every 5,000th, 2,000th
        assert (
            rows["q=rare string (one window)"] == 0
            and figures["q=rare string (one window)"]["stopped"] is False
        )
        assert rows["status=pending (100,000 pending)"] == console.PAGE
        pending = int(conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])
        assert pending == 12_000 - int(
            conn.execute("SELECT count(*) FROM outbox WHERE status = 'dead'").fetchone()[0]
        )
        page = recent_page(conn, Filters(instance=console.RARE_INSTANCE), None, None, 50)
        assert [r.instance for r in page.rows] == [console.RARE_INSTANCE] * 2
        assert {r.kind for r in recent_page(conn, Filters(), None, None, 50).rows} >= {
            "audit",
            "campaign_failure",
        }
    finally:
        conn.close()


def test_requests_become_console_query_strings() -> None:
    by_label = {r.label: r for r in console.REQUESTS}
    assert console.query_string(by_label["keyset page, middle"], 500) == "before=500"
    assert console.query_string(by_label["q=rare string (one window)"], 500) == "q=no+such+text+anywhere"
    assert console.query_string(by_label["status=dead"], 500) == "status=dead"

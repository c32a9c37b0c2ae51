"""The readiness probe: one commit per cache period, a bounded answer while a commit hangs, reasons from real errors."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from notifbot.store.conn import Conn
from notifbot.store.db import connect
from notifbot.store.health import WriteProbe, check_and_commit, describe_failure, free_space_problem


class Probe:
    """A probe body that counts its runs and finishes when the test says so."""

    def __init__(self, answer: str | None = None) -> None:
        self.runs = 0
        self.answer = answer
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> str | None:
        self.runs += 1
        await self.release.wait()
        return self.answer


async def test_results_are_reused_for_the_cache_period() -> None:
    now = [100.0]
    body = Probe("disk full")
    probe = WriteProbe(body, timeout=2.0, cache=1.0, clock=lambda: now[0])
    assert await probe.problem() == "disk full"
    now[0] += 0.9
    assert await probe.problem() == "disk full"
    assert body.runs == 1
    body.answer = None
    now[0] += 0.2
    assert await probe.problem() is None
    assert body.runs == 2


async def test_a_hung_commit_is_reported_within_the_bound_and_not_repeated() -> None:
    body = Probe()
    body.release.clear()
    probe = WriteProbe(body, timeout=0.3, cache=1.0)
    started = time.monotonic()
    reasons = await asyncio.gather(probe.problem(), probe.problem())  # concurrent callers share one probe
    assert time.monotonic() - started < 1.0
    assert all(r is not None and "has not finished" in r for r in reasons)
    started = time.monotonic()
    again = await probe.problem()  # already stuck longer than the bound: answered at once
    assert again is not None and "has not finished" in again
    assert time.monotonic() - started < 0.1
    assert body.runs == 1
    body.release.set()
    await asyncio.sleep(0.01)
    assert await probe.problem() is None  # the stuck commit finished: its result counts
    assert body.runs == 1


async def test_a_broken_store_is_a_reason_not_an_exception() -> None:
    async def closed() -> str | None:
        raise RuntimeError("cannot schedule new futures after shutdown")

    reason = await WriteProbe(closed).problem()
    assert reason is not None and "cannot be used" in reason and "RuntimeError" in reason


def test_a_full_database_is_reported_as_disk_full(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    conn = connect(db)
    conn.execute(f"PRAGMA max_page_count={conn.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(
        sqlite3.OperationalError
    ) as full:  # SQLite's own SQLITE_FULL: no page left to grow into
        conn.executemany("INSERT INTO readiness_probe (at) VALUES (?)", [(i + 0.5,) for i in range(2000)])
    assert full.value.sqlite_errorname == "SQLITE_FULL"
    assert describe_failure(full.value, str(db)).startswith(f"disk full: a commit to {db} failed")


def test_probe_reports_a_read_only_connection(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    connect(db).close()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    reason = check_and_commit(conn, ":memory:", 0, None, 1.0)  # no file checks: only the commit can tell
    assert reason is not None and "is read-only" in reason
    assert not conn.in_transaction


def test_free_space_below_the_minimum_is_named(tmp_path: Path) -> None:
    assert free_space_problem(str(tmp_path / "n.db"), 0) is None
    reason = free_space_problem(str(tmp_path / "n.db"), 1 << 60)
    assert reason is not None and reason.startswith("disk full: ") and "storage.min_free_bytes" in reason


def test_the_probe_commits_on_each_backend(store_conn: Conn) -> None:
    assert check_and_commit(store_conn, ":memory:", 0, None, 1.0) is None
    assert check_and_commit(store_conn, ":memory:", 0, None, 2.0) is None  # the one probe row, updated
    assert [tuple(r) for r in store_conn.execute("SELECT id, at FROM readiness_probe")] == [(1, 2.0)]
    assert not store_conn.in_transaction


def test_a_failed_probe_commit_on_postgres_is_a_reason(pg_store_url: str) -> None:
    from notifbot.store import pg

    conn = pg.connect(pg_store_url)
    try:
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        reason = check_and_commit(conn, ":memory:", 0, None, 1.0)  # no file checks: only the commit can tell
        assert reason is not None and reason.startswith(
            "a commit to :memory: failed (ReadOnlySqlTransaction: "
        )
        assert "read-only transaction" in reason
        assert not conn.in_transaction  # rolled back: the connection is usable
        assert conn.execute("SELECT 1").fetchone()[0] == 1
    finally:
        conn.close()

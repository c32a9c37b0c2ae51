"""The WAL stays bounded under sustained writes through the real store, and a leftover WAL is cut at start-up."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from notifbot.sources.events import parse_event
from notifbot.store.batch import IngestBatcher
from notifbot.store.events import Target
from notifbot.store.runner import Database

NOW = datetime(2026, 11, 29, tzinfo=UTC)
T = Target("ops", "slack", "C1")
MIB = 1024 * 1024


def wal_size(db: Path) -> int:
    try:
        return os.stat(f"{db}-wal").st_size
    except FileNotFoundError:
        return 0


async def sustained_ingest(
    db: Database, path: Path, events: int, senders: int = 64
) -> tuple[int, list[float]]:
    """`events` distinct events from `senders` concurrent submitters (group commit, as the HTTP path does);
    returns the largest WAL file seen (sampled every 5 ms on another thread) and each submit's latency."""
    batcher = IngestBatcher(db)
    notes = [
        parse_event(
            {"kind": "campaign_failure", "id": f"w{i}", "fields": {"campaign_name": f"Q{i}"}}, now=NOW
        )
        for i in range(events)
    ]
    largest = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal largest
        while not done.wait(0.005):
            largest = max(largest, wal_size(path))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    latencies: list[float] = []

    async def sender(first: int) -> None:
        for i in range(first, events, senders):
            started = time.perf_counter()
            await batcher.submit([(notes[i], [T])])
            latencies.append(time.perf_counter() - started)

    try:
        await asyncio.gather(*(sender(k) for k in range(senders)))
    finally:
        done.set()
        sampler.join()
    return max(largest, wal_size(path)), latencies


async def test_wal_stays_under_its_bound_during_sustained_writes(tmp_path: Path) -> None:
    # Unbounded (PASSIVE checkpoints only), 30,000 events leave a WAL of about 45 MiB on this machine.
    path = tmp_path / "n.db"
    db = Database(path, wal_max_bytes=16 * MIB)
    try:
        largest, latencies = await sustained_ingest(db, path, 30_000)
        stored = await db.read(lambda c: c.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        db.close()
    assert stored == 30_000
    assert largest <= 16 * MIB, f"WAL reached {largest / MIB:.1f} MiB"
    assert db.wal is not None and db.wal.restarts >= 3  # rewound on purpose, not by a lucky idle moment
    assert sorted(latencies)[int(len(latencies) * 0.99)] < 1.0  # no commit waited on a long checkpoint


async def test_a_long_reader_delays_the_rewind_but_never_stalls_commits(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    db = Database(path, wal_max_bytes=16 * MIB)  # rewound past 8 MiB
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM events").fetchone()  # holds a snapshot: no RESTART can finish
        _, latencies = await sustained_ingest(db, path, 12_000)
        reader.execute("COMMIT")
        held = wal_size(path)
        await db.call(lambda c: c.execute("CREATE TABLE filler (x)"))
        deadline = time.monotonic() + 10
        while wal_size(path) > 8 * MIB and time.monotonic() < deadline:  # the next commits rewind and cut it
            await db.call(lambda c: c.execute("INSERT INTO filler VALUES (1)"))
            await asyncio.sleep(0.05)
        final = wal_size(path)  # before close: closing the last connection deletes the WAL
    finally:
        reader.close()
        db.close()
    assert held > 8 * MIB  # the reader really held the WAL past the restart point
    assert sorted(latencies)[int(len(latencies) * 0.99)] < 1.0  # RESTART gave up on the reader quickly
    assert final <= 8 * MIB


def test_a_leftover_wal_is_checkpointed_and_truncated_at_start(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    Database(path).close()  # the schema
    leave_wal = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA wal_autocheckpoint=0')\n"
        "c.execute('CREATE TABLE filler (x)')\n"
        "c.execute('BEGIN')\n"
        "for i in range(3000):\n"
        "    c.execute('INSERT INTO filler VALUES (randomblob(3000))')\n"
        "c.execute('COMMIT')\n"
        "os._exit(0)  # as a crash would: the WAL stays behind\n"
    )
    subprocess.run([sys.executable, "-c", leave_wal, str(path)], check=True)
    assert wal_size(path) > 8 * MIB
    db = Database(path, wal_max_bytes=16 * MIB)
    try:
        assert wal_size(path) == 0
        rows = db.call_sync(lambda c: c.execute("SELECT count(*) FROM filler").fetchone()[0])
    finally:
        db.close()
    assert rows == 3000

"""Retention at scale: fills a SQLite store with N events (default 1,000,000), then prunes it to the window while
ingest goes on, and reports the time, ingest latency, database size and `/marketo recent` latency before and after.

The generator: N events spread evenly over the last `--span-days` days (default 180, so with the default 90-day
window about half go), each with one outbox row, delivered except one in 1,000 still pending (kept whatever its
age); one kind in four is `campaign_failure`, the rest `audit`. Rows are copied from one real stored event (same
columns and JSON as `store/events.py` writes) and inserted with executemany, 50,000 per transaction, with
synchronous=OFF during the fill only.

The prune: the bot's own background component (`store/pruner.Pruner.run_once`, batches of `--batch` on the
writer thread, then incremental vacuum) on the bot's `Database`, while `--rate` events/s (default 200) are submitted
one by one through the bot's ingest batcher (group commit, synchronous=FULL); each submit's latency is recorded.

    PYTHONPATH=src .venv/bin/python bench/retention.py                      # 1,000,000 events
    PYTHONPATH=src .venv/bin/python bench/retention.py --events 100000 --keep
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from notifbot.commands.queries import recent
from notifbot.sources.events import parse_event
from notifbot.store.batch import IngestBatcher
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications
from notifbot.store.pruner import Pruner
from notifbot.store.retention import Windows
from notifbot.store.runner import Database

TARGET = Target("ops", "slack", "C1")
CHUNK = 50_000
MIB = 1024 * 1024
WARM_UP_SECONDS = 3.0
P99_TARGET_MS = 50.0  # issue #14's acceptance: ingest p99 while pruning


def _template() -> dict[str, Any]:
    """One event row as the store writes it (all columns but id)."""
    conn = connect(":memory:")
    n = parse_event(
        {
            "kind": "audit",
            "id": "t",
            "summary": "Smart campaign changed by an admin",
            "fields": {"user": "a@b.c"},
        },
        now=datetime.now(UTC),
    )
    insert_notifications(conn, [(n, [TARGET])])
    row = dict(conn.execute("SELECT * FROM events").fetchone())
    conn.close()
    del row["id"]
    return row


def fill(path: Path, events: int, span_days: float) -> float:
    """Writes `events` events (oldest first) with their outbox rows; returns the seconds it took."""
    started = time.perf_counter()
    conn = connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    row = _template()
    columns = list(row)
    marks = ",".join("?" * len(columns))
    now = datetime.now(UTC)
    step = timedelta(days=span_days) / max(events, 1)
    first = now - timedelta(days=span_days)
    next_id = 1 + int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
    for start in range(0, events, CHUNK):
        batch, outbox = [], []
        for i in range(start, min(start + CHUNK, events)):
            at = (first + step * i).isoformat()
            row.update(
                key=f"bench-{i}",
                received_at=at,
                occurred_at=at,
                kind="campaign_failure" if i % 4 == 0 else "audit",
            )
            batch.append(tuple(row[c] for c in columns))
            ts = (first + step * i).timestamp()
            status = "pending" if i % 1000 == 999 else "delivered"
            outbox.append((next_id + i - start, status, ts, ts, ts if status == "delivered" else None))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT INTO events (id, {', '.join(columns)}) VALUES (?, {marks})",
            [(next_id + j, *r) for j, r in enumerate(batch)],
        )
        conn.executemany(
            "INSERT INTO outbox (event_id, destination, dest_type, target, status, next_attempt_at, created_at,"
            " delivered_at) VALUES (?, 'ops', 'slack', 'C1', ?, ?, ?, ?)",
            outbox,
        )
        conn.execute("COMMIT")
        next_id += len(batch)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def size(path: Path) -> int:
    """The database file plus its WAL."""
    return sum(os.stat(p).st_size for p in (str(path), f"{path}-wal") if os.path.exists(p))


def recent_ms(path: Path, runs: int = 20) -> dict[str, float]:
    """Median milliseconds of the `/marketo recent` query (newest 10, all kinds and one kind) on a fresh reader."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    out = {}
    try:
        for label, kind in (("all", None), ("campaign_failure", "campaign_failure")):
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                recent(conn, kind, 10)
                times.append((time.perf_counter() - t) * 1000)
            out[label] = round(statistics.median(times), 2)
    finally:
        conn.close()
    return out


async def prune_under_ingest(path: Path, windows: Windows, rate: float) -> dict[str, Any]:
    """Runs one pruning pass of the bot's component while `rate` events/s are ingested; latencies and counts."""
    db = Database(path)
    batcher = IngestBatcher(db)
    pruner = Pruner(db, windows, every=3600)
    timed: list[tuple[float, float]] = []  # (submitted at, seconds to commit)
    done = asyncio.Event()

    async def one(i: int) -> None:
        n = parse_event({"kind": "audit", "id": f"live-{i}"}, now=datetime.now(UTC))
        t = time.perf_counter()
        await batcher.submit([(n, [TARGET])])
        timed.append((t, time.perf_counter() - t))

    async def ingest() -> None:
        tasks, i, start = [], 0, time.perf_counter()
        while not done.is_set():
            tasks.append(asyncio.create_task(one(i)))  # open loop: a slow commit does not slow the arrivals
            i += 1
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        await asyncio.gather(*tasks)

    feeder = asyncio.create_task(ingest())
    await asyncio.sleep(
        WARM_UP_SECONDS
    )  # ingest at its pace, and the first commits on a cold cache, before the run
    started = time.perf_counter()
    pruned = await pruner.run_once()
    ended = time.perf_counter()
    await asyncio.sleep(1.0)
    done.set()
    await feeder
    db.close()
    during = sorted(s for t, s in timed if started <= t <= ended) or [0.0]
    return {
        "prune_seconds": round(ended - started, 1),
        "pruned": pruned,
        "ingested_during_prune": len(during),
        "ingest_p50_ms": round(during[len(during) // 2] * 1000, 1),
        "ingest_p99_ms": round(during[int(len(during) * 0.99)] * 1000, 1),
        "ingest_max_ms": round(during[-1] * 1000, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--span-days", type=float, default=180.0, help="events spread over this many days back")
    p.add_argument("--days", type=float, default=90.0, help="the retention window (storage.retention.days)")
    p.add_argument("--batch", type=int, default=200, help="storage.retention.batch")
    p.add_argument("--rate", type=float, default=200.0, help="events/s ingested during the prune")
    p.add_argument("--keep", action="store_true", help="keep the database (its path is printed)")
    p.add_argument("--out", type=Path, help="also write the figures here as JSON")
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="notifbot-retention-"))
    path = folder / "notifbot.db"
    report: dict[str, Any] = {"events": args.events, "span_days": args.span_days, "window_days": args.days}
    report["fill_seconds"] = round(fill(path, args.events, args.span_days), 1)
    report["size_before_mib"] = round(size(path) / MIB, 1)
    report["recent_before_ms"] = recent_ms(path)
    print(json.dumps(report), flush=True)
    windows = Windows(days=args.days, batch=args.batch)
    report.update(asyncio.run(prune_under_ingest(path, windows, args.rate)))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    report["events_after"] = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    conn.close()
    report["size_after_mib"] = round(size(path) / MIB, 1)
    report["recent_after_ms"] = recent_ms(path)
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    target = report["ingest_p99_ms"] <= P99_TARGET_MS if report["pruned"] else True
    print(f"ingest p99 during the prune: {report['ingest_p99_ms']} ms (target {P99_TARGET_MS:g} ms)")
    if args.keep:
        print(f"kept {path}")
    else:
        for name in os.listdir(folder):
            os.unlink(folder / name)
        os.rmdir(folder)
    if not target:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""Retention at scale: fills a store with N events (default 1,000,000) on SQLite, PostgreSQL or both side by side,
then prunes it to the window while ingest goes on, and reports the time, ingest latency, database size and
`/marketo recent` latency before and after.

The generator: N events spread evenly over the last `--span-days` days (default 180, so with the default 90-day
window about half go), each with one outbox row, delivered except one in 1,000 still pending (kept whatever its
age); one kind in four is `campaign_failure`, the rest `audit`. Rows are copied from one real stored event (same
columns and JSON as `store/events.py` writes). SQLite: executemany, 50,000 per transaction, synchronous=OFF during
the fill only. PostgreSQL: COPY FROM STDIN of the same rows (bench/retention_pg.py says how, and what its sizes mean).

The prune: the bot's own background component (`store/pruner.Pruner.run_once`, batches of `--batch`, then the
backend's space step) on the bot's `Database` or `PgDatabase` (4 pooled connections, storage.pool_size's default),
while `--rate` events/s (default 200) are submitted one by one through the bot's ingest batcher (group commit;
SQLite synchronous=FULL, PostgreSQL synchronous_commit on); each submit's latency is recorded.

`--backend` defaults to both when a PostgreSQL server answers at `--pg-url` (NOTIFBOT_BENCH_POSTGRES_URL, else
postgresql://postgres@127.0.0.1:5432/postgres; a database is created there and dropped after), else to SQLite
with a line saying why PostgreSQL was skipped.

    PYTHONPATH=src .venv/bin/python bench/retention.py                      # 1,000,000 events, both backends
    PYTHONPATH=src .venv/bin/python bench/retention.py --events 100000 --backend sqlite --keep
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import retention_pg  # noqa: E402
from notifbot.commands.queries import recent  # noqa: E402
from notifbot.sources.events import parse_event  # noqa: E402
from notifbot.store.batch import IngestBatcher  # noqa: E402
from notifbot.store.conn import Conn  # noqa: E402
from notifbot.store.db import connect  # noqa: E402
from notifbot.store.events import Target  # noqa: E402
from notifbot.store.pg_url import redacted  # noqa: E402
from notifbot.store.pruner import Pruner  # noqa: E402
from notifbot.store.retention import Windows  # noqa: E402
from notifbot.store.runner import Database  # noqa: E402

TARGET = Target("ops", "slack", "C1")
CHUNK = 50_000
MIB = 1024 * 1024
WARM_UP_SECONDS = 3.0
P99_TARGET_MS = 50.0  # issue #14's acceptance: ingest p99 while pruning
BACKENDS = ("sqlite", "postgresql")


def fill(
    path: Path, events: int, span_days: float, shape: retention_pg.Shape = retention_pg.retention_shape
) -> float:
    """Writes `events` events (oldest first) with their outbox rows; returns the seconds it took."""
    started = time.perf_counter()
    conn = connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    memory = connect(":memory:")
    row = retention_pg.template_row(memory, TARGET)
    memory.close()
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
            row.update(key=f"bench-{i}", received_at=at, occurred_at=at)
            status = shape(i, row)
            batch.append(tuple(row[c] for c in columns))
            ts = (first + step * i).timestamp()
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


def recent_ms(conn: Conn, runs: int = 20) -> dict[str, float]:
    """Median milliseconds of the `/marketo recent` query (newest 10, all kinds and one kind) on `conn`, then closes it."""
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


def sqlite_reader(path: Path) -> sqlite3.Connection:
    """A fresh reader, as the bot's command handlers get."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


async def prune_under_ingest(db: Any, windows: Windows, rate: float) -> dict[str, Any]:
    """Runs one pruning pass of the bot's component on `db` (closed after) while `rate` events/s are ingested."""
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


def run_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    """The measurement on a fresh SQLite file (kept with --keep)."""
    folder = Path(tempfile.mkdtemp(prefix="notifbot-retention-"))
    path = folder / "notifbot.db"
    report: dict[str, Any] = {"backend": "sqlite"}
    report["fill_seconds"] = round(fill(path, args.events, args.span_days), 1)
    report["size_before_mib"] = round(size(path) / MIB, 1)
    report["recent_before_ms"] = recent_ms(sqlite_reader(path))
    print(json.dumps(report), flush=True)
    windows = Windows(days=args.days, batch=args.batch)
    report.update(asyncio.run(prune_under_ingest(Database(path), windows, args.rate)))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    report["events_after"] = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    conn.close()
    report["size_after_mib"] = round(size(path) / MIB, 1)
    report["recent_after_ms"] = recent_ms(sqlite_reader(path))
    if args.keep:
        print(f"kept {path}")
    else:
        for name in os.listdir(folder):
            os.unlink(folder / name)
        os.rmdir(folder)
    return report


def run_postgresql(args: argparse.Namespace) -> dict[str, Any]:
    """The measurement on a fresh PostgreSQL database at --pg-url's server (dropped after, even with --keep)."""
    from notifbot.store.pg import connect as pg_connect
    from notifbot.store.pg_runner import PgDatabase

    report: dict[str, Any] = {"backend": "postgresql", "server": redacted(args.pg_url)}
    with retention_pg.database(args.pg_url) as url:
        report["fill_seconds"] = round(retention_pg.fill(url, args.events, args.span_days, TARGET), 1)
        report["sizes_before"] = retention_pg.sizes(url)
        report["size_before_mib"] = report["sizes_before"]["database_mib"]
        report["recent_before_ms"] = recent_ms(pg_connect(url))
        print(json.dumps(report), flush=True)
        windows = Windows(days=args.days, batch=args.batch)
        report.update(asyncio.run(prune_under_ingest(PgDatabase(url, pool_size=4), windows, args.rate)))
        report["sizes_after_prune"] = retention_pg.sizes(url)
        conn = pg_connect(url)
        report["events_after"] = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        conn.close()
        report["sizes_after_vacuum"] = retention_pg.vacuum_pruned(url)
        report["size_after_mib"] = report["sizes_after_vacuum"]["database_mib"]
        report["recent_after_ms"] = recent_ms(pg_connect(url))
    return report


def choose(args: argparse.Namespace) -> list[str]:
    """The backends to run: --backend, or both when a PostgreSQL server answers (else SQLite, saying why)."""
    wanted = [args.backend] if args.backend in BACKENDS else list(BACKENDS)
    if "postgresql" not in wanted:
        return wanted
    try:
        version = retention_pg.check_postgres(args.pg_url)
    except RuntimeError as exc:
        if args.backend is not None:
            raise SystemExit(f"--backend {args.backend}: {exc}") from None
        print(f"PostgreSQL skipped: {exc}; running SQLite only", flush=True)
        return ["sqlite"]
    print(f"PostgreSQL {version} at {redacted(args.pg_url)}", flush=True)
    return wanted


def summary(reports: list[dict[str, Any]]) -> list[str]:
    """The figures side by side, one line per measure."""
    lines = []
    for r in reports:
        b = r["backend"]
        pruned = r["pruned"]
        lines += [
            f"{b}: fill {r['fill_seconds']} s, {r['size_before_mib']} MiB; recent {r['recent_before_ms']} ms",
            f"{b}: pruned {pruned.get('events', 0):,} events + {pruned.get('outbox', 0):,} outbox rows in "
            f"{r['prune_seconds']} s; ingest during it ({r['ingested_during_prune']:,}) p50 {r['ingest_p50_ms']} "
            f"ms, p99 {r['ingest_p99_ms']} ms (target {P99_TARGET_MS:g} ms), max {r['ingest_max_ms']} ms",
            f"{b}: after {r['events_after']:,} events, {r['size_after_mib']} MiB; recent {r['recent_after_ms']} ms",
        ]
        if b == "postgresql":
            lines.append(
                f"{b}: events+outbox {r['sizes_before']['events_outbox_mib']} MiB before, "
                f"{r['sizes_after_prune']['events_outbox_mib']} after the prune, "
                f"{r['sizes_after_vacuum']['events_outbox_mib']} after VACUUM, of which "
                f"{r['sizes_after_vacuum'].get('free_after_vacuum_mib', '?')} MiB free for new rows (heaps)"
            )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--span-days", type=float, default=180.0, help="events spread over this many days back")
    p.add_argument("--days", type=float, default=90.0, help="the retention window (storage.retention.days)")
    p.add_argument("--batch", type=int, default=200, help="storage.retention.batch")
    p.add_argument("--rate", type=float, default=200.0, help="events/s ingested during the prune")
    p.add_argument(
        "--backend",
        choices=[*BACKENDS, "both"],
        help="default: both when a PostgreSQL server answers at --pg-url, else sqlite",
    )
    p.add_argument(
        "--pg-url",
        default=retention_pg.admin_url(),
        help=f"PostgreSQL server (a database is created there and dropped after; default ${retention_pg.URL_ENV} "
        f"or {retention_pg.DEFAULT_ADMIN_URL})",
    )
    p.add_argument("--keep", action="store_true", help="keep the SQLite database (its path is printed)")
    p.add_argument("--out", type=Path, help="also write the figures here as JSON")
    args = p.parse_args()
    common = {
        "events": args.events,
        "span_days": args.span_days,
        "window_days": args.days,
        "batch": args.batch,
    }
    reports = []
    for backend in choose(args):
        report = (run_sqlite if backend == "sqlite" else run_postgresql)(args)
        reports.append(report)
        print(json.dumps(report, indent=2), flush=True)
    result = {**common, **{r["backend"]: r for r in reports}}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n".join(summary(reports)))
    missed = [r["backend"] for r in reports if r["pruned"] and r["ingest_p99_ms"] > P99_TARGET_MS]
    if missed:
        print(f"ingest p99 during the prune over {P99_TARGET_MS:g} ms on: {', '.join(missed)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()

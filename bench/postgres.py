"""`make bench` part `postgres`: ingest on SQLite, PostgreSQL and two PostgreSQL replicas side by side in one run.

Three configurations, each on a fresh database (a PostgreSQL one is created and dropped here) with fresh
`notifbot serve` processes per load: SQLite with one server, PostgreSQL with one, PostgreSQL with two on the same
database. Each gets the closed loop of the `throughput` part (same generator, same connection count) and the open
loop of the `latency` part (200 events/s); every accepted event must then be in `events` exactly once.
See bench/README.md, part 11.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import ingest, loadgen, pg_admin
from notifbot.store.pg_url import redacted

URL_ENV = "NOTIFBOT_BENCH_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "notifbot_bench_"
SANITY_RATIO = 0.25  # PostgreSQL with one replica vs SQLite, closed loop: flagged below, never failed
CONNECT_TIMEOUT = 5


@dataclass(frozen=True)
class Config:
    """One column of the comparison: a backend and how many `notifbot serve` processes share its database."""

    backend: str  # "sqlite" or "postgresql"
    replicas: int

    @property
    def key(self) -> str:
        return f"{self.backend}_{self.replicas}"

    @property
    def label(self) -> str:
        return f"{'SQLite' if self.backend == 'sqlite' else 'PostgreSQL'}, {self.replicas} replica" + (
            "s" if self.replicas > 1 else ""
        )


CONFIGS = (Config("sqlite", 1), Config("postgresql", 1), Config("postgresql", 2))


def admin_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_ADMIN_URL


@contextlib.contextmanager
def fresh_database(admin: str) -> Iterator[str]:
    """A new empty PostgreSQL database (its URL), dropped on exit even with connections still open to it."""
    with pg_admin.fresh_database(admin, DB_PREFIX, CONNECT_TIMEOUT) as url:
        yield url


def check_postgres(admin: str) -> str:
    """The server's version string, or RuntimeError saying how to make the part run."""
    try:
        import psycopg
    except ImportError as exc:
        raise RuntimeError("the psycopg driver is missing: run `make .venv/.installed`") from exc
    try:
        with psycopg.connect(admin, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RuntimeError(
            f"no PostgreSQL at {redacted(admin)} ({why}): start one or pass --pg-url (or set {URL_ENV})"
        ) from exc
    return str(row[0]) if row else "?"


@dataclass
class Store:
    """Where one configuration keeps its events, and read-only counts of them for the checks."""

    backend: str
    location: str  # the SQLite file, or the PostgreSQL URL

    def storage(self) -> dict[str, Any]:
        return {"path": self.location} if self.backend == "sqlite" else {}

    def env(self) -> dict[str, str]:
        return {"NOTIFBOT_DATABASE_URL": self.location} if self.backend == "postgresql" else {}

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self.backend == "sqlite":
            conn = sqlite3.connect(f"file:{self.location}?mode=ro", uri=True, timeout=30)
            try:
                return list(conn.execute(sql, params).fetchall())
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.location, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as pg:
            return list(pg.execute(sql.replace("?", "%s"), params).fetchall())

    def counts(self, prefix: str) -> tuple[int, int]:
        """(rows, distinct keys) of the events whose key starts with `prefix-`."""
        rows = self._rows(
            "SELECT count(*), count(DISTINCT key) FROM events WHERE key LIKE ?", (f"{prefix}-%",)
        )
        return int(rows[0][0]), int(rows[0][1])

    def outbox(self) -> dict[str, int]:
        return {
            str(s): int(n) for s, n in self._rows("SELECT status, count(*) FROM outbox GROUP BY status", ())
        }

    def has_events_table(self) -> bool:
        return bool(self._rows("SELECT to_regclass('events') IS NOT NULL", ())[0][0])

    def backend_pids(self) -> list[int]:
        """The PostgreSQL server processes serving this database (the replicas' pool connections)."""
        if self.backend != "postgresql":
            return []
        sql = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [int(r[0]) for r in self._rows(sql, ())]

    def settled(self, prefix: str, timeout: float = 15.0) -> tuple[int, int]:
        """The counts once they stop changing (requests in flight when the generator stopped still land)."""
        deadline = time.monotonic() + timeout
        last, stable = (-1, -1), 0
        while time.monotonic() < deadline:
            now = self.counts(prefix)
            stable = stable + 1 if now == last else 0
            if stable >= 3:
                break
            last = now
            time.sleep(0.2)
        return last


@contextlib.contextmanager
def store_for(config: Config, d: Path, admin: str) -> Iterator[Store]:
    """A fresh store: a new SQLite file, or a PostgreSQL database created now and dropped after."""
    d.mkdir(parents=True, exist_ok=True)
    if config.backend == "sqlite":
        yield Store("sqlite", str(d / "notifbot.db"))
        return
    with fresh_database(admin) as url:
        yield Store("postgresql", url)


def bot_config(store: Store) -> dict[str, Any]:
    """As the throughput part, but delivering to the console (stdout is discarded), so delivery costs little."""
    return {
        "storage": store.storage(),
        "slack": {"interactive": False},
        "destinations": {"out": {"type": "console"}},
        "routes": [{"to": "out"}],
    }


@contextlib.contextmanager
def servers(config: Config, d: Path, store: Store, pin: bool) -> Iterator[list[ingest.Server]]:
    """`replicas` notifbot servers on one store, started one after another (the first migrates), all on CPU 0."""
    started: list[ingest.Server] = []
    try:
        for i in range(config.replicas):
            name = f"{config.key}-r{i}"
            cpu = ingest.SERVER_CPU if pin else None
            bot = ingest.notifbot_server(name, d, bot_config(store), cpu=cpu, env=store.env())
            started.append(bot)
            bot.start(timeout=60)
        if store.backend == "postgresql" and not store.has_events_table():
            raise RuntimeError(
                "notifbot serve ignored NOTIFBOT_DATABASE_URL: no events table in the database"
            )
        yield started
    finally:
        for bot in started:
            bot.stop()


def cpu_shares(meters: dict[str, loadgen.CpuMeter]) -> dict[str, float]:
    """Each process's CPU over the window as a share of one core (1.0 = one core busy), and their total."""
    each = {name: m.shares().get("total", 0.0) for name, m in meters.items()}
    return each | {"total": round(sum(each.values()), 3)}


def merge(results: list[loadgen.LoadResult]) -> loadgen.LoadResult:
    """One result for generators run side by side: counts added, the duration and each percentile the worst."""
    added = ("sent", "completed", "ok", "non_2xx", "errors")
    worst = ("duration_s", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms")
    fields: dict[str, Any] = {f: sum(getattr(r, f) for r in results) for f in added}
    fields |= {f: max(getattr(r, f) for r in results) for f in worst}
    return replace(results[0], **fields, status_counts={}) if len(results) > 1 else results[0]


def closed_loop(
    generator: str, urls: list[str], *, duration: float, connections: int, prefix: str, pin: bool
) -> tuple[loadgen.LoadResult, list[loadgen.LoadResult]]:
    """The throughput part's closed loop, its connections split evenly over the replicas (each connection stays
    on one replica): one wrk (or aiohttp client) per replica, all at once; returns the merged and each result."""
    share = [connections // len(urls) + (1 if i < connections % len(urls) else 0) for i in range(len(urls))]
    prefixes = [prefix if len(urls) == 1 else f"{prefix}-r{i}" for i in range(len(urls))]
    if generator == "wrk":
        with ThreadPoolExecutor(len(urls)) as pool:
            futures = [
                pool.submit(
                    ingest.closed_loop, generator, u, duration=duration, connections=c, prefix=p, pin=pin
                )
                for u, c, p in zip(urls, share, prefixes, strict=True)
            ]
            parts = [f.result() for f in futures]
    else:

        async def together() -> list[loadgen.LoadResult]:
            runs = (
                loadgen._closed_loop(u, duration, c, p) for u, c, p in zip(urls, share, prefixes, strict=True)
            )
            return list(await asyncio.gather(*runs))

        loop = loadgen._new_loop()
        try:
            parts = loop.run_until_complete(together())
        finally:
            loop.close()
    return merge(parts), parts


async def _open_loop_rr(
    urls: list[str], rate: float, duration: float, prefix: str, warmup: float
) -> loadgen.LoadResult:
    """The latency part's open loop (`loadgen._open_loop`), request i sent to replica i mod n (round robin per
    request). Warm-up requests carry `PREFIXw` ids, so the loss check counts the measured ones only."""
    import aiohttp

    latencies: list[float] = []
    by_replica: list[list[float]] = [[] for _ in urls]
    statuses: dict[str, int] = {}
    errors = 0
    warm_n = int(rate * warmup)
    total = warm_n + int(rate * duration)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000), timeout=timeout) as session:

        async def one(i: int, scheduled: float) -> None:
            nonlocal errors
            measured = i >= warm_n
            body = loadgen.event_body(prefix if measured else f"{prefix}w", 0, i)
            try:
                async with session.post(urls[i % len(urls)], data=body, headers=loadgen.HEADERS) as resp:
                    await resp.read()
                    status = str(resp.status)
            except (aiohttp.ClientError, TimeoutError):
                if measured:
                    errors += 1
                return
            if measured:
                ms = (time.perf_counter() - scheduled) * 1000.0
                latencies.append(ms)
                by_replica[i % len(urls)].append(ms)
                statuses[status] = statuses.get(status, 0) + 1

        await loadgen.open_loop(total, rate, one)
    result = loadgen._summarise(
        "python-aiohttp open-loop", duration, total - warm_n, latencies, statuses, errors
    )
    for i, values in enumerate(by_replica):
        values.sort()
        result.extra[f"replica{i}_p99_ms"] = loadgen.percentile(values, 99)
    return result


def open_loop(urls: list[str], *, rate: float, duration: float, prefix: str) -> loadgen.LoadResult:
    """`rate` events/s for `duration` s after a 1 s warm-up, round robin over `urls`."""
    loop = loadgen._new_loop()
    try:
        return loop.run_until_complete(_open_loop_rr(urls, rate, duration, prefix, 1.0))
    finally:
        loop.close()


def loss_check(result: loadgen.LoadResult, rows: int, distinct: int, in_flight: int) -> dict[str, Any]:
    """Every acknowledged event stored exactly once. A generator that stops with requests in flight (wrk, or a
    client timeout) may leave up to `in_flight` events stored whose 202 it never saw: allowed, and reported."""
    lost = max(0, result.ok - distinct)
    duplicated = rows - distinct
    return {
        "stored_rows": rows,
        "stored_keys": distinct,
        "acknowledged_2xx": result.ok,
        "stored_beyond_2xx": distinct - result.ok,
        "in_flight_bound": in_flight,
        "lost": lost,
        "duplicated": duplicated,
        "pass": lost == 0 and duplicated == 0 and distinct <= result.ok + in_flight,
    }


Load = Callable[[list[str], str], tuple[loadgen.LoadResult, list[loadgen.LoadResult]]]


def _measure(
    config: Config, d: Path, admin: str, pin: bool, prefix: str, load: Load, warm: Load | None, in_flight: int
) -> dict[str, Any]:
    """One configuration under one load: fresh store, fresh servers, warm-up, the load, the exactly-once check."""
    with store_for(config, d, admin) as store, servers(config, d, store, pin) as bots:
        urls = [f"{b.url}/hooks/events" for b in bots]
        with contextlib.ExitStack() as rss:
            samplers = [rss.enter_context(loadgen.RssSampler(b.pid)) for b in bots]
            if warm is not None:  # under its own prefix, so the check counts the measured events only
                warm(urls, f"warm{prefix}")
            with contextlib.ExitStack() as cpu:
                bot_cpu = {b.name: cpu.enter_context(loadgen.CpuMeter(b.pid)) for b in bots}
                pg_cpu = {f"pg{p}": cpu.enter_context(loadgen.CpuMeter(p)) for p in store.backend_pids()}
                result, parts = load(urls, prefix)
        rows, distinct = store.settled(prefix)
        return result.as_dict() | {
            "config": config.label,
            "replicas": config.replicas,
            "ports": [b.port for b in bots],
            "per_replica": [p.as_dict() for p in parts] if len(parts) > 1 else [],
            "server_cpu": cpu_shares(bot_cpu),
            # the PostgreSQL backends serving this database (pool connections), not the server's own workers
            "postgres_cpu": cpu_shares(pg_cpu) | {"backends": len(pg_cpu)} if pg_cpu else None,
            "rss_max_mib": [round(s.max_mib, 1) for s in samplers],
            "loss": loss_check(result, rows, distinct, in_flight + result.errors),
            "outbox_after": store.outbox(),
        }


def run_postgres(
    *,
    workdir: Path,
    duration: float,
    connections: int,
    rate: float,
    rate_duration: float,
    generator: str,
    pin: bool,
    admin: str | None = None,
) -> dict[str, Any]:
    """Closed loop, then fixed rate, for SQLite ×1, PostgreSQL ×1 and PostgreSQL ×2; see the module docstring."""
    admin = admin or admin_url()
    out: dict[str, Any] = {
        "postgres_server": check_postgres(admin),
        "admin_url": redacted(admin),
        "generator": generator,
        "connections": connections,
        "duration_s": duration,
        "rate": rate,
        "rate_duration_s": rate_duration,
        "cpus": os.cpu_count(),
        "pinning": pinning_note(pin),
        "closed_loop": {},
        "fixed_rate": {},
        "errors": {},
    }

    def closed(urls: list[str], prefix: str, seconds: float = duration) -> tuple[Any, list[Any]]:
        return closed_loop(generator, urls, duration=seconds, connections=connections, prefix=prefix, pin=pin)

    def warm(urls: list[str], prefix: str) -> tuple[Any, list[Any]]:
        return closed(urls, prefix, 1.0)  # the throughput part's warm-up

    def fixed(urls: list[str], prefix: str) -> tuple[loadgen.LoadResult, list[loadgen.LoadResult]]:
        return open_loop(urls, rate=rate, duration=rate_duration, prefix=prefix), []

    loads: list[tuple[str, str, Load, Load | None, int]] = [
        ("closed_loop", "tp", closed, warm, connections if generator == "wrk" else 0),
        ("fixed_rate", "fr", fixed, None, 0),  # the open loop warms up inside its schedule
    ]
    for section, tag, load, warmup, in_flight in loads:
        for config in CONFIGS:
            d = workdir / f"pg-{tag}-{config.key}"
            prefix = f"{tag}{config.key.replace('_', '')}"
            # a configuration that fails is recorded and the others still run (run.py's table shows it failed)
            try:
                e = _measure(config, d, admin, pin, prefix, load, warmup, in_flight)
            except Exception as exc:
                out["errors"][f"{section.replace('_', ' ')}, {config.label}"] = f"{type(exc).__name__}: {exc}"
                print(f"  {config.label}: did not complete: {type(exc).__name__}: {exc}", flush=True)
                continue
            out[section][config.key] = e
            print(f"  {config.label}, {section.replace('_', ' ')}: {_line(e)}", flush=True)
    closed_rates = {k: e["events_per_s"] for k, e in out["closed_loop"].items()}
    if closed_rates.get("sqlite_1") and "postgresql_1" in closed_rates:
        ratio = closed_rates["postgresql_1"] / closed_rates["sqlite_1"]
        out["sanity"] = {"pg1_to_sqlite": round(ratio, 3), "floor": SANITY_RATIO, "ok": ratio >= SANITY_RATIO}
    return out


def _line(e: dict[str, Any]) -> str:
    pg = f", PostgreSQL CPU {e['postgres_cpu']['total']}" if e["postgres_cpu"] else ""
    return (
        f"{e['events_per_s']:,.0f} events/s, p50 {e['p50_ms']:.1f} ms, p99 {e['p99_ms']:.1f} ms, "
        f"max {e['max_ms']:.1f} ms, 2xx {e['ok']}/{e['sent']}, lost {e['loss']['lost']}, "
        f"duplicated {e['loss']['duplicated']}, bot CPU {e['server_cpu']['total']}{pg}"
    )


def pinning_note(pin: bool) -> str:
    """Who shares which CPU (bench/README.md, part 11, says what that means for the figures)."""
    cpus = os.cpu_count() or 1
    if not pin:
        return f"{cpus} CPUs, nothing pinned: bots, PostgreSQL and the generator share them"
    return (
        f"{cpus} CPUs: bots on CPU {ingest.SERVER_CPU} (both replicas), generator on CPU {ingest.LOADGEN_CPU}, "
        "PostgreSQL unpinned (shares both)"
    )


def table_rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, value, target, verdict) rows for bench/run.py's summary."""
    rows: list[tuple[str, str, str, str]] = []

    def check(e: dict[str, Any]) -> str:
        ok = e["loss"]["pass"] and e["non_2xx"] == 0 and e["errors"] == 0
        return "PASS" if ok else "FAIL"

    for e in res["closed_loop"].values():
        loss = e["loss"]
        pg = f"  PG CPU {e['postgres_cpu']['total']}" if e["postgres_cpu"] else ""
        rows.append(
            (
                f"ingest closed loop ({res['connections']} conns), {e['config']}",
                f"{e['events_per_s']:,.0f} ev/s  p50 {e['p50_ms']:.1f}  p99 {e['p99_ms']:.1f} ms  "
                f"non-2xx {e['non_2xx']}  err {e['errors']}  lost {loss['lost']}  dup {loss['duplicated']}  "
                f"bot CPU {e['server_cpu']['total']}{pg}",
                "reported; 0 lost, 0 dup",
                check(e),
            )
        )
    if s := res.get("sanity"):
        rows.append(
            (
                "  PostgreSQL 1 replica vs SQLite, closed loop",
                f"{s['pg1_to_sqlite']:.0%} of SQLite's events/s",
                f">= {s['floor']:.0%} (flagged, not failed)",
                "PASS" if s["ok"] else "FLAG",
            )
        )
    for e in res["fixed_rate"].values():
        loss = e["loss"]
        rows.append(
            (
                f"ingest {res['rate']:.0f} ev/s open loop, {e['config']}",
                f"p50 {e['p50_ms']:.1f}  p95 {e['p95_ms']:.1f}  p99 {e['p99_ms']:.1f}  max {e['max_ms']:.1f} ms  "
                f"2xx {e['ok']}/{e['sent']}  lost {loss['lost']}  dup {loss['duplicated']}",
                "reported; 0 lost, 0 dup",
                check(e),
            )
        )
    for what, err in res["errors"].items():
        rows.append((f"postgres {what}: did not complete", err[:100], "", "FAIL"))
    rows.append(("  CPUs (postgres part)", res["pinning"], "", ""))
    return rows

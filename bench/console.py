"""The console's notification list at 1,000,000 events (docs/design/first-hour.md §6.3), part 1: the store.

Fills a store with N events (default 1,000,000) through bench/retention.py's fill (SQLite: executemany; PostgreSQL:
COPY, then VACUUM ANALYZE) in a console-like shape (`console_shape`): the rows of notifbot's own samples (real
widths, 200–1,300 bytes of JSON), audit the common kind, one rare kind every 5,000th event, three instances plus a
rare one, outbox rows delivered except one in 1,000 pending and one in 2,000 dead; then one event in 50 is marked
acknowledged. Then it times every request type of §6.3 (`REQUESTS`) on the store connection the bot reads with,
`--runs` times each: `commands.queries.recent_page` as the console calls it (limit 50), including building the page's
rows. The pending case runs last, after the newest 100,000 outbox rows are put back to pending (an outage).

`--windows` also times one bounded search window (a `q` that never matches, so every id is examined) for several
window sizes: what `listing.SCAN_ROWS` is chosen from (≤ 40 ms on both backends).

Part 2 (`bench/console_http.py`) makes the same requests through the real console over HTTP: `python -m notifbot
serve` on the filled store with `server.console: true`, signed in as a browser is, `--runs` GETs of each request's
`/ui/notifications?…` (`query_string`), so the template render and the HTTP stack are inside the measurement. Each
backend's requests without the backlog run at the store, then over HTTP; then the outage, then the pending case both
ways. `--parts store` or `--parts http` runs one part; `--sqlite-db`/`--pg-db` measure a store kept by an earlier
`--keep` run instead of filling a new one.

    PYTHONPATH=src .venv/bin/python bench/console.py                        # 1,000,000 events, both backends
    PYTHONPATH=src .venv/bin/python bench/console.py --events 100000 --backend sqlite --runs 50
    PYTHONPATH=src .venv/bin/python bench/console.py --backend sqlite --keep   # prints the kept file
    PYTHONPATH=src .venv/bin/python bench/console.py --sqlite-db /tmp/…/notifbot.db --backend sqlite --parts http
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import console_http, pg_admin, retention, retention_pg  # noqa: E402
from notifbot.commands.listing import SCAN_ROWS, Filters, recent_page  # noqa: E402
from notifbot.kinds import load_samples  # noqa: E402
from notifbot.sources.events import parse_event  # noqa: E402
from notifbot.store.conn import Conn  # noqa: E402
from notifbot.store.db import connect, connect_read_only  # noqa: E402
from notifbot.store.events import insert_notifications  # noqa: E402
from notifbot.store.pg_url import redacted  # noqa: E402

PAGE = 50
P99_TARGET_MS = 100.0  # §6.3: every list request
WINDOW_TARGET_MS = 40.0  # §6.2: one bounded search window
BACKLOG = 100_000  # pending rows during an outage (§6.2)
COMMON_KIND = "audit"
RARE_KIND = "linkedin"  # every RARE_EVERY-th event
RARE_EVERY = 5_000
INSTANCES = ("111-AAA-111", "222-BBB-222", "333-CCC-333")
RARE_INSTANCE = "999-ZZZ-999"  # every RARE_EVERY * 2-th event
NEVER = "no such text anywhere"  # a q that never matches: the whole window is read
# the kind mix of the rest (weights out of 20), one sample row each
MIX = {
    "audit": 9,
    "campaign_failure": 4,
    "crm_sync": 2,
    "web_services": 2,
    "engagement": 1,
    "ab_test_result": 1,
    "trigger_cleanup": 1,
}


@dataclass(frozen=True)
class Request:
    """One list request of §6.3: its filters and where its cursor sits ("" newest page, "middle" half-way)."""

    label: str
    filters: Filters
    cursor: str = ""
    after_backlog: bool = False  # measured once the pending backlog is in place

    def before(self, middle: int) -> int | None:
        return middle if self.cursor == "middle" else None


REQUESTS = (
    Request("first page", Filters()),
    Request("keyset page, middle", Filters(), "middle"),
    Request(f"kind={COMMON_KIND} (common)", Filters(kind=COMMON_KIND)),
    Request(f"kind={RARE_KIND} (rare), first page", Filters(kind=RARE_KIND)),
    Request(f"kind={RARE_KIND} (rare), middle", Filters(kind=RARE_KIND), "middle"),
    Request("status=dead", Filters(status="dead")),
    Request(f"instance={INSTANCES[0]}", Filters(instance=INSTANCES[0])),
    Request(f"instance={RARE_INSTANCE} (rare, one window)", Filters(instance=RARE_INSTANCE)),
    Request("q=rare string (one window)", Filters(q=NEVER)),
    Request("status=acknowledged (one window)", Filters(status="acknowledged")),
    Request(f"status=pending ({BACKLOG:,} pending)", Filters(status="pending"), after_backlog=True),
)


def query_string(request: Request, middle: int) -> str:
    """The request as the console's query string (`kind=…&status=…&before=…`), for the HTTP part."""
    f = request.filters
    params = {
        k: v for k, v in (("kind", f.kind), ("instance", f.instance), ("status", f.status), ("q", f.q)) if v
    }
    before = request.before(middle)
    if before is not None:
        params["before"] = str(before)
    return urlencode(params)


def sample_rows() -> dict[str, dict[str, Any]]:
    """One stored events row per kind of MIX and RARE_KIND, from notifbot's samples (all columns but id and key)."""
    samples = {str(s["kind"]): s for s in load_samples().values()}
    conn = connect(":memory:")
    now = datetime.now(UTC)
    events = [parse_event(samples[k], now=now) for k in (*MIX, RARE_KIND)]
    insert_notifications(conn, [(n, []) for n in events])
    rows = {}
    for r in conn.execute("SELECT * FROM events"):
        values = dict(zip(r.keys(), r, strict=True))
        for column in ("id", "key", "received_at", "occurred_at", "muted_by"):
            values.pop(column)
        rows[str(values["kind"])] = values
    conn.close()
    return rows


def console_shape() -> retention_pg.Shape:
    """The fill's shape for the console bench (module docstring)."""
    rows = sample_rows()
    cycle = [kind for kind, weight in MIX.items() for _ in range(weight)]

    def shape(i: int, row: dict[str, Any]) -> str:
        kind = RARE_KIND if i % RARE_EVERY == 0 else cycle[i % len(cycle)]
        row.update(rows[kind])
        row["instance"] = RARE_INSTANCE if i % (2 * RARE_EVERY) == 1 else INSTANCES[i % len(INSTANCES)]
        if i % 2000 == 1234:
            return "dead"
        return "pending" if i % 1000 == 999 else "delivered"

    return shape


def acknowledge(conn: Conn) -> None:
    """Marks one delivered outbox row in 50 acknowledged."""
    conn.execute(
        "UPDATE outbox SET acked_by = 'U0BENCH (bench)', acked_at = delivered_at WHERE id % 50 = 7"
        " AND status = 'delivered'"
    )


def outage(conn: Conn) -> None:
    """Puts the newest BACKLOG outbox rows back to pending, as when a destination has been down for a while (their
    next attempt parked far ahead: the server under test must not deliver them)."""
    newest = int(conn.execute("SELECT max(id) FROM outbox").fetchone()[0])
    conn.execute(
        "UPDATE outbox SET status = 'pending', delivered_at = NULL, acked_by = NULL, acked_at = NULL,"
        " next_attempt_at = ? WHERE id > ? AND status = 'delivered'",
        (console_http.PARKED_AT, newest - BACKLOG),
    )


def settle(conn: Conn, backend: str) -> None:
    """After the bench's own writes, the store as it stands between them in service: PostgreSQL's outbox vacuumed
    and analysed (as autovacuum would), SQLite's WAL copied into the database and emptied (as the bot's WAL keeper
    does), so neither the server's keeper nor a long WAL lands inside the timings."""
    if backend == "postgresql":
        conn.execute("VACUUM (ANALYZE) outbox")
    else:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def percentiles(times: list[float]) -> dict[str, float]:
    """p50/p99/max of these milliseconds."""
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
        "max_ms": round(times[-1], 2),
    }


def store_timings(conn: Conn, group: list[Request], middle: int, runs: int) -> dict[str, dict[str, Any]]:
    """Each request timed at the store, the requests taken in turn within each run (a burst of load on the machine
    falls on all alike)."""
    times: dict[str, list[float]] = {r.label: [] for r in group}
    pages = {r.label: recent_page(conn, r.filters, r.before(middle), None, PAGE) for r in group}  # warm-up
    for _ in range(runs):
        for r in group:
            t = time.perf_counter()
            recent_page(conn, r.filters, r.before(middle), None, PAGE)
            times[r.label].append((time.perf_counter() - t) * 1000)
    out: dict[str, dict[str, Any]] = {}
    for r in group:
        page = pages[r.label]
        out[r.label] = {
            **percentiles(times[r.label]),
            "rows": len(page.rows),
            "stopped": page.stopped is not None,
        }
        print(f"  {r.label}: {out[r.label]}", flush=True)
    return out


def http_part(client: Any, group: list[Request], middle: int, runs: int) -> dict[str, dict[str, Any]]:
    """Each request through the console (`console_http.http_timings`), summarised as the store part is."""
    paths = [(r, f"/ui/notifications?{query_string(r, middle)}".rstrip("?")) for r in group]
    out: dict[str, dict[str, Any]] = {}
    for label, found in console_http.http_timings(client, paths, runs).items():
        out[label] = {**percentiles(found.pop("times")), **found}
        print(f"  HTTP {label}: {out[label]}", flush=True)
    return out


def window_timings(conn: Conn, sizes: list[int], runs: int) -> dict[str, dict[str, float]]:
    """One bounded search window of each size (a q that never matches: every id in it is examined), the sizes taken
    in turn within each run so that a burst of load on the machine falls on all of them alike."""
    times: dict[int, list[float]] = {size: [] for size in sizes}
    for run in range(runs + 1):
        for size in sizes:
            t = time.perf_counter()
            recent_page(conn, Filters(q=NEVER), None, None, PAGE, scan_rows=size)
            if run:  # the first run warms the cache
                times[size].append((time.perf_counter() - t) * 1000)
    out = {str(size): percentiles(t) for size, t in times.items()}
    for size in sizes:
        print(f"  window {size:,}: {out[str(size)]}", flush=True)
    return out


@contextmanager
def sqlite_store(args: argparse.Namespace) -> Iterator[tuple[Path, float | None]]:
    """The SQLite file to measure (filled now unless --sqlite-db) and the fill's seconds."""
    if args.sqlite_db:
        yield Path(args.sqlite_db), None
        return
    folder = Path(tempfile.mkdtemp(prefix="notifbot-console-"))
    path = folder / "notifbot.db"
    seconds = retention.fill(path, args.events, args.span_days, console_shape())
    try:
        yield path, seconds
    finally:
        if args.keep:
            print(f"kept {path}", flush=True)
        else:
            for p in folder.iterdir():
                p.unlink()
            folder.rmdir()


@contextmanager
def pg_store(args: argparse.Namespace) -> Iterator[tuple[str, float | None]]:
    """The PostgreSQL database to measure (a new one filled now unless --pg-db; dropped unless --keep)."""
    if args.pg_db:
        yield args.pg_db, None
        return
    fresh = retention_pg.database(args.pg_url)
    if args.keep:
        fresh = kept_database(args.pg_url)
    with fresh as url:
        seconds = retention_pg.fill(url, args.events, args.span_days, retention.TARGET, shape=console_shape())
        yield url, seconds


@contextmanager
def kept_database(admin: str) -> Iterator[str]:
    """A new database migrated to the bot's schema that outlives the run (its URL is printed)."""
    import psycopg
    from psycopg import sql

    from notifbot.store import pg

    name = f"notifbot_console_{int(time.time())}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = pg_admin.with_database(admin, name)
    conn = pg.connect(url)
    pg.migrate_pg(conn)
    conn.close()
    yield url
    print(f"kept {redacted(url)} (drop it with DROP DATABASE {name})", flush=True)


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fill (or open) one backend's store and time every request on it: at the store, then over HTTP."""
    from notifbot.store import pg

    report: dict[str, Any] = {"backend": backend}
    store = sqlite_store(args) if backend == "sqlite" else pg_store(args)
    with store as (where, seconds):
        report["fill_seconds"] = None if seconds is None else round(seconds, 1)
        writer: Any = connect(where) if backend == "sqlite" else pg.connect(str(where))
        reader: Any = connect_read_only(where) if backend == "sqlite" else pg.connect(str(where))
        try:
            if seconds is not None:
                acknowledge(writer)
            console_http.park(writer)
            settle(writer, backend)
            print(f"{backend}: {report}", flush=True)
            if args.windows and "store" in args.parts:
                report["windows"] = window_timings(reader, args.windows, args.runs)
            middle = int(reader.execute("SELECT max(id) FROM events").fetchone()[0]) // 2
            server = (
                console_http.console_server(backend, str(where))
                if "http" in args.parts
                else nullcontext(None)
            )
            with server as client:
                for backlog in (False, True):
                    if backlog:
                        outage(writer)
                        settle(writer, backend)
                    group = [r for r in REQUESTS if r.after_backlog == backlog]
                    if "store" in args.parts:
                        report.setdefault("requests", {}).update(
                            store_timings(reader, group, middle, args.runs)
                        )
                    if client is not None:
                        report.setdefault("http", {}).update(http_part(client, group, middle, args.runs))
        finally:
            reader.close()
            writer.close()
    return report


def summary(reports: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """A table of every request per backend and part, and the misses (p99 over the target)."""
    lines, missed = [], []
    for rep in reports:
        lines.append(f"{rep['backend']} (fill {rep['fill_seconds']} s)")
        for part, title in (("requests", "at the store"), ("http", "through the console (HTTP)")):
            if part not in rep:
                continue
            lines.append(f" {title}")
            for label, f in rep[part].items():
                over = f["p99_ms"] > P99_TARGET_MS
                lines.append(
                    f"  {label:<44} p50 {f['p50_ms']:>7.2f}  p99 {f['p99_ms']:>7.2f}  max {f['max_ms']:>7.2f} ms"
                    f"  rows {f['rows']:>2}{'  OVER' if over else ''}"
                )
                if over:
                    missed.append(f"{rep['backend']} {'HTTP ' if part == 'http' else ''}{label}")
        for size, f in rep.get("windows", {}).items():
            lines.append(
                f"  window of {int(size):>7,} ids (q never matches)      p50 {f['p50_ms']:>7.2f}  p99 {f['p99_ms']:>7.2f}"
            )
    return lines, missed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--span-days", type=float, default=180.0, help="events spread over this many days back")
    p.add_argument("--runs", type=int, default=200, help="timed calls per request type")
    p.add_argument("--backend", choices=[*retention.BACKENDS, "both"])
    p.add_argument(
        "--pg-url", default=retention_pg.admin_url(), help="PostgreSQL server to create the store on"
    )
    p.add_argument("--keep", action="store_true", help="keep the filled store(s) and print where")
    p.add_argument("--sqlite-db", help="measure this SQLite store (from --keep) instead of filling one")
    p.add_argument("--pg-db", help="measure this PostgreSQL database (from --keep) instead of filling one")
    p.add_argument(
        "--windows",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=sorted({10_000, SCAN_ROWS, 20_000}),
        help="bounded search window sizes to time (default 10000,SCAN_ROWS,20000; '' for none)",
    )
    p.add_argument(
        "--parts",
        type=lambda s: {x for x in s.split(",") if x},
        default={"store", "http"},
        help="store, http or store,http (default): at the store, through the console's HTTP, or both",
    )
    p.add_argument("--out", type=Path, help="also write the figures here as JSON")
    args = p.parse_args()
    if not args.parts or args.parts - {"store", "http"}:
        p.error("--parts: store, http or store,http")
    started = time.perf_counter()
    reports = [run_backend(b, args) for b in retention.choose(args)]
    result = {
        "events": args.events,
        "runs": args.runs,
        "scan_rows": SCAN_ROWS,
        "seconds": round(time.perf_counter() - started, 1),
        **{r["backend"]: r for r in reports},
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines, missed = summary(reports)
    print("\n".join(lines))
    print(f"{result['seconds']} s in all; target p99 ≤ {P99_TARGET_MS:g} ms per request")
    if missed:
        print("over the target: " + "; ".join(missed))
        raise SystemExit(1)


if __name__ == "__main__":
    main()

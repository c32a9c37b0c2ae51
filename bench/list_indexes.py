"""Ingest at 1,000,000 events with migration m017's list indexes against the ones they replaced, on one store.

m017 (store/db.py) replaced events_kind (kind) by (kind, id), events_muted (muted_by) by (id) where muted, and
outbox_open (status) by (status, event_id, id), all partial ones keeping their rows: every ingested event writes an
events_kind entry and an outbox_open entry (its row is pending until delivered). This times that write path on a
store filled by bench/console.py (`--keep`, or a new fill): batches of `--batch` events through
`store.events.insert_notifications` (one transaction each, as the ingest batcher commits; SQLite synchronous=FULL,
PostgreSQL synchronous_commit on), in alternating blocks with the m017 indexes and with the old ones rebuilt in their
place, so that the machine's load falls on both alike. Reported: p50/p99/max milliseconds per batch for each set.

    PYTHONPATH=src .venv/bin/python bench/list_indexes.py --sqlite-db /tmp/notifbot-console-…/notifbot.db
    PYTHONPATH=src .venv/bin/python bench/list_indexes.py --backend postgresql --pg-db postgresql://…/notifbot_console_…
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import console, retention, retention_pg  # noqa: E402
from notifbot.sources.events import parse_event  # noqa: E402
from notifbot.store.conn import Conn  # noqa: E402
from notifbot.store.db import connect  # noqa: E402
from notifbot.store.events import insert_notifications  # noqa: E402

M017 = (
    "CREATE INDEX events_kind ON events (kind, id)",
    "CREATE INDEX events_muted ON events (id) WHERE muted_by IS NOT NULL",
    "CREATE INDEX outbox_open ON outbox (status, event_id, id) WHERE status IN ('pending', 'dead')",
)
BEFORE = (
    "CREATE INDEX events_kind ON events (kind)",
    "CREATE INDEX events_muted ON events (muted_by) WHERE muted_by IS NOT NULL",
    "CREATE INDEX outbox_open ON outbox (status) WHERE status IN ('pending', 'dead')",
)


def use(conn: Conn, indexes: tuple[str, ...]) -> None:
    """Rebuilds the three indexes as `indexes` says."""
    for name in ("events_kind", "events_muted", "outbox_open"):
        conn.execute(f"DROP INDEX {name}")
    for ddl in indexes:
        conn.execute(ddl)


def batches(conn: Conn, run: str, count: int, size: int) -> list[float]:
    """Milliseconds of `count` ingest transactions of `size` new events each (kinds as the console fill mixes them)."""
    kinds = list(console.MIX)
    out = []
    for b in range(count):
        now = datetime.now(UTC)
        items = [
            (
                parse_event({"kind": kinds[i % len(kinds)], "id": f"{run}-{b}-{i}"}, now=now),
                [retention.TARGET],
            )
            for i in range(size)
        ]
        t = time.perf_counter()
        insert_notifications(conn, items)
        out.append((time.perf_counter() - t) * 1000)
    return out


def figures(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(times[len(times) // 2], 2),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
        "max_ms": round(times[-1], 2),
        "batches": len(times),
    }


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Alternating blocks on one backend's store; the m017 indexes are in place again at the end."""
    from notifbot.store import pg

    store = console.sqlite_store(args) if backend == "sqlite" else console.pg_store(args)
    times: dict[str, list[float]] = {"m017": [], "before": []}
    with store as (where, _):
        conn: Any = connect(where) if backend == "sqlite" else pg.connect(str(where))
        try:
            for r in range(args.rounds):
                for label, indexes in (("before", BEFORE), ("m017", M017)):
                    use(conn, indexes)
                    times[label] += batches(conn, f"ingest-{time.time_ns()}-{r}", args.batches, args.batch)
                    print(f"{backend} round {r} {label}: {figures(times[label])}", flush=True)
        finally:
            conn.close()
    return {"backend": backend, **{label: figures(t) for label, t in times.items()}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=[*retention.BACKENDS, "both"])
    p.add_argument("--events", type=int, default=1_000_000, help="events to fill when no store is given")
    p.add_argument("--span-days", type=float, default=180.0)
    p.add_argument("--pg-url", default=retention_pg.admin_url())
    p.add_argument("--sqlite-db", help="a SQLite store from bench/console.py --keep")
    p.add_argument("--pg-db", help="a PostgreSQL database from bench/console.py --keep")
    p.add_argument("--keep", action="store_true", help="keep a store filled here")
    p.add_argument("--rounds", type=int, default=3, help="blocks per index set, alternating")
    p.add_argument("--batches", type=int, default=100, help="ingest transactions per block")
    p.add_argument("--batch", type=int, default=20, help="events per transaction")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    reports = [run_backend(b, args) for b in retention.choose(args)]
    for r in reports:
        print(f"{r['backend']}: before m017 {r['before']}; with m017 {r['m017']}")
    if args.out:
        args.out.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

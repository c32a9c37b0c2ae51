"""`notifbot outbox`, `prune` and `backup`: the store from the command line (docs/reference.md)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from notifbot.config import Env, Settings, load_settings
from notifbot.store.open import database_url


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


def cmd_prune(args: argparse.Namespace) -> int:
    from notifbot.app import retention_windows
    from notifbot.store.maintenance import prune_all
    from notifbot.store.retention import describe, space, vacuum_to_incremental, would_prune

    settings = load_settings(args.config, os.environ)
    windows = retention_windows(settings.storage.retention)
    opened = _open_store(settings, read_only=args.dry_run)
    if opened is None:
        return 1
    conn, shown, postgres = opened
    try:
        before = space(conn)
        print(f"retention: {describe(windows)}; database {shown}, {_mib(before.bytes)}", file=sys.stderr)
        if args.dry_run:
            counts = would_prune(conn, windows, time.time())
        else:
            counts = prune_all(
                conn,
                windows,
                progress=lambda total: print(
                    f"  … {sum(total.values())} rows so far: {_listed(total)}", file=sys.stderr
                ),
            )
        verb = "would delete" if args.dry_run else "deleted"
        for table, n in counts.items():
            print(f"{table:20} {verb} {n}")
        if not counts:
            print(f"nothing to delete: every row is within storage.retention ({shown})")
        if args.vacuum and not args.dry_run:
            what = (
                "VACUUM (ANALYZE) of the pruned tables, online"
                if postgres
                else "rewriting the database (incremental auto_vacuum from now on)"
            )
            print(f"vacuum: {what} …", file=sys.stderr)
            vacuum_to_incremental(conn)
        after = space(conn)
        print(f"database {_mib(before.bytes)} before, {_mib(after.bytes)} after", file=sys.stderr)
        if not after.incremental and not args.dry_run:
            print(
                "note: freed pages are reused, not returned to the disk; `notifbot prune --vacuum` (bot stopped)"
                " makes the file shrink from now on",
                file=sys.stderr,
            )
        return 0
    finally:
        conn.close()


def missing_database(settings: Settings) -> str | None:
    """Why a SQLite store cannot be read: no file at storage.path (said with how to name the right one); else None."""
    if database_url(settings.storage, Env(os.environ)) is not None or Path(settings.storage.path).is_file():
        return None
    where = Path(settings.storage.path).resolve()
    return (
        f"notifbot: no database at {where} (storage.path of {settings.source}); nothing was created. Point at the "
        "bot's config with --config PATH or NOTIFBOT_CONFIG=PATH (its storage.path is read relative to the "
        "directory you run in), or at a PostgreSQL store with NOTIFBOT_DATABASE_URL"
    )


def _open_store(settings: Settings, *, read_only: bool = False) -> tuple[Any, str, bool] | None:
    """The store's connection, how to name it, and whether it is PostgreSQL; None (said why) when it cannot open.

    A SQLite file is never created here: a command run in the wrong directory says so instead of reading an empty
    new database. `read_only` opens it without writing (no migration either). `Any`: a `sqlite3.Connection` or a
    `PgConn`, which the retention functions (still typed with the first) take.
    """
    found = database_url(settings.storage, Env(os.environ))
    if found is None:
        from notifbot.store.db import connect, connect_read_only

        problem = missing_database(settings)
        if problem is not None:
            print(problem, file=sys.stderr)
            return None
        path = settings.storage.path
        lite = (
            connect_read_only(path) if read_only else connect(path, synchronous=settings.storage.synchronous)
        )
        return lite, path, False
    import psycopg

    from notifbot.store import pg
    from notifbot.store.pg_url import password_of, redacted

    url = found[0]
    try:
        conn = pg.connect(url)
    except psycopg.Error as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        password = password_of(url)
        reason = text.replace(password, "***") if password else text
        print(f"notifbot: cannot connect to {redacted(url)} ({reason})", file=sys.stderr)
        return None
    try:
        pg.migrate_pg(conn)
    except BaseException:
        conn.close()
        raise
    return conn, redacted(url), True


def cmd_outbox(args: argparse.Namespace) -> int:
    from notifbot.store import outbox

    settings = load_settings(args.config, os.environ)
    opened = _open_store(settings, read_only=args.action == "list")
    if opened is None:
        return 1
    conn, shown, _ = opened
    print(f"outbox: database {shown}", file=sys.stderr)
    try:
        if args.action == "list":
            rows = outbox.list_dead(conn, limit=args.limit)
            if not rows:
                print("no dead deliveries")
            for r in rows:
                print(
                    f"{r.id:>6}  {r.destination} ({r.target})  {r.kind}  {r.event_key}  attempts={r.attempts}"
                )
                print(f"        {r.last_error}")
            return 0
        ids = (
            [r.id for r in outbox.list_dead(conn, limit=100_000)]
            if args.id == "all"
            else [int(args.id)]
            if args.id and args.id.isdigit()
            else None
        )
        if ids is None:
            print("outbox retry: give a row ID from `notifbot outbox list`, or `all`", file=sys.stderr)
            return 2
        done = [i for i in ids if outbox.requeue(conn, i, time.time())]
        missing = sorted(set(ids) - set(done))
        for i in done:
            print(f"re-queued {i}")
        for i in missing:
            print(f"{i}: no dead delivery with this id", file=sys.stderr)
        return 1 if missing else 0
    finally:
        conn.close()


def _listed(counts: dict[str, int]) -> str:
    return ", ".join(f"{t} {n}" for t, n in counts.items())


def cmd_backup(args: argparse.Namespace) -> int:
    from notifbot.errors import BackupError
    from notifbot.store.maintenance import backup

    settings = load_settings(args.config, os.environ)
    if database_url(settings.storage, Env(os.environ)) is not None:
        print(
            "notifbot backup: the store is PostgreSQL; back it up with the server's own tool, e.g. "
            'pg_dump -Fc -f notifbot.dump "$NOTIFBOT_DATABASE_URL" (pg_restore puts it back)',
            file=sys.stderr,
        )
        return 2
    problem = missing_database(settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    started = time.monotonic()
    try:
        size = backup(settings.storage.path, args.path, force=args.force)
    except BackupError as exc:
        print(f"notifbot backup: {exc}", file=sys.stderr)
        return 1
    print(
        f"backed up {settings.storage.path} to {args.path}: {_mib(size)} in {time.monotonic() - started:.1f} s"
    )
    return 0

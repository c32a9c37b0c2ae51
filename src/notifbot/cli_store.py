"""`notifbot prune` and `notifbot backup`: store maintenance from the command line (docs/reference.md)."""

from __future__ import annotations

import argparse
import os
import sys
import time

from notifbot.config import load_settings


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


def cmd_prune(args: argparse.Namespace) -> int:
    from notifbot.app import retention_windows
    from notifbot.store.db import connect
    from notifbot.store.maintenance import prune_all
    from notifbot.store.retention import describe, space, vacuum_to_incremental, would_prune

    settings = load_settings(args.config, os.environ)
    windows = retention_windows(settings.storage.retention)
    conn = connect(settings.storage.path, synchronous=settings.storage.synchronous)
    try:
        before = space(conn)
        print(f"retention: {describe(windows)}; database {_mib(before.bytes)}", file=sys.stderr)
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
            print(f"nothing to delete: every row is within storage.retention ({settings.storage.path})")
        if args.vacuum and not args.dry_run:
            print("vacuum: rewriting the database (incremental auto_vacuum from now on) …", file=sys.stderr)
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


def _listed(counts: dict[str, int]) -> str:
    return ", ".join(f"{t} {n}" for t, n in counts.items())


def cmd_backup(args: argparse.Namespace) -> int:
    from notifbot.errors import BackupError
    from notifbot.store.maintenance import backup

    settings = load_settings(args.config, os.environ)
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

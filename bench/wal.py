"""WAL size and ingest latency under sustained load, with the WAL bound (the default) and without it (issue #10 #11).

"Without" is `storage.wal_max_bytes` at its largest allowed value (1 TiB): the restart point is never reached, so only
the background PASSIVE checkpoints run, as before the bound. Each run: a fresh `notifbot serve` (synchronous=full,
one fake Slack channel at 1 msg/s), open-loop unique events at `rate`/s for `duration` s, the WAL file's size
sampled every 20 ms, then kill -9 and a restart on the same files with the default bound, to see what start-up does
with the WAL left behind (after the unbounded run: what an upgrade finds).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.ingest import SERVER_CPU, ingest_config, notifbot_server, settled_count, slack_env

MIB = 1024 * 1024
UNBOUNDED = 1024**4  # the largest storage.wal_max_bytes: the restart point is never reached
DEFAULT_BOUND = 64 * MIB
VARIANTS = {"unbounded": UNBOUNDED, "bounded": DEFAULT_BOUND}


class WalSampler:
    """The largest size the WAL file reached, sampled from a thread of the bench process."""

    def __init__(self, db: Path, interval: float = 0.02) -> None:
        self.path = f"{db}-wal"
        self.interval = interval
        self.largest = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.largest = max(self.largest, size(self.path))
            self.samples += 1

    def __enter__(self) -> WalSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def size(path: str | Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def run_wal(*, workdir: Path, rate: float, duration: float, pin: bool) -> dict[str, Any]:
    """Both variants, the unbounded one first; the figures of each and whether the bounded one held its bound."""
    out: dict[str, Any] = {"rate": rate, "duration_s": duration, "variants": {}}
    for name, bound in VARIANTS.items():
        d = workdir / f"wal-{name}"
        with slack_env(d) as env:
            out["variants"][name] = _one(d, name, bound, rate, duration, pin, env)
    bounded = out["variants"]["bounded"]
    out["pass"] = bool(
        bounded["wal_max_bytes_seen"] <= DEFAULT_BOUND
        and all(v["loss"]["lost"] == 0 for v in out["variants"].values())
        and all(v["after_restart_wal_bytes"] <= DEFAULT_BOUND // 2 for v in out["variants"].values())
    )
    return out


def _one(
    d: Path, name: str, bound: int, rate: float, duration: float, pin: bool, env: dict[str, str]
) -> dict[str, Any]:
    db = d / "notifbot.db"
    config = ingest_config(db, "full")
    config["storage"]["wal_max_bytes"] = bound
    cpu = SERVER_CPU if pin else None
    bot = notifbot_server(f"notifbot-wal-{name}", d, config, cpu=cpu, env=env)
    try:
        bot.start()
        with loadgen.RssSampler(bot.pid) as rss, WalSampler(db) as wal:
            res = loadgen.run_open_loop(
                f"{bot.url}/hooks/events", rate=rate, duration=duration, prefix=f"wal{name}", warmup=1.0
            )
        stored = settled_count(db, f"wal{name}")
        at_end = size(f"{db}-wal")
        assert bot.proc is not None
        bot.proc.kill()  # kill -9: the WAL stays behind as a crash leaves it
        bot.proc.wait(10)
        left = size(f"{db}-wal")
    finally:
        bot.stop()
    restart_config = ingest_config(db, "full")  # the default bound
    again = notifbot_server(f"notifbot-wal-{name}-restart", d, restart_config, cpu=cpu, env=env)
    try:
        started = time.monotonic()
        again.start(timeout=120)
        restart_s = time.monotonic() - started
        after = size(f"{db}-wal")
    finally:
        again.stop()
    entry = res.as_dict() | {
        "wal_max_bytes_setting": bound,
        "wal_max_bytes_seen": wal.largest,
        "wal_samples": wal.samples,
        "wal_bytes_at_end": at_end,
        "wal_bytes_left_by_kill_9": left,
        "after_restart_wal_bytes": after,
        "restart_to_ready_s": round(restart_s, 2),
        "db_bytes": size(db),
        "rss_max_mib": round(rss.max_mib, 1),
        # every 2xx of the measured window was committed: stored counts warm-up events too
        "loss": {"stored_incl_warmup": stored, "acknowledged_2xx": res.ok, "lost": max(0, res.ok - stored)},
    }
    print(
        f"  {name}: {res.rate:,.0f} events/s, p50 {res.p50_ms:.1f} ms, p99 {res.p99_ms:.1f} ms, "
        f"max {res.max_ms:.1f} ms; WAL max {wal.largest / MIB:,.1f} MiB, left by kill -9 {left / MIB:,.1f} MiB, "
        f"after restart {after / MIB:,.1f} MiB; database {size(db) / MIB:,.1f} MiB",
        flush=True,
    )
    return entry


def table_rows(w: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The summary rows of `run_wal`'s result: (measure, value, target, verdict)."""
    rows: list[tuple[str, str, str, str]] = []
    for name, v in w["variants"].items():
        bounded = name == "bounded"
        label = (
            f"WAL bounded ({v['wal_max_bytes_setting'] // MIB} MiB, the default)"
            if bounded
            else "WAL unbounded (PASSIVE checkpoints only, as before)"
        )
        rows.append(
            (
                f"{label}: {w['rate']:.0f} ev/s for {w['duration_s']:.0f} s",
                f"WAL max {v['wal_max_bytes_seen'] / MIB:,.1f} MiB  ingest p50 {v['p50_ms']:.1f}  "
                f"p99 {v['p99_ms']:.1f}  max {v['max_ms']:.1f} ms  2xx {v['ok']:,}/{v['sent']:,}  "
                f"lost {v['loss']['lost']}",
                f"WAL <= {DEFAULT_BOUND // MIB} MiB" if bounded else "reported",
                ("PASS" if w["pass"] else "FAIL") if bounded else "",
            )
        )
        rows.append(
            (
                f"  {name}: WAL left by kill -9 -> after a restart with the bound",
                f"{v['wal_bytes_left_by_kill_9'] / MIB:,.1f} MiB -> {v['after_restart_wal_bytes'] / MIB:,.1f} MiB "
                f"(ready in {v['restart_to_ready_s']:.1f} s); database {v['db_bytes'] / MIB:,.1f} MiB",
                f"<= {DEFAULT_BOUND // MIB // 2} MiB after restart",
                "",
            )
        )
    return rows

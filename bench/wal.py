"""WAL size and ingest latency under sustained load, with the WAL bound (the default) and without it (issue #10 #11).

"Without" is `storage.wal_max_bytes` at its largest allowed value (1 TiB): the restart point is never reached, so only
the background PASSIVE checkpoints run, as before the bound. Each run: a fresh `notifbot serve` (synchronous=full,
one fake Slack channel at 1 msg/s), open-loop unique events at `rate`/s for `duration` s, the WAL file's size
sampled every 20 ms. The unbounded run then ends with kill -9 and a restart on the same files with the default bound
(what start-up does with the WAL an older version left); the bounded one with SIGTERM, whose log line counts the
WAL's rewinds and the longest RESTART checkpoint (the writer's thread runs it, so commits wait for it).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from bench.ingest import SERVER_CPU, ingest_config, notifbot_server, settled_count, slack_env

from bench import loadgen

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
    unbounded, bounded = out["variants"]["unbounded"], out["variants"]["bounded"]
    out["pass"] = bool(
        bounded["wal_max_bytes_seen"] <= DEFAULT_BOUND
        and all(v["loss"]["lost"] == 0 for v in out["variants"].values())
        and unbounded["after_restart_wal_bytes"] <= DEFAULT_BOUND // 2
    )
    return out


def _one(
    d: Path, name: str, bound: int, rate: float, duration: float, pin: bool, env: dict[str, str]
) -> dict[str, Any]:
    """One run. The unbounded one ends with kill -9 and a restart with the bound (what an upgrade finds); the
    bounded one with SIGTERM, so its log line says how often the WAL was rewound and the longest RESTART."""
    db = d / "notifbot.db"
    config = ingest_config(db, "full")
    config["storage"]["wal_max_bytes"] = bound
    cpu = SERVER_CPU if pin else None
    bot = notifbot_server(f"notifbot-wal-{name}", d, config, cpu=cpu, env=env)
    crash = bound == UNBOUNDED
    try:
        bot.start()
        with loadgen.RssSampler(bot.pid) as rss, WalSampler(db) as wal:
            res = loadgen.run_open_loop(
                f"{bot.url}/hooks/events", rate=rate, duration=duration, prefix=f"wal{name}", warmup=1.0
            )
        stored = settled_count(db, f"wal{name}")
        at_end = size(f"{db}-wal")
        assert bot.proc is not None
        if crash:
            bot.proc.kill()  # kill -9: the WAL stays behind as a crash leaves it
            bot.proc.wait(10)
    finally:
        bot.stop()
    entry = res.as_dict() | {
        "wal_max_bytes_setting": bound,
        "wal_max_bytes_seen": wal.largest,
        "wal_samples": wal.samples,
        "wal_bytes_at_end": at_end,
        "db_bytes": size(db),
        "rss_max_mib": round(rss.max_mib, 1),
    }
    sent = int(rate * 1.0) + res.sent  # warm-up included: its events carry the same prefix
    # exact when every request was answered 2xx (the run's 2xx count is in the row next to it)
    entry["loss"] = {"stored_incl_warmup": stored, "sent_incl_warmup": sent, "lost": max(0, sent - stored)}
    if crash:
        entry["wal_bytes_left_by_kill_9"] = size(f"{db}-wal")
        entry |= _restart(d, db, name, cpu, env)
        after = f"WAL left by kill -9 {entry['wal_bytes_left_by_kill_9'] / MIB:,.1f} MiB, after a restart with the "
        after += f"bound {entry['after_restart_wal_bytes'] / MIB:,.1f} MiB"
    else:
        entry["checkpoints"] = _stopped_line(d / f"notifbot-wal-{name}.stderr.log")
        after = f"WAL rewinds {entry['checkpoints'].get('wal_rewinds')}, longest RESTART "
        after += f"{entry['checkpoints'].get('longest_restart_ms')} ms"
    print(
        f"  {name}: {res.rate:,.0f} events/s, p50 {res.p50_ms:.1f} ms, p99 {res.p99_ms:.1f} ms, "
        f"max {res.max_ms:.1f} ms; WAL max {wal.largest / MIB:,.1f} MiB; {after}; database "
        f"{size(db) / MIB:,.1f} MiB",
        flush=True,
    )
    return entry


def _restart(d: Path, db: Path, name: str, cpu: int | None, env: dict[str, str]) -> dict[str, Any]:
    """Starts notifbot with the default bound on the files a crash left; the WAL's size once it is ready."""
    again = notifbot_server(f"notifbot-wal-{name}-restart", d, ingest_config(db, "full"), cpu=cpu, env=env)
    try:
        started = time.monotonic()
        again.start(timeout=120)
        return {
            "restart_to_ready_s": round(time.monotonic() - started, 2),
            "after_restart_wal_bytes": size(f"{db}-wal"),
        }
    finally:
        again.stop()


def _stopped_line(log: Path) -> dict[str, Any]:
    """The fields of the server's "WAL checkpoints stopped" log line (rewinds, longest RESTART)."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if record.get("msg") == "WAL checkpoints stopped":
                return {k: record.get(k) for k in ("wal_rewinds", "longest_restart_ms")}
    return {}


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
                ("PASS" if v["wal_max_bytes_seen"] <= DEFAULT_BOUND and not v["loss"]["lost"] else "FAIL")
                if bounded
                else "",
            )
        )
        if bounded:
            cp = v.get("checkpoints") or {}
            rows.append(
                (
                    "  bounded: WAL rewinds, longest RESTART (the writer waits for it)",
                    f"{cp.get('wal_rewinds')} rewinds, longest {cp.get('longest_restart_ms')} ms; database "
                    f"{v['db_bytes'] / MIB:,.1f} MiB",
                    "reported",
                    "",
                )
            )
        else:
            rows.append(
                (
                    "  unbounded: WAL left by kill -9 -> after a restart with the bound",
                    f"{v['wal_bytes_left_by_kill_9'] / MIB:,.1f} MiB -> {v['after_restart_wal_bytes'] / MIB:,.1f} MiB "
                    f"(ready in {v['restart_to_ready_s']:.1f} s); database {v['db_bytes'] / MIB:,.1f} MiB",
                    f"<= {DEFAULT_BOUND // MIB // 2} MiB after restart",
                    "PASS" if v["after_restart_wal_bytes"] <= DEFAULT_BOUND // 2 else "FAIL",
                )
            )
    return rows

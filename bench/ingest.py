"""Ingest benchmarks: `POST /hooks/events` throughput against a bare Starlette endpoint, and fixed-rate latency.

Both servers run as subprocesses on the same stack (uvicorn, uvloop, httptools, one worker), pinned to CPU 0 when
the machine has two or more cores; the load generator runs on CPU 1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from bench import loadgen

REPO = Path(__file__).resolve().parent.parent
SERVER_CPU = 0
LOADGEN_CPU = 1


def terminate(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """SIGTERM a child, SIGKILL it after `timeout`; returns its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without notifbot/Slack settings (so a developer's shell cannot leak into a run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NOTIFBOT_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def pinning_available() -> bool:
    return (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")


@dataclass
class Server:
    """A server subprocess on a loopback port, ready once GET /readyz answers 200."""

    name: str
    argv: list[str]
    port: int
    cwd: Path
    env: dict[str, str]
    log_dir: Path
    cpu: int | None = None
    quiet_stdout: bool = True
    proc: subprocess.Popen[bytes] | None = None
    _files: list[IO[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> Server:
        argv = list(self.argv)
        preexec = None
        if self.cpu is not None:
            # taskset execs the server, so the pid stays the server's own and /proc/PID/status is its RSS
            taskset = shutil.which("taskset")
            if taskset:
                argv = [taskset, "-c", str(self.cpu), *argv]
            else:
                cpu = self.cpu
                preexec = lambda: os.sched_setaffinity(0, {cpu})  # noqa: E731
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stderr = open(self.log_dir / f"{self.name}.stderr.log", "wb")  # noqa: SIM115 - closed in stop()
        self._files.append(stderr)
        if self.quiet_stdout:
            stdout: IO[bytes] | int = subprocess.DEVNULL
        else:
            stdout = open(self.log_dir / f"{self.name}.stdout.log", "wb")  # noqa: SIM115
            self._files.append(stdout)
        self.proc = subprocess.Popen(
            argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            preexec_fn=preexec,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early ({self.proc.returncode}): {self.stderr_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not become ready in {timeout:.0f}s: {self.stderr_tail()}")

    def stderr_tail(self, n: int = 2000) -> str:
        path = self.log_dir / f"{self.name}.stderr.log"
        with contextlib.suppress(OSError):
            return path.read_text(errors="replace")[-n:]
        return ""

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        code: int | None = None
        if self.proc is not None:
            code = terminate(self.proc, timeout)
        for f in self._files:
            f.close()
        self._files.clear()
        return code

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def notifbot_server(
    name: str,
    workdir: Path,
    config: dict[str, Any],
    *,
    cpu: int | None,
    env: dict[str, str] | None = None,
) -> Server:
    """`python -m notifbot serve` with `config` written to WORKDIR/NAME.yaml, JSON logs to a file."""
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / f"{name}.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    argv = [sys.executable, "-m", "notifbot", "serve", "--config", str(cfg), "--port", str(port)]
    argv += ["--log-format", "json"]
    return Server(name, argv, port, workdir, clean_env(env), workdir, cpu=cpu)


def bare_server(workdir: Path, *, cpu: int | None) -> Server:
    """The bare JSON-parsing Starlette endpoint on uvicorn with uvloop + httptools, one worker."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--loop", "uvloop", "--http", "httptools", "--workers", "1", "--lifespan", "off"]
    argv += ["--no-access-log", "--log-level", "warning", "--no-server-header"]
    return Server("bare", argv, port, REPO, clean_env(), workdir, cpu=cpu)


def ingest_config(db: Path, synchronous: str) -> dict[str, Any]:
    """notifbot as deployed: one Slack channel (the fake Slack, paced at 1 msg/s) and the given durability."""
    return {
        "storage": {"path": str(db), "synchronous": synchronous},
        "slack": {"interactive": False},
        "destinations": {"ops": {"type": "slack", "channel": "C01"}},
        "routes": [{"to": "ops"}],
    }


@contextlib.contextmanager
def slack_env(workdir: Path) -> Iterator[dict[str, str]]:
    """A fake Slack for the bot under load to deliver to; yields the environment that points notifbot at it."""
    from bench.delivery import TOKEN, FakeSlackProcess

    workdir.mkdir(parents=True, exist_ok=True)
    fake = FakeSlackProcess(workdir, min_interval=1.0).start()
    try:
        yield {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.api_url}
    finally:
        fake.stop()


def count_events(db: Path, prefix: str) -> int:
    """Events stored under keys starting with `prefix-` (read-only; WAL lets it run beside the server)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(
            conn.execute("SELECT count(*) FROM events WHERE key LIKE ?", (f"{prefix}-%",)).fetchone()[0]
        )
    finally:
        conn.close()


def outbox_status(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        return {str(s): int(c) for s, c in rows}
    finally:
        conn.close()


def settled_count(db: Path, prefix: str, timeout: float = 10.0) -> int:
    """The stored count once it stops changing (requests still in flight when the generator stopped land)."""
    deadline = time.monotonic() + timeout
    last, stable = -1, 0
    while time.monotonic() < deadline:
        n = count_events(db, prefix)
        stable = stable + 1 if n == last else 0
        if stable >= 3:
            return n
        last = n
        time.sleep(0.2)
    return last


def choose_generator(requested: str) -> str:
    if requested == "wrk" and loadgen.wrk_path() is None:
        raise RuntimeError("--loadgen wrk: wrk is not installed (apt-get install wrk)")
    if requested == "auto":
        return "wrk" if loadgen.wrk_path() else "python"
    return requested


def closed_loop(
    generator: str, url: str, *, duration: float, connections: int, prefix: str, pin: bool
) -> loadgen.LoadResult:
    if generator == "wrk":
        return loadgen.run_wrk(
            url, duration=duration, connections=connections, prefix=prefix, cpu=LOADGEN_CPU if pin else None
        )
    return loadgen.run_closed_loop(url, duration=duration, connections=connections, prefix=prefix)


def _loss_check(result: loadgen.LoadResult, stored: int, connections: int) -> dict[str, Any]:
    """Acknowledged events must all be stored. wrk stops with up to `connections` requests in flight: the
    server may still commit those, so for wrk stored may exceed the 2xx count by at most that many."""
    exact = result.generator != "wrk"
    ok = stored == result.ok if exact else result.ok <= stored <= min(result.sent, result.ok + connections)
    return {
        "stored": stored,
        "acknowledged_2xx": result.ok,
        "in_flight_at_stop_stored": stored - result.ok,
        "lost": max(0, result.ok - stored),
        "check": "stored == 2xx" if exact else "2xx <= stored <= 2xx + in-flight",
        "pass": ok,
    }


def run_throughput(
    *, workdir: Path, duration: float, connections: int, generator: str, pin: bool, warmup: float = 1.0
) -> dict[str, Any]:
    """Bare endpoint, then notifbot with synchronous=full and =normal, each warmed up then loaded."""
    cpu = SERVER_CPU if pin else None
    out: dict[str, Any] = {"generator": generator, "connections": connections, "duration_s": duration}

    def measure(server: Server, label: str) -> tuple[loadgen.LoadResult, float, float, dict[str, float]]:
        url = f"{server.url}/hooks/events"
        idle_rss = (loadgen.read_rss_kib(server.pid) or 0) / 1024.0
        with loadgen.RssSampler(server.pid) as rss:
            closed_loop(
                generator, url, duration=warmup, connections=connections, prefix=f"warm{label}", pin=pin
            )
            with loadgen.CpuMeter(server.pid) as cpu:
                result = closed_loop(
                    generator, url, duration=duration, connections=connections, prefix=f"run{label}", pin=pin
                )
        return result, rss.max_mib, idle_rss, cpu.shares()

    bare = bare_server(workdir, cpu=cpu)
    try:
        bare.start()
        res, max_rss, idle, cpu_share = measure(bare, "bare")
        out["bare"] = res.as_dict() | {"rss_max_mib": round(max_rss, 1), "rss_idle_mib": round(idle, 1)}
        out["bare"]["server_cpu"] = cpu_share
        print(
            f"  bare endpoint: {res.rate:,.0f} req/s, p99 {res.p99_ms:.1f} ms, server CPU {cpu_share}",
            flush=True,
        )
    finally:
        bare.stop()

    for sync in ("full", "normal"):
        d = workdir / f"ingest-{sync}"
        db = d / "notifbot.db"
        with slack_env(d) as env:
            out[f"notifbot_{sync}"] = _measure_bot(measure, d, db, sync, cpu, env, connections, out["bare"])
    return out


def _measure_bot(
    measure: Any,
    d: Path,
    db: Path,
    sync: str,
    cpu: int | None,
    env: dict[str, str],
    connections: int,
    bare: dict[str, Any],
) -> dict[str, Any]:
    bot = notifbot_server(f"notifbot-{sync}", d, ingest_config(db, sync), cpu=cpu, env=env)
    try:
        bot.start()
        res, max_rss, idle, cpu_share = measure(bot, sync)
        stored = settled_count(db, f"run{sync}")
        entry = res.as_dict() | {"rss_max_mib": round(max_rss, 1), "rss_idle_mib": round(idle, 1)}
        entry["server_cpu"] = cpu_share
        entry["loss"] = _loss_check(res, stored, connections)
        entry["outbox_after"] = outbox_status(db)
        ratio = res.rate / bare["events_per_s"] if bare["events_per_s"] else 0.0
        entry["ratio_to_bare"] = round(ratio, 3)
        print(
            f"  notifbot synchronous={sync}: {res.rate:,.0f} events/s ({ratio:.0%} of bare), "
            f"p99 {res.p99_ms:.1f} ms, stored {stored} / 2xx {res.ok}, max RSS {max_rss:.0f} MiB, "
            f"server CPU {cpu_share}",
            flush=True,
        )
        return entry
    finally:
        bot.stop()


def run_fixed_rate(*, workdir: Path, rate: float, duration: float, pin: bool) -> dict[str, Any]:
    """Open-loop load at `rate` events/s against a fresh notifbot (defaults: synchronous=full)."""
    d = workdir / "latency"
    db = d / "notifbot.db"
    with slack_env(d) as env:
        return _fixed_rate(d, db, rate, duration, pin, env)


def _fixed_rate(
    d: Path, db: Path, rate: float, duration: float, pin: bool, env: dict[str, str]
) -> dict[str, Any]:
    bot = notifbot_server(
        "notifbot-latency", d, ingest_config(db, "full"), cpu=SERVER_CPU if pin else None, env=env
    )
    try:
        bot.start()
        with loadgen.RssSampler(bot.pid) as rss:
            res = loadgen.run_open_loop(
                f"{bot.url}/hooks/events", rate=rate, duration=duration, prefix="rate", warmup=1.0
            )
        stored = settled_count(db, "rate")
        out = res.as_dict() | {"rate": rate, "rss_max_mib": round(rss.max_mib, 1)}
        out["stored_total_incl_warmup"] = stored
        out["sent_incl_warmup"] = int(rate * 1.0) + res.sent
        print(
            f"  fixed {rate:.0f}/s for {duration:.0f}s: p50 {res.p50_ms:.1f} ms, p99 {res.p99_ms:.1f} ms, "
            f"max {res.max_ms:.1f} ms, max RSS {rss.max_mib:.0f} MiB",
            flush=True,
        )
        return out
    finally:
        bot.stop()


def temp_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="notifbot-bench-"))

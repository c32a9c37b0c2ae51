"""Load generation for the ingest benchmarks: wrk (when installed) or an aiohttp client, plus RSS sampling.

Every request carries one unique ~300-byte `campaign_failure` event (`id` = PREFIX-THREAD-COUNTER), so notifbot
stores each one instead of answering it as a duplicate, and the stored rows can be counted by their key prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
WRK_SCRIPT = BENCH_DIR / "wrk_post.lua"

# Kept byte-for-byte equal to the template in wrk_post.lua, so both generators send the same bodies.
EVENT_TEMPLATE = (
    '{"kind":"campaign_failure","id":"%s-%d-%d","instance":"123-ABC-456","severity":"warning",'
    '"summary":"Smart campaign \\"Q4 Webinar Invites\\" stopped on flow step 2 (Send Email).",'
    '"fields":{"campaign_id":4821,"campaign_name":"Q4 Webinar Invites",'
    '"error":"Send Email: email asset \\"Webinar Invite 1\\" is not approved"},"labels":{"team":"emea"}}'
)
HEADERS = {"Content-Type": "application/json"}


def event_body(prefix: str, thread: int, n: int) -> bytes:
    """One unique event as the request body."""
    return (EVENT_TEMPLATE % (prefix, thread, n)).encode()


async def open_loop(total: int, rate: float, one: Callable[[int, float], Awaitable[None]]) -> None:
    """Starts request i at its scheduled time t0 + i/rate whatever earlier ones are doing, then waits for all."""
    tasks: list[asyncio.Task[None]] = []
    # perf_counter, not loop.time(): uvloop's clock has millisecond resolution
    t0 = time.perf_counter() + 0.1
    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class LoadResult:
    """What one load run measured; latencies in milliseconds."""

    generator: str
    duration_s: float
    sent: int  # requests generated (wrk: including any still in flight when the run stopped)
    completed: int  # responses received
    ok: int  # 2xx responses (each acknowledges one event)
    non_2xx: int
    errors: int  # connect/read/write/timeout errors
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    status_counts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["events_per_s"] = round(self.rate, 1)
        return out


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_wrk(
    url: str,
    *,
    duration: float,
    connections: int,
    prefix: str,
    threads: int = 1,
    cpu: int | None = None,
    timeout: float | None = None,
) -> LoadResult:
    """Closed-loop load with wrk and bench/wrk_post.lua; parses the JSON line the script prints in done()."""
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    secs = max(1, round(duration))
    cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{secs}s", "--timeout", "5s"]
    cmd += ["-s", str(WRK_SCRIPT), url, "--", prefix]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout or secs + 60, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed (exit {proc.returncode}): {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
        )
    data = json.loads(line[len("WRK_JSON ") :])
    errors = sum(int(data["errors"][k]) for k in ("connect", "read", "write", "timeout"))
    completed = int(data["requests"])
    non_2xx = int(data["errors"]["status"])  # wrk counts status > 399; the endpoints answer 202 or 4xx/5xx
    us = 1000.0
    return LoadResult(
        generator="wrk",
        duration_s=data["duration_us"] / 1e6,
        sent=int(data["sent"]),
        completed=completed,
        ok=completed - non_2xx,
        non_2xx=non_2xx,
        errors=errors,
        p50_ms=data["p50_us"] / us,
        p90_ms=data["p90_us"] / us,
        p95_ms=data["p95_us"] / us,
        p99_ms=data["p99_us"] / us,
        max_ms=data["max_us"] / us,
    )


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()


def _summarise(
    generator: str,
    duration: float,
    sent: int,
    latencies_ms: list[float],
    statuses: dict[str, int],
    errors: int,
) -> LoadResult:
    latencies_ms.sort()
    ok = sum(v for k, v in statuses.items() if k.startswith("2"))
    completed = sum(statuses.values())
    return LoadResult(
        generator=generator,
        duration_s=duration,
        sent=sent,
        completed=completed,
        ok=ok,
        non_2xx=completed - ok,
        errors=errors,
        p50_ms=percentile(latencies_ms, 50),
        p90_ms=percentile(latencies_ms, 90),
        p95_ms=percentile(latencies_ms, 95),
        p99_ms=percentile(latencies_ms, 99),
        max_ms=latencies_ms[-1] if latencies_ms else 0.0,
        status_counts=dict(sorted(statuses.items())),
    )


async def _closed_loop(url: str, duration: float, connections: int, prefix: str) -> LoadResult:
    import aiohttp

    counter = itertools.count(1)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    sent = 0
    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            nonlocal errors, sent
            while time.perf_counter() < deadline:
                body = event_body(prefix, 0, next(counter))
                sent += 1
                t0 = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=HEADERS) as resp:
                        await resp.read()
                        status = str(resp.status)
                except (aiohttp.ClientError, TimeoutError):
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - t0) * 1000.0)
                statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    return _summarise("python-aiohttp", elapsed, sent, latencies, statuses, errors)


def run_closed_loop(url: str, *, duration: float, connections: int, prefix: str) -> LoadResult:
    """Closed-loop load from this process: `connections` clients each POSTing back to back for `duration`."""
    loop = _new_loop()
    try:
        return loop.run_until_complete(_closed_loop(url, duration, connections, prefix))
    finally:
        loop.close()


async def _open_loop(url: str, rate: float, duration: float, prefix: str, warmup: float) -> LoadResult:
    """Requests start on a fixed schedule whatever the server does; latency counts from the scheduled time."""
    import aiohttp

    latencies: list[float] = []
    lags: list[float] = []  # how late the generator started each request (included in the latencies)
    statuses: dict[str, int] = {}
    errors = 0
    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(limit=1000)
    warm_n = int(rate * warmup)
    total = warm_n + int(rate * duration)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(i: int, scheduled: float) -> None:
            nonlocal errors
            if i >= warm_n:
                lags.append((time.perf_counter() - scheduled) * 1000.0)
            try:
                async with session.post(url, data=event_body(prefix, 0, i), headers=HEADERS) as resp:
                    await resp.read()
                    status = str(resp.status)
            except (aiohttp.ClientError, TimeoutError):
                if i >= warm_n:
                    errors += 1
                return
            if i >= warm_n:
                latencies.append((time.perf_counter() - scheduled) * 1000.0)
                statuses[status] = statuses.get(status, 0) + 1

        await open_loop(total, rate, one)
    result = _summarise("python-aiohttp open-loop", duration, total - warm_n, latencies, statuses, errors)
    lags.sort()
    result.extra = {"start_lag_p50_ms": percentile(lags, 50), "start_lag_p99_ms": percentile(lags, 99)}
    return result


def run_open_loop(url: str, *, rate: float, duration: float, prefix: str, warmup: float = 1.0) -> LoadResult:
    """Fixed-rate (open-loop) load: `rate` requests/s for `duration` s after `warmup` s that is not counted."""
    loop = _new_loop()
    try:
        return loop.run_until_complete(_open_loop(url, rate, duration, prefix, warmup))
    finally:
        loop.close()


def read_rss_kib(pid: int) -> int | None:
    """VmRSS of a process in KiB, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def cpu_seconds_by_thread(pid: int) -> dict[str, float]:
    """CPU time (user + system) used so far by each thread of a process, summed by thread name."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # Python does not name OS threads, so every non-main thread shows as "python"; in notifbot that is
        # the SQLite thread (the one ThreadPoolExecutor worker of store/runner.py)
        name = "loop" if tid == str(pid) else ("threads" if name == "python" else name)
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


class CpuMeter:
    """CPU used by a process's threads between enter and exit, as a share of one core's wall time."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.by_thread: dict[str, float] = {}
        self.wall = 0.0

    def __enter__(self) -> CpuMeter:
        self._start = cpu_seconds_by_thread(self.pid)
        self._t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        end = cpu_seconds_by_thread(self.pid)
        self.wall = time.monotonic() - self._t0
        self.by_thread = {k: v - self._start.get(k, 0.0) for k, v in end.items()}

    def shares(self) -> dict[str, float]:
        """Per-thread-name and total CPU as a fraction of one core (1.0 = one core fully busy)."""
        if self.wall <= 0:
            return {}
        out = {k: round(v / self.wall, 3) for k, v in sorted(self.by_thread.items()) if v > 0}
        out["total"] = round(sum(self.by_thread.values()) / self.wall, 3)
        return out


class RssSampler:
    """Samples a process's VmRSS from a background thread; `max_mib` is the highest value seen."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            kib = read_rss_kib(self.pid)
            if kib is not None:
                self.samples.append(kib)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(RuntimeError):
            self._thread.join(timeout=2)

    @property
    def max_mib(self) -> float:
        return max(self.samples, default=0) / 1024.0

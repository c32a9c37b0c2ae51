"""Adobe I/O webhook benchmark: signed batches of 20 Marketo events against a real `notifbot serve`.

The fake Adobe key server (tests/fakes/adobe_io.py) runs in a thread of this process and serves the public key of a
generated RSA pair; every batch is signed with both of Adobe's signature headers before the run, so signing costs the
generator nothing. notifbot fetches the key once (first delivery, during warm-up) and then verifies from its cache.

1. Sustained throughput: closed loop, `connections` clients POSTing distinct batches back to back.
2. Fixed rate: 50 batches/s (1,000 events/s) open loop for `duration` s; latency per batch from its scheduled send
   time to the 200 (Adobe's timeout is 10 s; the target is p99 <= 50 ms).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench.ingest import SERVER_CPU, notifbot_server, outbox_status, settled_count, slack_env

from bench import loadgen

CLIENT_ID = "bench-adobe-client"
BATCH = 20
P99_TARGET_MS = 50.0
SYNCHRONOUS = "full"  # the default durability; the bench also runs "normal"


def make_batches(fake: Any, prefix: str, count: int) -> list[tuple[bytes, dict[str, str]]]:
    """`count` signed batches of 20 distinct events in the realistic mix (quota, failures, aborts, audit, unknown)."""
    from tests.fakes.adobe_io import marketo_event

    kinds = [
        (
            "web_services",
            {"componentType": "web_services", "eventAction": {"dailyQuota": 50000, "percent": 80}},
        ),
        ("campaign_failure", {"eventAction": {"campaignId": 4821, "error": "Email asset not approved"}}),
        (
            "campaign_abort",
            {"subType": "user_campaign_abort", "eventAction": {"campaignId": 1, "userId": "a@b.c"}},
        ),
        (
            "com.adobe.platform.marketo.audit.user.campaign",
            {"eventAction": "deactivate", "userId": "jo@x.com"},
        ),
        ("something_new", {"foo": "bar"}),
    ]
    out = []
    for i in range(count):
        events = [
            marketo_event(
                kinds[j % len(kinds)][0], f"{prefix}-{i}-{j}", CLIENT_ID, data=kinds[j % len(kinds)][1]
            )
            for j in range(BATCH)
        ]
        out.append(fake.signed(events))
    return out


async def _post_all(
    url: str,
    batches: list[tuple[bytes, dict[str, str]]],
    *,
    rate: float | None,
    connections: int,
    warm: int,
    duration: float,
) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    timeout = aiohttp.ClientTimeout(total=10)  # Adobe's own limit
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000), timeout=timeout) as session:

        async def send(i: int, start: float) -> None:
            nonlocal errors
            body, headers = batches[i]
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    status = str(resp.status)
            except (aiohttp.ClientError, TimeoutError):
                errors += i >= warm
                return
            if i >= warm:
                latencies.append((time.perf_counter() - start) * 1000.0)
                statuses[status] = statuses.get(status, 0) + 1

        for i in range(warm):  # the first fetches (and caches) the public key
            await send(i, time.perf_counter())
        t0 = time.perf_counter()
        if rate is not None:
            await loadgen.open_loop(len(batches) - warm, rate, lambda i, s: send(i + warm, s))
        else:
            queue = iter(range(warm, len(batches)))
            deadline = t0 + duration

            async def worker() -> None:
                for i in queue:
                    if time.perf_counter() >= deadline:
                        return
                    await send(i, time.perf_counter())

            await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    ok = sum(v for k, v in statuses.items() if k.startswith("2"))
    return {
        "batches": len(latencies),
        "ok_batches": ok,
        "statuses": statuses,
        "errors": errors,
        "elapsed_s": round(elapsed, 2),
        "batches_per_s": round(ok / elapsed, 1) if elapsed else 0.0,
        "events_per_s": round(ok * BATCH / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(loadgen.percentile(latencies, 50), 2),
        "p95_ms": round(loadgen.percentile(latencies, 95), 2),
        "p99_ms": round(loadgen.percentile(latencies, 99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else 0.0,
    }


def _config(db: Path) -> dict[str, Any]:
    return {
        "storage": {"path": str(db), "synchronous": SYNCHRONOUS},
        "slack": {"interactive": False},
        "adobe_io": {"client_id": CLIENT_ID},
        "destinations": {"ops": {"type": "slack", "channel": "C01"}},
        "routes": [{"to": "ops"}],
    }


def _run_one(
    workdir: Path, name: str, fake: Any, *, rate: float | None, duration: float, connections: int, pin: bool
) -> dict[str, Any]:
    d = workdir / name
    db = d / "notifbot.db"
    warm = 10
    # closed loop: enough pre-signed batches for `duration` at up to 1,000 batches/s; open loop: exactly rate * duration
    count = warm + (int(rate * duration) if rate is not None else int(1000 * duration))
    prefix = f"ab{name}"
    print(f"  signing {count} batches of {BATCH} events…", flush=True)
    batches = make_batches(fake, prefix, count)
    fake.key_fetches.clear()
    with slack_env(d) as env:
        env = env | {"ADOBE_IO_KEYS_URL": fake.base_url}
        bot = notifbot_server(f"notifbot-{name}", d, _config(db), cpu=SERVER_CPU if pin else None, env=env)
        try:
            bot.start()
            url = f"{bot.url}/hooks/adobe-io"
            with loadgen.RssSampler(bot.pid) as rss, loadgen.CpuMeter(bot.pid) as cpu:
                loop = loadgen._new_loop()
                try:
                    res = loop.run_until_complete(
                        _post_all(
                            url, batches, rate=rate, connections=connections, warm=warm, duration=duration
                        )
                    )
                finally:
                    loop.close()
            stored = settled_count(db, f"adobe-io-{prefix}")
            res |= {
                "stored_events": stored,
                "expected_events": (res["ok_batches"] + warm) * BATCH,
                "key_fetches": sum(fake.key_fetches.values()),
                "rss_max_mib": round(rss.max_mib, 1),
                "server_cpu": cpu.shares(),
                "outbox_after": outbox_status(db),
            }
            return res
        finally:
            bot.stop()


def run_adobe_io(
    *, workdir: Path, duration: float, rate: float = 50.0, connections: int = 8, pin: bool
) -> dict[str, Any]:
    """Both parts against fresh servers; returns the figures (and prints a line for each)."""
    from tests.fakes.adobe_io import FakeAdobeIO

    out: dict[str, Any] = {"batch_size": BATCH, "connections": connections, "rate_batches_per_s": rate}
    with FakeAdobeIO(CLIENT_ID) as fake:
        t = _run_one(
            workdir, "adobe-throughput", fake, rate=None, duration=duration, connections=connections, pin=pin
        )
        out["throughput"] = t
        print(
            f"  adobe-io closed loop ({connections} conns): {t['events_per_s']:,.0f} events/s "
            f"({t['batches_per_s']:,.0f} batches/s), p99 {t['p99_ms']:.1f} ms, key fetches {t['key_fetches']}",
            flush=True,
        )
        f = _run_one(
            workdir, "adobe-rate", fake, rate=rate, duration=duration, connections=connections, pin=pin
        )
        out["fixed_rate"] = f
        print(
            f"  adobe-io {rate:.0f} batches/s ({rate * BATCH:.0f} events/s) for {duration:.0f}s: p50 {f['p50_ms']:.1f} ms, "
            f"p99 {f['p99_ms']:.1f} ms, max {f['max_ms']:.1f} ms, stored {f['stored_events']}/{f['expected_events']}",
            flush=True,
        )
    out["pass"] = (
        f["p99_ms"] <= P99_TARGET_MS
        and f["ok_batches"] == f["batches"] == int(rate * duration)
        and f["stored_events"] == f["expected_events"]
        and t["stored_events"] == t["expected_events"]
        and t["errors"] == 0
        and f["errors"] == 0
    )
    return out

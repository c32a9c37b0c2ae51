"""Several real `notifbot serve` processes on one PostgreSQL: the Marketo pollers run once between them and move to
another replica within two lease periods when their holder is `kill -9`ed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.marketo import FakeMarketo
from tests.integration.process import BotProcess, wait_until
from tests.integration.replica_support import pg_rows, replica, start_all
from tests.pg_support import empty_store, fresh_database, require_postgres

pytestmark = pytest.mark.slow
LEASE = 1.0  # storage.lease_seconds in these tests: failover is due within two of them


def marketo_config(fake: FakeMarketo) -> dict[str, Any]:
    return {
        "storage": {"lease_seconds": LEASE},
        "marketo": {
            "instances": [
                {
                    "munchkin_id": "123-ABC-456",
                    "base_url": fake.base_url,
                    "client_id": "cid-1",
                    "client_secret": "s3cret-marketo",
                }
            ]
        },
    }


def quota_holder(url: str) -> tuple[str, float] | None:
    rows = pg_rows(url, "SELECT holder, lease_until FROM poller_leases WHERE name = 'quota:123-ABC-456'")
    return (str(rows[0][0]), float(rows[0][1])) if rows else None


def calls_in_window(fakes: list[FakeMarketo], window: float) -> list[int]:
    """Each fake's REST calls `window` seconds after its first one (fakes of replicas started side by side)."""
    firsts: list[float | None] = [None] * len(fakes)
    counts: list[int | None] = [None] * len(fakes)
    deadline = time.monotonic() + 30
    while None in counts:
        assert time.monotonic() < deadline, "condition not reached in time"
        now = time.monotonic()
        for i, fake in enumerate(fakes):
            first = firsts[i]
            if first is None:
                firsts[i] = now if fake.rest_calls > 0 else None
            elif counts[i] is None and now - first >= window:
                counts[i] = fake.rest_calls
        time.sleep(0.05)
    return [c for c in counts if c is not None]


def test_marketo_pollers_run_on_one_replica_and_move_when_it_dies(
    tmp_path: Path, procs: list[BotProcess], pg_store_url: str
) -> None:
    empty_store(pg_store_url)
    # the yardstick, a replica alone on a database of its own, runs beside the pair instead of before it
    with (
        fresh_database(require_postgres()) as solo_url,
        FakeMarketo("cid-1", "s3cret-marketo", usage_users={"bi-connector": 100}) as single,
        FakeMarketo("cid-1", "s3cret-marketo", usage_users={"bi-connector": 100}) as fake,
    ):
        one = replica(tmp_path, "solo", solo_url, marketo_config(single), {})
        bots = [replica(tmp_path, n, pg_store_url, marketo_config(fake), {}) for n in ("a", "b")]
        procs.extend([one, *bots])
        start_all([one, *bots])
        alone, together = calls_in_window([single, fake], 4 * LEASE)
        one.terminate()
        print(f"\nMarketo REST calls in the same window: one replica {alone}, two replicas {together}")
        assert together == alone  # the second replica spends nothing
        holder = quota_holder(pg_store_url)
        assert holder is not None and holder[0] in ("a", "b")
        dead = next(b for b in bots if b.env["NOTIFBOT_REPLICA_ID"] == holder[0])
        survivor = next(b for b in bots if b is not dead)
        dead.kill9()
        killed_at = time.time()
        wait_until(
            lambda: (quota_holder(pg_store_url) or ("", 0.0))[0] == survivor.env["NOTIFBOT_REPLICA_ID"], 10
        )
        took = time.time() - killed_at
        print(f"poller failover after kill -9: {took:.2f} s (lease {LEASE} s)")
        assert took <= 2 * LEASE + 0.5  # 0.5 s: this test's polling of the table
        status = httpx.get(f"{survivor.url}/readyz", timeout=5)
        assert status.status_code == 200

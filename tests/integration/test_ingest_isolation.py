"""One sender's bad event never fails another's request: validation before batching, isolated group commits."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from notifbot.errors import InputError
from notifbot.model import Kind, Notification, Severity
from notifbot.store.batch import IngestBatcher
from notifbot.store.events import Target, count_events
from notifbot.store.runner import Database
from tests.integration.live import LiveBot

pytestmark = pytest.mark.backends

# Valid ISO 8601 that overflow datetime's range once converted to UTC (or to any other zone for display).
POISONS: list[dict[str, Any]] = [
    {"kind": "audit", "occurred_at": "0001-01-01T00:00:00+14:00"},
    {"kind": "audit", "occurred_at": "9999-12-31T23:00:00-14:00"},
    {"kind": "audit", "occurred_at": "0001-01-01T03:00:00Z"},
    {"kind": "audit", "occurred_at": "9999-12-31T23:59:59"},
    {"kind": "crm_sync", "fields": {"period_start": "0001-01-01T00:00:00+14:00"}},
    {"kind": "web_services", "fields": {"resets_at": "9999-12-31T23:00:00-14:00"}},
    {"kind": "trigger_cleanup", "fields": {"deactivate_on": "0001-01-01T00:00:00+01:00"}},
]
POISON_FIELD = {0: "occurred_at", 1: "occurred_at", 2: "occurred_at", 3: "occurred_at"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBot]:
    with LiveBot(tmp_path_factory.mktemp("live")) as bot:
        yield bot


async def test_poisoned_dates_get_400_and_never_fail_other_senders(live: LiveBot) -> None:
    rng = random.Random(7)
    requests: list[tuple[str, Any]] = []
    for i in range(240):
        requests.append(
            ("valid", [{"kind": "audit", "id": f"iso-ok-{i}-{j}"} for j in range(rng.randint(1, 4))])
        )
    for i in range(60):
        poison = dict(POISONS[i % len(POISONS)])
        if i % 2:
            poison["id"] = f"iso-bad-{i}"  # with an id it used to reach the shared commit
        requests.append(
            ("poison", [{"kind": "audit", "id": f"iso-mixed-{i}"}, poison] if i % 3 == 0 else poison)
        )
    rng.shuffle(requests)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=live.base_url, limits=limits, timeout=30) as client:
        answers = await asyncio.gather(*(client.post("/hooks/events", json=body) for _, body in requests))
    wrong = [
        (what, r.status_code, r.text[:200])
        for (what, _), r in zip(requests, answers, strict=True)
        if r.status_code != (202 if what == "valid" else 400)
    ]
    assert wrong == []
    expected = sorted(e["id"] for what, body in requests if what == "valid" for e in body)
    assert sorted(k for (k,) in live.rows("SELECT key FROM events WHERE key LIKE 'iso-%'")) == expected


@pytest.mark.parametrize("index", range(len(POISONS)))
async def test_each_poison_names_its_field(live: LiveBot, index: int) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        r = await client.post("/hooks/events", json=[{"kind": "audit", "id": "fine"}, POISONS[index]])
    assert r.status_code == 400, r.text
    locs = [d["loc"] for d in r.json()["details"]]
    field = POISON_FIELD.get(index) or "fields." + next(iter(POISONS[index]["fields"]))
    assert locs == [f"[1].{field}"]
    assert "out of range" in r.json()["details"][0]["msg"]


def _notification(key: str, occurred_at: datetime) -> Notification:
    return Notification(
        key=key, kind=Kind.AUDIT, severity=Severity.INFO, occurred_at=occurred_at, source="test"
    )


async def test_a_batch_member_the_store_cannot_take_fails_alone(tmp_path: Path) -> None:
    """Sources other than the HTTP parser (pollers, journal) build Notifications too: the commit must isolate."""
    db = Database(tmp_path / "batch.db")
    try:
        batcher = IngestBatcher(db)
        target = [Target("console", "console", "stdout")]
        now = datetime.now(UTC)
        edge = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))  # astimezone(UTC) overflows
        submissions = [
            [(_notification(f"b-{i}", now), target)] if i != 5 else [(_notification("b-bad", edge), target)]
            for i in range(12)
        ]
        outcomes = await asyncio.gather(*(batcher.submit(s) for s in submissions), return_exceptions=True)
        assert [type(o).__name__ for o in outcomes].count("list") == 11
        assert isinstance(outcomes[5], InputError)
        assert await db.read(count_events) == 11
    finally:
        db.close()


async def test_a_real_outage_still_fails_every_waiter(tmp_path: Path) -> None:
    db = Database(tmp_path / "gone.db")
    batcher = IngestBatcher(db)
    db.close()
    target = [Target("console", "console", "stdout")]
    now = datetime.now(UTC)
    outcomes = await asyncio.gather(
        *(batcher.submit([(_notification(f"o-{i}", now), target)]) for i in range(4)), return_exceptions=True
    )
    assert all(isinstance(o, Exception) and not isinstance(o, InputError) for o in outcomes)

"""Two Bots on one PostgreSQL database: each row sent once, one replica per channel, mutes shared within a second."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.commands.core import handle
from notifbot.commands.model import Invocation
from notifbot.sources.events import parse_event
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory, post_events, wait_for

TOKEN = "xoxb-replicas"
CHANNELS = ["C1", "C2", "C3"]
LEASE = 1.0

# PostgreSQL only: several replicas share one database there (the `storage` fixture empties the module's database)
pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.2) as fake:  # faster than that to one channel: a 429
        yield fake


@pytest.fixture
def pg_url(storage: dict[str, Any]) -> str:
    return str(storage["url"])


async def _replica(bot_factory: BotFactory, slack: FakeSlack, name: str) -> Bot:
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN, "NOTIFBOT_REPLICA_ID": name},
        storage={"lease_seconds": LEASE},
        slack={"api_url": slack.api_url, "interactive": False, "timeout_seconds": 2.0},
        destinations={f"d{c}": {"type": "slack", "channel": c} for c in CHANNELS},
        routes=[{"match": {"channel": c}, "to": [f"d{c}"]} for c in CHANNELS[1:]] + [{"to": ["dC1"]}],
        delivery={"poll_seconds": 0.2, "slack_interval_seconds": 0.25, "repeat_window": 0},
    )

    async def admin(user: str) -> bool:
        return True

    bot.ctx.is_admin = admin
    return bot


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def _posted(slack: FakeSlack) -> Counter[str]:
    return Counter(m["metadata"]["event_payload"]["key"] for m in slack.messages)


async def test_each_row_is_sent_once_and_each_channel_by_one_replica_at_a_time(
    bot_factory: BotFactory, slack: FakeSlack, pg_url: str
) -> None:
    a = await _replica(bot_factory, slack, "a")
    b = await _replica(bot_factory, slack, "b")
    events = [
        {"kind": "campaign_failure", "id": f"e{i}", "labels": {"channel": CHANNELS[i % 3]}} for i in range(18)
    ]
    await asyncio.gather(post_events(a, events[0::2]), post_events(b, events[1::2]))
    await wait_for(
        lambda: _rows(pg_url, "SELECT count(*) FROM outbox WHERE status = 'delivered'") == [(18,)], timeout=30
    )
    assert _posted(slack) == Counter(e["id"] for e in events)  # each once
    assert slack.count_429 == 0  # paced as one sender per channel: never two replicas on one channel at once
    assert _rows(pg_url, "SELECT count(*) FROM outbox WHERE unsure_since IS NOT NULL") == [(0,)]


async def test_a_mute_through_one_replica_silences_the_other_within_a_second(
    bot_factory: BotFactory, slack: FakeSlack, pg_url: str
) -> None:
    a = await _replica(bot_factory, slack, "a")
    b = await _replica(bot_factory, slack, "b")
    probe = parse_event({"kind": "audit", "id": "probe"}, now=datetime.now(UTC))
    assert b.pipeline.mute_for(probe, datetime.now(UTC)) is None
    reply = await handle(Invocation(text="mute audit 1h", user_id="U1"), a.ctx)
    assert reply.title.startswith("Muted audit"), reply
    muted_at = time.monotonic()
    await wait_for(lambda: b.pipeline.mute_for(probe, datetime.now(UTC)) is not None, timeout=1.0)
    assert time.monotonic() - muted_at < 1.0
    await post_events(b, [{"kind": "audit", "id": "silenced"}, {"kind": "campaign_failure", "id": "loud"}])
    await wait_for(lambda: _posted(slack) == Counter({"loud": 1}), timeout=10)
    await asyncio.sleep(0.5)
    assert _posted(slack) == Counter({"loud": 1})
    # and the unmute through B reaches A as fast
    await handle(Invocation(text="unmute audit", user_id="U1"), b.ctx)
    await wait_for(lambda: a.pipeline.mute_for(probe, datetime.now(UTC)) is None, timeout=1.0)


async def test_status_lists_both_replicas_and_the_pollers_holders(
    bot_factory: BotFactory, slack: FakeSlack, pg_url: str
) -> None:
    a = await _replica(bot_factory, slack, "a")
    await _replica(bot_factory, slack, "b")
    reply = await handle(Invocation(text="status", user_id="U1"), a.ctx)
    section = next(s for s in reply.sections if (s.title or "").startswith("Replicas"))
    assert section.title == "Replicas (2)"
    assert [i.text for i in section.items] == ["a", "b"]
    await a.stop()  # a clean stop leaves the list at once
    reply = await handle(
        Invocation(text="status", user_id="U1"), (await _replica(bot_factory, slack, "c")).ctx
    )
    section = next(s for s in reply.sections if (s.title or "").startswith("Replicas"))
    assert [i.text for i in section.items] == ["b", "c"]

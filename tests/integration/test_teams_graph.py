"""The `teams` destination: the real worker and msgraph-sdk client against the fake Microsoft Graph on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.destinations.teams import TeamsGraphDelivery
from notifbot.kinds import load_samples
from notifbot.model import Acked
from notifbot.store.events import get_event
from tests.fakes.graph import BOT_USER, Failure, FakeGraph
from tests.integration.conftest import BotFactory, outbox_rows, post_events, wait_for
from tests.unit.render.teams_helpers import assert_valid_card

TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
CHANNEL = "19:ops0123456789@thread.tacv2"
TOKEN = "graph-test-token"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=TOKEN, min_interval=0.3) as fake:
        fake.channels.add((TEAM, CHANNEL))
        yield fake


async def start(bot_factory: BotFactory, graph: FakeGraph, token: str = TOKEN, **delivery: Any) -> Bot:
    bot: Bot = await bot_factory(
        env={"GRAPH_ACCESS_TOKEN": token, "GRAPH_API_URL": graph.graph_url},
        destinations={"ops": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL}},
        routes=[{"to": ["ops"]}],
        delivery={"teams_interval_seconds": 0.3, "max_attempts": 3, **delivery},
    )
    return bot


def settled(bot: Bot) -> bool:
    return all(r["status"] in ("delivered", "dead") for r in outbox_rows(bot))


async def test_samples_are_posted_as_card_attachments_paced_per_channel(
    bot_factory: BotFactory, graph: FakeGraph
) -> None:
    bot = await start(bot_factory, graph)
    samples = [load_samples()[k] for k in ("crm_sync", "trigger_cleanup", "web_services", "audit")]
    await post_events(bot, samples)
    await wait_for(lambda: settled(bot) and len(outbox_rows(bot)) == 4)
    posted = graph.top_level(TEAM, CHANNEL)
    assert len(posted) == 4 and graph.throttled == 0
    for m in posted:
        assert m.user["id"] == BOT_USER["id"]
        assert m.body["content"] == f'<attachment id="{m.attachments[0]["id"]}"></attachment>'
        assert_valid_card(m.card())
    delivered = sorted(outbox_rows(bot), key=lambda r: r["delivered_at"])  # critical ones first, not FIFO
    assert [r["provider_message_id"] for r in delivered] == [m.id for m in posted]
    gaps = [b[2] - a[2] for a, b in zip(graph.writes, graph.writes[1:], strict=False)]
    assert min(gaps) >= 0.28


async def test_429_waits_for_retry_after_and_never_duplicates(
    bot_factory: BotFactory, graph: FakeGraph
) -> None:
    bot = await start(bot_factory, graph, teams_interval_seconds=0.0)
    await post_events(bot, [load_samples()[k] for k in ("crm_sync", "audit", "facebook")])
    await wait_for(lambda: settled(bot) and len(outbox_rows(bot)) == 3)
    assert graph.throttled >= 1
    assert len(graph.top_level(TEAM, CHANNEL)) == 3
    assert all(
        r["status"] == "delivered" and r["attempts"] == 1 for r in outbox_rows(bot)
    )  # 429s are not failed attempts


async def test_a_503_after_the_post_went_through_does_not_post_twice(
    bot_factory: BotFactory, graph: FakeGraph
) -> None:
    graph.fail_next.append(Failure(503, commit=True))
    bot = await start(bot_factory, graph)
    await post_events(bot, [load_samples()["crm_sync"]])
    await wait_for(lambda: settled(bot))
    posted = graph.top_level(TEAM, CHANNEL)
    assert (
        len(posted) == 1
    )  # kiota did not retry the POST, and our retry found the post instead of re-posting
    row = outbox_rows(bot)[0]
    assert (
        row["status"] == "delivered" and row["attempts"] == 2 and row["provider_message_id"] == posted[0].id
    )


async def test_a_claim_abandoned_mid_send_is_looked_for_by_the_next_worker(
    bot_factory: BotFactory, graph: FakeGraph
) -> None:
    # Graph stores the post but answers only after the worker's lease ran out (a hang, or kill -9 mid-send):
    # the row has no recorded attempt, and the next worker must look for the post rather than post again
    graph.fail_next.append(Failure(201, commit=True, delay=3.0))
    hung = await start(bot_factory, graph, lease_seconds=0.5, drain_seconds=0.1)
    await post_events(hung, [load_samples()["audit"]])
    await wait_for(lambda: len(graph.top_level(TEAM, CHANNEL)) == 1)
    other = await start(bot_factory, graph, lease_seconds=0.5)  # a second worker on the same database
    await wait_for(lambda: settled(other), timeout=20)
    posted = graph.top_level(TEAM, CHANNEL)
    assert len(posted) == 1 and outbox_rows(other)[0]["provider_message_id"] == posted[0].id


async def test_a_503_that_lost_the_post_posts_again_once(bot_factory: BotFactory, graph: FakeGraph) -> None:
    graph.fail_next.append(Failure(503, commit=False))
    bot = await start(bot_factory, graph)
    await post_events(bot, [load_samples()["audit"]])
    await wait_for(lambda: settled(bot))
    assert len(graph.top_level(TEAM, CHANNEL)) == 1 and outbox_rows(bot)[0]["status"] == "delivered"


async def test_update_patches_the_same_message(bot_factory: BotFactory, graph: FakeGraph) -> None:
    bot = await start(bot_factory, graph)
    await post_events(bot, [load_samples()["campaign_failure"]])
    await wait_for(lambda: settled(bot))
    row = outbox_rows(bot)[0]
    n = await bot.db.read(get_event, row["event_id"])
    assert n is not None
    sender = bot.senders["teams"]
    assert isinstance(sender, TeamsGraphDelivery)
    at = datetime(2026, 11, 28, 12, tzinfo=UTC)
    await sender.update(row["target"], row["provider_message_id"], row["id"], n, Acked("Ada Admin", at))
    [message] = graph.top_level(TEAM, CHANNEL)
    assert message.id == row["provider_message_id"] and message.edits == 1
    assert "Acknowledged by Ada Admin" in str(message.card())
    assert_valid_card(message.card())


async def test_unknown_channel_and_bad_token_are_dead_with_what_to_do(
    bot_factory: BotFactory, graph: FakeGraph
) -> None:
    bot = await start(bot_factory, graph, token="expired-token")
    await post_events(bot, [load_samples()["audit"]])
    await wait_for(lambda: settled(bot))
    error = outbox_rows(bot)[0]["last_error"]
    assert outbox_rows(bot)[0]["status"] == "dead" and "teams login" in error and "expired-token" not in error
    graph.channels.clear()
    await bot.stop()
    bot2 = await start(bot_factory, graph)
    await post_events(bot2, [load_samples()["facebook"]])
    await wait_for(lambda: settled(bot2))
    dead = [r for r in outbox_rows(bot2) if r["status"] == "dead" and "HTTP 404" in (r["last_error"] or "")]
    assert dead and "channel_id" in dead[0]["last_error"]

"""The outbox worker delivering through the real slack_sdk client to the fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.store import outbox
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory, client_for, store_of
from tests.integration.conftest import outbox_rows as all_outbox_rows

pytestmark = pytest.mark.backends
TOKEN = "xoxb-test-token-abcdef"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.2) as fake:
        yield fake


def slack_config(slack: FakeSlack, channels: list[str], **delivery: Any) -> dict[str, Any]:
    return {
        "slack": {"api_url": slack.api_url, "interactive": False, "timeout_seconds": 2.0},
        "destinations": {f"d{c}": {"type": "slack", "channel": c} for c in channels},
        "routes": [{"match": {"channel": c}, "to": [f"d{c}"]} for c in channels[1:]]
        + [{"to": [f"d{channels[0]}"]}],
        "delivery": {
            "poll_seconds": 0.05,
            "backoff_base_seconds": 0.05,
            "lease_seconds": 5,
            "slack_interval_seconds": 0.2,
            **delivery,
        },
    }


async def start_bot(bot_factory: BotFactory, slack: FakeSlack, channels: list[str], **delivery: Any) -> Bot:
    bot: Bot = await bot_factory(env={"SLACK_BOT_TOKEN": TOKEN}, **slack_config(slack, channels, **delivery))
    return bot


async def send(bot: Bot, events: list[dict[str, Any]]) -> None:
    async with client_for(bot) as client:
        r = await client.post("/hooks/events", json=events)
    assert r.status_code == 202, r.text


def outbox_rows(bot: Bot) -> list[dict[str, Any]]:
    return [dict(r) for r in all_outbox_rows(bot)]


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def settled(bot: Bot) -> bool:
    return all(r["status"] in ("delivered", "dead") for r in outbox_rows(bot))


def keys_posted(slack: FakeSlack) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in slack.messages]


async def test_delivers_each_event_once_with_message_ids(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start_bot(bot_factory, slack, ["C1", "C2"])
    events = [
        {"kind": "campaign_failure", "id": f"e{i}", "labels": {"channel": "C2" if i % 2 else "C1"}}
        for i in range(6)
    ]
    await send(bot, events)
    await until(lambda: settled(bot) and len(slack.messages) == 6)
    assert sorted(keys_posted(slack)) == sorted(e["id"] for e in events)
    by_ts = {m["ts"]: m for m in slack.messages}
    for row in outbox_rows(bot):
        assert row["status"] == "delivered" and row["attempts"] == 1
        assert by_ts[row["provider_message_id"]]["channel"] == row["target"]
    assert {m["channel"] for m in slack.messages} == {"C1", "C2"}
    assert all(m["blocks"] and m["text"] for m in slack.messages)


async def test_pacing_keeps_under_the_channel_rate(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start_bot(bot_factory, slack, ["C1"], slack_interval_seconds=0.25)
    await send(bot, [{"kind": "audit", "id": f"p{i}"} for i in range(5)])
    await until(lambda: len(slack.messages) == 5)
    assert slack.count_429 == 0


async def test_429_waits_for_retry_after_and_loses_nothing(bot_factory: BotFactory) -> None:
    with FakeSlack(token=TOKEN, min_interval=0.6) as slack:
        bot = await start_bot(bot_factory, slack, ["C1"], slack_interval_seconds=0.0)
        await send(bot, [{"kind": "audit", "id": f"r{i}"} for i in range(3)])
        await until(lambda: len(slack.messages) == 3 and settled(bot), timeout=20)
        assert slack.count_429 >= 1
        assert sorted(keys_posted(slack)) == ["r0", "r1", "r2"]
        assert all(r["attempts"] == 1 for r in outbox_rows(bot)), "a 429 is not a failed attempt"
        async with client_for(bot) as client:
            metrics = (await client.get("/metrics")).text
        assert 'notifbot_delivery_retries_total{destination_type="slack"}' in metrics


async def test_transient_errors_retry_with_backoff(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start_bot(bot_factory, slack, ["C1"])
    slack.fail_next(2, status=500)
    await send(bot, [{"kind": "audit", "id": "t1"}])
    await until(lambda: settled(bot))
    [row] = outbox_rows(bot)
    assert (row["status"], row["attempts"]) == ("delivered", 3)
    assert keys_posted(slack) == ["t1"]


async def test_transient_errors_are_bounded_then_dead(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start_bot(bot_factory, slack, ["C1"], max_attempts=3)
    slack.fail_next(100, status=503)
    await send(bot, [{"kind": "audit", "id": "t2"}])
    await until(lambda: settled(bot))
    [row] = outbox_rows(bot)
    assert (row["status"], row["attempts"]) == ("dead", 3)
    assert "gave up after 3 attempts" in row["last_error"]


async def test_permanent_error_is_dead_at_once_and_can_be_retried(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    slack.missing_channels.add("C9")
    bot = await start_bot(bot_factory, slack, ["C9"])
    await send(bot, [{"kind": "audit", "id": "x1"}])
    await until(lambda: settled(bot))
    [row] = outbox_rows(bot)
    assert (row["status"], row["attempts"]) == ("dead", 1)
    assert "C9" in row["last_error"] and "channel" in row["last_error"]
    # the operator fixes the channel and re-queues the row
    slack.missing_channels.discard("C9")
    with store_of(bot) as conn:
        assert [d.id for d in outbox.list_dead(conn)] == [row["id"]]
        assert outbox.requeue(conn, row["id"], 0)
    bot.worker.wake()
    await until(lambda: outbox_rows(bot)[0]["status"] == "delivered")
    assert keys_posted(slack) == ["x1"]


async def test_invalid_auth_goes_dead_without_leaking_the_token(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start_bot(bot_factory, slack, ["C1"])
    slack.revoke_token()
    await send(bot, [{"kind": "audit", "id": "a1"}])
    await until(lambda: settled(bot))
    [row] = outbox_rows(bot)
    assert row["status"] == "dead" and "invalid_auth" in row["last_error"]
    assert TOKEN not in json.dumps(row)


async def test_untrusted_text_reaches_slack_escaped(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start_bot(bot_factory, slack, ["C1"])
    evil = "<!channel> <https://evil.example|click here> & <@U123>"
    await send(
        bot,
        [
            {
                "kind": "campaign_failure",
                "id": "evil",
                "summary": evil,
                "fields": {"campaign_name": evil, "error": evil},
            }
        ],
    )
    await until(lambda: len(slack.messages) == 1)
    posted = json.dumps(slack.messages[0]["blocks"]) + slack.messages[0]["text"]
    assert "<!channel>" not in posted and "<https://evil" not in posted and "<@U123>" not in posted
    assert "&lt;!channel&gt;" in posted

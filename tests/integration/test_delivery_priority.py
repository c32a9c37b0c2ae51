"""Nothing important waits behind a storm: a critical event overtakes a channel's queued warnings, at Slack's pace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from notifbot.app import Bot
from tests.fakes.slack import FakeSlack, Message
from tests.integration.conftest import BotFactory, post_events, rows

pytestmark = pytest.mark.backends

TOKEN = "xoxb-test-token-abcdef"
STORM = 100
QUOTA_REACHED = {"kind": "web_services", "id": "quota-reached", "fields": {"used": 50000, "quota": 50000}}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=1.0) as fake:  # Slack's one message per second per channel
        yield fake


def key(m: Message) -> str:
    return str((m.metadata or {}).get("event_payload", {}).get("key"))


async def start(bot_factory: BotFactory, slack: FakeSlack) -> Bot:
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN},
        slack={"api_url": slack.api_url, "interactive": False, "timeout_seconds": 2.0},
        destinations={"ops": {"type": "slack", "channel": "C1"}},
        routes=[{"to": ["ops"]}],
        delivery={"slack_interval_seconds": 1.0},  # the default pacing, as in production
    )
    return bot


async def test_a_critical_event_overtakes_a_storm_in_its_channel(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start(bot_factory, slack)
    await post_events(bot, [{"kind": "campaign_failure", "id": f"storm-{i}"} for i in range(STORM)])
    await slack.wait_for_messages_async(1, timeout=5)  # the storm is draining, one message a second

    await post_events(bot, [QUOTA_REACHED])
    accepted = time.time()
    deadline = time.monotonic() + 5
    while (critical := next((m for m in slack.messages if key(m) == "quota-reached"), None)) is None:
        assert time.monotonic() < deadline, f"not posted; Slack has {[key(m) for m in slack.messages]}"
        await asyncio.sleep(0.02)

    assert critical.arrived - accepted <= 3.0
    posted = [key(m) for m in slack.messages]
    assert posted.index("quota-reached") <= 2  # at most the storm message in flight went between
    [[pending]] = rows(bot, "SELECT count(*) FROM outbox WHERE status = 'pending'")
    assert pending >= STORM - 5, "the storm was still queued behind it"
    assert slack.count_429 == 0
    # the storm keeps its own order behind the critical one
    storm_posted = [k for k in posted if k.startswith("storm-")]
    assert storm_posted == [f"storm-{i}" for i in range(len(storm_posted))]

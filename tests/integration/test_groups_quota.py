"""The quota's day is one message: 80 → 95 → 100 % edit it in place and the reset at 00:00 CT resolves it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from notifbot.app import Bot
from notifbot.central_time import CENTRAL
from notifbot.config import MarketoInstance
from notifbot.marketo.client import MarketoClient
from notifbot.sources.marketo.quota import QuotaWatch
from tests.fakes.marketo import FakeMarketo
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory, wait_for
from tests.integration.marketo_support import MUNCHKIN, SECRET, Clock, _no_sleep

pytestmark = pytest.mark.backends

TOKEN = "xoxb-quota-groups"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=1.0) as fake:
        yield fake


async def slack_calls_after(slack: FakeSlack, watch: QuotaWatch) -> int:
    """Runs one poll; the number of new top-level posts it caused once delivered (edits are not posts)."""
    before = len(slack.top_level("C1"))
    await watch.run_once()
    await asyncio.sleep(1.2)
    return len(slack.top_level("C1")) - before


def header(slack: FakeSlack) -> str:
    (message,) = slack.top_level("C1")
    return str(message["blocks"][0]["text"]["text"])


async def test_quota_80_95_100_then_the_reset_is_one_message_edited_in_place(
    bot_factory: BotFactory, slack: FakeSlack, clock: Clock, fake: FakeMarketo, clients: list[MarketoClient]
) -> None:
    bot: Bot = await bot_factory(  # the default repeat grouping (delivery.repeat_window), no route `group`
        env={"SLACK_BOT_TOKEN": TOKEN},
        slack={"api_url": slack.api_url, "interactive": False},
        destinations={"ops": {"type": "slack", "channel": "C1"}},
        routes=[{"to": "ops"}],
        delivery={"repeat_window": "10m", "slack_interval_seconds": 1.0},
    )
    instance = MarketoInstance(
        munchkin_id=MUNCHKIN,
        base_url=fake.base_url,
        client_id="cid-1",
        client_secret=SECRET,
        daily_quota=10_000,
    )
    client = MarketoClient(instance, budget=500, sleep=_no_sleep, now=clock)
    clients.append(client)
    watch = QuotaWatch(client, instance, bot.db, bot.pipeline.accept, clock=clock)

    fake.usage_users = {"etl": 8_100}
    await watch.run_once()
    await wait_for(lambda: len(slack.top_level("C1")) == 1)
    assert header(slack) == ":large_orange_circle: Marketo daily API quota at 81%"

    clock.advance(30)
    fake.usage_users = {"etl": 9_600}  # past 95 %: the same message, edited
    await watch.run_once()
    await wait_for(lambda: "96%" in header(slack))
    assert len(slack.top_level("C1")) == 1

    clock.advance(
        60
    )  # 90 minutes after the first alert, far past the 10-minute repeat window: the quota's day
    fake.usage_users = {"etl": 9_990, "x": 200}  # past 100 %
    assert await slack_calls_after(slack, watch) == 0  # an edit, not a new post
    await wait_for(lambda: "quota reached" in header(slack))
    assert header(slack).startswith(":red_circle:") and len(slack.top_level("C1")) == 1

    clock.wall = datetime(2024, 3, 6, 0, 1, tzinfo=CENTRAL).astimezone(UTC)  # the reset at 00:00 CT
    fake.usage_users = {"etl": 12}
    await watch.run_once()
    await wait_for(lambda: header(slack).startswith(":white_check_mark: Resolved"))
    (message,) = slack.top_level("C1")
    await wait_for(lambda: any("Resolved" in str(m["blocks"]) for m in slack.thread(message.ts)))
    assert slack.count_429 == 0 and len(slack.top_level("C1")) == 1

    await watch.run_once()  # a second poll after the reset says nothing more
    await asyncio.sleep(1.2)
    assert len(slack.top_level("C1")) == 1 and len(slack.thread(message.ts)) == 1

"""Digests through the real pipeline, store, worker and senders to the fake Slack and Teams: one message per period.

The shortest digest period config allows is an hour (at a whole minute), so these tests store events the way the
pipeline does (its own targets, one ingest transaction) but stamped with an ingest time in a period that has
already ended: its digest is due at once. A period still running is the same digest with a later due time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.sources.events import parse_event
from notifbot.store.events import insert_notifications
from tests.fakes.graph import FakeGraph
from tests.fakes.slack import FakeSlack, LostAnswer
from tests.fakes.workflow import FakeWorkflow
from tests.integration.conftest import BotFactory, db_rows, wait_for
from tests.unit.render.teams_helpers import assert_valid_card

TOKEN = "xoxb-test-token-digests"
DIGEST = {"every": "1h", "at": "08:00", "timezone": "Europe/Stockholm"}
HOUR = 3600.0


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=1.0) as fake:
        yield fake


async def start(bot_factory: BotFactory, slack: FakeSlack) -> Bot:
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN},
        slack={"api_url": slack.api_url, "interactive": False, "timeout_seconds": 2.0},
        destinations={"crm": {"type": "slack", "channel": "C1"}, "ops": {"type": "slack", "channel": "C2"}},
        routes=[{"match": {"kind": "crm_sync"}, "to": "crm", "digest": DIGEST}, {"to": "ops"}],
        delivery={"slack_interval_seconds": 1.0, "poll_seconds": 0.1},
    )
    return bot


def lead_failure(i: int) -> dict[str, Any]:
    return {
        "kind": "crm_sync",
        "id": f"lead{i}",
        "instance": "123-ABC-456",
        "summary": f"Lead <{i}> failed to sync to Dynamics",
        "fields": {"crm": "dynamics", "lead_id": 5000 + i},
    }


async def ingest(bot: Bot, start: int, n: int, at: float) -> None:
    """Stores events as the pipeline does (its targets, one transaction), received at `at`."""
    now = datetime.now(UTC)
    items = [
        (e, bot.pipeline.targets_for(e))
        for e in (parse_event(lead_failure(i), now=now) for i in range(start, start + n))
    ]
    await bot.db.call(insert_notifications, items, now=at)
    bot.worker.wake()


def ended_period() -> float:
    """10 minutes into an hour that ended over an hour ago: events up to 50 minutes later share its digest
    (hourly periods end on the hour in Stockholm as in UTC), whatever the time the test runs."""
    return (time.time() // HOUR - 2) * HOUR + 600


def text_of(message: Any) -> str:
    return str(message["text"]) + str(message["blocks"])


async def test_300_lead_failures_in_an_ended_period_are_one_message_and_the_running_period_waits(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start(bot_factory, slack)
    ended = ended_period()  # 10 minutes into an hourly period that ended at least an hour ago
    for chunk in range(0, 300, 100):
        await ingest(bot, chunk, 100, ended + chunk)
    await ingest(bot, 300, 5, time.time())  # the period running now: due at its end, not before
    await wait_for(lambda: len(slack.top_level("C1")) >= 1)
    await asyncio.sleep(1.5)  # a second post (or the running period's) would arrive now
    (message,) = slack.top_level("C1")
    text = text_of(message)
    assert "300 events" in text and "×300" in text
    assert "digest kind=crm_sync" in text and "Europe/Stockholm" in text
    assert "300 crm_sync on 123-ABC-456" in text
    assert "Lead &lt;0&gt; failed" in text and "and 290 more" in text  # the first items, escaped; not all 300
    assert "listed in the thread" not in text and slack.thread(message.ts) == []
    assert len(str(message["blocks"])) < 12_000
    assert db_rows(bot, "SELECT count, sealed FROM digests ORDER BY id") == [(300, 1), (5, 0)]
    assert db_rows(bot, "SELECT status FROM outbox ORDER BY id") == [("delivered",), ("pending",)]
    assert db_rows(bot, "SELECT count(*) FROM digest_events") == [(305,)]


TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
CHANNEL = "19:crm0123456789@thread.tacv2"
GRAPH_TOKEN = "graph-test-token-digests"


async def test_a_digest_is_one_card_in_a_teams_channel_and_one_through_a_workflow(
    bot_factory: BotFactory,
) -> None:
    with FakeGraph(token=GRAPH_TOKEN, min_interval=0.3) as graph, FakeWorkflow() as flow:
        graph.channels.add((TEAM, CHANNEL))
        bot: Bot = await bot_factory(
            env={
                "GRAPH_ACCESS_TOKEN": GRAPH_TOKEN,
                "GRAPH_API_URL": graph.graph_url,
                "TEAMS_WORKFLOW_URL": flow.url,
            },
            destinations={
                "crm": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL},
                "flow": {"type": "teams_workflow", "url": flow.url},
            },
            routes=[{"match": {"kind": "crm_sync"}, "to": ["crm", "flow"], "digest": DIGEST}, {"to": "flow"}],
            delivery={
                "teams_interval_seconds": 0.3,
                "teams_workflow_interval_seconds": 0.25,
                "poll_seconds": 0.1,
            },
        )
        await ingest(bot, 0, 300, ended_period())
        await wait_for(lambda: bool(graph.top_level(TEAM, CHANNEL)) and len(flow.posts) == 1)
        await asyncio.sleep(1.0)  # a second card would arrive now
        (message,) = graph.top_level(TEAM, CHANNEL)
        card = message.card()
        assert_valid_card(card)
        for text in (
            json.dumps(card, ensure_ascii=False),
            json.dumps(flow.posts[0].body, ensure_ascii=False),
        ):
            assert "300 events" in text and "and 290 more" in text and "Europe/Stockholm" in text
        assert len(flow.posts) == 1 and graph.replies(message.id) == []
        assert len(json.dumps(card).encode()) < 28_000


@pytest.mark.parametrize("kind", ["drop", "late"])
async def test_a_digest_post_whose_answer_was_lost_is_found_not_posted_again(
    bot_factory: BotFactory, slack: FakeSlack, kind: LostAnswer
) -> None:
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN},
        slack={"api_url": slack.api_url, "interactive": False, "timeout_seconds": 0.4},
        destinations={"crm": {"type": "slack", "channel": "C1"}, "ops": {"type": "slack", "channel": "C2"}},
        routes=[{"match": {"kind": "crm_sync"}, "to": "crm", "digest": DIGEST}, {"to": "ops"}],
        delivery={"slack_interval_seconds": 0.0, "poll_seconds": 0.1, "backoff_base_seconds": 0.05},
    )
    slack.lose_next_answers(1, kind, delay=1.0)
    await ingest(bot, 0, 50, ended_period())
    await wait_for(lambda: db_rows(bot, "SELECT status FROM outbox") == [("delivered",)])
    await asyncio.sleep(0.5)
    assert len(slack.lost_answers) == 1
    (message,) = slack.top_level("C1")
    assert "50 events" in text_of(message)
    ((provider_id,),) = db_rows(bot, "SELECT provider_message_id FROM outbox")
    assert provider_id == message.ts

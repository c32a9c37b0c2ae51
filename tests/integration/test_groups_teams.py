"""Alert groups in Teams: one card edited in place with replies through Graph; summaries through a workflow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from notifbot.app import Bot
from tests.fakes.graph import FakeGraph
from tests.fakes.workflow import FakeWorkflow
from tests.integration.conftest import BotFactory, outbox_rows, post_events, wait_for
from tests.unit.render.teams_helpers import assert_valid_card

pytestmark = pytest.mark.backends

TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
CHANNEL = "19:ops0123456789@thread.tacv2"
TOKEN = "graph-test-token"
GROUP = {"by": ["kind", "instance"], "wait": "1s", "interval": "5m", "repeat": "4h"}


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=TOKEN, min_interval=0.3) as fake:
        fake.channels.add((TEAM, CHANNEL))
        yield fake


def failure(i: int) -> dict[str, Any]:
    return {
        "kind": "campaign_failure",
        "id": f"t{i}",
        "instance": "123-ABC-456",
        "fields": {
            "campaign_id": 2000 + i,
            "campaign_name": f"Webinar **{i}**",
            "error": "Change Data Value",
        },
    }


def blocks(element: Any) -> list[dict[str, Any]]:
    """Every element of a card, depth first (event text must sit in TextRuns, which never render markdown)."""
    if isinstance(element, dict):
        return [element] + [b for v in element.values() for b in blocks(v)]
    if isinstance(element, list):
        return [b for v in element for b in blocks(v)]
    return []


async def test_a_storm_is_one_card_edited_in_place_with_its_detail_in_replies(
    bot_factory: BotFactory, graph: FakeGraph
) -> None:
    bot: Bot = await bot_factory(
        env={"GRAPH_ACCESS_TOKEN": TOKEN, "GRAPH_API_URL": graph.graph_url},
        destinations={"ops": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL}},
        routes=[{"to": "ops", "group": GROUP}],
        delivery={"teams_interval_seconds": 0.3},
    )
    await post_events(bot, [failure(i) for i in range(30)])
    await asyncio.sleep(0.3)
    await post_events(bot, [failure(i) for i in range(30, 45)])
    await wait_for(
        lambda: (
            all(r["status"] == "delivered" for r in outbox_rows(bot)) and bool(graph.top_level(TEAM, CHANNEL))
        )
    )
    (card_message,) = graph.top_level(TEAM, CHANNEL)
    await wait_for(lambda: "45 events" in json.dumps(graph.top_level(TEAM, CHANNEL)[0].card()))
    card = graph.top_level(TEAM, CHANNEL)[0].card()
    assert_valid_card(card)
    text = json.dumps(card, ensure_ascii=False)
    assert "×45" in text and "and 35 more" in text
    assert not [b for b in blocks(card) if b.get("type") == "TextBlock" and "Webinar" in b.get("text", "")]
    await wait_for(
        lambda: sum(json.dumps(r.card()).count("Webinar") for r in graph.replies(card_message.id)) == 45
    )
    assert graph.throttled == 0


async def test_a_workflow_gets_one_summary_card_per_interval(bot_factory: BotFactory) -> None:
    with FakeWorkflow() as flow:
        bot: Bot = await bot_factory(
            env={"TEAMS_WORKFLOW_URL": flow.url},
            destinations={"flow": {"type": "teams_workflow", "url": flow.url}},
            routes=[{"to": "flow", "group": {**GROUP, "interval": "2s"}}],
            delivery={"teams_workflow_interval_seconds": 0.25},
        )
        await post_events(bot, [failure(i) for i in range(20)])
        await wait_for(lambda: len(flow.posts) == 1)
        assert "20 events" in json.dumps(flow.posts[0].body)
        await post_events(bot, [failure(i) for i in range(20, 25)])
        await wait_for(lambda: len(flow.posts) == 2, timeout=10)
        assert flow.posts[1].arrived - flow.posts[0].arrived >= 1.9  # one summary per interval
        assert "25 events" in json.dumps(flow.posts[1].body)
        await asyncio.sleep(0.5)
        assert len(flow.posts) == 2 and flow.rejected == []

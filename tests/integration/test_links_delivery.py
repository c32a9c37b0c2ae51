"""Issue #10 item 3 end to end: events over HTTP, posted through slack_sdk to the fake Slack, buttons labelled by host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory
from tests.integration.test_delivery import TOKEN, send, slack_config, until


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        yield fake


def buttons_by_key(slack: FakeSlack) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for m in slack.messages:
        elements: list[dict[str, Any]] = [
            el for b in m["blocks"] if b["type"] == "actions" for el in b["elements"] if "url" in el
        ]
        out[m["metadata"]["event_payload"]["key"]] = [(el["text"]["text"], el["url"]) for el in elements]
    return out


async def test_only_marketo_and_configured_hosts_get_the_marketo_button(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    config = slack_config(slack, ["C1"], slack_interval_seconds=0.0)
    bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN}, links={"marketo_hosts": ["go.acme.example"]}, **config
    )
    urls = {
        "forged": "https://app.marketo.com@evil.example/login",
        "evil": "https://evil.example/login",
        "marketo": "https://app-ab12.marketo.com/#SC1A1",
        "configured": "https://go.acme.example/lp/1",
    }
    await send(bot, [{"kind": "campaign_failure", "id": k, "fields": {"url": u}} for k, u in urls.items()])
    await until(lambda: len(slack.messages) == len(urls))
    assert buttons_by_key(slack) == {
        "forged": [],
        "evil": [("Open link (evil.example)", urls["evil"])],
        "marketo": [("Open in Marketo", urls["marketo"])],
        "configured": [("Open in Marketo", urls["configured"])],
    }

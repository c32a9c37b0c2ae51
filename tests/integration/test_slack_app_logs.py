"""What the Slack app logs: no false Bolt warning at start, and the acknowledgement line keeps its own time."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from notifbot.chatops.slack_app import bolt_log
from notifbot.logs import JsonFormatter
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory, client_for
from tests.integration.test_slack_app import TOKEN, block_action, command, post_signed, start, until


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        yield fake


async def test_starting_the_slack_app_with_the_token_in_the_environment_warns_nothing(
    bot_factory: BotFactory,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Bolt reads SLACK_BOT_TOKEN from the process environment itself, as on every real start
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    bot = await start(bot_factory, slack)
    assert bot.slack_app is not None
    reply = await command(bot, slack, "help")  # a request through Bolt: it works with the client it was given
    assert "/marketo" in json.dumps(reply)
    assert bot.slack_app.bolt.client.base_url == slack.api_url
    said = [r.getMessage() for r in caplog.records]
    assert not [m for m in said if "As you gave" in m or "will be unused" in m], said
    # only that one false alarm is dropped: Bolt's other warnings still reach the log
    bolt_log.warning(warning_client_prioritized_and_token_skipped())
    bolt_log.warning("Unhandled request")
    assert [r.getMessage() for r in caplog.records][-1] == "Unhandled request"
    assert not [r for r in caplog.records if "As you gave" in r.getMessage()]


async def test_the_acknowledged_line_keeps_its_log_time_and_names_the_message_ts(
    bot_factory: BotFactory, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="notifbot.slack")
    bot = await start(bot_factory, slack)
    async with client_for(bot) as client:
        await client.post("/hooks/events", json={"kind": "campaign_failure", "id": "ack-log"})
    await until(lambda: len(slack.messages) == 1)
    posted = slack.messages[0]
    body = block_action("notifbot_ack", "ack-log", "C1", posted["ts"], "U0ADMIN", slack.response_url("a1"))
    before = time.time()
    assert (await post_signed(bot, body)).status_code == 200
    await until(lambda: any(r.getMessage() == "alert acknowledged" for r in caplog.records))
    [record] = [r for r in caplog.records if r.getMessage() == "alert acknowledged"]
    line = json.loads(JsonFormatter().format(record))
    logged_at = datetime.fromisoformat(line["ts"])
    assert logged_at.tzinfo == UTC and before - 1 <= logged_at.timestamp() <= time.time() + 1
    assert line["message_ts"] == posted["ts"] and line["channel"] == "C1" and line["user"] == "U0ADMIN"

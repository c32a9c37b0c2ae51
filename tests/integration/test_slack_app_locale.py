"""The Bolt app answers in the asker's language (users.info), else the channel's, else the global one (locale.md §5)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from notifbot.app import Bot
from tests.fakes.slack import SCOPES, FakeSlack
from tests.integration.conftest import BotFactory, client_for
from tests.integration.test_slack_app import (
    SECRET,
    TOKEN,
    block_action,
    command,
    post_signed,
    text_of,
    until,
)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        yield fake


async def start(
    bot_factory: BotFactory, slack: FakeSlack, *, channel_locale: str | None = None, **top: Any
) -> Bot:
    ops: dict[str, Any] = {"type": "slack", "channel": "C1"}
    if channel_locale:
        ops["locale"] = channel_locale
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET},
        slack={"api_url": slack.api_url, "admins": ["U0ADMIN"]},
        destinations={"ops": ops},
        routes=[{"to": "ops"}],
        delivery={"slack_interval_seconds": 0.0},
        **top,
    )
    return bot


async def test_the_users_own_language_beats_the_channels(bot_factory: BotFactory, slack: FakeSlack) -> None:
    slack.set_user("U0ADMIN", "sv-SE", "Europe/Stockholm")
    slack.set_user("U0ENGLISH", "en-US", "America/New_York")
    bot = await start(bot_factory, slack, channel_locale="sv")
    swedish = text_of(await command(bot, slack, "hjälp"))
    assert "aviseringar från Marketo" in swedish and "/marketo kvot [--dela] (quota)" in swedish
    english = text_of(await command(bot, slack, "kvot", user="U0ENGLISH"))
    assert "Marketo API quota" in english  # a Swedish word typed by an English user: answered in English
    shared = await command(bot, slack, "kvot --dela", user="U0ENGLISH")
    assert shared["response_type"] == "in_channel" and "Marketos API-kvot" in text_of(shared)  # the channel's
    asked = [p for m, p in slack.requests if m == "users.info"]
    assert sorted({str(p["user"]) for p in asked}) == ["U0ADMIN", "U0ENGLISH"] and len(asked) == 2  # cached


async def test_without_users_read_the_channel_then_the_global_language_answer(
    bot_factory: BotFactory,
) -> None:
    with FakeSlack(token=TOKEN, min_interval=0.0, scopes=set(SCOPES) - {"users:read"}) as slack:
        slack.set_user("U0ADMIN", "en-US")
        bot = await start(bot_factory, slack, channel_locale="sv")
        assert "Marketos API-kvot" in text_of(
            await command(bot, slack, "quota")
        )  # missing_scope: the channel
    with FakeSlack(token=TOKEN, min_interval=0.0) as slack:
        bot = await start(bot_factory, slack, locale="sv")  # user unknown to Slack, channel without a locale
        assert "Marketos API-kvot" in text_of(await command(bot, slack, "quota"))


async def test_a_slow_users_info_is_not_waited_for(bot_factory: BotFactory, slack: FakeSlack) -> None:
    slack.set_user("U0ADMIN", "sv-SE")
    slack.users_info_delay = 3.0
    bot = await start(bot_factory, slack)
    reply = await command(bot, slack, "quota")  # answered within the ack budget, in the channel's language
    assert "Marketo API quota" in text_of(reply)


async def test_english_is_unchanged_for_english_users(bot_factory: BotFactory, slack: FakeSlack) -> None:
    slack.set_user("U0ADMIN", "en-GB")  # no zone: times stay in UTC with CT beside
    bot = await start(bot_factory, slack)
    said = text_of(await command(bot, slack, "help"))
    assert "/marketo quota [--share]" in said and "Read-only commands are open to everyone" in said


async def test_buttons_answer_in_the_clickers_language(bot_factory: BotFactory, slack: FakeSlack) -> None:
    slack.set_user("U0ADMIN", "sv-SE", "Europe/Stockholm")
    slack.set_user("U0OTHER", "sv-SE", "Europe/Stockholm")
    bot = await start(bot_factory, slack)
    async with client_for(bot) as client:
        await client.post("/hooks/events", json={"kind": "campaign_failure", "id": "ack-me"})
    await until(lambda: len(slack.messages) == 1)
    ts = slack.messages[0]["ts"]
    ack = block_action("notifbot_ack", "ack-me", "C1", ts, "U0ADMIN", slack.response_url("a1"))
    assert (await post_signed(bot, ack)).status_code == 200
    await until(lambda: len(slack.updates) == 1)
    assert "Acknowledged by <@U0ADMIN>" in json.dumps(slack.updates[0].blocks)  # the channel's language
    assert (await post_signed(bot, ack)).status_code == 200
    await until(lambda: len(slack.responses_for("a1")) == 1)
    again = json.dumps(slack.responses_for("a1"), ensure_ascii=False)
    assert "Redan kvitterat av <@U0ADMIN> · " in again and "CET" in again
    refused = block_action("notifbot_mute_24h", "engagement", "C1", ts, "U0OTHER", slack.response_url("m0"))
    assert (await post_signed(bot, refused)).status_code == 200
    await until(lambda: len(slack.responses_for("m0")) == 1)
    assert "Bara notifbot-administratörer" in json.dumps(slack.responses_for("m0"), ensure_ascii=False)
    mute = block_action("notifbot_mute_24h", "engagement", "C1", ts, "U0ADMIN", slack.response_url("m1"))
    assert (await post_signed(bot, mute)).status_code == 200
    await until(lambda: len(slack.responses_for("m1")) == 1)
    muted = json.dumps(slack.responses_for("m1"), ensure_ascii=False)
    assert "Tystade *engagement* i 24 h" in muted and "/marketo avtysta engagement" in muted


async def test_working_on_it_in_the_users_language_without_waiting_for_slack(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    slack.set_user("U0ADMIN", "sv-SE", "Europe/Stockholm")
    bot = await start(bot_factory, slack)
    assert bot.slack_app is not None
    await command(bot, slack, "help")  # users.info answered: cached
    bot.slack_app.ack_budget = 0.0  # every answer counts as slow
    reply = await command(bot, slack, "status")
    assert reply["text"] == "Arbetar på det … svaret kommer strax."
    slack.set_user("U0NEW", "sv-SE")
    slack.users_info_delay = 3.0  # the ack never waits for users.info
    started = time.monotonic()
    assert (await command(bot, slack, "status", user="U0NEW"))["text"].startswith("Working on it")
    assert time.monotonic() - started < 1.0


async def test_the_acknowledged_alert_is_edited_in_the_channels_language(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    slack.set_user("U0ADMIN", "en-US")
    bot = await start(bot_factory, slack, channel_locale="sv")
    async with client_for(bot) as client:
        await client.post("/hooks/events", json={"kind": "campaign_failure", "id": "ack-sv"})
    await until(lambda: len(slack.messages) == 1)
    ack = block_action(
        "notifbot_ack", "ack-sv", "C1", slack.messages[0]["ts"], "U0ADMIN", slack.response_url("a")
    )
    assert (await post_signed(bot, ack)).status_code == 200
    await until(lambda: len(slack.updates) == 1)
    assert "Acknowledged by" not in json.dumps(slack.updates[0].blocks)  # Swedish, though the clicker is not

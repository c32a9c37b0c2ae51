"""Alert groups across a crash of the real `notifbot serve`: kill -9 inside a group window loses no event and
posts no second message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.slack import FakeSlack
from tests.integration.process import BotProcess, query, wait_until

pytestmark = pytest.mark.slow
TOKEN = "xoxb-groups-process-token"


def bot_for(tmp: Path, slack: FakeSlack, wait: str) -> BotProcess:
    config = {
        "storage": {
            "path": str(tmp / "notifbot.db"),
            "lease_seconds": 2,
        },  # a killed bot's channel lease lapses fast
        "slack": {"interactive": False},
        "destinations": {"ops": {"type": "slack", "channel": "C1"}},
        "routes": [{"to": "ops", "group": {"by": ["kind", "instance"], "wait": wait, "interval": "5m"}}],
        "delivery": {"poll_seconds": 0.1, "lease_seconds": 2},
    }
    return BotProcess(tmp, config, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url})


def events(start: int, n: int) -> list[dict[str, Any]]:
    return [
        {"kind": "campaign_failure", "id": f"c{i}", "instance": "123-ABC-456", "fields": {"campaign_id": i}}
        for i in range(start, start + n)
    ]


def test_kill_9_inside_the_group_window_then_restart_posts_one_message_with_every_event(
    tmp_path: Path, procs: list[BotProcess]
) -> None:
    with FakeSlack(token=TOKEN, min_interval=1.0) as slack:
        bot = bot_for(tmp_path, slack, wait="3s")
        procs.append(bot)
        bot.start()
        assert bot.post(events(0, 40)).status_code == 202
        bot.kill9()  # inside the 3 s window: nothing posted yet, 40 events accepted
        assert slack.top_level("C1") == []
        bot.start()
        assert bot.post(events(40, 20)).status_code == 202
        wait_until(lambda: any("60 events" in str(m["blocks"]) for m in slack.top_level("C1")))
        time.sleep(1.5)  # a duplicate post would arrive now
        (message,) = slack.top_level("C1")
        assert "×60" in message["text"] + str(message["blocks"])
        assert query(tmp_path / "notifbot.db", "SELECT count, closed FROM alert_groups") == [(60, 0)]


def test_kill_9_after_the_post_then_restart_edits_the_same_message(
    tmp_path: Path, procs: list[BotProcess]
) -> None:
    with FakeSlack(token=TOKEN, min_interval=1.0) as slack:
        bot = bot_for(tmp_path, slack, wait="0s")
        procs.append(bot)
        bot.start()
        assert bot.post(events(0, 5)).status_code == 202
        wait_until(lambda: len(slack.top_level("C1")) == 1)
        bot.kill9()
        bot.start()
        assert bot.post(events(5, 5)).status_code == 202
        wait_until(lambda: any("10 events" in str(m["blocks"]) for m in slack.top_level("C1")))
        time.sleep(1.5)
        assert len(slack.top_level("C1")) == 1 and slack.count_429 == 0

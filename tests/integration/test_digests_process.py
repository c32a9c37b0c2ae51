"""Digests across crashes of the real `notifbot serve`: kill -9 inside a period loses no event, and the period's
digest is one message, posted once, after its end.

A period lasts at least an hour (config allows no less), so the test cannot wait for one to end. While the bot is
down it makes the period's end come: it sets the digest's outbox row due now, as the clock reaching the period's
end would. Everything else (ingest over HTTP, the join in the ingest transaction, the restart's recovery, the
worker's claim, seal and post to Slack) runs as in production.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.slack import FakeSlack
from tests.integration.process import BotProcess, query, wait_until

pytestmark = pytest.mark.slow
TOKEN = "xoxb-digests-process-token"


def bot_for(tmp: Path, slack: FakeSlack) -> BotProcess:
    config = {
        "storage": {
            "path": str(tmp / "notifbot.db"),
            "lease_seconds": 2,
        },  # a killed bot's channel lease lapses fast
        "slack": {"interactive": False},
        "destinations": {
            "crm": {"type": "slack", "channel": "C1"},
            "ops": {"type": "slack", "channel": "C2"},
        },
        "routes": [
            {
                "match": {"kind": "crm_sync"},
                "to": "crm",
                "digest": {"every": "24h", "at": "08:00", "timezone": "Europe/Stockholm"},
            },
            {"to": "ops"},
        ],
        "delivery": {"poll_seconds": 0.1, "lease_seconds": 2},
    }
    return BotProcess(tmp, config, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url})


def lead_failures(start: int, n: int) -> list[dict[str, Any]]:
    return [
        {"kind": "crm_sync", "id": f"lead{i}", "instance": "123-ABC-456", "fields": {"crm": "dynamics"}}
        for i in range(start, start + n)
    ]


def test_kill_9_inside_a_digest_period_then_restart_posts_one_message_with_every_event(
    tmp_path: Path, procs: list[BotProcess]
) -> None:
    db = tmp_path / "notifbot.db"
    with FakeSlack(token=TOKEN, min_interval=1.0) as slack:
        bot = bot_for(tmp_path, slack)
        procs.append(bot)
        bot.start()
        for start in range(0, 300, 100):
            assert bot.post(lead_failures(start, 100)).status_code == 202
        bot.kill9()  # inside the period: 300 events accepted, nothing posted
        ((end,),) = query(db, "SELECT next_attempt_at FROM outbox WHERE status = 'pending'")
        assert end > time.time() and query(db, "SELECT count FROM digests") == [(300,)]

        bot.start()
        assert bot.post(lead_failures(300, 20)).status_code == 202
        time.sleep(1.0)  # the period has not ended: nothing is posted
        assert slack.top_level("C1") == [] and query(db, "SELECT count FROM digests") == [(320,)]
        bot.kill9()

        query(db, "UPDATE outbox SET next_attempt_at = ? WHERE digest_id IS NOT NULL", time.time())  # the end
        bot.start()
        wait_until(lambda: len(slack.top_level("C1")) == 1)
        message = slack.top_level("C1")[0]
        assert "320 events" in str(message["blocks"]) and "×320" in message["text"] + str(message["blocks"])
        wait_until(
            lambda: query(db, "SELECT status FROM outbox WHERE digest_id IS NOT NULL") == [("delivered",)]
        )
        bot.kill9()  # after the post: a restart posts nothing more
        bot.start()
        time.sleep(1.5)
        assert len(slack.top_level("C1")) == 1 and slack.top_level("C2") == []
        assert query(db, "SELECT count(*) FROM outbox") == [(1,)]

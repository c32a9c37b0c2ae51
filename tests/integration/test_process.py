"""The real `notifbot serve` process: crash recovery (kill -9), graceful SIGTERM, the embedded default."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.fakes.slack import FakeSlack
from tests.integration.process import BotProcess, wait_until

pytestmark = pytest.mark.slow
TOKEN = "xoxb-process-test-token"


def slack_bot(tmp: Path, slack: FakeSlack, channels: list[str], **delivery: float) -> BotProcess:
    config = {
        "storage": {
            "path": str(tmp / "notifbot.db"),
            "lease_seconds": 2,
        },  # a killed bot's channel lease lapses fast
        "slack": {"interactive": False},
        "destinations": {c: {"type": "slack", "channel": c} for c in channels},
        "routes": [{"match": {"ch": c}, "to": [c]} for c in channels[1:]] + [{"to": [channels[0]]}],
        # one message per event (these tests are about the outbox across crashes; groups: test_groups_process.py)
        "delivery": {
            "poll_seconds": 0.1,
            "lease_seconds": 2,
            "slack_interval_seconds": 0.25,
            "repeat_window": 0,
            **delivery,
        },
    }
    return BotProcess(tmp, config, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url})


def statuses(db: Path) -> Counter[str]:
    conn = sqlite3.connect(db)
    try:
        return Counter(r[0] for r in conn.execute("SELECT status FROM outbox"))
    finally:
        conn.close()


def test_kill_9_mid_delivery_then_restart_delivers_everything_once(
    tmp_path: Path, procs: list[BotProcess]
) -> None:
    # One channel paced at 0.4 s, so the kill lands in a quiet gap between two sends (a kill inside a send: below).
    with FakeSlack(token=TOKEN, min_interval=0.2) as slack:
        bot = slack_bot(tmp_path, slack, ["C1"], slack_interval_seconds=0.4)
        procs.append(bot)
        bot.start()
        events = [{"kind": "campaign_failure", "id": f"k{i}"} for i in range(12)]
        for chunk in (events[:6], events[6:]):
            assert bot.post(chunk).status_code == 202
        wait_until(lambda: len(slack.messages) >= 5)
        wait_until(lambda: time.time() - slack.messages[-1].arrived >= 0.15)
        bot.kill9()
        counts = statuses(tmp_path / "notifbot.db")
        assert counts["pending"] > 0, "the crash should leave work in the outbox"
        assert counts["delivered"] == len(slack.messages), (
            "every message Slack took was recorded before the kill"
        )
        bot.start()
        wait_until(lambda: statuses(tmp_path / "notifbot.db") == Counter({"delivered": len(events)}))
        time.sleep(0.5)  # any late duplicate would arrive now
        keys = Counter(m["metadata"]["event_payload"]["key"] for m in slack.messages)
        assert keys == Counter({e["id"]: 1 for e in events})
        conn = sqlite3.connect(tmp_path / "notifbot.db")
        ids = {r[0] for r in conn.execute("SELECT provider_message_id FROM outbox")}
        conn.close()
        assert ids == {m["ts"] for m in slack.messages}


def test_kill_9_inside_a_send_slack_stored_posts_once_after_restart(
    tmp_path: Path, procs: list[BotProcess]
) -> None:
    with FakeSlack(token=TOKEN, min_interval=0.0) as slack:
        slack.lose_next_answers(1, "late", delay=30.0)  # Slack stored the post; the answer is still coming
        bot = slack_bot(tmp_path, slack, ["C1"], slack_interval_seconds=0.0)
        procs.append(bot)
        bot.start()
        assert bot.post([{"kind": "audit", "id": "mid-send"}]).status_code == 202
        wait_until(lambda: len(slack.messages) == 1)
        bot.kill9()
        assert statuses(tmp_path / "notifbot.db") == Counter({"pending": 1})
        bot.start()  # the dead process's claim expires after lease_seconds; the next claim looks first
        wait_until(lambda: statuses(tmp_path / "notifbot.db") == Counter({"delivered": 1}))
        assert [m["metadata"]["event_payload"]["key"] for m in slack.messages] == ["mid-send"]
        assert [c for c in slack.calls if c[0] == "conversations.history"] == [
            ("conversations.history", "C1")
        ]


def test_sigterm_stops_intake_drains_and_exits_0(tmp_path: Path, procs: list[BotProcess]) -> None:
    with FakeSlack(token=TOKEN, min_interval=0.0) as slack:
        slack.set_latency(1.0)  # a send is in flight when the signal arrives
        bot = slack_bot(tmp_path, slack, ["C1"], slack_interval_seconds=0.0, drain_seconds=5)
        procs.append(bot)
        bot.start()
        assert bot.post([{"kind": "audit", "id": f"s{i}"} for i in range(5)]).status_code == 202
        wait_until(lambda: any(c[0] == "chat.postMessage" for c in slack.calls))
        assert bot.terminate() == 0
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{bot.url}/healthz", timeout=1)
        counts = statuses(tmp_path / "notifbot.db")
        assert counts["delivered"] >= 1, "the in-flight send was drained, not dropped"
        assert counts["delivered"] + counts["pending"] == 5
        conn = sqlite3.connect(tmp_path / "notifbot.db")
        claimed = conn.execute("SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL").fetchone()[0]
        conn.close()
        assert claimed == 0, "a clean stop releases its claims"
        # a restart resumes the outbox
        slack.set_latency(0.0)
        bot.start()
        wait_until(lambda: statuses(tmp_path / "notifbot.db") == Counter({"delivered": 5}))
        assert sorted(m["metadata"]["event_payload"]["key"] for m in slack.messages) == [
            f"s{i}" for i in range(5)
        ]


def test_embedded_default_prints_a_rendered_message(tmp_path: Path, procs: list[BotProcess]) -> None:
    bot = BotProcess(tmp_path, None)  # no config file: the embedded default (on a free port via --port)
    procs.append(bot)
    bot.start()
    r = bot.post({"kind": "crm_sync", "fields": {"crm": "salesforce", "problem": "expired_credentials"}})
    assert r.status_code == 202
    wait_until(lambda: "Salesforce" in bot.stdout())
    assert (tmp_path / "var" / "notifbot.db").exists()
    assert bot.terminate() == 0

"""Alert groups through the real worker and slack_sdk to the fake Slack: a storm is one message, edited, detailed."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.commands.core import handle
from notifbot.commands.model import Invocation
from notifbot.groups import GroupPolicy, GroupRef, Reminder
from notifbot.model import Severity
from notifbot.routing import group_id
from notifbot.sources.events import parse_event
from notifbot.store.acks import acknowledge
from notifbot.store.events import Target, insert_notifications
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory, client_for, db_rows, wait_for

pytestmark = pytest.mark.backends

TOKEN = "xoxb-test-token-groups"
GROUP = {"by": ["kind", "instance"], "wait": "1s", "interval": "5m", "repeat": "4h"}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=1.0) as fake:  # Slack's one message per second per channel
        yield fake


async def start(bot_factory: BotFactory, slack: FakeSlack, route: dict[str, Any], **delivery: Any) -> Bot:
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN},
        slack={"api_url": slack.api_url, "interactive": False, "timeout_seconds": 2.0},
        destinations={"ops": {"type": "slack", "channel": "C1"}},
        routes=[{"to": "ops", **route}],
        delivery={"slack_interval_seconds": 1.0, **delivery},
    )
    return bot


def failure(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "campaign_failure",
        "id": f"f{i}",
        "instance": "123-ABC-456",
        "fields": {"campaign_id": 1000 + i, "campaign_name": f"Nurture <{i}>", "error": "Sync to CRM failed"},
        **extra,
    }


def text_of(message: Any) -> str:
    return str(message["text"]) + str(message["blocks"])


async def test_a_storm_of_200_is_one_message_edited_in_place_with_its_detail_in_the_thread(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start(bot_factory, slack, {"group": GROUP})
    sent_at: list[float] = []
    async with client_for(bot) as client:
        for start_at in range(0, 200, 10):  # 200 failures within ~2 s
            chunk = range(start_at, start_at + 10)
            r = await client.post("/hooks/events", json=[failure(i) for i in chunk])
            assert r.status_code == 202, r.text
            sent_at.append(time.time())
            await asyncio.sleep(0.1)
    await wait_for(lambda: any("200 events" in text_of(m) for m in slack.top_level("C1")))
    visible_after = time.time() - sent_at[-1]
    (message,) = slack.top_level("C1")
    assert "×200" in text_of(message) and "and 190 more" in text_of(message)
    assert "Nurture &lt;0&gt;" in text_of(message)  # untrusted text escaped in the list
    await wait_for(lambda: sum(text_of(m).count("Nurture") for m in slack.thread(message.ts)) >= 200)
    listed = "".join(text_of(m) for m in slack.thread(message.ts))
    assert all(f"Nurture &lt;{i}&gt;" in listed for i in range(200))
    assert slack.count_429 == 0
    edits = [u.arrived for u in slack.updates if u.ts == message.ts]
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(edits)), edits  # at most one chat.update a second
    assert visible_after <= 1.0 + 2.0 + 1.0  # wait + 2 s (+1 s for this test's polling and a loaded machine)
    assert db_rows(bot, "SELECT count, closed FROM alert_groups") == [(200, 0)]
    assert db_rows(bot, "SELECT count(*) FROM events") == [(200,)]
    await wait_for(lambda: db_rows(bot, "SELECT status FROM outbox") == [("delivered",)])
    recent = await handle(Invocation("recent 3", "U1"), bot.ctx)  # every event still listed, with its group
    assert all(
        (i.detail or "").startswith("delivered (×200 group, firing) · campaign_failure")
        for i in recent.sections[0].items
    )
    status = await handle(Invocation("status", "U1"), bot.ctx)
    assert {f.label: f.value for f in status.sections[0].facts}["Alert groups open"] == "1 firing"


async def test_a_repeat_of_the_same_problem_edits_the_first_message_by_default(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start(bot_factory, slack, {}, repeat_window="10m")
    async with client_for(bot) as client:
        for i in range(3):  # the same failure three times (another id each time), then another campaign
            assert (await client.post("/hooks/events", json=failure(7, id=f"again{i}"))).status_code == 202
            await asyncio.sleep(0.3)
        assert (await client.post("/hooks/events", json=failure(8))).status_code == 202
    await wait_for(
        lambda: len(slack.top_level("C1")) == 2 and any("×3" in text_of(m) for m in slack.top_level("C1"))
    )
    first, second = slack.top_level("C1")
    assert "3 events" in text_of(first) and "×" not in str(second["blocks"][0])
    assert slack.thread(first.ts) == []  # repeats are counted, not listed
    assert slack.count_429 == 0


async def test_group_false_and_a_zero_window_post_every_event(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start(bot_factory, slack, {"group": False}, repeat_window="10m")
    async with client_for(bot) as client:
        r = await client.post("/hooks/events", json=[failure(7, id=f"x{i}") for i in range(3)])
        assert r.status_code == 202
    await wait_for(lambda: len(slack.top_level("C1")) == 3, timeout=10)
    assert db_rows(bot, "SELECT count(*) FROM alert_groups") == [(0,)]


async def test_a_resolved_event_marks_the_message_resolved_in_place_and_says_so_in_its_thread(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start(bot_factory, slack, {"group": {**GROUP, "wait": "0s"}})
    async with client_for(bot) as client:
        assert (await client.post("/hooks/events", json=[failure(i) for i in range(3)])).status_code == 202
        await wait_for(lambda: len(slack.top_level("C1")) == 1)
        resolved = {"kind": "campaign_failure", "instance": "123-ABC-456", "status": "resolved", "id": "ok1"}
        assert (await client.post("/hooks/events", json=resolved)).status_code == 202
        (message,) = slack.top_level("C1")
        await wait_for(lambda: "Resolved" in text_of(slack.top_level("C1")[0]))
        await wait_for(lambda: any("Resolved" in text_of(m) for m in slack.thread(message.ts)))
        assert "×3" in text_of(slack.top_level("C1")[0])  # the count stays: the resolve is not a failure
        assert (await client.post("/hooks/events", json=failure(9))).status_code == 202  # a new problem
        await wait_for(lambda: len(slack.top_level("C1")) == 2)
        unrelated = {"kind": "campaign_failure", "instance": "999-XYZ-999", "status": "resolved", "id": "ok2"}
        assert (await client.post("/hooks/events", json=unrelated)).status_code == 202
    await asyncio.sleep(1.2)
    assert len(slack.top_level("C1")) == 2  # resolving nothing posts nothing
    assert db_rows(bot, "SELECT state, closed FROM alert_groups ORDER BY id") == [
        ("resolved", 1),
        ("firing", 0),
    ]
    assert slack.count_429 == 0


async def test_reminders_repeat_in_the_thread_until_max_and_an_ack_stops_them(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    # `remind.after` is at least a minute in config; the store takes the group's Reminder as a value, so the worker
    # is driven here with a one-second reminder through the same store call the pipeline makes
    bot = await start(bot_factory, slack, {"group": False})
    remind = Reminder(timedelta(seconds=1), 2, Severity.CRITICAL, "<!here>")
    policy = GroupPolicy(("kind", "instance"), timedelta(0), timedelta(minutes=5), timedelta(hours=4))

    def store(instance: str) -> None:
        ref = GroupRef(group_id("ops", instance), f"instance={instance}", policy, remind=remind)
        n = parse_event(
            failure(1, instance=instance, id=instance, severity="critical"), now=datetime.now(UTC)
        )
        bot.db.call_sync(insert_notifications, [(n, [Target("ops", "slack", "C1", ref)])])

    store("111-AAA-111")
    bot.worker.wake()
    await wait_for(lambda: len(slack.top_level("C1")) == 1)
    (first,) = slack.top_level("C1")
    await wait_for(lambda: len(slack.thread(first.ts)) == 2, timeout=10)
    await asyncio.sleep(1.5)
    reminders = slack.thread(first.ts)
    assert len(reminders) == 2  # `max` reached
    assert all(
        m["text"].startswith("<!here> :alarm_clock: Still firing and not acknowledged") for m in reminders
    )
    assert reminders[1].arrived - reminders[0].arrived >= 0.9

    store("222-BBB-222")
    bot.worker.wake()
    await wait_for(lambda: len(slack.top_level("C1")) == 2)
    second = slack.top_level("C1")[1]
    # the worker records the message id after Slack answers (on PostgreSQL on another connection, in parallel)
    await wait_for(lambda: db_rows(bot, f"SELECT id FROM outbox WHERE provider_message_id = '{second.ts}'"))
    acked = await bot.db.call(acknowledge, "C1", second.ts, "U123", time.time())
    assert acked is not None and acked.group_id is not None
    await wait_for(lambda: "Acknowledged by" in text_of(slack.top_level("C1")[1]))
    await asyncio.sleep(2.0)
    assert slack.thread(second.ts) == []  # acknowledged before its first reminder: none
    assert "Nurture" in text_of(slack.top_level("C1")[1])  # the edit kept the group's content

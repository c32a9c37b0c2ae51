"""No Slack alert is posted twice when Slack accepted a post whose answer we never saw (issue #10, item 9).

The real worker and slack_sdk client against the fake Slack over loopback HTTP; the fake stores the post and then
answers after the client's timeout, drops the connection, or answers 500.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.store import outbox
from tests.fakes.slack import LOST_KINDS, FakeSlack, LostAnswer
from tests.integration.conftest import BotFactory, outbox_rows, post_events, store_of, wait_for

pytestmark = pytest.mark.backends

TOKEN = "xoxb-test-token-dup"
TIMEOUT = 0.4  # slack.timeout_seconds in these tests; a late answer comes after 2.5 times this


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        yield fake


async def start(
    bot_factory: BotFactory, slack: FakeSlack, channels: list[str], timeout: float = TIMEOUT, **delivery: Any
) -> Bot:
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN},
        slack={"api_url": slack.api_url, "interactive": False, "timeout_seconds": timeout},
        destinations={f"d{c}": {"type": "slack", "channel": c} for c in channels},
        routes=[{"match": {"channel": c}, "to": [f"d{c}"]} for c in channels[1:]]
        + [{"to": [f"d{channels[0]}"]}],
        delivery={
            "backoff_base_seconds": 0.05,
            "backoff_max_seconds": 0.5,
            "slack_interval_seconds": 0.0,
            "max_attempts": 10,
            **delivery,
        },
    )
    return bot


def settled(bot: Bot) -> bool:
    return all(r["status"] in ("delivered", "dead") for r in outbox_rows(bot))


def posted_keys(slack: FakeSlack) -> Counter[str]:
    return Counter(m.metadata["event_payload"]["key"] for m in slack.messages if m.metadata)


def history_calls(slack: FakeSlack) -> list[dict[str, Any]]:
    return [params for method, params in slack.requests if method == "conversations.history"]


def events(n: int, channels: list[str], prefix: str = "e") -> list[dict[str, Any]]:
    return [
        {"kind": "audit", "id": f"{prefix}{i}", "labels": {"channel": channels[i % len(channels)]}}
        for i in range(n)
    ]


async def test_lost_answers_on_a_sample_of_posts_still_post_every_event_once(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    channels = ["C1", "C2", "C3"]
    slack.lose_answers(0.3, kinds=LOST_KINDS, delay=TIMEOUT * 2.5, seed=10)
    bot = await start(bot_factory, slack, channels)
    sent = events(36, channels)
    await post_events(bot, sent)
    await wait_for(lambda: settled(bot) and len(outbox_rows(bot)) == len(sent), timeout=60)
    lost = Counter(kind for kind, _ in slack.lost_answers)
    assert set(lost) == set(LOST_KINDS) and sum(lost.values()) >= 6, lost  # the faults really happened
    assert posted_keys(slack) == Counter({e["id"]: 1 for e in sent})
    by_ts = {m.ts: m for m in slack.messages}
    for row in outbox_rows(bot):
        assert row["status"] == "delivered"
        assert by_ts[row["provider_message_id"]].channel == row["target"]


@pytest.mark.parametrize("kind", LOST_KINDS)
async def test_a_lost_answer_is_found_in_the_history_and_recorded(
    bot_factory: BotFactory, slack: FakeSlack, kind: LostAnswer
) -> None:
    slack.lose_next_answers(1, kind, delay=TIMEOUT * 2.5)
    bot = await start(bot_factory, slack, ["C1"])
    await post_events(bot, [{"kind": "campaign_failure", "id": "lost-1"}])
    await wait_for(lambda: settled(bot), timeout=20)
    [message] = slack.messages
    [row] = outbox_rows(bot)
    assert (row["status"], row["attempts"], row["provider_message_id"]) == ("delivered", 2, message.ts)
    [look] = history_calls(slack)
    assert look["channel"] == "C1" and look["include_all_metadata"] in ("1", "true")
    assert float(look["oldest"]) < float(message.ts) and 0 < int(look["limit"]) <= 15


async def test_a_500_before_slack_stored_anything_posts_once(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    slack.fail_next_calls("chat.postMessage", 1, status=500)
    bot = await start(bot_factory, slack, ["C1"])
    await post_events(bot, [{"kind": "audit", "id": "not-there"}])
    await wait_for(lambda: settled(bot), timeout=20)
    assert posted_keys(slack) == Counter({"not-there": 1})
    assert len(history_calls(slack)) == 1  # looked, found nothing, posted
    assert outbox_rows(bot)[0]["provider_message_id"] == slack.messages[0].ts


async def test_refusals_slack_never_processed_need_no_lookup(bot_factory: BotFactory) -> None:
    with FakeSlack(token=TOKEN, min_interval=0.5) as slack:
        slack.missing_channels.add("C404")
        bot = await start(bot_factory, slack, ["C1", "C404"])
        await post_events(
            bot, [*events(3, ["C1"], "r"), {"kind": "audit", "id": "gone", "labels": {"channel": "C404"}}]
        )
        await wait_for(lambda: settled(bot) and len(outbox_rows(bot)) == 4, timeout=20)
        assert slack.count_429 >= 1  # Slack's 429: refused, not processed
        assert posted_keys(slack) == Counter({"r0": 1, "r1": 1, "r2": 1})
        assert history_calls(slack) == []
        assert [r["status"] for r in outbox_rows(bot)].count("dead") == 1


async def test_a_429_on_the_history_waits_retry_after_and_looks_again(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    slack.lose_next_answers(1, "drop")
    slack.throttle_next("conversations.history", 1, retry_after=1)
    bot = await start(bot_factory, slack, ["C1"])
    await post_events(bot, [{"kind": "audit", "id": "throttled-look"}])
    await wait_for(lambda: settled(bot), timeout=20)
    assert posted_keys(slack) == Counter({"throttled-look": 1})
    [row] = outbox_rows(bot)
    assert (row["status"], row["attempts"]) == ("delivered", 2)  # the 429 is not an attempt
    calls = [m for m, _ in slack.requests if m == "conversations.history"]
    assert len(calls) == 2


async def test_the_search_pages_through_a_busy_channel(bot_factory: BotFactory, slack: FakeSlack) -> None:
    slack.lose_next_answers(1, "late", delay=TIMEOUT * 2.5)
    bot = await start(bot_factory, slack, ["C1"])
    await post_events(bot, [{"kind": "audit", "id": "buried"}])
    await wait_for(lambda: len(slack.messages) == 1)
    for i in range(40):  # people talk in the channel before the retry looks
        slack.add_message("C1", f"chatter {i}")
    await wait_for(lambda: settled(bot), timeout=20)
    assert posted_keys(slack) == Counter({"buried": 1})
    assert len(history_calls(slack)) >= 3
    assert all(call.get("cursor") for call in history_calls(slack)[1:])


@pytest.mark.parametrize("fault", ["429", "502"])
async def test_an_interrupted_search_resumes_at_its_page(
    bot_factory: BotFactory, slack: FakeSlack, fault: str
) -> None:
    slack.lose_next_answers(1, "drop")
    bot = await start(bot_factory, slack, ["C1"])
    await post_events(bot, [{"kind": "audit", "id": "deep"}])
    await wait_for(lambda: len(slack.messages) == 1)
    for i in range(40):
        slack.add_message("C1", f"chatter {i}")
    if fault == "429":
        slack.throttle_next("conversations.history", 1, retry_after=1, after=1)
    else:
        slack.fail_next_calls("conversations.history", 1, status=502, after=1)
    await wait_for(lambda: settled(bot), timeout=20)
    assert posted_keys(slack) == Counter({"deep": 1})
    cursors = [call.get("cursor") for call in history_calls(slack)]
    assert cursors[0] is None and cursors[1] and cursors[2] == cursors[1]  # page 2 again, not page 1
    assert len(cursors) == 4  # 41 messages, 15 a page: pages 1, 2, 2 again, 3 (the post is the oldest)
    # a 429 is waited out within the attempt; a 502 ends it and the row comes back later
    assert outbox_rows(bot)[0]["attempts"] == (2 if fault == "429" else 3)


@pytest.mark.parametrize(
    ("setup", "hint"),
    [
        (lambda s: s.scopes.discard("channels:history"), "channels:history"),
        (lambda s: s.nonmember_channels.add("C1"), "/invite @notifbot"),
    ],
)
async def test_unreadable_history_reposts_and_says_what_to_fix_once(
    bot_factory: BotFactory, slack: FakeSlack, caplog: pytest.LogCaptureFixture, setup: Any, hint: str
) -> None:
    setup(slack)
    slack.lose_next_answers(2, "500")
    bot = await start(bot_factory, slack, ["C1"])
    with caplog.at_level(logging.WARNING, logger="notifbot.delivery.slack"):
        await post_events(bot, [{"kind": "audit", "id": "u1"}, {"kind": "audit", "id": "u2"}])
        await wait_for(lambda: settled(bot), timeout=20)
    assert posted_keys(slack) == Counter({"u1": 2, "u2": 2})  # the documented fallback: posted again
    warnings = [r.getMessage() for r in caplog.records if "cannot read the history" in r.getMessage()]
    assert len(warnings) == 1 and hint in warnings[0] and "C1" in warnings[0]
    assert all(r["status"] == "delivered" for r in outbox_rows(bot))


async def test_a_send_cut_short_by_shutdown_is_looked_for_after_restart(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    slack.lose_next_answers(1, "late", delay=3.0)
    first = await start(bot_factory, slack, ["C1"], timeout=5.0, drain_seconds=0.1)
    await post_events(first, [{"kind": "audit", "id": "in-flight"}])
    await wait_for(lambda: len(slack.messages) == 1)
    await first.stop()  # cancels the send Slack already stored
    second = await start(bot_factory, slack, ["C1"])
    await wait_for(lambda: settled(second), timeout=20)
    assert posted_keys(slack) == Counter({"in-flight": 1})
    assert outbox_rows(second)[0]["provider_message_id"] == slack.messages[0].ts


async def test_a_claim_abandoned_mid_send_is_looked_for_by_the_next_worker(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    # a worker whose send hangs past its lease (or that was killed) leaves a claim with no outcome behind
    slack.lose_next_answers(1, "late", delay=3.0)
    hung = await start(bot_factory, slack, ["C1"], timeout=5.0, lease_seconds=0.5, drain_seconds=0.1)
    await post_events(hung, [{"kind": "audit", "id": "abandoned"}])
    await wait_for(lambda: len(slack.messages) == 1)
    # a hung or killed replica stops renewing its channel lease too: the channel is free for the next worker
    with store_of(hung) as conn:
        conn.execute("UPDATE channel_leases SET lease_until = 0")
    other = await start(bot_factory, slack, ["C1"], lease_seconds=0.5)  # a second worker on the same database
    await wait_for(lambda: settled(other), timeout=20)
    assert posted_keys(slack) == Counter({"abandoned": 1})
    assert outbox_rows(other)[0]["provider_message_id"] == slack.messages[0].ts
    assert len(history_calls(slack)) == 1


async def test_a_row_given_up_while_unsure_is_looked_for_when_retried(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    slack.lose_next_answers(1, "500")
    slack.fail_next_calls("conversations.history", 1, status=502)
    bot = await start(bot_factory, slack, ["C1"], max_attempts=2)
    await post_events(bot, [{"kind": "audit", "id": "given-up"}])
    await wait_for(lambda: settled(bot), timeout=20)
    [row] = outbox_rows(bot)
    assert row["status"] == "dead" and "outbox retry` looks for it" in row["last_error"]
    assert row["unsure_since"] is not None and len(slack.messages) == 1
    with store_of(bot) as conn:
        assert outbox.requeue(conn, row["id"], 0)  # what `notifbot outbox retry ID` does
    bot.worker.wake()
    await wait_for(lambda: outbox_rows(bot)[0]["status"] == "delivered", timeout=20)
    assert posted_keys(slack) == Counter({"given-up": 1})
    assert outbox_rows(bot)[0]["provider_message_id"] == slack.messages[0].ts

"""The worker drains a channel only while it holds the channel's lease: another replica's channel waits for it."""

from __future__ import annotations

import asyncio
import time

from notifbot.store import leases
from notifbot.store.db import connect
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory
from tests.integration.test_delivery import TOKEN, send, settled, start_bot, until


async def test_a_channel_another_replica_holds_is_left_to_it_until_its_lease_ends(
    bot_factory: BotFactory,
) -> None:
    with FakeSlack(token=TOKEN, min_interval=0.2) as slack:
        bot = await start_bot(bot_factory, slack, ["C1", "C2"])
        conn = connect(bot.settings.storage.path)
        try:
            assert leases.take_channel(conn, "slack", "C1", "other-replica", 1.5)
            held_until = time.time() + 1.5
            await send(
                bot,
                [
                    {"kind": "audit", "id": "held", "labels": {"channel": "C1"}},
                    {"kind": "audit", "id": "free", "labels": {"channel": "C2"}},
                ],
            )
            await until(lambda: len(slack.messages) == 1)
            assert slack.messages[0]["channel"] == "C2"  # the free channel goes at once
            await asyncio.sleep(max(0.0, held_until - time.time() - 0.3))
            assert len(slack.messages) == 1  # C1 is the other replica's to drain while its lease runs
            await until(lambda: settled(bot) and len(slack.messages) == 2)
            assert slack.messages[1]["channel"] == "C1"
            assert time.time() >= held_until
            await until(lambda: leases.channel_holders(conn) == {})  # released once nothing is due
        finally:
            conn.close()

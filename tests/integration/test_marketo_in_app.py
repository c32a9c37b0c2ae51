"""The running bot polls Marketo's usage for each configured instance and alerts on quota thresholds."""

from __future__ import annotations

import asyncio
import io
import json
import time
from datetime import UTC, datetime, timedelta

from notifbot.app import Bot
from tests.fakes.marketo import FakeMarketo
from tests.integration.conftest import BotFactory, client_for


async def test_quota_watch_runs_in_the_app_and_alerts_once(bot_factory: BotFactory) -> None:
    with FakeMarketo(
        "cid-1", "s3cret-marketo", usage_users={"bi-connector": 42_000, "crm-sync": 800}
    ) as fake:
        bot: Bot = await bot_factory(
            marketo={
                "instances": [
                    {
                        "munchkin_id": "123-ABC-456",
                        "base_url": fake.base_url,
                        "client_id": "cid-1",
                        "client_secret": "s3cret-marketo",
                    }
                ]
            }
        )
        assert bot.pollers.names == ["activities:123-ABC-456", "campaigns:123-ABC-456", "quota:123-ABC-456"]
        delay = await bot.pollers.run_now("quota:123-ABC-456")
        # above 80 %: every 5 minutes (10 from 50 %); in the first hours of the US Central day the poller's share of
        # the day's call budget stretches that a little (about 336 s at 00:00 CT), never to the 10-minute cadence
        assert 300 <= delay < 600
        await bot.pollers.run_now("quota:123-ABC-456")  # the same threshold is not announced twice
        stdout = bot.senders["console"]._stream  # type: ignore[attr-defined]
        assert isinstance(stdout, io.StringIO)
        deadline = time.monotonic() + 5
        while "quota" not in stdout.getvalue().lower() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert stdout.getvalue().count("── notifbot → console ──") == 1
        assert "bi-connector" in stdout.getvalue()
        assert "s3cret-marketo" not in stdout.getvalue()
        async with client_for(bot) as client:
            metrics = (await client.get("/metrics")).text
        assert 'notifbot_events_received_total{source="marketo"} 1.0' in metrics
        assert 'notifbot_marketo_calls_today{feature="quota",instance="123-ABC-456"} 3.0' in metrics
        assert 'notifbot_marketo_budget_calls{instance="123-ABC-456"} 500.0' in metrics
        body = json.dumps(
            await bot.db.read(lambda c: [tuple(r) for r in c.execute("SELECT * FROM poller_state")])
        )
        assert "123-ABC-456" in body and "s3cret" not in body


async def test_a_restart_keeps_counting_todays_calls_against_the_budget(bot_factory: BotFactory) -> None:
    with FakeMarketo("cid-1", "s3cret-marketo", usage_users={"bi-connector": 100}) as fake:
        marketo = {
            "instances": [
                {
                    "munchkin_id": "123-ABC-456",
                    "base_url": fake.base_url,
                    "client_id": "cid-1",
                    "client_secret": "s3cret-marketo",
                    "daily_quota": 200,  # budget: 1 % = 2 calls a day
                }
            ]
        }
        first: Bot = await bot_factory(marketo=marketo)
        await first.pollers.run_now("quota:123-ABC-456")  # usage + errors = the whole budget
        assert first.marketo.clients[0].calls_today == 2
        await first.stop()
        calls_before = fake.rest_calls
        second: Bot = await bot_factory(marketo=marketo)
        assert second.marketo.clients[0].calls_today == 2
        await second.pollers.run_now("quota:123-ABC-456")
        assert fake.rest_calls == calls_before, "the restarted bot must not spend a budget already used today"
        state = await second.db.read(lambda c: c.execute("SELECT last_error FROM poller_state").fetchone()[0])
        assert "budget" in state


async def test_marketo_cleanup_notices_update_the_tracked_campaigns(bot_factory: BotFactory) -> None:
    from notifbot.commands.triggers import stale_reply

    bot: Bot = await bot_factory()  # no polling configured: the notices alone are enough
    campaigns = [
        {
            "id": 5,
            "name": "Old webinar follow-up",
            "program_name": "Webinars 2024",
            "url": "https://x.test/5",
        },
        {"id": 6, "name": "Spring promo", "program_name": "Promos"},
    ]
    due = datetime.now(UTC).date() + timedelta(days=7)  # Marketo's notice comes a week ahead
    notice = {
        "kind": "trigger_cleanup",
        "instance": "123-ABC-456",
        "fields": {"stage": "scheduled", "deactivate_on": due.isoformat(), "campaigns": campaigns},
    }
    async with client_for(bot) as client:
        assert (await client.post("/hooks/events", json=notice)).status_code == 202
        reply = await stale_reply(bot.ctx, 90, share=False)
        items = reply.sections[0].items
        assert [i.text for i in items] == ["Old webinar follow-up", "Spring promo"]
        assert f"Marketo scheduled its deactivation for {due:%b} {due.day}, {due.year}" in (
            items[0].detail or ""
        )
        assert "per Marketo's cleanup notice" in (items[0].detail or "")

        done = {**notice, "fields": {**notice["fields"], "stage": "deactivated", "campaigns": campaigns[:1]}}
        assert (await client.post("/hooks/events", json=done)).status_code == 202
    reply = await stale_reply(bot.ctx, 90, share=False)
    assert [i.text for i in reply.sections[0].items] == ["Spring promo"]
    [gone] = reply.sections[1].items  # the "deactivated" notice carried the scheduled date
    assert (gone.text, gone.detail) == (
        "Old webinar follow-up",
        f"Webinars 2024 · deactivated on {due:%b} {due.day}, {due.year}",
    )
    rows = await bot.db.read(
        lambda c: c.execute("SELECT campaign_id, is_active, cleanup_stage FROM trigger_campaigns").fetchall()
    )
    assert sorted(tuple(r) for r in rows) == [(5, 0, "deactivated"), (6, 1, "scheduled")]

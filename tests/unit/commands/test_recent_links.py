"""`recent` through the command path: forged links and multi-campaign cleanups (issue #10, items 3 and 14)."""

from __future__ import annotations

import json

from notifbot.commands.core import handle
from notifbot.commands.model import Invocation
from notifbot.links import link_policy
from notifbot.render.slack_reply import render_reply
from tests.unit.commands.conftest import Harness


async def test_recent_links_forged_urls_neutrally_or_not_at_all(bot: Harness) -> None:
    await bot.notify(
        "campaign_failure", {"campaign_name": "F", "url": "https://app.marketo.com@evil.example/"}, "f"
    )
    await bot.notify("campaign_failure", {"campaign_name": "E", "url": "https://evil.example/x"}, "e")
    await bot.notify(
        "campaign_failure", {"campaign_name": "M", "url": "https://app-ab12.marketo.com/#SC1A1"}, "m"
    )
    text = await bot.text("recent")
    assert "<https://app-ab12.marketo.com/#SC1A1|Campaign failed: M>" in text
    assert "Campaign failed: E · <https://evil.example/x|Open link (evil.example)>" in text
    assert "app.marketo.com@" not in text


async def test_recent_does_not_link_a_cleanup_to_its_first_campaign(bot: Harness) -> None:
    campaigns = [{"name": f"C{i}", "url": f"https://app-ab12.marketo.com/#SC{i}A1"} for i in range(3)]
    await bot.notify("trigger_cleanup", {"stage": "scheduled", "campaigns": campaigns}, "c")
    [item] = (await bot.ask("recent")).sections[0].items
    assert item.url is None


async def test_configured_marketo_hosts_reach_the_command_replies(bot: Harness) -> None:
    bot.ctx.settings = bot.ctx.settings.model_copy(
        update={"links": bot.ctx.settings.links.model_copy(update={"marketo_hosts": ["go.acme.example"]})}
    )
    assert link_policy(bot.ctx.settings).is_marketo("go.acme.example")
    await bot.notify("campaign_failure", {"campaign_name": "G", "url": "https://go.acme.example/c/1"}, "g")
    reply = await handle(Invocation(text="recent", user_id="U0ADMIN"), bot.ctx)
    text = json.dumps(render_reply(reply, bot.ctx.links))
    assert "<https://go.acme.example/c/1|Campaign failed: G>" in text
    assert "Open link (go.acme.example)" not in text

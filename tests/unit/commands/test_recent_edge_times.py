"""`recent` through the command path while an edge-time event is in its window (issue #10, item 8)."""

from __future__ import annotations

import pytest

from notifbot.render.slack_reply import render_reply
from notifbot.render.teams_reply import render_teams_reply
from tests.unit.commands.conftest import Harness
from tests.unit.render.helpers import assert_valid
from tests.unit.render.teams_helpers import assert_valid_card

EDGE_TIMES = {  # as sent → how the reply shows it (in UTC)
    "0001-01-01T00:00:00Z": "Jan 1, 1 00:00 UTC",
    "0001-01-01T05:59:59Z": "Jan 1, 1 05:59 UTC",
    "9999-12-31T23:59:59Z": "Dec 31, 9999 23:59 UTC",
    "9999-12-31T23:59:59+14:00": "Dec 31, 9999 09:59 UTC",
}


@pytest.mark.parametrize("when", list(EDGE_TIMES))
async def test_recent_answers_while_an_edge_time_event_is_in_its_window(bot: Harness, when: str) -> None:
    await bot.notify("campaign_failure", {"campaign_name": "Before"}, "e-1")
    await bot.notify("web_services", {"used": 1, "quota": 2}, "e-2", occurred_at=when)
    await bot.notify("campaign_failure", {"campaign_name": "After"}, "e-3")
    reply = await bot.ask("recent")
    assert reply.ok and reply.title == "Recent notifications", reply
    [section] = reply.sections
    assert [i.text for i in section.items][0::2] == ["Campaign failed: After", "Campaign failed: Before"]
    edge = section.items[1]
    assert edge.text == "Marketo daily API quota at 50%"
    assert EDGE_TIMES[when] in (edge.detail or "")  # a time US Central cannot hold degrades alone
    assert_valid(render_reply(reply))
    assert_valid_card(render_teams_reply(reply))

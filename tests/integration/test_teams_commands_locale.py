"""Teams commands in the channel's language: Graph gives no user locale, so the destination's `locale` decides."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.graph import FakeGraph
from tests.integration.conftest import wait_for
from tests.integration.test_teams_commands import ADA, CHANNEL, TEAM, alert_posted, graph, serve

__all__ = ["graph"]  # the fixture, used by the tests below


async def test_commands_and_the_ack_refusal_answer_in_the_channels_language(
    tmp_path: Path, graph: FakeGraph
) -> None:
    async with serve(tmp_path, graph, locale="sv", timezone="Europe/Stockholm") as served:
        alert = await alert_posted(served, graph)
        ada, _ = await graph.user_posts(TEAM, CHANNEL, "@notifbot kvot", user=ADA)
        await wait_for(lambda: len(graph.replies(ada.id)) == 1)
        assert "Marketos API-kvot" in str(graph.replies(ada.id)[0].card())
        await graph.user_posts(TEAM, CHANNEL, "@notifbot kvittera", user=("bbbb", "Bob"), reply_to=alert.id)
        await wait_for(lambda: len(graph.replies(alert.id)) == 2)
        refused = str(graph.replies(alert.id)[-1].card())
        assert "Bara notifbot-administratörer (teams.admins) kan kvittera larm." in refused
        assert alert.edits == 0

"""The Slack destination: renders Block Kit and posts it through SlackSender."""

from __future__ import annotations

from notifbot.delivery.slack import SlackSender
from notifbot.model import Notification
from notifbot.render.links import DEFAULT_LINKS, LinkPolicy
from notifbot.render.slack import render_slack
from notifbot.store.outbox import OutboxRow


class SlackDelivery:
    """Posts a notification to its Slack channel, tagging it with the outbox row in message metadata."""

    dest_type = "slack"

    def __init__(
        self, sender: SlackSender, *, interactive: bool = False, links: LinkPolicy = DEFAULT_LINKS
    ) -> None:
        self.sender = sender
        self.interactive = interactive
        self.links = links

    async def send(self, row: OutboxRow, n: Notification) -> str | None:
        metadata = {"event_type": "notifbot_alert", "event_payload": {"outbox_id": row.id, "key": n.key}}
        return await self.sender.post(
            row.target, render_slack(n, interactive=self.interactive, links=self.links), metadata=metadata
        )

    async def close(self) -> None:
        await self.sender.close()

"""A notification's chat messages as the running bot writes them under a config, in one place.

`notifbot render` prints them and the console's notification page draws them (render/slack_html.py,
render/card_html.py), so the two cannot drift apart; the bot's senders take the same pieces from app.py: the
config's locale and time zone, its compiled `templates:`, the hosts it labels as Marketo's, and whether Slack
messages carry Acknowledge and Mute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from notifbot.config.settings import Settings
from notifbot.config.templates import compile_templates
from notifbot.i18n import Texts, texts_for
from notifbot.links import LinkPolicy, link_policy
from notifbot.model import Acked, Notification
from notifbot.render.slack import render_slack
from notifbot.render.teams import render_teams

if TYPE_CHECKING:  # Jinja is imported only for a config that has templates
    from notifbot.render.templates import Templates


@dataclass(frozen=True)
class Preview:
    """What rendering needs besides the notification, built once from the config."""

    texts: Texts
    templates: Templates | None
    links: LinkPolicy
    interactive: bool  # Slack messages carry Acknowledge and Mute (a Slack app receives the clicks)

    def slack(self, n: Notification, acked: Acked | None = None) -> dict[str, Any]:
        """The Slack message (`text` and `blocks`) the bot posts for `n`; `acked` as after an acknowledgement."""
        return render_slack(
            n,
            interactive=self.interactive,
            acked=acked,
            links=self.links,
            texts=self.texts,
            templates=self.templates,
        )

    def teams(self, n: Notification, acked: Acked | None = None) -> dict[str, Any]:
        """The Adaptive Card the bot posts to Teams for `n`."""
        return render_teams(n, acked=acked, links=self.links, texts=self.texts, templates=self.templates)


def preview(
    settings: Settings,
    *,
    locale: str | None = None,
    timezone: str | None = None,
    interactive: bool | None = None,
) -> Preview:
    """The config's rendering (its locale and time zone unless given; `interactive`: its `slack.interactive`)."""
    return Preview(
        texts=texts_for(locale or settings.locale, timezone or settings.timezone),
        templates=compile_templates(settings.templates),
        links=link_policy(settings),
        interactive=settings.slack.interactive if interactive is None else interactive,
    )

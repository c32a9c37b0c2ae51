"""What every renderer shows of a notification: the kind's parts and its advice, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from notifbot.i18n import EN, Texts
from notifbot.kinds import Parts, describe, what_to_do
from notifbot.links import DEFAULT_LINKS, LinkPolicy
from notifbot.model import Notification
from notifbot.text import as_text


@dataclass(frozen=True)
class Content:
    """The raw parts of one message and its "what to do" line (None when the kind's advisor failed)."""

    parts: Parts
    advice: str | None

    def advice_text(self) -> str:
        """The advice line; raises when there is none, so the renderer shows its "could not be shown" placeholder."""
        if self.advice is None:
            raise ValueError("no advice for this notification")
        return self.advice


def message_content(n: Notification, links: LinkPolicy = DEFAULT_LINKS, texts: Texts = EN) -> Content:
    """The one place a message's title, facts and advice are made (admin templates hook in here, §7)."""
    parts = describe(n, links, texts)
    try:
        advice: str | None = what_to_do(n, texts)
    except Exception:  # one bad part never costs the message
        advice = None
    return Content(parts, advice)


def summary_of(n: Notification, parts: Parts) -> str:
    """The summary shown under the title: the event's own when it brings one, else the kind's (raw text)."""
    if n.summary:
        return as_text(n.summary)
    return parts.summary or ""

"""Values the command core exchanges with its transports: who asked what, and the structured reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from notifbot.config import Settings
from notifbot.i18n import EN, Texts
from notifbot.links import LinkPolicy, link_policy
from notifbot.store.runner import Database


@dataclass(frozen=True)
class Invocation:
    """One command as typed by a user (`text` is what follows the command name)."""

    text: str
    user_id: str
    user_name: str | None = None
    channel_id: str | None = None
    transport: Literal["slack", "teams"] = "slack"
    # the asker's own locale and zone when the transport knows them (Slack's users.info), tried first
    locale_hint: str | None = None
    zone_hint: str | None = None
    # the language and zone of the reply, resolved once by `core.invoke` (docs/design/locale.md §5)
    texts: Texts = EN


@dataclass
class CommandContext:
    """Everything a handler may use; built once by app.py and shared by every transport."""

    db: Database
    settings: Settings
    version: str
    started_at: datetime
    clock: Callable[[], datetime]
    is_admin: Callable[[str], Awaitable[bool]]
    on_mutes_changed: Callable[[], Awaitable[None]]
    last_delivery_at: Callable[[], float | None] = field(default=lambda: None)

    @property
    def links(self) -> LinkPolicy:
        """Which hosts replies may label as Marketo's (from `settings`)."""
        return link_policy(self.settings)

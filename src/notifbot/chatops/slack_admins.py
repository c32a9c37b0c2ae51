"""Who may act from Slack: `slack.admins` user ids and user-group ids (members looked up, cached); the command core
asks it through `CommandContext.is_admin`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("notifbot.commands")
GROUP_TTL_SECONDS = 300.0


class AdminCheck:
    """An allow-list of user ids (`U…`, `W…`) and user groups (`S…`); empty means everyone may act."""

    def __init__(
        self,
        admins: Sequence[str],
        client: AsyncWebClient | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = {a for a in admins if not a.startswith("S")}
        self.groups = [a for a in admins if a.startswith("S")]
        self._client = client
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    @property
    def open(self) -> bool:
        """True when no allow-list is configured."""
        return not self.users and not self.groups

    def describe(self) -> str:
        """Who the admins are, in Slack mrkdwn (ids only: trusted configuration)."""
        names = [f"<@{u}>" for u in sorted(self.users)] + [f"<!subteam^{g}>" for g in self.groups]
        return ", ".join(names) or "everyone"

    async def _group(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached and self._clock() - cached[0] < GROUP_TTL_SECONDS:
            return cached[1]
        members: frozenset[str] = frozenset()
        if self._client is not None:
            try:
                response = await self._client.usergroups_users_list(usergroup=group)
                members = frozenset(response.get("users") or [])
            except SlackApiError as exc:
                log.warning(
                    "cannot list user group %s: %s (needs the usergroups:read scope)",
                    group,
                    exc.response.get("error"),
                )
                if cached:
                    return cached[1]
        self._members[group] = (self._clock(), members)
        return members

    async def __call__(self, user_id: str) -> bool:
        """True when `user_id` may mute, unmute and acknowledge."""
        if self.open or user_id in self.users:
            return True
        for group in self.groups:
            if user_id in await self._group(group):
                return True
        return False

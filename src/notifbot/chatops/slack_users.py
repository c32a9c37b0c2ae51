"""A Slack user's own language and time zone (`users.info`), cached, so answers only they see speak their language.

Slack sends no locale with a slash command or a button click; `users.info?include_locale=true` has it (`user.locale`,
e.g. "sv-SE") and the user's `tz` (IANA). It needs the bot scope `users:read`: an install without it answers
`missing_scope`, logged once, and replies fall back to the channel's or the global language (locale.md §5).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("notifbot.slack")

CACHE_SECONDS = 24 * 3600.0
CACHE_SIZE = 5_000
TIMEOUT_SECONDS = 1.0  # inside the 2 s ack budget of a slash command


@dataclass(frozen=True)
class UserLocale:
    """What Slack says about a user's language and zone (either may be unknown)."""

    locale: str | None = None
    tz: str | None = None


UNKNOWN = UserLocale()


class SlackUsers:
    """`users.info` per user, cached for a day (bounded LRU); a failure answers UNKNOWN and is cached briefly."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        timeout: float = TIMEOUT_SECONDS,
        ttl: float = CACHE_SECONDS,
        size: int = CACHE_SIZE,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.ttl = ttl
        self.size = size
        self.now = now
        self._cache: OrderedDict[str, tuple[float, UserLocale]] = OrderedDict()
        self._logged: set[str] = set()

    async def locale_of(self, user: str) -> UserLocale:
        """The user's locale and zone, from the cache or Slack; UNKNOWN when Slack cannot say within the timeout."""
        if not user:
            return UNKNOWN
        hit = self._cache.get(user)
        if hit is not None and hit[0] > self.now():
            self._cache.move_to_end(user)
            return hit[1]
        found, ttl = await self._ask(user)
        self._cache[user] = (self.now() + ttl, found)
        self._cache.move_to_end(user)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return found

    def cached(self, user: str) -> UserLocale:
        """What the cache knows of `user` (UNKNOWN when nothing fresh), without asking Slack."""
        hit = self._cache.get(user)
        return hit[1] if hit is not None and hit[0] > self.now() else UNKNOWN

    async def _ask(self, user: str) -> tuple[UserLocale, float]:
        try:
            answer = await asyncio.wait_for(
                self.client.users_info(user=user, include_locale=True), timeout=self.timeout
            )
        except TimeoutError:
            self._once(
                "timeout", "slack users.info did not answer in time; replying in the channel's language"
            )
            return UNKNOWN, 60.0  # ask again in a minute, not on every command
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "error") if exc.response is not None else "error"
            if error == "missing_scope":
                self._once(
                    error,
                    "slack users.info: missing_scope; add the bot scope users:read so replies use each user's "
                    "language",
                )
                return UNKNOWN, min(self.ttl, 3600.0)  # ask again within the hour once the scope is added
            self._once(error, f"slack users.info failed ({error}); replying in the channel's language")
            return UNKNOWN, 60.0
        except Exception as exc:  # a network failure must never keep a command from being answered
            self._once(type(exc).__name__, f"slack users.info failed ({type(exc).__name__})")
            return UNKNOWN, 60.0
        return _read(answer.data if isinstance(answer.data, dict) else {}), self.ttl

    def _once(self, key: str, message: str) -> None:
        if key not in self._logged:
            self._logged.add(key)
            log.info(message)


def _read(data: dict[str, Any]) -> UserLocale:
    """`user.locale` and `user.tz` of a users.info answer, when they are non-empty strings."""
    user = data.get("user")
    if not isinstance(user, dict):
        return UNKNOWN
    locale, tz = user.get("locale"), user.get("tz")
    return UserLocale(
        locale if isinstance(locale, str) and locale else None, tz if isinstance(tz, str) and tz else None
    )

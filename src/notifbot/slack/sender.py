"""The Slack Web API client: posts and edits messages with slack_sdk and maps every failure to a DeliveryError.

A failure after the request may have reached Slack (a timeout, a dropped connection, a 5xx, an unreadable answer)
is a MaybeSentError: Slack has no idempotency key, so the retry reads the channel's history before posting again.
A refusal Slack never acted on (429, a connection that never opened, an error code) is not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from notifbot.errors import (
    DeliveryError,
    MaybeSentError,
    PermanentDeliveryError,
    RateLimitedError,
    TransientDeliveryError,
)
from notifbot.retry_after import retry_wait

log = logging.getLogger("notifbot.slack")

# Slack's own words: internal_error and fatal_error may have done part of the work, and service_unavailable
# does not say; request_timeout means the request arrived truncated and team_added_to_org that the workspace is
# migrating: nothing was done.
MAYBE_DONE_CODES = frozenset({"internal_error", "fatal_error", "service_unavailable"})
TRANSIENT_CODES = MAYBE_DONE_CODES | {"ratelimited", "request_timeout", "team_added_to_org"}

_REINSTALL = "reinstall the app and copy the new Bot User OAuth Token into SLACK_BOT_TOKEN"
_RENDER_BUG = "this is a notifbot rendering bug, please report it with the notification that caused it"
PERMANENT_MESSAGES: dict[str, str] = {
    "channel_not_found": (
        "Slack channel {channel} does not exist or is private: use the channel ID (e.g. C0123ABCD) "
        "in destinations.<name>.channel and invite the bot"
    ),
    "not_in_channel": (
        "the bot is not a member of channel {channel}: invite it with `/invite @notifbot` in that channel, "
        "or add the chat:write.public scope"
    ),
    "is_archived": (
        "Slack channel {channel} is archived: unarchive it, or point destinations.<name>.channel at another channel"
    ),
    "channel_is_archived": (
        "Slack channel {channel} is archived: unarchive it, or point destinations.<name>.channel at another channel"
    ),
    "invalid_auth": (
        "Slack rejected SLACK_BOT_TOKEN (invalid_auth): reinstall the app and copy the new Bot User OAuth Token"
    ),
    "not_authed": "no Slack token was sent (not_authed): set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-...)",
    "account_inactive": f"the Slack app or its bot user was deactivated (account_inactive): {_REINSTALL}",
    "token_revoked": f"SLACK_BOT_TOKEN was revoked (token_revoked): {_REINSTALL}",
    "token_expired": f"SLACK_BOT_TOKEN has expired (token_expired): {_REINSTALL}",
    "missing_scope": (
        "the Slack app lacks the scope {needed} (missing_scope; it has: {provided}): add it under "
        f"OAuth & Permissions, then {_REINSTALL}"
    ),
    "no_permission": (
        "the Slack token may not post to channel {channel} (no_permission): check the app's scopes and that the "
        "channel allows apps, then invite the bot"
    ),
    "restricted_action": (
        "the workspace does not let the bot post in channel {channel} (restricted_action): ask a Slack admin to "
        "allow it, or choose another channel"
    ),
    "ekm_access_denied": (
        "Slack Enterprise Key Management denied access to channel {channel} (ekm_access_denied): ask your Slack "
        "admin to restore the workspace keys"
    ),
    "msg_too_long": f"the message for channel {{channel}} is too long for Slack (msg_too_long): {_RENDER_BUG}",
    "invalid_blocks": (
        f"Slack rejected the blocks of the message for channel {{channel}} (invalid_blocks: {{detail}}): {_RENDER_BUG}"
    ),
    "no_text": f"the message for channel {{channel}} has no text (no_text): {_RENDER_BUG}",
    "too_many_attachments": (
        f"the message for channel {{channel}} has too many attachments (too_many_attachments): {_RENDER_BUG}"
    ),
}

_TOKEN_RE = re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+")


def _scrub(text: str, token: str | None) -> str:
    """Removes the token (and anything shaped like a Slack token) from a message."""
    if token:
        text = text.replace(token, "[token]")
    return _TOKEN_RE.sub("[token]", text)


def _detail(data: Mapping[str, Any]) -> str:
    """The `[ERROR] …` lines Slack attaches to invalid_blocks, joined."""
    meta = data.get("response_metadata")
    messages = meta.get("messages") if isinstance(meta, Mapping) else None
    if not messages:
        messages = data.get("errors")
    if isinstance(messages, list) and messages:
        return "; ".join(str(m) for m in messages[:5])
    return "no details"


def _from_api_error(exc: SlackApiError, channel: str, method: str) -> DeliveryError:
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, Mapping) else None
    if status == 429 or code == "ratelimited":
        wait = retry_wait(getattr(response, "headers", None))
        return RateLimitedError(
            f"Slack rate limit on {method} for channel {channel}: retry after {wait:g} s", retry_after=wait
        )
    if isinstance(status, int) and status >= 500:
        return MaybeSentError(
            f"Slack answered {method} with HTTP {status} ({code or 'no JSON body'}); will retry"
        )
    if not isinstance(code, str) or not code or not isinstance(data, Mapping):
        what = f"Slack answered {method} with HTTP {status} and no Slack error code; will retry"
        if isinstance(status, int) and 400 <= status < 500:
            return TransientDeliveryError(what)
        return MaybeSentError(what)  # a 200 we could not read: the post may be there
    if code in MAYBE_DONE_CODES:
        return MaybeSentError(f"Slack could not handle {method} right now ({code}); will retry")
    if code in TRANSIENT_CODES:
        return TransientDeliveryError(f"Slack could not handle {method} right now ({code}); will retry")
    template = PERMANENT_MESSAGES.get(code)
    if template is None:
        return PermanentDeliveryError(f"Slack refused the message: {code} (channel {channel}, {method})")
    return PermanentDeliveryError(
        template.format(
            channel=channel,
            needed=data.get("needed") or "?",
            provided=data.get("provided") or "?",
            detail=_detail(data),
        )
    )


def _classify(exc: BaseException, channel: str, method: str) -> DeliveryError:
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, SlackApiError):
        return _from_api_error(exc, channel, method)
    if isinstance(
        exc, aiohttp.ConnectionTimeoutError | aiohttp.ClientConnectorError | ConnectionRefusedError
    ):
        # the connection never opened: no request reached Slack
        return TransientDeliveryError(f"cannot reach Slack for {method}: {exc}; will retry")
    if isinstance(exc, TimeoutError):
        return MaybeSentError(f"Slack did not answer {method} in time (channel {channel}); will retry")
    if isinstance(exc, aiohttp.InvalidURL):
        return PermanentDeliveryError(
            f"the Slack API URL is invalid ({exc}): check SLACK_API_URL or slack.api_url"
        )
    if isinstance(exc, aiohttp.ClientConnectionError | OSError):
        return MaybeSentError(f"the connection to Slack broke during {method}: {exc}; will retry")
    if isinstance(exc, aiohttp.ClientError):
        return MaybeSentError(f"HTTP error calling Slack {method}: {type(exc).__name__}: {exc}; will retry")
    if isinstance(exc, SlackRequestError):
        return PermanentDeliveryError(f"notifbot built an invalid Slack {method} request: {exc}")
    return PermanentDeliveryError(f"unexpected error calling Slack {method}: {type(exc).__name__}: {exc}")


def classify(
    exc: BaseException,
    *,
    channel: str | None = None,
    method: str = "chat.postMessage",
    token: str | None = None,
) -> DeliveryError:
    """Maps a slack_sdk/aiohttp failure to Transient (retry later) or Permanent (a human must act), token-free."""
    err = _classify(exc, channel or "(none)", method)
    clean = _scrub(str(err), token)
    if clean == str(err):
        return err
    if isinstance(err, MaybeSentError):
        return MaybeSentError(clean)
    if isinstance(err, TransientDeliveryError):
        return type(err)(clean, retry_after=err.retry_after)
    return PermanentDeliveryError(clean)


_HISTORY_FIXES = {
    "missing_scope": "add the {needed} scope to the Slack app (see manifests/) and reinstall it",
    "not_in_channel": (
        "invite the bot with `/invite @notifbot`: chat:write.public lets it post in a channel it has not joined, "
        "but only members may read the history"
    ),
    "channel_not_found": "use the channel ID (C…/G…) in destinations.<name>.channel: the history needs an ID",
}


class HistoryUnreadable(PermanentDeliveryError):
    """conversations.history refuses this channel until an admin acts; `code` is Slack's error code."""

    def __init__(self, message: str, code: str) -> None:
        self.code = code
        super().__init__(message)


def _unreadable(exc: SlackApiError, channel: str) -> HistoryUnreadable | None:
    data = getattr(exc.response, "data", None)
    code = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(code, str) or not isinstance(data, Mapping) or code in TRANSIENT_CODES:
        return None
    status = getattr(exc.response, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return None
    fix = _HISTORY_FIXES.get(code, "check the app's scopes and the channel").format(
        needed=data.get("needed") or "?"
    )
    return HistoryUnreadable(f"cannot read the history of Slack channel {channel} ({code}): {fix}", code)


@dataclass(frozen=True)
class HistoryPage:
    """One page of conversations.history: messages newest first, and the cursor of the next page if any."""

    messages: list[dict[str, Any]]
    next_cursor: str | None


_FAILURES = (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError, OSError)


class SlackSender:
    """Posts and edits bot messages; never retries by itself (the outbox decides), never parses mentions."""

    def __init__(self, token: str, api_url: str = "https://slack.com/api/", *, timeout: float = 10.0) -> None:
        self._token = token
        self.api_url = api_url
        self.timeout = timeout
        # aiohttp takes float seconds although slack_sdk annotates the timeout as int
        self._client = AsyncWebClient(
            token=token,
            base_url=api_url,
            timeout=timeout,  # type: ignore[arg-type]
            retry_handlers=[],
        )

    def __repr__(self) -> str:
        return f"SlackSender(api_url={self.api_url!r})"

    async def check_auth(self) -> dict[str, str]:
        """Calls auth.test; returns url/team/user/team_id/user_id/bot_id, or raises a DeliveryError."""
        try:
            response = await self._client.auth_test()
        except _FAILURES as exc:
            raise classify(exc, method="auth.test", token=self._token) from exc
        keys = ("url", "team", "user", "team_id", "user_id", "bot_id")
        return {k: str(response.get(k)) for k in keys if response.get(k) is not None}

    async def post(
        self,
        channel: str,
        message: dict[str, Any],
        *,
        metadata: dict[str, Any] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Posts `message` ({"text", "blocks"}) to `channel` (in the thread of `thread_ts`); returns its ts."""
        try:
            response = await self._client.chat_postMessage(
                channel=channel,
                text=message.get("text"),
                blocks=message.get("blocks"),
                metadata=metadata,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except _FAILURES as exc:
            err = classify(exc, channel=channel, method="chat.postMessage", token=self._token)
            if isinstance(err, MaybeSentError):
                err.recheck_after = (
                    self.timeout
                )  # a slow Slack may store it after we gave up: give it that long
            raise err from exc
        return str(response.get("ts") or "")

    async def history(
        self, channel: str, *, oldest: str, limit: int, cursor: str | None = None
    ) -> HistoryPage:
        """One page of `channel`'s messages newer than `oldest`, with their metadata (include_all_metadata)."""
        try:
            response = await self._client.conversations_history(
                channel=channel, oldest=oldest, limit=limit, cursor=cursor or None, include_all_metadata=True
            )
        except SlackApiError as exc:
            refused = _unreadable(exc, channel)
            if refused is not None:
                raise refused from exc
            raise classify(exc, channel=channel, method="conversations.history", token=self._token) from exc
        except _FAILURES as exc:
            raise classify(exc, channel=channel, method="conversations.history", token=self._token) from exc
        messages = response.get("messages")
        meta = response.get("response_metadata")
        cursor = meta.get("next_cursor") if isinstance(meta, Mapping) else None
        return HistoryPage(
            [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else [],
            cursor if response.get("has_more") and isinstance(cursor, str) and cursor else None,
        )

    async def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        """Replaces the text and blocks of the bot's message `ts` in `channel` (e.g. an acknowledged alert)."""
        try:
            await self._client.chat_update(
                channel=channel, ts=ts, text=message.get("text"), blocks=message.get("blocks")
            )
        except _FAILURES as exc:
            raise classify(exc, channel=channel, method="chat.update", token=self._token) from exc

    async def close(self) -> None:
        """Nothing to release: slack_sdk opens and closes an aiohttp session per call."""


class SlackTokenCheck:
    """Checks the bot token once at start (auth.test); a bad one is logged, not fatal. Nothing to stop."""

    def __init__(self, sender: SlackSender) -> None:
        self._sender = sender

    async def __aenter__(self) -> SlackTokenCheck:
        try:
            who = await self._sender.check_auth()
            log.info("slack token ok", extra={k: v for k, v in who.items() if k in ("team", "user")})
        except (PermanentDeliveryError, TransientDeliveryError) as exc:
            log.error("slack check failed: %s", exc)
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

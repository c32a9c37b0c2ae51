"""The Slack Web API client: posts and edits messages with slack_sdk and maps every failure to a DeliveryError."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from notifbot.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError

TRANSIENT_CODES = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)

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


def _retry_after(headers: Any) -> float:
    """Seconds from a Retry-After header (case-insensitive mapping or plain dict); 1 when absent or unreadable."""
    value: Any = None
    if isinstance(headers, Mapping):
        value = headers.get("Retry-After", headers.get("retry-after"))
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 1.0
    return seconds if seconds >= 0 else 1.0


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
        wait = _retry_after(getattr(response, "headers", None))
        return TransientDeliveryError(
            f"Slack rate limit on {method} for channel {channel}: retry after {wait:g} s", retry_after=wait
        )
    if isinstance(status, int) and status >= 500:
        return TransientDeliveryError(
            f"Slack answered {method} with HTTP {status} ({code or 'no JSON body'}); will retry"
        )
    if not isinstance(code, str) or not code or not isinstance(data, Mapping):
        return TransientDeliveryError(
            f"Slack answered {method} with HTTP {status} and no Slack error code; will retry"
        )
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
    if isinstance(exc, TimeoutError):
        return TransientDeliveryError(
            f"Slack did not answer {method} in time (channel {channel}); will retry"
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return PermanentDeliveryError(
            f"the Slack API URL is invalid ({exc}): check SLACK_API_URL or slack.api_url"
        )
    if isinstance(exc, aiohttp.ClientConnectionError | OSError):
        return TransientDeliveryError(f"cannot reach Slack for {method}: {exc}; will retry")
    if isinstance(exc, aiohttp.ClientError):
        return TransientDeliveryError(
            f"HTTP error calling Slack {method}: {type(exc).__name__}: {exc}; will retry"
        )
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
    if isinstance(err, TransientDeliveryError):
        return TransientDeliveryError(clean, retry_after=err.retry_after)
    return PermanentDeliveryError(clean)


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
        self, channel: str, message: dict[str, Any], *, metadata: dict[str, Any] | None = None
    ) -> str:
        """Posts `message` ({"text", "blocks"}) to `channel` and returns the new message's ts."""
        try:
            response = await self._client.chat_postMessage(
                channel=channel,
                text=message.get("text"),
                blocks=message.get("blocks"),
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
        except _FAILURES as exc:
            raise classify(exc, channel=channel, method="chat.postMessage", token=self._token) from exc
        return str(response.get("ts") or "")

    async def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        """Replaces the text and blocks of the bot's message `ts` in `channel`."""
        try:
            await self._client.chat_update(
                channel=channel, ts=ts, text=message.get("text"), blocks=message.get("blocks")
            )
        except _FAILURES as exc:
            raise classify(exc, channel=channel, method="chat.update", token=self._token) from exc

    async def close(self) -> None:
        """Nothing to release: slack_sdk opens and closes an aiohttp session per call."""

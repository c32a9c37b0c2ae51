"""Signed Slack requests as Slack sends them to the bot: slash commands and button clicks (block_actions).

The signature comes from `notifbot.slack.signature`'s verifier (slack_sdk's v0 HMAC), the same object the bot
checks requests with, so the sandbox and the bot cannot disagree on how a request is signed.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from notifbot.sandbox.slack_wire import TEAM
from notifbot.slack.signature import verifier

APP_ID = "A0SANDBOX"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class SignedRequest:
    """The body and headers of one POST to the bot's `/slack/events`."""

    body: bytes
    headers: dict[str, str]


def sign(signing_secret: str, body: bytes, now: float | None = None) -> SignedRequest:
    """`body` with Slack's `X-Slack-Request-Timestamp` and `X-Slack-Signature` (v0) for `signing_secret`."""
    timestamp = str(int(time.time() if now is None else now))
    signature = verifier(signing_secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None  # only None without a timestamp
    headers = {"content-type": FORM, "x-slack-request-timestamp": timestamp, "x-slack-signature": signature}
    return SignedRequest(body, headers)


def _trigger_id() -> str:
    return f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**11)}.{secrets.token_hex(16)}"


def slash_command(
    signing_secret: str,
    *,
    command: str,
    text: str,
    user: str,
    user_name: str,
    channel: str,
    channel_name: str,
    response_url: str,
    now: float | None = None,
) -> SignedRequest:
    """A slash command (`/marketo quota`) as the form Slack posts, signed."""
    fields = {
        "token": "sandbox-verification-token",  # deprecated by Slack, still sent
        "team_id": TEAM["team_id"],
        "team_domain": "notifbot-sandbox",
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": _trigger_id(),
    }
    return sign(signing_secret, urlencode(fields).encode(), now)


def buttons(blocks: list[Any] | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(block_id, element) of every button in a message's actions blocks."""
    for block in blocks or []:
        if not isinstance(block, dict) or block.get("type") != "actions":
            continue
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "button":
                yield str(block.get("block_id") or ""), element


def find_button(
    blocks: list[Any] | None, action_id: str, value: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The (block_id, element) of the button `action_id` (with `value`, when given), or None."""
    for block_id, element in buttons(blocks):
        if element.get("action_id") == action_id and value in (None, element.get("value")):
            return block_id, element
    return None


def block_actions(
    signing_secret: str,
    *,
    message: dict[str, Any],
    channel: str,
    channel_name: str,
    action_id: str,
    user: str,
    user_name: str,
    response_url: str,
    value: str | None = None,
    is_ephemeral: bool = False,
    now: float | None = None,
) -> SignedRequest:
    """A click on button `action_id` of `message` (as conversations.history shows it), signed.

    A button the message does not hold is sent anyway, as Slack would send a stale one (block_id empty).
    """
    found = find_button(message.get("blocks"), action_id, value)
    block_id, element = found if found is not None else ("", {"action_id": action_id, "value": value})
    clicked = time.time() if now is None else now
    action: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": element.get("text") or {"type": "plain_text", "text": action_id},
        "action_ts": f"{clicked:.6f}",
    }
    for key in ("value", "style", "url"):
        if element.get(key) is not None:
            action[key] = element[key]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user_name, "name": user_name, "team_id": TEAM["team_id"]},
        "api_app_id": APP_ID,
        "token": "sandbox-verification-token",
        "container": {
            "type": "message",
            "message_ts": message.get("ts"),
            "channel_id": channel,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": _trigger_id(),
        "team": {"id": TEAM["team_id"], "domain": "notifbot-sandbox"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
    return sign(signing_secret, body, now)

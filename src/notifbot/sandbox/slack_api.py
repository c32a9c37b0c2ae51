"""The Slack Web API methods the bot calls, and `response_url`, served from the sandbox's chat state.

Answers use Slack's envelopes and error codes; posts and edits whose blocks break a Block Kit limit
(`render.limits.slack_limit_problems`) are refused with `invalid_blocks`, as Slack refuses them, and show a notice.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from notifbot.render.limits import MAX_TEXT, slack_limit_problems
from notifbot.sandbox.chat import Chat, ChatError
from notifbot.sandbox.slack_history import history_page
from notifbot.sandbox.slack_wire import BOT, TEAM, err, json_field, ok, read_params, wire

TOKEN = "xoxb-sandbox"
YOU = "U0SANDBOX"
VIEWER = "U0VIEWER"
USER_NAMES: Mapping[str, str] = {
    YOU: "you",
    VIEWER: "viewer",
}  # their Slack display names (the page's mentions)
RESPONSE_URL_USES = 5  # Slack: a response_url takes 5 posts within 30 minutes
RESPONSE_URL_TTL = 30 * 60.0
API_PATH = "/slack/api/"
RESPOND_PATH = "/slack/respond/"


def user_object(user: str, name: str, real_name: str, tz: str = "America/Chicago") -> dict[str, Any]:
    """A users.info `user` object (with `locale`, which Slack sends only on include_locale=true)."""
    return {
        "id": user,
        "team_id": TEAM["team_id"],
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "tz": tz,
        "tz_label": "Central Standard Time",
        "tz_offset": -21600,
        "is_bot": False,
        "profile": {"real_name": real_name, "display_name": name},
        "locale": "en-US",
    }


@dataclass
class _Target:
    """Where a response_url's posts go: the channel, the user who acted, the message they acted on."""

    channel: str
    user: str
    message_ts: str | None
    is_ephemeral: bool
    expires: float
    uses: int = 0


class SlackApi:
    """Routes for `/slack/api/<method>` and `/slack/respond/<id>` over `chat`, for one bot token."""

    def __init__(self, chat: Chat, token: str = TOKEN, base_url: str = "") -> None:
        self.chat = chat
        self.token = token
        self.base_url = base_url  # `http://127.0.0.1:PORT`, set once the server is bound
        self.users: dict[str, dict[str, Any]] = {
            YOU: user_object(YOU, USER_NAMES[YOU], "You (sandbox admin)"),
            VIEWER: user_object(VIEWER, USER_NAMES[VIEWER], "A viewer (not an admin)"),
        }
        self.usergroups: dict[str, set[str]] = {}
        self._targets: dict[str, _Target] = {}

    @property
    def api_url(self) -> str:
        """The bot's SLACK_API_URL."""
        return f"{self.base_url}{API_PATH}"

    def routes(self) -> list[Route]:
        return [
            Route(API_PATH + "{method}", self._api, methods=["GET", "POST"]),
            Route(RESPOND_PATH + "{rid}", self._respond, methods=["POST"]),
        ]

    def response_url(
        self, channel: str, user: str, message_ts: str | None = None, *, is_ephemeral: bool = False
    ) -> str:
        """A fresh response_url for an interaction of `user` in `channel` (on message `message_ts`)."""
        self._expire()
        rid = secrets.token_urlsafe(12)
        self._targets[rid] = _Target(
            channel, user, message_ts, is_ephemeral, time.monotonic() + RESPONSE_URL_TTL
        )
        return f"{self.base_url}{RESPOND_PATH}{rid}"

    # -- the Web API -----------------------------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        read = await read_params(request)
        if isinstance(read, str):
            return err(read)
        params, token = read
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "conversations.history": self._history,
            "usergroups.users.list": self._usergroup_users,
            "users.info": self._users_info,
        }.get(method)
        if handler is None:
            return err("unknown_method", req_method=method)
        if token is None:
            return err("not_authed")
        if token != self.token:
            return err("invalid_auth")
        return handler(params)

    def _auth_test(self, p: dict[str, Any]) -> Response:
        return ok(**TEAM, **BOT, is_enterprise_install=False)

    def _post(self, p: dict[str, Any]) -> Response:
        channel = p.get("channel")
        if not isinstance(channel, str) or not channel:
            return err("channel_not_found")
        content = self._content(channel, p)
        if isinstance(content, JSONResponse):
            return content
        text, blocks, metadata = content
        try:
            message = self.chat.post(
                channel, text or "", blocks, metadata=metadata, thread_ts=p.get("thread_ts") or None
            )
        except ChatError as exc:
            return err(exc.code)
        return ok(channel=channel, ts=message.ts, message=wire(message))

    def _update(self, p: dict[str, Any]) -> Response:
        channel, ts = p.get("channel"), p.get("ts")
        if not isinstance(channel, str) or not channel or self.chat.channel(channel) is None:
            return err("channel_not_found")
        content = self._content(channel, p)
        if isinstance(content, JSONResponse):
            return content
        text, blocks, _ = content
        try:
            new = self.chat.update(channel, str(ts), text, blocks, keep_blocks="blocks" not in p)
        except ChatError as exc:
            return err(exc.code)
        return ok(channel=channel, ts=new.ts, text=new.text, message=wire(new))

    def _history(self, p: dict[str, Any]) -> Response:
        channel = p.get("channel")
        if not isinstance(channel, str) or not channel:
            return err("channel_not_found")
        slack = [m for m in self.chat.messages(channel) if m.source == "slack"]  # not the Teams twin's cards
        return JSONResponse(history_page(slack, p, time.time(), wire))

    def _usergroup_users(self, p: dict[str, Any]) -> Response:
        members = self.usergroups.get(str(p.get("usergroup") or ""))
        if members is None:
            return err("no_such_subteam")
        return ok(users=sorted(members))

    def _users_info(self, p: dict[str, Any]) -> Response:
        user = self.users.get(str(p.get("user") or ""))
        if user is None:
            return err("user_not_found")
        if str(p.get("include_locale") or "").lower() not in ("true", "1"):
            user = {k: v for k, v in user.items() if k != "locale"}
        return ok(user=user)

    def _content(
        self, channel: str, p: dict[str, Any]
    ) -> tuple[str | None, list[Any] | None, dict[str, Any] | None] | JSONResponse:
        """The text, blocks and metadata of a post or update, or Slack's error for a bad one (with a notice)."""
        text = None if p.get("text") is None else str(p["text"])
        blocks: list[Any] | None = None
        if p.get("blocks") not in (None, ""):
            try:
                blocks = json_field(p["blocks"])
            except ValueError:
                return err("invalid_blocks_format")
            if not isinstance(blocks, list):
                return err("invalid_blocks_format")
            problems = [
                x for x in slack_limit_problems({"text": "-", "blocks": blocks}) if not x.startswith("text")
            ]
            if problems:
                self.chat.notice(channel, "Slack refused a message (invalid_blocks): " + "; ".join(problems))
                messages = [f"[ERROR] {m}" for m in problems]
                return err("invalid_blocks", errors=problems, response_metadata={"messages": messages})
        if not text and not blocks:
            return err("no_text")
        if text and len(text) > MAX_TEXT:
            return err("msg_too_long")
        metadata: dict[str, Any] | None = None
        if p.get("metadata") not in (None, ""):
            try:
                metadata = json_field(p["metadata"])
            except ValueError:
                return err("invalid_metadata_format")
            if not (
                isinstance(metadata, dict)
                and isinstance(metadata.get("event_type"), str)
                and isinstance(metadata.get("event_payload"), dict)
            ):
                return err("invalid_metadata_format")
        return text, blocks, metadata

    # -- response_url ----------------------------------------------------------------------------------------

    async def _respond(self, request: Request) -> Response:
        self._expire()
        target = self._targets.get(request.path_params["rid"])
        if target is None:
            return err("expired_url", status=404)
        if target.uses >= RESPONSE_URL_USES:
            return err("used_url", status=404)
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return err("invalid_json", status=400)
        if not isinstance(body, dict):
            return err("invalid_json", status=400)
        target.uses += 1
        text = str(body.get("text") or "")
        blocks = body.get("blocks") if isinstance(body.get("blocks"), list) else None
        if flag_true(body.get("replace_original")) and target.message_ts and not target.is_ephemeral:
            try:
                self.chat.update(target.channel, target.message_ts, text, blocks)
            except ChatError as exc:
                return err(exc.code, status=404)
        elif body.get("response_type") == "in_channel":
            self.chat.post(target.channel, text, blocks)
        else:
            self.chat.ephemeral(target.channel, target.user, text, blocks, reply_to=target.message_ts)
        return ok()

    def _expire(self) -> None:
        now = time.monotonic()
        for rid in [r for r, t in self._targets.items() if t.expires < now]:
            del self._targets[rid]


def flag_true(value: Any) -> bool:
    """A response_url's JSON boolean (Bolt sends true/false; a form-minded client may send "true")."""
    return value is True or value == "true"

"""What the page's buttons and boxes send the bot, over the routes Slack and senders use, and what comes back.

A click is a signed `block_actions` POST to the bot's `/slack/events`, a command a signed slash command there, a
sample an event JSON posted to `/hooks/events` (an e-mail too, as the bot's e-mail intake classifies it). Slack's answer to each is shown as Slack shows it: a slash
command's ack body as its reply, a failed or late (> 3 s) answer as a notice; later `response_url` posts arrive
through `slack_api`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from notifbot.kinds import describe, load_samples
from notifbot.kinds.mail import EmailRule
from notifbot.model import Kind
from notifbot.sandbox.chat import Chat, Message
from notifbot.sandbox.emails import PREFIX, bundled_email, email_event
from notifbot.sandbox.signing import SignedRequest, block_actions, slash_command
from notifbot.sandbox.slack_api import USER_NAMES, SlackApi
from notifbot.sandbox.slack_wire import wire
from notifbot.sources.events import parse_event
from notifbot.text import escape_mrkdwn

ACK_SECONDS = 3.0  # Slack gives an app 3 s to answer before it shows "operation_timeout"


def sample_titles() -> dict[str, str]:
    """Each bundled sample's name → the title its kind gives its message (as `describe` words it, in English):
    what "Send a sample event" lists."""
    now = datetime.now(UTC)
    return {name: describe(parse_event(event, now=now)).title for name, event in load_samples().items()}


@dataclass(frozen=True)
class Answer:
    """The bot's HTTP answer to one request, or why there was none (`error`, as Slack names it)."""

    status: int = 0
    body: bytes = b""
    content_type: str = ""
    error: str | None = None


class BotLink:
    """The bot as the page reaches it: its base URL, the Slack signing secret it checks, its ingest token."""

    def __init__(
        self,
        chat: Chat,
        slack: SlackApi,
        *,
        bot_url: str,
        signing_secret: str,
        command: str = "/marketo",
        webhook_token: str | None = None,
        channel_names: Mapping[str, str] | None = None,
        email_rules: Sequence[tuple[Kind, EmailRule]] = (),
    ) -> None:
        self.chat = chat
        self.slack = slack
        self.bot_url = bot_url.rstrip("/")
        self.signing_secret = signing_secret
        self.command_name = command
        self.webhook_token = webhook_token
        self.channel_names = dict(channel_names or {})
        self.email_rules = tuple(email_rules)  # the configuration's own, tried before the built-in ones
        self._client = httpx.AsyncClient(timeout=ACK_SECONDS)

    async def aclose(self) -> None:
        await self._client.aclose()

    def channel_name(self, channel: str) -> str:
        return self.channel_names.get(channel, channel)

    async def _slack(self, signed: SignedRequest) -> Answer:
        """POSTs a signed request to /slack/events; a timeout or a refused connection is Slack's error."""
        try:
            response = await self._client.post(
                f"{self.bot_url}/slack/events", content=signed.body, headers=signed.headers
            )
        except httpx.TimeoutException:
            return Answer(error="operation_timeout")
        except httpx.HTTPError:
            return Answer(error="dispatch_failed")
        content_type = response.headers.get("content-type", "")
        answer = Answer(response.status_code, response.content, content_type)
        return answer if response.status_code == 200 else Answer(answer.status, error="http_service_error")

    def _failed(self, channel: str, what: str, answer: Answer) -> None:
        why = {
            "operation_timeout": f"the bot did not answer within {ACK_SECONDS:g} s",
            "dispatch_failed": f"the bot could not be reached at {self.bot_url}",
        }.get(answer.error or "", f"the bot answered HTTP {answer.status}")
        self.chat.notice(channel, f'{what} failed with the error "{answer.error}": {why}')

    async def click(self, m: Message, action_id: str, value: str | None, user: str) -> None:
        """A click on button `action_id` of message `m`, as `user`."""
        signed = block_actions(
            self.signing_secret,
            message=wire(m),
            channel=m.channel,
            channel_name=self.channel_name(m.channel),
            action_id=action_id,
            value=value,
            user=user,
            user_name=USER_NAMES.get(user, user),
            response_url=self.slack.response_url(m.channel, user, m.ts),
        )
        answer = await self._slack(signed)
        if answer.error is not None:
            self._failed(m.channel, "The button", answer)

    async def command(self, channel: str, text: str, user: str) -> None:
        """`/marketo <text>` typed in `channel` by `user`; the ack's body becomes the reply Slack would show."""
        text = text.strip()
        if text == self.command_name or text.startswith(self.command_name + " "):
            text = text[len(self.command_name) :].strip()
        signed = slash_command(
            self.signing_secret,
            command=self.command_name,
            text=escape_mrkdwn(text),  # Slack sends a typed &, < and > as &amp;, &lt; and &gt;
            user=user,
            user_name=USER_NAMES.get(user, user),
            channel=channel,
            channel_name=self.channel_name(channel),
            response_url=self.slack.response_url(channel, user),
        )
        answer = await self._slack(signed)
        if answer.error is not None:
            self._failed(channel, self.command_name, answer)
            return
        self.show_ack(channel, user, answer)

    def show_ack(self, channel: str, user: str, answer: Answer) -> None:
        """A slash command's ack body as Slack shows it: JSON text/blocks (in the channel or only to the user),
        plain text to the user, nothing for an empty body."""
        if not answer.body.strip():
            return
        reply: Any = None
        if answer.content_type.startswith("application/json"):
            try:
                reply = json.loads(answer.body)
            except ValueError:
                reply = None
        if not isinstance(reply, dict):
            self.chat.ephemeral(channel, user, answer.body.decode("utf-8", "replace"))
            return
        text = str(reply.get("text") or "")
        blocks = reply.get("blocks") if isinstance(reply.get("blocks"), list) else None
        if not text and not blocks:
            return
        if reply.get("response_type") == "in_channel":
            self.chat.post(channel, text, blocks)
        else:
            self.chat.ephemeral(channel, user, text, blocks)

    async def sample(self, name: str) -> str | None:
        """Posts the bundled sample `name` (with a fresh id) to the bot's /hooks/events; why not, if it failed.

        A name with the `email:` prefix is a bundled e-mail, sent as `email` sends an uploaded one."""
        if name.startswith(PREFIX):
            raw = bundled_email(name.removeprefix(PREFIX))
            return f"there is no e-mail called {name!r}" if raw is None else await self.email(raw)
        event = load_samples().get(name)
        if event is None:
            return f"there is no sample called {name!r}"
        event["id"] = f"sandbox-{name}-{secrets.token_hex(4)}"
        return await self._event(event, f"the sample {name!r}")

    async def email(self, raw: bytes) -> str | None:
        """Classifies the e-mail `raw` as the bot's mailbox intake does (the configuration's e-mail rules, then the
        built-in ones) and posts the notification to /hooks/events as an event; why not, if it failed.

        Its id is the intake's key with a fresh suffix: the same e-mail sent twice shows twice, as samples do."""
        event = email_event(raw, self.email_rules, id_suffix=f"-sandbox-{secrets.token_hex(4)}")
        return await self._event(event, "the e-mail")

    async def _event(self, event: dict[str, Any], what: str) -> str | None:
        headers = {"content-type": "application/json"}
        if self.webhook_token:
            headers["authorization"] = f"Bearer {self.webhook_token}"
        try:
            response = await self._client.post(
                f"{self.bot_url}/hooks/events",
                content=json.dumps(event, default=str).encode(),
                headers=headers,
            )
        except httpx.HTTPError as exc:
            return f"the bot could not be reached at {self.bot_url}: {type(exc).__name__}"
        if response.status_code != 202:
            return f"the bot refused {what}: HTTP {response.status_code} {response.text.strip()[:300]}"
        return None

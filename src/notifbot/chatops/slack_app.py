"""Bolt wiring: `/marketo` slash commands and alert buttons, over HTTP (signed) or Socket Mode."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from notifbot.chatops.slack_admins import AdminCheck
from notifbot.chatops.slack_request import MALFORMED, id_of, parse_slack_body
from notifbot.chatops.slack_users import SlackUsers
from notifbot.commands.acks import AckReply
from notifbot.commands.args import AlertRef, Command, scope_of
from notifbot.commands.core import Refusal, handle, invoke, texts_of
from notifbot.commands.model import CommandContext, Invocation
from notifbot.commands.muting import Muted
from notifbot.errors import DeliveryError, InputError
from notifbot.i18n import N_, Texts, available
from notifbot.model import Acked
from notifbot.render.slack import ACK_ACTION, MUTE_ACTION, OPEN_ACTION, render_slack
from notifbot.render.slack_reply import render_reply
from notifbot.replies import Reply
from notifbot.scopes import scope_label
from notifbot.slack.sender import SlackSender
from notifbot.slack.signature import is_valid, verifier
from notifbot.text import escape_mrkdwn, unescape_mrkdwn

log = logging.getLogger("notifbot.slack")

MUTE_BUTTON_HOURS = 24
ACK_BUDGET_SECONDS = 2.0  # Slack shows a timeout after 3 s; past this we ack and answer via response_url
Respond = Callable[..., Awaitable[Any]]


class _ClientGiven(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused." and nothing else.

    Bolt reads SLACK_BOT_TOKEN from the environment even when it is given a client, and warns that the token goes
    unused; ours is built from that same token (slack_wiring.slack_client), so every start printed a false alarm.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


# the Bolt app's own logger (Bolt's loggers take its filters): only this app's construction warning is dropped
bolt_log = logging.getLogger("notifbot.slack.bolt")
bolt_log.addFilter(_ClientGiven())


class SlackApp:
    """The Bolt app and its HTTP entry point; one per running bot."""

    def __init__(
        self,
        ctx: CommandContext,
        client: AsyncWebClient,
        command: str,
        admins: AdminCheck,
        signing_secret: str | None,
        now: Callable[[], float] = time.time,
        ack_budget: float = ACK_BUDGET_SECONDS,
        *,
        sender: SlackSender,
        users: SlackUsers | None = None,
    ) -> None:
        self.ctx = ctx
        # each user's own language and zone (users.info), for the answers only they see
        self.users = users if users is not None else SlackUsers(client)
        self._unknown_locales: set[str] = set()
        # alerts are edited with the delivery path's error classification and token scrubbing
        self.sender = sender
        self.ack_budget = ack_budget
        self.admins = admins
        self.bolt = AsyncApp(
            client=client,
            logger=bolt_log,
            signing_secret=signing_secret or "",
            request_verification_enabled=False,  # verified in `http` below, with an injectable clock
            process_before_response=False,
            raise_error_for_unhandled_request=False,
        )
        self._verifier = verifier(signing_secret, now) if signing_secret else None
        self.bolt.command(command)(self._on_command)
        self.bolt.action(ACK_ACTION)(self._on_ack)
        self.bolt.action(MUTE_ACTION)(self._on_mute)
        self.bolt.action(OPEN_ACTION)(self._on_open)

    async def http(self, request: Request) -> Response:
        """POST /slack/events: verify the signature, check the body's shape, then hand the parsed body to Bolt.

        The body is bounded while it is read by the ASGI layer (web.py), so `request.body()` is safe here.
        """
        if self._verifier is None:
            return JSONResponse(
                {"error": "Slack HTTP mode is not configured: set SLACK_SIGNING_SECRET"}, status_code=503
            )
        raw = await request.body()
        if not _is_utf8(raw):  # Slack signs UTF-8 text; the verifier itself cannot take anything else
            return JSONResponse({"error": "the body is not UTF-8"}, status_code=400)
        if not is_valid(self._verifier, raw, request.headers):
            return JSONResponse({"error": "invalid or stale Slack signature"}, status_code=401)
        try:
            bolt_request = _bolt_request(
                request, parse_slack_body(raw, request.headers.get("content-type", ""))
            )
        except InputError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except (AttributeError, TypeError, KeyError, IndexError) as exc:  # a shape Bolt reads that we missed
            log.warning("slack request refused: bolt could not read it", extra={"error": type(exc).__name__})
            return JSONResponse({"error": f"{MALFORMED}: unexpected shape"}, status_code=400)
        return to_starlette_response(await self.bolt.async_dispatch(bolt_request))

    async def _hinted(self, inv: Invocation) -> Invocation:
        """`inv` with the user's own locale and zone from Slack (users.info), when Slack gives them."""
        found = await self.users.locale_of(inv.user_id)
        known = found.locale is None or found.locale.replace("_", "-").split("-")[0].lower() in available()
        if found.locale and not known and found.locale not in self._unknown_locales:
            self._unknown_locales.add(found.locale)
            log.info("no catalog for the Slack locale %s; replying in the channel's language", found.locale)
        return replace(inv, locale_hint=found.locale, zone_hint=found.tz)

    def _cached_texts(self, inv: Invocation) -> Texts:
        """The language of an answer only this user sees, from what is cached (never waits for Slack)."""
        found = self.users.cached(inv.user_id)
        return texts_of(replace(inv, locale_hint=found.locale, zone_hint=found.tz), self.ctx)

    async def _on_command(self, ack: Respond, body: dict[str, Any], respond: Respond) -> None:
        inv = Invocation(
            # Slack sends &, < and > as &amp;, &lt; and &gt;: a value typed with them must match the event's text
            text=unescape_mrkdwn(str(body.get("text") or "")),
            user_id=str(body.get("user_id") or ""),
            user_name=body.get("user_name"),
            channel_id=body.get("channel_id"),
        )
        task = asyncio.ensure_future(self._answer(inv))
        try:
            reply, texts = await asyncio.wait_for(asyncio.shield(task), timeout=self.ack_budget)
        except TimeoutError:
            t = self._cached_texts(inv)  # the ack cannot wait: what users.info said, if it answered already
            # TRANSLATORS: shown while a slow command is still running
            await ack(response_type="ephemeral", text=t._("Working on it… the answer follows in a moment."))
            reply, texts = await task
            await respond(**render_reply(reply, self.ctx.links, texts))
            return
        await ack(**render_reply(reply, self.ctx.links, texts))

    async def _answer(self, inv: Invocation) -> tuple[Reply, Texts]:
        """The reply and the language it is in (for the few words the renderer adds)."""
        hinted = await self._hinted(inv)
        reply = await handle(hinted, self.ctx)
        return reply, texts_of(hinted, self.ctx, shared=reply.visibility == "in_channel")

    async def _deny(self, respond: Respond, what: str, t: Texts) -> None:
        await respond(
            response_type="ephemeral",
            replace_original=False,
            text=t._(
                "Only notifbot admins ({admins}) can {action}. Ask one of them, or have `slack.admins` changed in "
                "the config."
            ).format(admins=self.admins.describe(), action=t._(what)),
        )

    async def _on_ack(self, ack: Respond, body: dict[str, Any], respond: Respond) -> None:
        """The Acknowledge button: the `acknowledge` command on this message, then the alert edited in place."""
        await ack()
        container = body.get("container") or {}
        user = id_of(body.get("user"))
        channel = id_of(body.get("channel")) or str(container.get("channel_id") or "")
        ts = str((body.get("message") or {}).get("ts") or container.get("message_ts") or "")
        cmd = Command("acknowledge", alert=AlertRef(channel, ts))
        inv = await self._hinted(Invocation("", user, channel_id=channel))
        t = texts_of(inv, self.ctx)
        reply = await invoke(inv, cmd, self.ctx)
        if isinstance(reply, Refusal):
            await self._deny(respond, N_("acknowledge alerts"), t)
            return
        result = reply.result if isinstance(reply, AckReply) else None
        if result is None:
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text=t._("notifbot has no record of this message."),
            )
            return
        when = datetime.fromtimestamp(result.acked_at, UTC)
        if not result.first:
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text=t._("Already acknowledged by {user} · {when}.").format(
                    user=f"<@{escape_mrkdwn(result.acked_by)}>", when=t.when(when)
                ),
            )
            return
        # an alert group's message: the worker edits it (within a poll), count kept
        if result.group_id is not None:
            log.info("alert group acknowledged", extra={"channel": channel, "message_ts": ts, "user": user})
            return
        # the edited alert is read by the whole channel: in its destination's language (locale.md §5)
        channel_texts = texts_of(Invocation("", user, channel_id=channel), self.ctx, shared=True)
        message = render_slack(
            result.notification,
            interactive=True,
            acked=Acked(user, when),
            links=self.ctx.links,
            texts=channel_texts,
        )
        try:
            await self.sender.update(channel, ts, message)
        except DeliveryError as exc:
            # the ack stays recorded (a later click is told who acknowledged); only the message keeps its button
            log.error("acknowledged alert not updated: %s", exc, extra={"channel": channel, "message_ts": ts})
            return
        log.info("alert acknowledged", extra={"channel": channel, "message_ts": ts, "user": user})

    async def _on_mute(self, ack: Respond, body: dict[str, Any], respond: Respond) -> None:
        """The Mute button: the `mute` command for the alert's kind, for 24 h."""
        await ack()
        user = id_of(body.get("user"))
        actions = body.get("actions") or [{}]
        value = str(actions[0].get("value") or "")[:2_000]
        if not value:
            return
        hours = timedelta(hours=MUTE_BUTTON_HOURS)
        scope = scope_of(value)  # an alert group's button: its group key; a single alert's: its kind
        container = body.get("container") or {}
        channel = id_of(body.get("channel")) or str(container.get("channel_id") or "") or None
        inv = await self._hinted(Invocation("", user, channel_id=channel))
        t = texts_of(inv, self.ctx)
        if scope is None:
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text=t._(
                    "Nothing was muted: notifbot could not read this button. Use `{command} mute` instead."
                ).format(command=self.ctx.settings.slack.command),
            )
            return
        kind, matchers = scope
        # the mute's reason, as if typed by the clicker: stored in their language
        reason = t._("muted from an alert in Slack")
        cmd = Command("mute", kind=kind, duration=hours, reason=reason, matchers=matchers)
        reply = await invoke(inv, cmd, self.ctx)
        if isinstance(reply, Refusal):
            await self._deny(respond, N_("mute notifications"), t)
            return
        assert isinstance(reply, Muted) and reply.mute is not None
        await respond(
            response_type="ephemeral",
            replace_original=False,
            text=t._(
                "Muted *{what}* for {span} (until {until}). Muted notifications are still stored and listed by "
                "`{command} recent`; undo with `{command} unmute {scope}`."
            ).format(
                what=escape_mrkdwn(scope_label((("kind", kind), *matchers)) if matchers else kind),
                span=t._("{n} h").format(n=MUTE_BUTTON_HOURS),
                until=t.when(reply.mute.until),
                command=escape_mrkdwn(self.ctx.settings.slack.command),
                scope=escape_mrkdwn(reply.mute.scope),
            ),
        )
        log.info("kind muted from Slack", extra={"kind": kind, "user": user})

    async def _on_open(self, ack: Respond) -> None:
        await ack()  # a URL button still reports its click; acknowledging keeps Slack from showing an error


def _bolt_request(request: Request, body: dict[str, Any]) -> AsyncBoltRequest:
    """Bolt's request for an already parsed and checked body (Bolt never parses the raw body itself)."""
    headers: dict[str, str | Sequence[str]] = dict(request.headers.items())
    headers["content-type"] = "application/json"
    return AsyncBoltRequest(body=json.dumps(body), query=request.url.query, headers=headers)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True

"""A protocol-faithful fake of Microsoft Graph (channel messages, replies, PATCH, subscriptions; mail in
graph_mail.py) on loopback.

Enforces what the real service does to notifbot: bearer auth, the card-attachment shape (content as a JSON string
referenced from the HTML body), 1 write per second per channel (429 + Retry-After), subscription validation
(`validationToken` echoed as text/plain) and change notifications for every new message, the bot's own included.
Failures can be injected: `fail_next.append(Failure(503, commit=True))` stores the message, then answers 503;
`Failure(429, method="PATCH")` fails only the next edit (other writes pass it by).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.graph_mail import FakeMail
from tests.fakes.server import ThreadedServer

BOT_USER = {"id": "00000000-0000-0000-0000-00000000b07", "displayName": "notifbot service"}
TENANT = "11111111-2222-3333-4444-555555555555"
CARD = "application/vnd.microsoft.card.adaptive"
MAX_MESSAGE_BYTES = 28 * 1024
MAX_SUBSCRIPTION = timedelta(minutes=60)
_ATTACHMENT = re.compile(r'<attachment id="([^"]+)"></attachment>')


@dataclass
class Failure:
    """An injected answer for the next message write; `commit` stores the message before failing."""

    status: int
    commit: bool = False
    retry_after: str | None = None
    method: str | None = (
        None  # only a write with this HTTP method meets it (None: the next write of any kind)
    )
    delay: float = 0.0  # seconds to hold the answer (after committing): a status < 300 then answers normally


@dataclass
class Message:
    """A stored channel message or reply."""

    id: str
    team: str
    channel: str
    body: dict[str, Any]
    attachments: list[dict[str, Any]]
    user: dict[str, str]
    reply_to: str | None = None
    created: float = field(default_factory=time.time)
    edits: int = 0

    def card(self) -> dict[str, Any]:
        """The Adaptive Card of the first attachment, parsed from its JSON string."""
        parsed: dict[str, Any] = json.loads(self.attachments[0]["content"])
        return parsed

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "replyToId": self.reply_to,
            "messageType": "message",
            "createdDateTime": datetime.fromtimestamp(self.created, UTC).isoformat().replace("+00:00", "Z"),
            "from": {"user": {**self.user, "userIdentityType": "aadUser"}},
            "body": self.body,
            "attachments": self.attachments,
            "channelIdentity": {"teamId": self.team, "channelId": self.channel},
        }


@dataclass
class Subscription:
    """A change-notification subscription."""

    id: str
    resource: str
    notification_url: str
    client_state: str | None
    expires: datetime
    renewals: int = 0


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _when(text: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class FakeGraph(ThreadedServer):
    """Microsoft Graph v1.0 at `graph_url`; `channels` lists the (team, channel) pairs that exist."""

    thread_name = "fake-graph"

    def __init__(self, token: str = "graph-test-token", min_interval: float = 1.0) -> None:
        self.host, self.port = "127.0.0.1", 0
        self.token = token
        self.min_interval = min_interval
        self.channels: set[tuple[str, str]] = set()
        self.messages: dict[str, Message] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.fail_next: list[Failure] = []
        self.throttled = 0
        self.writes: list[tuple[str, str, float]] = []  # (method, path, time.monotonic()) of accepted writes
        self.notified: list[dict[str, Any]] = []  # every notification body sent, with the answer status
        self._lock = threading.Lock()
        self._last_write: dict[tuple[str, str], float] = {}
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.mail = FakeMail(self)  # mailboxes, folders and the message delta (graph_mail.py)
        base = "/v1.0/teams/{team}/channels/{channel}/messages"
        self._app = Starlette(
            routes=[
                Route("/v1.0/me", self._me, methods=["GET"]),
                Route(base, self._messages, methods=["GET", "POST"]),
                Route(base + "/{mid}", self._message, methods=["GET", "PATCH"]),
                Route(base + "/{mid}/replies", self._replies, methods=["GET", "POST"]),
                Route(base + "/{mid}/replies/{rid}", self._reply, methods=["GET"]),
                Route("/v1.0/subscriptions", self._subscribe, methods=["POST"]),
                Route("/v1.0/subscriptions/{sid}", self._subscription, methods=["PATCH", "DELETE"]),
                Route("/v1.0/users/{rest:path}", self.mail.dispatch, methods=["GET", "POST", "PATCH"]),
            ]
        )

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/v1.0"

    def top_level(self, team: str, channel: str) -> list[Message]:
        """Top-level messages of a channel, oldest first."""
        return [
            m for m in self.messages.values() if (m.team, m.channel) == (team, channel) and not m.reply_to
        ]

    def replies(self, message_id: str) -> list[Message]:
        """Replies in the thread of `message_id`, oldest first."""
        return [m for m in self.messages.values() if m.reply_to == message_id]

    def _authorized(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        return None

    def _new_id(self) -> str:
        return f"{int(time.time() * 1000)}{next(self._ids):04d}"

    async def _me(self, request: Request) -> Response:
        return self._authorized(request) or JSONResponse(BOT_USER)

    def _write_gate(self, team: str, channel: str, method: str) -> Response | Failure | None:
        """429 when the channel saw a write less than `min_interval` ago; else an injected failure, if any."""
        with self._lock:
            now = time.monotonic()
            last = self._last_write.get((team, channel))
            if last is not None and now - last < self.min_interval:
                self.throttled += 1
                wait = max(1, round(self.min_interval - (now - last) + 0.5))
                return _error(429, "TooManyRequests", "Too many requests.", **{"Retry-After": str(wait)})
            self._last_write[(team, channel)] = now
            for i, failure in enumerate(self.fail_next):
                if failure.method in (None, method):
                    return self.fail_next.pop(i)
            return None

    async def _card_body(self, request: Request) -> tuple[dict[str, Any], list[dict[str, Any]]] | Response:
        raw = await request.body()
        if len(raw) > MAX_MESSAGE_BYTES + 4096:
            return _error(413, "RequestEntityTooLarge", "Message too large.")
        data = json.loads(raw)
        body, attachments = data.get("body") or {}, data.get("attachments") or []
        refs = _ATTACHMENT.findall(str(body.get("content", "")))
        if body.get("contentType") != "html" or not attachments:
            return _error(400, "BadRequest", "Expected an html body referencing the attachments.")
        for att in attachments:
            if att.get("id") not in refs:
                return _error(400, "BadRequest", f"Attachment {att.get('id')} is not referenced by the body.")
            content = att.get("content")
            if att.get("contentType") != CARD or not isinstance(content, str):
                return _error(
                    400, "BadRequest", "An Adaptive Card attachment needs its content as a JSON string."
                )
            card = json.loads(content)
            if card.get("type") != "AdaptiveCard" or len(content.encode()) > MAX_MESSAGE_BYTES:
                return _error(400, "BadRequest", "Invalid or oversized Adaptive Card.")
        return body, attachments

    async def _create(self, request: Request, reply_to: str | None) -> Response:
        team, channel = request.path_params["team"], request.path_params["channel"]
        if denied := self._authorized(request):
            return denied
        if (team, channel) not in self.channels or (reply_to and reply_to not in self.messages):
            return _error(404, "NotFound", "Resource not found.")
        parsed = await self._card_body(request)
        if isinstance(parsed, Response):
            return parsed
        gate = self._write_gate(team, channel, "POST")
        if isinstance(gate, Response):
            return gate
        message = Message(self._new_id(), team, channel, parsed[0], parsed[1], dict(BOT_USER), reply_to)
        if gate is None or gate.commit:
            with self._lock:
                self.messages[message.id] = message
                self.writes.append(("POST", request.url.path, time.monotonic()))
            self._notify_later(message)
        if gate is not None and gate.delay:
            await asyncio.sleep(gate.delay)
        if gate is not None and gate.status >= 300:
            headers = {"Retry-After": gate.retry_after} if gate.retry_after else {}
            return _error(gate.status, "ServiceUnavailable", "Injected failure.", **headers)
        return JSONResponse(message.as_json(), status_code=201)

    async def _messages(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._create(request, None)
        if denied := self._authorized(request):
            return denied
        team, channel = request.path_params["team"], request.path_params["channel"]
        top = int(request.query_params.get("$top", "20"))
        newest = list(reversed(self.top_level(team, channel)))[:top]
        return JSONResponse({"value": [m.as_json() for m in newest]})

    async def _message(self, request: Request) -> Response:
        if denied := self._authorized(request):
            return denied
        message = self.messages.get(request.path_params["mid"])
        if message is None or message.reply_to:
            return _error(404, "NotFound", "Message not found.")
        if request.method == "GET":
            return JSONResponse(message.as_json())
        parsed = await self._card_body(request)
        if isinstance(parsed, Response):
            return parsed
        if message.user["id"] != BOT_USER["id"]:
            return _error(403, "Forbidden", "Only the sender can edit a message.")
        gate = self._write_gate(message.team, message.channel, "PATCH")
        if isinstance(gate, Response):
            return gate
        if gate is not None and not gate.commit:
            headers = {"Retry-After": gate.retry_after} if gate.retry_after else {}
            return _error(gate.status, "ServiceUnavailable", "Injected failure.", **headers)
        with self._lock:
            message.body, message.attachments = parsed
            message.edits += 1
            self.writes.append(("PATCH", request.url.path, time.monotonic()))
        return Response(status_code=204)

    async def _replies(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._create(request, request.path_params["mid"])
        if denied := self._authorized(request):
            return denied
        top = int(request.query_params.get("$top", "20"))
        newest = list(reversed(self.replies(request.path_params["mid"])))[:top]
        return JSONResponse({"value": [m.as_json() for m in newest]})

    async def _reply(self, request: Request) -> Response:
        if denied := self._authorized(request):
            return denied
        reply = self.messages.get(request.path_params["rid"])
        if reply is None or reply.reply_to != request.path_params["mid"]:
            return _error(404, "NotFound", "Reply not found.")
        return JSONResponse(reply.as_json())

    async def _subscribe(self, request: Request) -> Response:
        if denied := self._authorized(request):
            return denied
        data = await request.json()
        expires = _when(data.get("expirationDateTime"))
        now = datetime.now(UTC)
        if expires is None or expires <= now or expires > now + MAX_SUBSCRIPTION:
            return _error(400, "ExtensionError", "expirationDateTime must be within the next 60 minutes.")
        if data.get("changeType") != "created" or not str(data.get("resource", "")).startswith("/teams/"):
            return _error(400, "ExtensionError", "Unsupported changeType or resource.")
        url = str(data.get("notificationUrl", ""))
        token = f"Validation: Testing client application reachability {self._new_id()}"
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                r = await client.post(
                    url, params={"validationToken": token}, headers={"Content-Type": "text/plain"}
                )
        except httpx.HTTPError:
            return _error(400, "ValidationError", "Subscription validation request failed: unreachable.")
        if (
            r.status_code != 200
            or r.text != token
            or not r.headers.get("content-type", "").startswith("text/plain")
        ):
            return _error(400, "ValidationError", "Subscription validation request failed.")
        sub = Subscription(f"sub-{self._new_id()}", data["resource"], url, data.get("clientState"), expires)
        self.subscriptions[sub.id] = sub
        return JSONResponse(self._sub_json(sub), status_code=201)

    def _sub_json(self, sub: Subscription) -> dict[str, Any]:
        return {
            "id": sub.id,
            "resource": sub.resource,
            "changeType": "created",
            "notificationUrl": sub.notification_url,
            "expirationDateTime": sub.expires.isoformat().replace("+00:00", "Z"),
        }

    async def _subscription(self, request: Request) -> Response:
        if denied := self._authorized(request):
            return denied
        sub = self.subscriptions.get(request.path_params["sid"])
        if sub is None:
            return _error(404, "ResourceNotFound", "Subscription not found.")
        if request.method == "DELETE":
            del self.subscriptions[sub.id]
            return Response(status_code=204)
        expires = _when((await request.json()).get("expirationDateTime"))
        if expires is None or expires > datetime.now(UTC) + MAX_SUBSCRIPTION:
            return _error(400, "ExtensionError", "expirationDateTime must be within the next 60 minutes.")
        sub.expires, sub.renewals = expires, sub.renewals + 1
        return JSONResponse(self._sub_json(sub))

    # ---- change notifications ----

    def _notifications_for(
        self, m: Message, client_state: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        resource = f"teams('{m.team}')/channels('{m.channel}')/messages('{m.reply_to or m.id}')"
        if m.reply_to:
            resource += f"/replies('{m.id}')"
        out = []
        for sub in list(self.subscriptions.values()):
            if (
                sub.resource == f"/teams/{m.team}/channels/{m.channel}/messages"
                and sub.expires > datetime.now(UTC)
            ):
                item = {
                    "subscriptionId": sub.id,
                    "changeType": "created",
                    "clientState": sub.client_state if client_state is None else client_state,
                    "subscriptionExpirationDateTime": sub.expires.isoformat().replace("+00:00", "Z"),
                    "resource": resource,
                    "resourceData": {
                        "id": m.id,
                        "@odata.type": "#Microsoft.Graph.chatMessage",
                        "@odata.id": resource,
                    },
                    "tenantId": TENANT,
                }
                out.append((sub.notification_url, {"value": [item]}))
        return out

    async def _send(self, m: Message, client_state: str | None = None) -> list[int]:
        statuses = []
        async with httpx.AsyncClient(timeout=10) as client:
            for url, body in self._notifications_for(m, client_state):
                started = time.monotonic()
                r = await client.post(url, json=body)
                self.notified.append(
                    {"body": body, "status": r.status_code, "seconds": time.monotonic() - started}
                )
                statuses.append(r.status_code)
        return statuses

    def _notify_later(self, m: Message) -> None:
        task = asyncio.get_running_loop().create_task(self._send(m))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def user_posts(
        self,
        team: str,
        channel: str,
        html: str,
        *,
        user: tuple[str, str] = ("aaaaaaaa-0000-0000-0000-000000000001", "Ada Admin"),
        reply_to: str | None = None,
        client_state: str | None = None,
    ) -> tuple[Message, list[int]]:
        """A person posts in the channel (from the test's event loop); returns the message and notification statuses."""
        m = Message(self._new_id(), team, channel, {"contentType": "html", "content": html}, [],
                    {"id": user[0], "displayName": user[1]}, reply_to)  # fmt: skip
        with self._lock:
            self.messages[m.id] = m
        return m, await self._send(m, client_state)

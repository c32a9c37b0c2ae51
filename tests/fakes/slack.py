"""A protocol-faithful fake of the Slack Web API on a loopback port, served by uvicorn in a background thread."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from notifbot.sandbox.slack_history import MAX_LIMIT, history_page, is_channel_id
from notifbot.sandbox.slack_wire import err, ok, read_params
from tests.fakes.server import ThreadedServer
from tests.fakes.slack_blocks import read_content
from tests.fakes.slack_socket import SocketModeFake
from tests.fakes.slack_webhook import IncomingWebhookFake
from tests.fakes.slack_wire import (
    BOT,
    HUMAN,
    LOST_KINDS,
    RESPONSE_URL_USES,
    SCOPES,
    TEAM,
    LostAnswer,
    Message,
    Update,
    html_error,
    throttled,
    wire,
)

__all__ = ["BOT", "HUMAN", "LOST_KINDS", "SCOPES", "TEAM", "FakeSlack", "LostAnswer", "Message", "Update"]


class FakeSlack(SocketModeFake, IncomingWebhookFake, ThreadedServer):
    """Slack Web API (auth.test, chat.postMessage, chat.update, conversations.history, users.info), response_url and
    incoming webhooks on http://127.0.0.1:PORT."""

    thread_name = "fake-slack"
    uvicorn_options = {"access_log": False, "http": "h11", "loop": "asyncio", "timeout_graceful_shutdown": 1}  # noqa: RUF012

    def __init__(
        self,
        token: str = "xoxb-test",
        min_interval: float = 1.0,
        *,
        missing_channels: set[str] | None = None,
        not_in_channel_channels: set[str] | None = None,
        archived_channels: set[str] | None = None,
        private_channels: set[str] | None = None,
        nonmember_channels: set[str] | None = None,
        scopes: set[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self._min_interval = min_interval
        self._initial = (
            set(missing_channels or ()),
            set(not_in_channel_channels or ()),
            set(archived_channels or ()),
            set(private_channels or ()),
            set(nonmember_channels or ()),
            set(SCOPES if scopes is None else scopes),
        )
        self.host, self.port = host, port
        self._lock = threading.Condition()
        self._faults: list[int | tuple[str, dict[str, Any]]] = []
        self._last_ts_us = 0
        self.reset()
        self._app = Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/response/{rid}", self._response_url, methods=["POST"]),
                Route("/services/{team}/{bot}/{secret}", self._webhook, methods=["POST"]),
                WebSocketRoute("/socket", self._socket),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The value for AsyncWebClient(base_url=...), ending in `/api/`."""
        return f"{self.base_url}/api/"

    def response_url(self, rid: str) -> str:
        """A response_url (as sent with a slash command) that records what is posted to it."""
        return f"{self.base_url}/response/{rid}"

    # -- fault injection -------------------------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next `n` API calls answer HTTP `status` with an HTML body."""
        with self._lock:
            self._faults += [status] * n

    def fail_next_with_error(self, n: int, error: str = "internal_error", **fields: Any) -> None:
        """The next `n` API calls answer HTTP 200 `{"ok": false, "error": error, **fields}`."""
        with self._lock:
            self._faults += [(error, fields)] * n

    def throttle_next(self, method: str, n: int = 1, retry_after: int | str = 1, *, after: int = 0) -> None:
        """After `after` more calls of `method`, the next `n` answer HTTP 429 + Retry-After (past the method's
        tier; seconds, or an HTTP-date string) and do nothing."""
        self._queue_method_faults(method, after, [lambda: throttled(retry_after)] * n)

    def fail_next_calls(self, method: str, n: int = 1, status: int = 500, *, after: int = 0) -> None:
        """After `after` more calls of `method`, the next `n` answer HTTP `status` with an HTML body."""
        self._queue_method_faults(method, after, [lambda: html_error(status)] * n)

    def _queue_method_faults(self, method: str, after: int, faults: list[Callable[[], Response]]) -> None:
        with self._lock:
            queue = self._method_faults.setdefault(method, [])
            queue += [None] * max(0, after - len(queue))
            queue += faults

    def lose_next_answers(self, n: int = 1, kind: LostAnswer = "drop", delay: float = 1.0) -> None:
        """The next `n` posts the fake accepts are stored, then their answer is lost: `late` answers after
        `delay` seconds (past a client's timeout), `drop` closes the connection without a byte, `500` answers
        an HTML 500."""
        with self._lock:
            self._post_faults += [(kind, delay)] * n

    def lose_answers(
        self, rate: float, kinds: Sequence[LostAnswer] = LOST_KINDS, delay: float = 1.0, seed: int = 0
    ) -> None:
        """From now on each accepted post loses its answer with probability `rate`, the kind drawn from `kinds`
        (a seeded draw, so a run repeats)."""
        with self._lock:
            self._lose_rate, self._lose_kinds, self._lose_delay = rate, tuple(kinds), delay
            self._rng = random.Random(seed)

    def add_message(
        self, channel: str, text: str, *, user: str = HUMAN, metadata: dict[str, Any] | None = None
    ) -> Message:
        """Someone else's message in `channel` (history traffic between the bot's posts)."""
        with self._lock:
            message = Message(channel, self._next_ts(), text, None, metadata, time.time(), user)
            self._messages.append(message)
            return message

    def revoke_token(self) -> None:
        """Every later call answers invalid_auth."""
        self._revoked = True

    def set_latency(self, seconds: float) -> None:
        """Every later API call waits `seconds` before it is handled."""
        self._latency = seconds

    def reset(self) -> None:
        """Back to the state after construction: no traffic, faults, revocation, latency, rate history or limits."""
        with self._lock:
            (
                self.missing_channels,
                self.not_in_channel_channels,
                self.archived_channels,
                self.private_channels,
                self.nonmember_channels,
                self.scopes,
            ) = (set(s) for s in self._initial)
            self.min_interval = self._min_interval
            self.history_max_limit = MAX_LIMIT  # 15 for non-Marketplace apps distributed since 2025-05-29
            self._revoked = False
            self._latency = 0.0
            self._messages: list[Message] = []
            self._posted: list[Message] = []
            self._webhooks: dict[str, str] = {}  # webhook path → channel
            self._updates: list[Update] = []
            self._responses: list[tuple[str, Any]] = []
            self._calls: list[tuple[str, str | None]] = []
            self._requests: list[tuple[str, dict[str, Any]]] = []
            self._last_post: dict[str, float] = {}
            self._count_429 = 0
            self._faults = []
            self._method_faults: dict[str, list[Callable[[], Response] | None]] = {}
            self._post_faults: list[tuple[LostAnswer, float]] = []
            self._lose_rate, self._lose_kinds, self._lose_delay = 0.0, LOST_KINDS, 1.0
            self._rng = random.Random(0)
            self._lost: list[tuple[LostAnswer, str]] = []
            self.usergroups: dict[str, set[str]] = {}  # user-group id → member user ids
            self.users: dict[str, dict[str, Any]] = {}  # user id → users.info's user object (see set_user)
            self.users_info_delay = 0.0  # seconds users.info waits before it answers (a slow Slack)
            self._socket_outbox: list[dict[str, Any]] = []
            self._socket_acks: list[dict[str, Any]] = []
            self._socket_count = 0

    # -- inspection ------------------------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        with self._lock:
            return list(self._messages)

    def messages_for(self, channel: str) -> list[Message]:
        with self._lock:
            return [m for m in self._messages if m.channel == channel]

    def top_level(self, channel: str | None = None) -> list[Message]:
        """The channel's messages as people see them in it (thread replies left out), as updated."""
        with self._lock:
            return [m for m in self._messages if m.thread_ts is None and channel in (None, m.channel)]

    def thread(self, ts: str) -> list[Message]:
        """The replies in the thread of message `ts`, oldest first."""
        with self._lock:
            return [m for m in self._messages if m.thread_ts == ts]

    @property
    def posted(self) -> list[Message]:
        """Every accepted post as it was first posted (`messages` shows each after its chat.updates)."""
        with self._lock:
            return list(self._posted)

    @property
    def updates(self) -> list[Update]:
        with self._lock:
            return list(self._updates)

    @property
    def responses(self) -> list[tuple[str, Any]]:
        """Every accepted response_url post as (id, JSON body)."""
        with self._lock:
            return list(self._responses)

    def responses_for(self, rid: str) -> list[Any]:
        with self._lock:
            return [body for r, body in self._responses if r == rid]

    @property
    def calls(self) -> list[tuple[str, str | None]]:
        """Every API call received, as (method, channel or None), including refused ones."""
        with self._lock:
            return list(self._calls)

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        """Every API call received, as (method, decoded parameters without the token)."""
        with self._lock:
            return list(self._requests)

    @property
    def lost_answers(self) -> list[tuple[LostAnswer, str]]:
        """(kind, ts) of every accepted post whose answer the fake lost on purpose."""
        with self._lock:
            return list(self._lost)

    @property
    def count_429(self) -> int:
        with self._lock:
            return self._count_429

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[Message]:
        """Blocks until at least `count` messages were accepted; raises TimeoutError otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"fake Slack got {len(self._messages)} messages, expected {count}")
            return list(self._messages)

    async def wait_for_messages_async(self, count: int, timeout: float = 5.0) -> list[Message]:
        """Like wait_for_messages, without blocking the running event loop."""
        deadline = time.monotonic() + timeout
        while len(got := self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"fake Slack got {len(got)} messages, expected {count}")
            await asyncio.sleep(0.01)
        return got

    # -- handlers --------------------------------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        if self._latency > 0:
            await asyncio.sleep(self._latency)
        read = await read_params(request)
        if isinstance(read, str):
            return err(read)
        params, token = read
        channel = params.get("channel")
        with self._lock:
            self._calls.append((method, channel if isinstance(channel, str) else None))
            self._requests.append((method, params))
            fault = self._faults.pop(0) if self._faults else None
        if isinstance(fault, int):
            return html_error(fault)
        if isinstance(fault, tuple):
            return err(fault[0], **fault[1])
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "conversations.history": self._history,
            "usergroups.users.list": self._usergroup_users,
            "users.info": self._users_info,
        }
        if method == "apps.connections.open":  # Socket Mode: needs the app-level token, not the bot token
            if not (token or "").startswith("xapp-"):
                return err("invalid_auth")
            return ok(url=f"ws://{self.host}:{self.port}/socket")
        if method not in handler:
            return err("unknown_method", req_method=method)
        if token is None:
            return err("not_authed")
        if self._revoked or token != self.token:
            return err("invalid_auth")
        with self._lock:
            queued = self._method_faults.get(method)
            method_fault = queued.pop(0) if queued else None
        if method_fault is not None:
            return method_fault()
        if method == "chat.postMessage":
            return await self._post_and_answer(request, params)
        if method == "users.info" and self.users_info_delay > 0:
            await self._sleep_while_serving(self.users_info_delay)
        return handler[method](params)

    async def _post_and_answer(self, request: Request, params: dict[str, Any]) -> Response:
        """chat.postMessage, then the answer loss a test asked for (the message stays posted either way)."""
        answer = self._post(params)
        if answer.status_code != 200 or not json.loads(bytes(answer.body)).get("ok"):
            return answer
        with self._lock:
            lost: tuple[LostAnswer, float] | None = self._post_faults.pop(0) if self._post_faults else None
            if lost is None and self._lose_rate > 0 and self._rng.random() < self._lose_rate:
                lost = (self._rng.choice(self._lose_kinds), self._lose_delay)
            if lost is not None:
                self._lost.append((lost[0], json.loads(bytes(answer.body))["ts"]))
        if lost is None:
            return answer
        kind, delay = lost
        if kind == "500":
            return html_error(500)
        if kind == "late":
            await self._sleep_while_serving(delay)
            return answer
        self._drop_connection(request)
        await asyncio.sleep(0.05)  # uvicorn sees the connection gone and discards what is returned
        return answer

    async def _sleep_while_serving(self, seconds: float) -> None:
        """Waits `seconds`, or less if the fake is stopping (a late answer must not hold up its shutdown)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (self._server is not None and self._server.should_exit):
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _drop_connection(self, request: Request) -> None:
        """Aborts the TCP connection this request came on, before any byte of an answer."""
        client = request.scope.get("client")
        server = self._server
        if server is None or client is None:
            return
        for conn in list(server.server_state.connections):
            if getattr(conn, "client", None) == tuple(client):
                conn.transport.abort()

    def _history(self, p: dict[str, Any]) -> Response:
        channel = p.get("channel")
        if not is_channel_id(channel) or channel in self.missing_channels:
            return err("channel_not_found")
        assert isinstance(channel, str)
        private = channel in self.private_channels or channel.startswith("G")
        needed = "groups:history" if private else "channels:history"
        if needed not in self.scopes:
            return err("missing_scope", needed=needed, provided=",".join(sorted(self.scopes)))
        if channel in self.not_in_channel_channels or channel in self.nonmember_channels:
            return err("not_in_channel")
        with self._lock:  # conversations.history shows parent messages only, never thread replies
            stored = [m for m in self._messages if m.channel == channel and m.thread_ts is None]
        body = history_page(stored, p, time.time(), wire, self.history_max_limit)
        return JSONResponse(body)

    def _usergroup_users(self, p: dict[str, Any]) -> Response:
        group = p.get("usergroup")
        with self._lock:
            members = self.usergroups.get(group) if isinstance(group, str) else None
        if members is None:
            return err("no_such_subteam")
        return ok(users=sorted(members))

    def set_user(self, user: str, locale: str | None = "en-US", tz: str | None = "America/Chicago") -> None:
        """A workspace member users.info knows, with their language (`sv-SE`) and IANA zone (None: not set)."""
        with self._lock:
            self.users[user] = {
                "id": user,
                "team_id": TEAM["team_id"],
                "name": user.lower(),
                "deleted": False,
                "real_name": f"User {user}",
                "tz": tz,
                "tz_label": tz or "",
                "tz_offset": 0,
                "is_bot": False,
                "profile": {"real_name": f"User {user}", "display_name": user.lower()},
                **({"locale": locale} if locale else {}),
            }

    def _users_info(self, p: dict[str, Any]) -> Response:
        """users.info: the user object; `locale` only with include_locale=true (Slack's opt-in); needs users:read."""
        if "users:read" not in self.scopes:
            return err("missing_scope", needed="users:read", provided=",".join(sorted(self.scopes)))
        with self._lock:
            user = self.users.get(str(p.get("user") or ""))
        if user is None:
            return err("user_not_found")
        if str(p.get("include_locale") or "").lower() not in ("true", "1"):
            user = {k: v for k, v in user.items() if k != "locale"}
        return ok(user=user)

    def _auth_test(self, p: dict[str, Any]) -> Response:
        return ok(**TEAM, **BOT, is_enterprise_install=False)

    def _post(self, p: dict[str, Any]) -> Response:
        if "chat:write" not in self.scopes:
            return err("missing_scope", needed="chat:write", provided=",".join(sorted(self.scopes)))
        channel = p.get("channel")
        if not isinstance(channel, str) or not channel or channel in self.missing_channels:
            return err("channel_not_found")
        now = time.monotonic()
        wait = self._too_soon(channel, now)
        if wait is not None:
            body = {"ok": False, "error": "ratelimited"}
            return JSONResponse(body, status_code=429, headers={"Retry-After": str(wait)})
        if channel in self.not_in_channel_channels:
            return err("not_in_channel")
        if channel in self.archived_channels:
            return err("is_archived")
        content = read_content(p)
        if isinstance(content, JSONResponse):
            return content
        text, blocks, metadata = content
        thread_ts = p.get("thread_ts") or None
        with self._lock:
            if thread_ts is not None and not any(
                (m.channel, m.ts, m.thread_ts) == (channel, thread_ts, None) for m in self._messages
            ):
                return err("thread_not_found")  # (?) what Slack answers for a thread_ts it has no parent for
            self._last_post[channel] = now
            message = Message(
                channel, self._next_ts(), text or "", blocks, metadata, time.time(), thread_ts=thread_ts
            )
            self._messages.append(message)
            self._posted.append(message)
            self._lock.notify_all()
        return ok(channel=channel, ts=message.ts, message=wire(message))

    def _update(self, p: dict[str, Any]) -> Response:
        channel, ts = p.get("channel"), p.get("ts")
        if not isinstance(channel, str) or not channel or channel in self.missing_channels:
            return err("channel_not_found")
        content = read_content(p)
        if isinstance(content, JSONResponse):
            return content
        text, blocks, _ = content
        with self._lock:
            index = next(
                (i for i, m in enumerate(self._messages) if (m.channel, m.ts) == (channel, ts)), None
            )
            if index is None:
                return err("message_not_found")
            old = self._messages[index]
            new = replace(
                old,
                text=old.text if text is None else text,
                blocks=old.blocks if "blocks" not in p else blocks,
            )
            self._messages[index] = new
            self._updates.append(Update(channel, new.ts, new.text, new.blocks, time.time()))
        return ok(channel=channel, ts=new.ts, text=new.text, message=wire(new))

    async def _response_url(self, request: Request) -> Response:
        rid = request.path_params["rid"]
        body = await request.body()
        try:
            payload: Any = json.loads(body) if body else None
        except ValueError:
            return err("invalid_json", status=400)
        with self._lock:
            if sum(1 for r, _ in self._responses if r == rid) >= RESPONSE_URL_USES:
                return err("used_url", status=404)
            self._responses.append((rid, payload))
        return ok()

    def _next_ts(self) -> str:
        """A unique, increasing Slack ts ("seconds.micros"); call with the lock held."""
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"


def _wait_for_eof(done: threading.Event) -> None:
    try:
        while os.read(sys.stdin.fileno(), 65536):
            pass
    finally:
        done.set()


def main(argv: list[str] | None = None) -> int:
    """Runs the fake until SIGTERM/SIGINT or stdin EOF, then writes the accepted messages to --dump."""
    ap = argparse.ArgumentParser(prog="python -m tests.fakes.slack", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="xoxb-test")
    ap.add_argument("--min-interval", type=float, default=1.0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--dump", type=Path, help="write the accepted messages here (JSON list) on exit")
    ap.add_argument("--ignore-stdin", action="store_true", help="do not stop on stdin EOF")
    args = ap.parse_args(argv)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with FakeSlack(token=args.token, min_interval=args.min_interval, host=args.host, port=args.port) as slack:
        slack.set_latency(args.latency)
        print(f"READY {slack.api_url}", flush=True)
        if not args.ignore_stdin and sys.stdin is not None:
            threading.Thread(target=_wait_for_eof, args=(done,), daemon=True).start()
        while not done.wait(0.2):
            pass
        if args.dump:
            tmp = args.dump.with_name(args.dump.name + ".tmp")
            tmp.write_text(json.dumps([m.as_dict() for m in slack.messages], indent=1))
            os.replace(tmp, args.dump)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A protocol-faithful fake of the Slack Web API on a loopback port, served by uvicorn in a background thread."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.fakes.server import ThreadedServer

TEAM = {"url": "https://notifbot-test.slack.com/", "team": "Notifbot Test", "team_id": "T0FAKE0001"}
BOT = {"user": "notifbot", "user_id": "U0FAKEBOT1", "bot_id": "B0FAKEBOT1"}
RESPONSE_URL_USES = 5  # a response_url accepts 5 posts (facts/slack-teams.md)
_HTML_ERROR = (
    "<html><head><title>Server Error</title></head><body><h1>Slack is having trouble</h1></body></html>"
)
_PLAIN_ONLY = "must be plain_text"


class _Record:
    """Field access by attribute (`m.text`) or by key (`m["text"]`), like the JSON Slack sends."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Message(_Record):
    """A message the fake accepted (its current version after any chat.update); `arrived` is time.time()."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None
    metadata: dict[str, Any] | None
    arrived: float


@dataclass(frozen=True)
class Update(_Record):
    """One accepted chat.update: the new text/blocks of message `ts` in `channel`."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None
    arrived: float


def _ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"ok": True, **fields})


def _err(code: str, status: int = 200, **fields: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": code, **fields}, status_code=status)


async def _read_params(request: Request) -> tuple[dict[str, Any], str | None] | str:
    """Query + body parameters (JSON or form) and the token (Bearer header, else a form/query `token`).

    Returns the Slack error code instead when the body cannot be read.
    """
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and ctype == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            return "invalid_json"
        if not isinstance(data, dict):
            return "invalid_json"
        data.pop("token", None)  # Slack ignores a token in a JSON body
        params.update(data)
    elif body and ctype in ("application/x-www-form-urlencoded", ""):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif body:
        return "invalid_form_data"
    auth = request.headers.get("authorization", "")
    form_token = params.pop("token", None)
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else form_token
    return params, token if isinstance(token, str) and token else None


def _decode(value: Any) -> Any:
    """Form fields carry JSON as strings; JSON bodies may carry either."""
    return json.loads(value) if isinstance(value, str) else value


def _text_problems(obj: Any, limit: int, at: str, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"must be a text object [json-pointer:{at}]"]
    if plain_only and obj["type"] != "plain_text":
        return [f"{_PLAIN_ONLY} [json-pointer:{at}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be a non-empty string [json-pointer:{at}/text]"]
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{at}/text]"]
    return []


def _element_problems(el: Any, at: str) -> list[str]:
    if not isinstance(el, dict):
        return [f"must be an object [json-pointer:{at}]"]
    out: list[str] = []
    if el.get("type") == "button":
        out += _text_problems(el.get("text"), 75, f"{at}/text", plain_only=True)
        for key, limit in (("value", 2000), ("url", 3000), ("action_id", 255)):
            if isinstance(el.get(key), str) and len(el[key]) > limit:
                out.append(f"must be less than {limit + 1} characters [json-pointer:{at}/{key}]")
    return out


def block_problems(blocks: list[Any]) -> list[str]:
    """Slack-style `[ERROR]` texts for the Block Kit limits that matter to notifbot; empty when valid."""
    out: list[str] = []
    if len(blocks) > 50:
        out.append("no more than 50 items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        if not isinstance(block, dict):
            out.append(f"must be an object [json-pointer:{at}]")
            continue
        kind = block.get("type")
        if isinstance(block.get("block_id"), str) and len(block["block_id"]) > 255:
            out.append(f"must be less than 256 characters [json-pointer:{at}/block_id]")
        if kind == "header":
            out += _text_problems(block.get("text"), 150, f"{at}/text", plain_only=True)
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                out.append(f"must provide either text or fields [json-pointer:{at}]")
            if text is not None:
                out += _text_problems(text, 3000, f"{at}/text")
            if fields is not None and not isinstance(fields, list):
                out.append(f"must be an array [json-pointer:{at}/fields]")
            elif fields:
                if len(fields) > 10:
                    out.append(f"no more than 10 items allowed [json-pointer:{at}/fields]")
                for j, fld in enumerate(fields):
                    out += _text_problems(fld, 2000, f"{at}/fields/{j}")
        elif kind in ("context", "actions"):
            elements, most = block.get("elements"), 10 if kind == "context" else 25
            if not isinstance(elements, list) or not elements:
                out.append(f"must be a non-empty array [json-pointer:{at}/elements]")
                continue
            if len(elements) > most:
                out.append(f"no more than {most} items allowed [json-pointer:{at}/elements]")
            for j, el in enumerate(elements):
                out += _element_problems(el, f"{at}/elements/{j}")
        elif kind not in ("divider", "image", "rich_text", "input", "file", "video", "markdown"):
            out.append(f"unknown block type {kind!r} [json-pointer:{at}/type]")
    return out


def _content(p: dict[str, Any]) -> tuple[str | None, list[Any] | None, dict[str, Any] | None] | JSONResponse:
    """The text, blocks and metadata of a post or update, or the Slack error answering a bad one."""
    text = p.get("text")
    text = None if text is None else str(text)
    blocks: list[Any] | None = None
    if p.get("blocks") not in (None, ""):
        try:
            blocks = _decode(p["blocks"])
        except ValueError:
            return _err("invalid_blocks_format")
        if not isinstance(blocks, list):
            return _err("invalid_blocks_format")
        problems = block_problems(blocks)
        if problems:
            messages = [f"[ERROR] {m}" for m in problems]
            return _err("invalid_blocks", errors=problems, response_metadata={"messages": messages})
    if not text and not blocks:
        return _err("no_text")
    if text and len(text) > 40000:
        return _err("msg_too_long")
    metadata: dict[str, Any] | None = None
    if p.get("metadata") not in (None, ""):
        try:
            metadata = _decode(p["metadata"])
        except ValueError:
            return _err("invalid_metadata_format")
        if not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            return _err("invalid_metadata_format")
    return text, blocks, metadata


def _wire(m: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"type": "message", "text": m.text, "user": BOT["user_id"], "ts": m.ts}
    wire["bot_id"] = BOT["bot_id"]
    if m.blocks is not None:
        wire["blocks"] = m.blocks
    if m.metadata is not None:
        wire["metadata"] = m.metadata
    return wire


class FakeSlack(ThreadedServer):
    """Slack Web API (auth.test, chat.postMessage, chat.update) and response_url on http://127.0.0.1:PORT."""

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
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.min_interval = min_interval
        self._initial = (
            set(missing_channels or ()),
            set(not_in_channel_channels or ()),
            set(archived_channels or ()),
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

    def revoke_token(self) -> None:
        """Every later call answers invalid_auth."""
        self._revoked = True

    def set_latency(self, seconds: float) -> None:
        """Every later API call waits `seconds` before it is handled."""
        self._latency = seconds

    def reset(self) -> None:
        """Back to the state after construction: no traffic, faults, revocation, latency or rate history."""
        with self._lock:
            self.missing_channels, self.not_in_channel_channels, self.archived_channels = (
                set(s) for s in self._initial
            )
            self._revoked = False
            self._latency = 0.0
            self._messages: list[Message] = []
            self._updates: list[Update] = []
            self._responses: list[tuple[str, Any]] = []
            self._calls: list[tuple[str, str | None]] = []
            self._requests: list[tuple[str, dict[str, Any]]] = []
            self._last_post: dict[str, float] = {}
            self._count_429 = 0
            self._faults = []
            self.usergroups: dict[str, set[str]] = {}  # user-group id → member user ids
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
        read = await _read_params(request)
        if isinstance(read, str):
            return _err(read)
        params, token = read
        channel = params.get("channel")
        with self._lock:
            self._calls.append((method, channel if isinstance(channel, str) else None))
            self._requests.append((method, params))
            fault = self._faults.pop(0) if self._faults else None
        if isinstance(fault, int):
            return HTMLResponse(_HTML_ERROR, status_code=fault)
        if isinstance(fault, tuple):
            return _err(fault[0], **fault[1])
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "usergroups.users.list": self._usergroup_users,
        }
        if method == "apps.connections.open":  # Socket Mode: needs the app-level token, not the bot token
            if not (token or "").startswith("xapp-"):
                return _err("invalid_auth")
            return _ok(url=f"ws://{self.host}:{self.port}/socket")
        if method not in handler:
            return _err("unknown_method", req_method=method)
        if token is None:
            return _err("not_authed")
        if self._revoked or token != self.token:
            return _err("invalid_auth")
        return handler[method](params)

    def _usergroup_users(self, p: dict[str, Any]) -> Response:
        group = p.get("usergroup")
        with self._lock:
            members = self.usergroups.get(group) if isinstance(group, str) else None
        if members is None:
            return _err("no_such_subteam")
        return _ok(users=sorted(members))

    def _auth_test(self, p: dict[str, Any]) -> Response:
        return _ok(**TEAM, **BOT, is_enterprise_install=False)

    def _post(self, p: dict[str, Any]) -> Response:
        channel = p.get("channel")
        if not isinstance(channel, str) or not channel or channel in self.missing_channels:
            return _err("channel_not_found")
        now = time.monotonic()
        with self._lock:
            last = self._last_post.get(channel)
            if last is not None and now - last < self.min_interval:
                self._count_429 += 1
                wait = max(1, math.ceil(self.min_interval - (now - last)))
                body = {"ok": False, "error": "ratelimited"}
                return JSONResponse(body, status_code=429, headers={"Retry-After": str(wait)})
        if channel in self.not_in_channel_channels:
            return _err("not_in_channel")
        if channel in self.archived_channels:
            return _err("is_archived")
        content = _content(p)
        if isinstance(content, JSONResponse):
            return content
        text, blocks, metadata = content
        with self._lock:
            self._last_post[channel] = now
            message = Message(channel, self._next_ts(), text or "", blocks, metadata, time.time())
            self._messages.append(message)
            self._lock.notify_all()
        return _ok(channel=channel, ts=message.ts, message=_wire(message))

    def _update(self, p: dict[str, Any]) -> Response:
        channel, ts = p.get("channel"), p.get("ts")
        if not isinstance(channel, str) or not channel or channel in self.missing_channels:
            return _err("channel_not_found")
        content = _content(p)
        if isinstance(content, JSONResponse):
            return content
        text, blocks, _ = content
        with self._lock:
            index = next(
                (i for i, m in enumerate(self._messages) if (m.channel, m.ts) == (channel, ts)), None
            )
            if index is None:
                return _err("message_not_found")
            old = self._messages[index]
            new = replace(
                old,
                text=old.text if text is None else text,
                blocks=old.blocks if "blocks" not in p else blocks,
            )
            self._messages[index] = new
            self._updates.append(Update(channel, new.ts, new.text, new.blocks, time.time()))
        return _ok(channel=channel, ts=new.ts, text=new.text, message=_wire(new))

    async def _response_url(self, request: Request) -> Response:
        rid = request.path_params["rid"]
        body = await request.body()
        try:
            payload: Any = json.loads(body) if body else None
        except ValueError:
            return _err("invalid_json", status=400)
        with self._lock:
            if sum(1 for r, _ in self._responses if r == rid) >= RESPONSE_URL_USES:
                return _err("used_url", status=404)
            self._responses.append((rid, payload))
        return _ok()

    # -- Socket Mode ----------------------------------------------------------------------------------------

    def socket_send(self, envelope: dict[str, Any]) -> None:
        """Queues an envelope (e.g. `slash_commands`) for the connected Socket Mode client."""
        with self._lock:
            self._socket_outbox.append(envelope)

    @property
    def socket_acks(self) -> list[dict[str, Any]]:
        """What Socket Mode clients sent back (acks carry `envelope_id` and an optional `payload`)."""
        with self._lock:
            return list(self._socket_acks)

    @property
    def socket_connections(self) -> int:
        """How many Socket Mode connections were accepted."""
        with self._lock:
            return self._socket_count

    async def _socket(self, ws: WebSocket) -> None:
        await ws.accept()
        with self._lock:
            self._socket_count += 1
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0FAKE"}})

        async def pump() -> None:
            while True:
                with self._lock:
                    pending, self._socket_outbox = self._socket_outbox, []
                for envelope in pending:
                    await ws.send_json(envelope)
                await asyncio.sleep(0.02)

        sender = asyncio.create_task(pump())
        try:
            while True:
                message = await ws.receive_text()
                with self._lock:
                    self._socket_acks.append(json.loads(message))
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()

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

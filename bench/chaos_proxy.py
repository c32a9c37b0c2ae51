"""A loopback HTTP proxy in front of the fake Slack that answers some posts late or never, after Slack took them.

This is the fault Slack's clients meet on a bad network: chat.postMessage reached Slack and the message is in the
channel, but the answer arrives after the client gave up (`slow`) or the connection drops before it (`lost`). A
client that then re-posts the same notification posts it twice. The proxy forwards every request to the upstream
first and only then decides what the client sees, so the upstream (tests/fakes/slack.py, untouched) always has the
message. Any other API call (auth.test, conversations.history, chat.update) passes through unharmed.

It speaks just enough HTTP/1.1 for slack_sdk's aiohttp client: one request per connection (`Connection: close`
both ways), bodies by Content-Length or chunked.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections import Counter
from urllib.parse import urlsplit

FAULTED_PATH_SUFFIX = "/chat.postMessage"
_HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"content-length"}


async def _read_body(reader: asyncio.StreamReader, headers: dict[bytes, bytes]) -> bytes:
    """The request body by Content-Length, or de-chunked."""
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        out = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return bytes(out)
            out += await reader.readexactly(size)
            await reader.readexactly(2)
    length = int(headers.get(b"content-length", b"0") or 0)
    return await reader.readexactly(length) if length else b""


def _parse_head(head: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """(start line, [(name, value)]) of an HTTP/1.1 message head."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields.append((name.strip(), value.strip()))
    return lines[0], fields


def _rebuild(start: bytes, fields: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """One message with Content-Length and `Connection: close`, the hop-by-hop fields dropped."""
    kept = [(n, v) for n, v in fields if n.lower() not in _HOP_BY_HOP]
    kept += [(b"Content-Length", str(len(body)).encode()), (b"Connection", b"close")]
    return start + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in kept) + b"\r\n" + body


class SlackFaultProxy:
    """Proxies http://127.0.0.1:PORT/ to `upstream`; a seeded share of chat.postMessage answers is slow or lost."""

    def __init__(
        self, upstream: str, *, slow: float, lost: float, slow_seconds: float, seed: int = 10
    ) -> None:
        parts = urlsplit(upstream)
        self._up_host, self._up_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.slow, self.lost, self.slow_seconds = slow, lost, slow_seconds
        self._rng = random.Random(seed)
        self.counts: Counter[str] = Counter()  # calls, posts (chat.postMessage), slow, lost, upstream_error
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="slack-fault-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def api_url(self) -> str:
        """SLACK_API_URL for notifbot: the proxy, with the upstream's /api/ path."""
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> SlackFaultProxy:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = fut.result(10)
        return self

    def stop(self) -> None:
        """Closes the listener and abandons held answers (their clients timed out long ago)."""

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # the client went away or sent garbage: nothing to answer
        finally:
            self._tasks.discard(task)
            writer.close()

    def _fault(self, path: bytes) -> str:
        if not path.split(b"?")[0].endswith(FAULTED_PATH_SUFFIX.encode()):
            return "other"
        roll = self._rng.random()
        return "slow" if roll < self.slow else "lost" if roll < self.slow + self.lost else "none"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        start, fields = _parse_head(await reader.readuntil(b"\r\n\r\n"))
        body = await _read_body(reader, {n.lower(): v for n, v in fields})
        fault = self._fault(start.split(b" ")[1] if start.count(b" ") >= 2 else b"")
        try:
            answer = await self._forward(start, fields, body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.counts["upstream_error"] += 1
            writer.transport.abort()
            return
        self.counts["calls"] += 1
        if fault != "other":
            self.counts["posts"] += 1
        if fault == "lost":  # Slack has the message; its answer never arrives
            self.counts["lost"] += 1
            writer.transport.abort()
            return
        if fault == "slow":  # Slack has the message; its answer comes after the client's timeout
            self.counts["slow"] += 1
            await asyncio.sleep(self.slow_seconds)
        writer.write(answer)
        await writer.drain()

    async def _forward(self, start: bytes, fields: list[tuple[bytes, bytes]], body: bytes) -> bytes:
        """Sends the request upstream on a fresh connection and returns the whole answer, rebuilt."""
        up_reader, up_writer = await asyncio.open_connection(self._up_host, self._up_port)
        try:
            up_writer.write(_rebuild(start, fields, body))
            await up_writer.drain()
            head = await up_reader.readuntil(b"\r\n\r\n")
            status, answer_fields = _parse_head(head)
            answer_body = await _read_body(up_reader, {n.lower(): v for n, v in answer_fields})
        finally:
            up_writer.close()
        return _rebuild(status, answer_fields, answer_body)

"""Tells the other replicas what changed (PostgreSQL NOTIFY on one channel), and listens for what they changed.

Topics: `mutes` (reload the mutes in force), `outbox:<dest_type>:<target>` (rows due on that channel: new, re-armed
by a group change or an ack), `groups:<id>` (a group's state changed). A notification is delivered at commit only,
so a listener never acts on a change that rolled back; one sent while a listener was disconnected is lost, which
is why the listener calls its `resync` on every (re)connect. On SQLite (one process) `notify` does nothing: the
in-process callbacks already ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from notifbot.store.conn import Conn
from notifbot.store.dialect import SQLITE, dialect_of

log = logging.getLogger("notifbot.store.notify")

CHANNEL = "notifbot"
Callback = Callable[[str, str], Awaitable[None] | None]  # (topic, payload)


def message(topic: str, payload: str = "") -> str:
    """The NOTIFY payload carrying one topic and its payload."""
    return json.dumps({"topic": topic, "payload": payload}, separators=(",", ":"))


def parse(text: str) -> tuple[str, str] | None:
    """(topic, payload) of a NOTIFY payload; None if it is not one of ours."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("topic"), str):
        return None
    return data["topic"], str(data.get("payload") or "")


def outbox_topic(dest_type: str, target: str) -> str:
    """The topic saying a channel has rows due."""
    return f"outbox:{dest_type}:{target}"


def channel_of(topic: str) -> tuple[str, str] | None:
    """(dest_type, target) of an `outbox:` topic (a target may itself contain colons)."""
    kind, _, rest = topic.partition(":")
    dest_type, sep, target = rest.partition(":")
    return (dest_type, target) if kind == "outbox" and sep else None


def notify(conn: Conn, topic: str, payload: str = "") -> None:
    """Announces `topic` to every replica when the caller's transaction commits (at once outside one); SQLite: no-op."""
    if dialect_of(conn) is SQLITE:
        return
    conn.execute("SELECT pg_notify(?, ?)", (CHANNEL, message(topic, payload)))


def notify_group(conn: Conn, group_id: int) -> None:
    """Announces a group's change and its re-armed outbox row's channel (an ack, a re-arm); SQLite: no-op."""
    if dialect_of(conn) is SQLITE:
        return
    notify(conn, f"groups:{group_id}")
    for row in conn.execute(
        "SELECT DISTINCT dest_type, target FROM outbox WHERE group_id = ? AND status = 'pending'", (group_id,)
    ).fetchall():
        notify(conn, outbox_topic(row[0], row[1]))


class Listener:
    """Listens on PostgreSQL for other replicas' changes and dispatches each topic to its callbacks.

    A component (async context manager). It reconnects with backoff after losing its connection, and calls
    `resync` after every (re)connect, since whatever was announced meanwhile is lost. `publish` sends topics
    from code that has no store connection at hand (the pipeline's wake-ups), on a second connection.
    """

    def __init__(
        self,
        url: str,
        resync: Callable[[], Awaitable[None]],
        *,
        backoff: tuple[float, float] = (0.2, 10.0),
        ping_seconds: float = 10.0,
    ) -> None:
        self._url = url
        self._resync = resync
        self._backoff = backoff
        self._ping = ping_seconds
        self._callbacks: dict[str, list[Callback]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: dict[str, None] = {}  # ordered, each message once
        self._publish_wake = asyncio.Event()
        self.connected = asyncio.Event()
        self.backend_pid: int | None = None
        self.connects = 0

    def on(self, kind: str, callback: Callback) -> None:
        """Calls `callback(topic, payload)` for each topic whose first part (before `:`) is `kind`."""
        self._callbacks.setdefault(kind, []).append(callback)

    def publish(self, topic: str, payload: str = "") -> None:
        """Queues a topic for the other replicas (sent within milliseconds, in order, batched)."""
        self._pending[message(topic, payload)] = None
        self._publish_wake.set()

    def publish_channels(self, channels: Iterable[tuple[str, str]]) -> None:
        """Queues `outbox:` topics for these channels."""
        for dest_type, target in channels:
            self.publish(outbox_topic(dest_type, target))

    async def __aenter__(self) -> Listener:
        """Starts listening and publishing in the background."""
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="notify-listen"),
            asyncio.create_task(self._publish_forever(), name="notify-publish"),
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _connect(self) -> Any:
        import psycopg

        return await psycopg.AsyncConnection.connect(self._url, autocommit=True, connect_timeout=5)

    async def _listen_forever(self) -> None:
        delay = self._backoff[0]
        while True:
            try:
                async with await self._connect() as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.backend_pid = conn.info.backend_pid
                    self.connects += 1
                    delay = self._backoff[0]
                    await self._call(self._resync())
                    self.connected.set()
                    await self._receive(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("listener lost its database connection; reconnecting", extra={"error": str(exc)})
            self.connected.clear()
            self.backend_pid = None
            await asyncio.sleep(delay)
            delay = min(self._backoff[1], delay * 2)

    async def _receive(self, conn: Any) -> None:
        while True:
            async for n in conn.notifies(timeout=self._ping):
                parsed = parse(n.payload)
                if parsed is not None:
                    await self._dispatch(*parsed)
            # quiet for ping_seconds: make sure the connection is still there (a half-open one never says)
            await asyncio.wait_for(conn.execute("SELECT 1"), timeout=self._ping)

    async def _dispatch(self, topic: str, payload: str) -> None:
        for callback in self._callbacks.get(topic.partition(":")[0], ()):
            await self._call(callback(topic, payload))

    @staticmethod
    async def _call(result: Awaitable[None] | None) -> None:
        if not inspect.isawaitable(result):
            return
        try:
            await result
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a notification callback failed")

    async def _publish_forever(self) -> None:
        delay = self._backoff[0]
        conn: Any = None
        try:
            while True:
                await self._publish_wake.wait()
                self._publish_wake.clear()
                batch, self._pending = list(self._pending), {}
                if not batch:
                    continue
                try:
                    if conn is None or conn.closed:
                        conn = await self._connect()
                    await conn.execute(
                        "SELECT pg_notify(%s, m) FROM unnest(%s::text[]) WITH ORDINALITY AS t(m, i) ORDER BY i",
                        (CHANNEL, batch),
                    )
                    delay = self._backoff[0]
                except Exception as exc:
                    log.warning("could not announce a change; retrying", extra={"error": str(exc)})
                    self._pending = dict.fromkeys([*batch, *self._pending])
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            await conn.close()
                    conn = None
                    await asyncio.sleep(delay)
                    delay = min(self._backoff[1], delay * 2)
                    self._publish_wake.set()
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()

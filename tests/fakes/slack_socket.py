"""Socket Mode for the fake Slack: a WebSocket that says hello, sends queued envelopes and records the acks."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect


class SocketModeFake:
    """The Socket Mode half of FakeSlack (which owns the lock and resets the queues)."""

    _lock: threading.Condition
    _socket_outbox: list[dict[str, Any]]
    _socket_acks: list[dict[str, Any]]
    _socket_count: int

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

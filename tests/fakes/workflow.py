"""A loopback stand-in for a Power Automate Workflows webhook trigger: checks `sig`, the payload shape and size."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import ThreadedServer

MAX_BYTES = 28 * 1024
CARD = "application/vnd.microsoft.card.adaptive"


@dataclass(frozen=True)
class Post:
    """One accepted post: the parsed body and when it arrived (time.monotonic())."""

    body: dict[str, Any]
    arrived: float


class FakeWorkflow(ThreadedServer):
    """`url` is the trigger URL (with its secret `sig`); > `max_rate` posts per second answer 429 + Retry-After."""

    thread_name = "fake-workflow"

    def __init__(self, sig: str = "s3cr3t-signature-value", max_rate: float = 4.0) -> None:
        self.host, self.port = "127.0.0.1", 0
        self.sig = sig
        self.max_rate = max_rate
        self.posts: list[Post] = []
        self.rejected: list[int] = []
        # statuses to answer (in order) before accepting again; a (status, headers) pair adds headers
        self.fail_next: list[int | tuple[int, dict[str, str]]] = []
        self.latency = 0.0  # seconds every post waits before it is handled
        self._lock = threading.Lock()
        self._times: list[float] = []
        self._app = Starlette(
            routes=[Route("/workflows/{flow}/triggers/manual/paths/invoke", self._invoke, methods=["POST"])]
        )

    @property
    def url(self) -> str:
        """The secret trigger URL as Power Automate shows it."""
        return (
            f"{self.base_url}/workflows/abc123/triggers/manual/paths/invoke"
            f"?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={self.sig}"
        )

    def _reject(self, status: int, **headers: str) -> Response:
        self.rejected.append(status)
        return JSONResponse({"error": {"code": str(status)}}, status_code=status, headers=headers)

    async def _invoke(self, request: Request) -> Response:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if request.query_params.get("sig") != self.sig:
            return self._reject(401)
        body = await request.body()
        with self._lock:
            if self.fail_next:
                fault = self.fail_next.pop(0)
                status, headers = fault if isinstance(fault, tuple) else (fault, {})
                return self._reject(status, **headers)
            now = time.monotonic()
            self._times = [t for t in self._times if now - t < 1.0]
            if len(self._times) >= self.max_rate:
                return self._reject(429, **{"Retry-After": "1"})
            self._times.append(now)
        if len(body) > MAX_BYTES:
            return self._reject(413)
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self._reject(415)
        data = json.loads(body)
        attachments = data.get("attachments")
        ok = (
            data.get("type") == "message"
            and isinstance(attachments, list)
            and len(attachments) == 1
            and attachments[0].get("contentType") == CARD
            and isinstance(attachments[0].get("content"), dict)  # an object here (a string in Graph)
        )
        if not ok:
            return self._reject(400)
        with self._lock:
            self.posts.append(Post(data, time.monotonic()))
        return Response(status_code=202)

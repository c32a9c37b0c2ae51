"""A public-key origin on loopback for the Adobe I/O key cache: each path answers as the test registers it
(a PEM, a status, a delay, a redirect), so outages and odd answers Adobe's real server rarely gives can be tested."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.adobe_io import SigningKey
from tests.fakes.server import ThreadedServer


@dataclass
class Answer:
    """How the key server answers one path."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    location: str | None = None


class KeyServer(ThreadedServer):
    """A key origin on loopback: every path answers as registered with `add`, unknown paths 404."""

    thread_name = "fake-key-server"

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", 0
        self.answers: dict[str, Answer] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._app = Starlette(routes=[Route("/{rest:path}", self._serve)])

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add(self, answer: Answer) -> str:
        """A new key path (Adobe's `/prod/keys/pub-key-<uuid>.pem` shape) that answers `answer`."""
        path = f"/prod/keys/pub-key-{uuid.uuid4()}.pem"
        with self._lock:
            self.answers[path] = answer
        return path

    def key(self, signing: SigningKey, *, delay: float = 0.0) -> str:
        return self.add(Answer(body=signing.pem, delay=delay))

    async def _serve(self, request: Request) -> Response:
        path = request.url.path
        with self._lock:
            self.hits[path] += 1
            answer = self.answers.get(path)
        if answer is None:
            return Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.location is not None:
            return RedirectResponse(answer.location, status_code=answer.status)
        return Response(answer.body, status_code=answer.status, media_type="application/x-pem-file")


class Clock:
    """A settable monotonic clock for the key cache's TTLs, rate limit and log throttles."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

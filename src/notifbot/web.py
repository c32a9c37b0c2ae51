"""The ASGI app: ingest, health, readiness and metrics endpoints; HTTP concerns only."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from notifbot.asgi import Receive, Scope, Send, error_body, respond
from notifbot.http_guard import PLATFORM_MAX_BODY, RequestAborted, RequestGuard
from notifbot.metrics import Metrics
from notifbot.pipeline import Pipeline
from notifbot.sources.http import IngestEndpoint

if TYPE_CHECKING:
    from notifbot.sources.adobe_io.webhook import AdobeIOEndpoint

log = logging.getLogger("notifbot.web")


@dataclass
class WebDeps:
    """What the HTTP layer needs from the rest of the app."""

    pipeline: Pipeline
    metrics: Metrics
    webhook_token: str | None
    max_body_bytes: int
    ready: Callable[[], Awaitable[str | None]]  # None when ready, else the reason
    refresh_gauges: Callable[[], Awaitable[None]]
    slack: Callable[[Request], Awaitable[Response]] | None = None
    adobe_io: AdobeIOEndpoint | None = None
    teams: Callable[[Request], Awaitable[Response]] | None = None
    console: ASGIApp | None = None  # the operations console (server.console), mounted at /ui


@dataclass(frozen=True)
class BodyLimits:
    """The most bytes a request body may have, by path (`default` elsewhere)."""

    default: int
    by_path: dict[str, int]

    def limit(self, path: str) -> int:
        return self.by_path.get(path, self.default)


class NotifbotASGI:
    """Bounds every request (http_guard), then sends `/hooks/events` and `/hooks/adobe-io` to their lean
    endpoints and everything else to Starlette."""

    def __init__(
        self,
        ingest: IngestEndpoint,
        rest: Starlette,
        adobe_io: AdobeIOEndpoint | None = None,
        *,
        limits: BodyLimits,
        metrics: Metrics,
    ) -> None:
        self.ingest = ingest
        self.rest = rest
        self.adobe_io = adobe_io
        self.limits = limits
        self._rejected = metrics.rejected

    def _count_refusal(self, status: int) -> None:
        self._rejected.labels(str(status)).inc()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.rest(scope, receive, send)
            return
        path = scope["path"]
        guard = RequestGuard(scope, receive, send, limit=self.limits.limit(path), refused=self._count_refusal)
        # RequestAborted: the guard has answered (or the client left), and the endpoint stopped
        with contextlib.suppress(RequestAborted):
            await self._route(path, scope, guard.receive, guard.send)

    async def _route(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        if path == "/hooks/events":
            try:
                await self.ingest(scope, receive, send)
            except RequestAborted:
                raise
            except Exception:
                log.exception("ingest failed")
                await respond(send, 500, error_body("internal error; nothing was accepted, retry later"))
            return
        if path == "/hooks/adobe-io":
            await self._adobe_io(scope, receive, send)
            return
        await self.rest(scope, receive, send)

    async def _adobe_io(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.adobe_io is None:
            body = error_body(
                "Adobe I/O Events is not configured: set ADOBE_CLIENT_ID (or adobe_io.client_id)"
            )
            await respond(send, 404, body)
            return
        try:
            await self.adobe_io(scope, receive, send)
        except RequestAborted:
            raise
        except Exception:
            log.exception("adobe i/o webhook failed")
            await respond(send, 500, error_body("internal error; nothing was accepted, retry later"))


def _optional(
    handler: Callable[[Request], Awaitable[Response]] | None, missing: str
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that answers 404 saying what to configure when its feature is off."""

    async def endpoint(request: Request) -> Response:
        if handler is None:
            return JSONResponse({"error": missing}, status_code=404)
        return await handler(request)

    return endpoint


def build_app(deps: WebDeps) -> NotifbotASGI:
    """The ASGI application for one running bot."""

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> Response:
        reason = await deps.ready()
        if reason is None:
            return PlainTextResponse("ready\n")
        return PlainTextResponse(f"not ready: {reason}\n", status_code=503)

    async def metrics(_: Request) -> Response:
        await deps.refresh_gauges()
        return Response(deps.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    slack_events = _optional(
        deps.slack, "the Slack app is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"
    )
    teams_notifications = _optional(
        deps.teams, "Teams commands are not configured: set teams.commands in the config"
    )

    routes: list[BaseRoute] = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/teams/notifications", teams_notifications, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    if deps.console is not None:  # off: /ui is a 404 like any unknown path
        routes.append(Mount("/ui", app=deps.console))
    rest = Starlette(routes=routes)
    ingest = IngestEndpoint(deps.pipeline, deps.metrics, deps.webhook_token, deps.max_body_bytes)
    by_path = {"/slack/events": PLATFORM_MAX_BODY, "/teams/notifications": PLATFORM_MAX_BODY}
    if deps.adobe_io is not None:
        from notifbot.sources.adobe_io.webhook import ADOBE_MAX_BATCH_BYTES  # loaded with the endpoint

        by_path["/hooks/adobe-io"] = max(deps.max_body_bytes, ADOBE_MAX_BATCH_BYTES)
    limits = BodyLimits(deps.max_body_bytes, by_path)
    return NotifbotASGI(ingest, rest, deps.adobe_io, limits=limits, metrics=deps.metrics)

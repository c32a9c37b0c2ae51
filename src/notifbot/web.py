"""The ASGI app: ingest, health, readiness and metrics endpoints; HTTP concerns only."""

from __future__ import annotations

import functools
import hmac
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from notifbot.errors import InputError
from notifbot.metrics import Metrics
from notifbot.pipeline import Pipeline
from notifbot.sources.events import parse_body

log = logging.getLogger("notifbot.web")


class BodyTooLarge(Exception):
    """The request body passed the configured limit while it was being read."""


@dataclass
class WebDeps:
    """What the HTTP layer needs from the rest of the app."""

    pipeline: Pipeline
    metrics: Metrics
    webhook_token: str | None
    max_body_bytes: int
    ready: Callable[[], Awaitable[str | None]]  # None when ready, else the reason
    refresh_gauges: Callable[[], Awaitable[None]]


@functools.lru_cache(maxsize=1024)
def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True)
class _IngestHeaders:
    """The few headers ingest reads, found in one pass over the raw list (Starlette's lookups scan per call)."""

    content_type: str = ""
    content_length: str | None = None
    token: str | None = None

    @classmethod
    def of(cls, request: Request) -> _IngestHeaders:
        content_type, length, bearer, header_token = "", None, None, None
        for name, value in request.scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                length = value.decode("latin-1")
            elif name == b"authorization":
                auth = value.decode("latin-1")
                if auth[:7].lower() == "bearer ":
                    bearer = auth[7:].strip()
            elif name == b"x-notifbot-token":
                header_token = value.decode("latin-1")
        return cls(content_type, length, bearer if bearer is not None else header_token)


def _authorised(request: Request, headers: _IngestHeaders, token: str | None) -> bool:
    if token is None:
        return _is_loopback(request.client.host if request.client else None)
    given = headers.token
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_limited(request: Request, limit: int, declared: str | None = None) -> bytes:
    """The body, refusing as soon as it passes `limit` bytes (never buffers more than limit + one chunk)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str, details: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": message}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status)


def build_app(deps: WebDeps) -> Starlette:
    """The Starlette application for one running bot."""

    async def hooks_events(request: Request) -> Response:
        rejected = deps.metrics.rejected
        headers = _IngestHeaders.of(request)
        if not _authorised(request, headers, deps.webhook_token):
            rejected.labels("401").inc()
            hint = (
                "send the token as `Authorization: Bearer <token>` or `X-Notifbot-Token`"
                if deps.webhook_token
                else "no NOTIFBOT_WEBHOOK_TOKEN is set, so only loopback clients are accepted"
            )
            return _error(401, f"unauthorised: {hint}")
        if not _is_json(headers.content_type):
            rejected.labels("415").inc()
            return _error(415, "send the event as JSON with `Content-Type: application/json`")
        try:
            body = await read_limited(request, deps.max_body_bytes, headers.content_length)
        except BodyTooLarge:
            rejected.labels("413").inc()
            return _error(413, f"body larger than server.max_body_bytes ({deps.max_body_bytes} bytes)")
        try:
            notifications = parse_body(body)
        except InputError as exc:
            rejected.labels("400").inc()
            return _error(400, str(exc), [d.as_dict() for d in exc.details])
        try:
            results = await deps.pipeline.accept(notifications)
        except Exception:
            log.exception("could not store events")
            rejected.labels("503").inc()
            return _error(503, "could not store the events; nothing was accepted, retry later")
        accepted = ",".join(
            f'{{"id":{json.dumps(r.key)},"duplicate":{"true" if r.duplicate else "false"}}}' for r in results
        )
        return Response(f'{{"accepted":[{accepted}]}}', status_code=202, media_type="application/json")

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

    return Starlette(
        routes=[
            Route("/hooks/events", hooks_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )

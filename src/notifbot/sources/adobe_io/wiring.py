"""Builds the Adobe I/O webhook endpoint and, with `adobe_io.journal_url`, the journal poller, from settings."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from notifbot import __version__
from notifbot.config import Settings
from notifbot.config.env import Env
from notifbot.metrics import Metrics
from notifbot.model import Notification
from notifbot.scheduler import Pollers
from notifbot.sources.adobe_io.ims import ImsTokens
from notifbot.sources.adobe_io.journal import JournalPoller
from notifbot.sources.adobe_io.signature import MAX_TRUSTED_PATHS, KeyCache
from notifbot.sources.adobe_io.webhook import AdobeIOEndpoint
from notifbot.store.adobe_keys import record_verified_key_path, verified_key_paths
from notifbot.store.events import Accepted
from notifbot.store.runner import Database

log = logging.getLogger("notifbot.adobe_io")


@dataclass(frozen=True)
class AdobeIO:
    """The webhook endpoint, the journal poller if configured, and the HTTP client they share (closed on stop)."""

    endpoint: AdobeIOEndpoint
    journal: JournalPoller | None
    http: httpx.AsyncClient
    verify_signatures: bool = True

    async def __aenter__(self) -> AdobeIO:
        """Warns when signatures go unchecked (the poller itself runs on the app's scheduler)."""
        if not self.verify_signatures:
            log.warning(
                "adobe_io.verify_signatures is false: POST /hooks/adobe-io accepts UNSIGNED events from anyone "
                "who can reach it; turn it back on outside local experiments"
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Closes the shared HTTP client."""
        with contextlib.suppress(Exception):
            await self.http.aclose()


def _confirmer(http: httpx.AsyncClient) -> Callable[[str], Coroutine[Any, Any, None]]:
    async def confirm(url: str) -> None:
        """Opens an Adobe webhook validation URL (only https://csm.adobe.io/ ones reach here)."""
        try:
            response = await http.get(url, timeout=10.0)
            log.info("adobe i/o validation URL opened", extra={"status": response.status_code})
        except httpx.HTTPError as exc:
            log.error(
                "adobe i/o validation URL could not be opened (open it by hand): %s", type(exc).__name__
            )

    return confirm


def _key_cache(origin: str, http: httpx.AsyncClient, db: Database) -> KeyCache:
    """The key cache, trusting the key paths that verified genuine deliveries before this start."""

    async def save(path: str, at: float) -> None:
        await db.call(record_verified_key_path, path, at, MAX_TRUSTED_PATHS)

    trusted = db.call_sync(verified_key_paths, MAX_TRUSTED_PATHS)
    return KeyCache(origin, http, trusted=trusted, save=save)


def build_adobe_io(
    settings: Settings,
    env: Env,
    db: Database,
    accept: Callable[[Sequence[Notification]], Awaitable[list[Accepted]]],
    metrics: Metrics,
    pollers: Pollers,
) -> AdobeIO | None:
    """None when no client id is known (the endpoint then answers 404 with what to set)."""
    adobe = settings.adobe_io
    client_id = env.adobe_client_id(adobe)
    if client_id is None:
        return None
    http = httpx.AsyncClient(headers={"User-Agent": f"notifbot/{__version__}"})
    verify = adobe.verify_signatures if adobe is not None else True
    endpoint = AdobeIOEndpoint(
        accept,
        metrics,
        client_id=client_id,
        keys=_key_cache(env.adobe_keys_url, http, db) if verify else None,
        max_body_bytes=settings.server.max_body_bytes,
        confirm=_confirmer(http) if adobe is not None and adobe.auto_confirm_validation else None,
    )
    journal = None
    secret = env.adobe_client_secret(adobe)
    if adobe is not None and adobe.journal_url and secret:
        tokens = ImsTokens(env.adobe_ims_url(adobe), client_id, secret, adobe.scopes, http)
        journal = JournalPoller(
            adobe.journal_url,
            client_id,
            tokens,
            http,
            db,
            accept,
            restart=adobe.journal_restart,
            limit=adobe.journal_limit,
            idle_seconds=adobe.journal_idle_seconds,
            org_id=adobe.org_id,
        )
        pollers.add("adobe-io-journal", journal.run_once, first_delay=5.0)
    return AdobeIO(endpoint, journal, http, verify_signatures=verify)

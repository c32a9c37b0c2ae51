"""Pulls Marketo events from an Adobe I/O Events journal: IMS token, next links, 204/retry-after, 410, backoff.

The position (the journal's next link) is saved only after the page's events are committed, so a crash re-reads
at most one page, and dedupe on the Adobe event id makes that (and any webhook overlap) deliver once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from notifbot.errors import UpstreamError
from notifbot.model import Notification
from notifbot.retry_after import retry_after_seconds
from notifbot.sources.adobe_io.ims import ImsTokens
from notifbot.sources.adobe_io.mapping import to_notification, unwrap
from notifbot.sources.events import parse_event
from notifbot.store.marketo_state import poller_state, record_poll_error, save_cursor
from notifbot.store.runner import Database

log = logging.getLogger("notifbot.adobe_io")

INSTANCE = "adobe-io"
SOURCE = "adobe_io_journal"
MAX_BACKOFF = 300.0
MAX_RETRY_AFTER = 3600.0
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL_NEXT = re.compile(r"""rel\s*=\s*"?([^";]*)"?""", re.IGNORECASE)


def next_link(values: Sequence[str]) -> str | None:
    """The `rel="next"` target among Link header values (several headers, or several links in one)."""
    for value in values:
        for target, params in _LINK.findall(value):
            rel = _REL_NEXT.search(params)
            if rel and "next" in rel.group(1).split():
                return str(target)
    return None


def retry_after(response: httpx.Response) -> float | None:
    """The `retry-after` seconds of a response, if it gave a usable number."""
    return retry_after_seconds(response.headers)


class _PageFailed(Exception):
    """A page could not be committed; its position is kept and the page is read again later."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class JournalPoller:
    """One journal (one Adobe I/O registration); `run_once` reads what is new and returns the next delay."""

    def __init__(
        self,
        url: str,
        client_id: str,
        tokens: ImsTokens,
        http: httpx.AsyncClient,
        db: Database,
        accept: Callable[[list[Notification]], Awaitable[object]],
        *,
        restart: str = "latest",
        limit: int = 100,
        idle_seconds: float = 10.0,
        org_id: str | None = None,
        max_pages: int = 20,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.url, self.client_id, self.tokens, self.http, self.db = url, client_id, tokens, http, db
        self.accept = accept
        self.restart, self.limit, self.idle_seconds = restart, limit, idle_seconds
        self.org_id, self.max_pages, self.timeout, self.clock = org_id, max_pages, timeout, clock
        self.poller = "journal:" + hashlib.sha256(url.encode()).hexdigest()[:12]
        self._origin = urlsplit(url)[:2]
        self._cursor: str | None = None
        self._loaded = False
        self._failures = 0

    def start_url(self) -> str:
        """Where reading starts without a position: the newest events (`latest=true`) or the oldest."""
        if self.restart != "latest":
            return self.url
        return str(httpx.URL(self.url).copy_merge_params({"latest": "true"}))

    async def cursor(self) -> str | None:
        """The committed position (the next link to read), loaded from the store on first use."""
        if not self._loaded:
            state = await self.db.read(poller_state, INSTANCE, self.poller)
            self._cursor = state.get("cursor") if state else None
            self._loaded = True
        return self._cursor

    async def _commit_cursor(self, cursor: str | None) -> None:
        await self.db.call(save_cursor, INSTANCE, self.poller, cursor, self.clock())
        self._cursor = cursor

    def _resolve(self, link: str) -> str | None:
        target = urljoin(self.url, link)
        if urlsplit(target)[:2] != self._origin:
            log.warning("adobe i/o journal: ignored a next link to another origin: %s", target[:300])
            return None
        return target

    def _backoff(self, hint: float | None = None, *, transient: bool = True) -> float:
        self._failures += 1
        delay = min(MAX_BACKOFF, 5.0 * 2 ** (self._failures - 1)) if transient else MAX_BACKOFF
        return min(MAX_RETRY_AFTER, max(delay, hint or 0.0))

    async def _fail(self, message: str, hint: float | None = None, *, transient: bool = True) -> float:
        log.warning("adobe i/o journal: %s", message)
        await self.db.call(record_poll_error, INSTANCE, self.poller, self.clock(), message)
        return self._backoff(hint, transient=transient)

    async def _get(self, url: str) -> httpx.Response:
        target = httpx.URL(url)
        if "limit" not in target.params and "latest" not in target.params:
            target = target.copy_merge_params({"limit": str(self.limit)})
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {await self.tokens.token()}",
                "x-api-key": self.client_id,
                "Accept": "application/json",
            }
            if self.org_id:
                headers["x-ims-org-id"] = self.org_id
            try:
                response = await self.http.get(target, headers=headers, timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise UpstreamError(f"journal unreachable: {type(exc).__name__}") from None
            if response.status_code in (401, 403) and attempt == 1:
                self.tokens.invalidate()  # a revoked or expired token: ask IMS once more
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def run_once(self) -> float:
        """Reads up to `max_pages` pages; returns seconds until the next read."""
        url = await self.cursor() or self.start_url()
        expired = False
        for _ in range(self.max_pages):
            try:
                response = await self._get(url)
            except UpstreamError as exc:
                return await self._fail(str(exc), exc.retry_after, transient=exc.transient)
            status = response.status_code
            if status == 204:
                self._failures = 0
                link = next_link(response.headers.get_list("link"))
                resolved = self._resolve(link) if link else None
                await self._commit_cursor(resolved or self._cursor)  # never a `latest=true` start URL
                return retry_after(response) or self.idle_seconds
            if status == 410:
                if expired:
                    return await self._fail("journal answered 410 again right after a restart")
                expired = True
                await self._expired(url)
                url = self.start_url()
                continue
            if status == 429 or status >= 500:
                return await self._fail(f"journal answered {status}", retry_after(response))
            if status != 200:
                hint = "check adobe_io.journal_url and the credential's access to this registration"
                return await self._fail(f"journal answered {status}: {hint}", transient=False)
            try:
                following = await self._page(response)
            except _PageFailed as exc:
                return await self._fail(str(exc))
            if following is None:
                return self.idle_seconds
            url = following
        return 0.0

    async def _page(self, response: httpx.Response) -> str | None:
        """Commits one page's events, then its position; returns the next URL (None at the end)."""
        try:
            payload: Any = response.json()
        except ValueError:
            raise _PageFailed("journal answered 200 with a body that is not JSON") from None
        entries = payload.get("events") if isinstance(payload, dict) else None
        entries = entries if isinstance(entries, list) else []
        now = self.clock()
        notifications: list[Notification] = []
        for entry in entries:
            event = entry.get("event") if isinstance(entry, dict) else None
            if not isinstance(event, dict):
                log.warning("adobe i/o journal: skipped an entry without an event object")
                continue
            envelope = unwrap(event)
            if envelope.recipient is not None and envelope.recipient != self.client_id:
                log.warning(
                    "adobe i/o journal: skipped event %s for client id %r",
                    envelope.event_id,
                    envelope.recipient,
                )
                continue
            notifications.append(to_notification(envelope, now=now, source=SOURCE))
        if notifications:
            try:
                await self.accept(notifications)
            except Exception as exc:  # not committed: keep the position, read the page again later
                raise _PageFailed(f"could not store journal events: {exc}") from exc
        link = next_link(response.headers.get_list("link"))
        following = self._resolve(link) if link else None
        if following is None and isinstance(payload, dict):
            last = (
                (payload.get("_page") or {}).get("last") if isinstance(payload.get("_page"), dict) else None
            )
            if isinstance(last, str) and last:
                following = str(httpx.URL(self.url).copy_merge_params({"since": last}))
        self._failures = 0
        await self._commit_cursor(following or self._cursor)
        return following if entries else None

    async def _expired(self, url: str) -> None:
        """410 Gone: the position is older than the journal keeps; restart and say events may have been missed."""
        now = self.clock()
        log.error("adobe i/o journal: position expired (410); restarting from the %s events", self.restart)
        stamp = hashlib.sha256(f"{url}|{now.date().isoformat()}".encode()).hexdigest()[:24]
        event = {
            "kind": "adobe_io_journal_expired",
            "id": f"adobe-io-journal-gone-{stamp}",
            "occurred_at": now,
            "severity": "warning",
            # no summary: the kind's wording says what happened, in each channel's language (kinds/adobe_text.py)
            "fields": {"journal_restart": self.restart, "expired_position": url[:1000]},
            "labels": {"adobe_stream": "journal"},
        }
        await self.accept([parse_event(event, now=now, source=SOURCE)])
        await self._commit_cursor(None)

"""Keeps one Graph change-notification subscription per Teams command channel alive: create, renew before expiry."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from notifbot.config import TeamsCommandSettings
from notifbot.errors import DeliveryError
from notifbot.store import teams as store
from notifbot.store.runner import Database
from notifbot.tasks import stop_task
from notifbot.teams.graph import GraphApi

log = logging.getLogger("notifbot.teams")
LEASE = "teams:subscriptions"  # the poller lease (replicas.py) of the create/renew loop
STANDBY_SECONDS = 5.0  # how often a replica without the lease reads the subscriptions and asks for it again


def resource_of(team_id: str, channel_id: str) -> str:
    """The Graph resource for new messages (and replies) in one channel."""
    return f"/teams/{team_id}/channels/{channel_id}/messages"


class SubscriptionManager:
    """Creates missing subscriptions and renews those expiring within `renew_before`; keeps clientStates in memory."""

    def __init__(
        self,
        api: GraphApi,
        db: Database,
        settings: TeamsCommandSettings,
        *,
        check_seconds: float = 60.0,
        first_delay: float = 2.0,
        clock: Callable[[], float] = time.time,
        gate: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.api = api
        self._db = db
        self._gate = (
            gate  # several replicas: the one holding LEASE keeps the subscriptions, the others read them
        )
        self._refreshing: asyncio.Future[None] | None = None
        self._settings = settings
        self._check = check_seconds
        self._first_delay = first_delay
        self._clock = clock
        self._known: dict[str, store.StoredSubscription] = {}
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None

    def client_state(self, subscription_id: str) -> str | None:
        """The secret expected in notifications of this subscription (None: not ours)."""
        sub = self._known.get(subscription_id)
        return sub.client_state if sub is not None else None

    async def load(self) -> None:
        """Loads stored subscriptions so notifications are accepted right after a restart."""
        self._known = {s.id: s for s in await self._db.read(store.subscriptions)}

    async def refresh(self) -> None:
        """Reloads the stored subscriptions now (another replica may have just made one); concurrent callers share
        one read, so a flood of notifications naming unknown subscriptions costs one query at a time."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self.load())
        await asyncio.shield(self._refreshing)

    def _wanted(self) -> list[str]:
        return [resource_of(c.team_id, c.channel_id) for c in self._settings.channels]

    def _expiry(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC) + timedelta(
            minutes=self._settings.subscription_minutes
        )

    async def _create(self, resource: str) -> None:
        state = secrets.token_urlsafe(32)
        url = self._settings.notification_url or ""
        sub_id, expires = await self.api.create_subscription(resource, url, state, self._expiry())
        sub = store.StoredSubscription(sub_id, resource, state, expires.timestamp())
        self._known[sub_id] = sub  # before saving: Graph may notify as soon as it answered
        await self._db.call(store.save_subscription, sub, self._clock())
        log.info("teams subscription created", extra={"resource": resource, "subscription": sub_id})

    async def _renew(self, sub: store.StoredSubscription) -> None:
        expires = await self.api.renew_subscription(sub.id, self._expiry())
        self._known[sub.id] = store.StoredSubscription(
            sub.id, sub.resource, sub.client_state, expires.timestamp()
        )
        await self._db.call(store.renewed, sub.id, expires.timestamp())
        log.info("teams subscription renewed", extra={"subscription": sub.id, "expires": expires.isoformat()})

    async def ensure(self) -> None:
        """One pass: every wanted channel gets a live subscription; raises the first DeliveryError after trying all."""
        now = self._clock()
        renew_before = self._settings.renew_before_minutes * 60
        by_resource = {s.resource: s for s in self._known.values()}
        failure: DeliveryError | None = None
        for resource in self._wanted():
            sub = by_resource.get(resource)
            try:
                if sub is None or sub.expires_at <= now + 30:
                    if sub is not None:
                        self._known.pop(sub.id, None)
                    await self._create(resource)
                elif sub.expires_at - now <= renew_before:
                    try:
                        await self._renew(sub)
                    except DeliveryError as exc:
                        if "HTTP 404" not in str(exc):
                            raise
                        self._known.pop(sub.id, None)  # Graph dropped it: start over
                        await self._db.call(store.forget_subscription, sub.id)
                        await self._create(resource)
            except DeliveryError as exc:
                failure = failure or exc
                log.error(
                    "teams subscription failed; will retry", extra={"resource": resource, "error": str(exc)}
                )
        self.last_error = str(failure) if failure else None
        if failure is not None:
            raise failure

    async def _run(self) -> None:
        await asyncio.sleep(self._first_delay)  # let the HTTP server listen: Graph validates the URL at once
        while True:
            delay = self._check
            try:
                if self._gate is None:
                    await self.ensure()
                elif await self._gate(LEASE):
                    await self.load()  # what the replica that held the lease before may have made
                    await self.ensure()
                else:
                    await self.load()  # another replica keeps them; its new ones are accepted here too
                    delay = min(self._check, STANDBY_SECONDS)
            except DeliveryError:
                delay = min(self._check, 15.0)
            except Exception:
                log.exception("teams subscription check failed")
            await asyncio.sleep(delay)

    def start(self) -> None:
        """Runs the create/renew loop in the background."""
        self._task = asyncio.create_task(self._run(), name="teams-subscriptions")

    async def stop(self) -> None:
        """Stops the loop (subscriptions simply expire if the bot stays down)."""
        await stop_task(self._task)

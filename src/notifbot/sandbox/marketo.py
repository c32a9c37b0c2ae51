"""The sandbox's fake Marketo: the REST API the bot's quota and trigger-health pollers read, telling a story.

Not a test instrument (tests/fakes/marketo.py injects faults): it answers Marketo's identity endpoint and envelopes
with `marketo_story`'s burn curve and campaigns, so the quota and stale-trigger answers, the console's chart and
the quota warnings all come from the bot's real pollers. The answers are pure functions of `clock`; only the
access token is state. Wiring it into the sandbox (sandbox/run.py, `--marketo`):

    story = MarketoStory(thresholds=tuple(settings.marketo.quota_thresholds))
    api = MarketoApi(story)
    routes = [*services.slack.routes(), *services.teams.routes(), *api.routes()]   # served under /marketo
    config.setdefault("marketo", {})["instances"] = [api.instance_entry("http://127.0.0.1:PORT")]  # chat server
    await db.call(seed_quota_samples, story, datetime.now(UTC))  # the fresh database, before the bot starts

Marketo's usage API answers only "used so far today", so `seed_quota_samples` writes the story's samples of the
morning (every 15 minutes since 00:00 CT) as the quota poller would have stored them; the poller then continues the
same curve. The instance is `000-SBX-001` (config requires a munchkin id's digits-letters-digits shape, which
`SBX-000-001` lacks); its credentials are the sandbox's own, random per run; the stale campaign is found by the activity
scan's deeper pass (sources/marketo/backfill.py) in its first run or two, the story's volume keeping it on REST
pages (the Bulk Activity Extract endpoints answer 610, not found).
"""

from __future__ import annotations

import base64
import hmac
import math
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from notifbot.central_time import central_date
from notifbot.iso_time import parse_time
from notifbot.sandbox.marketo_story import MUNCHKIN, MarketoStory, Position, Usage
from notifbot.store.conn import Conn
from notifbot.store.db import transaction
from notifbot.store.marketo_state import day_samples, insert_quota_sample

PREFIX = "/marketo"
CLIENT_ID = "notifbot-sandbox"
TOKEN_LIFE = 3600  # seconds, as Marketo's
NO_ASSETS = "No assets found for the given search criteria."
MAX_BATCH = 300
MAX_TYPES = 10
_MESSAGES = {
    "600": "Access token not specified",
    "601": "Access token invalid",
    "602": "Access token expired",
    "610": "Requested resource not found",
    "701": "cannot be blank",
    "1003": "Invalid value",
}


def _now() -> datetime:
    return datetime.now(UTC)


def envelope(**fields: Any) -> JSONResponse:
    """Marketo's envelope: HTTP 200 with a `requestId`, errors included."""
    return JSONResponse({"requestId": f"{secrets.token_hex(2)}#{secrets.token_hex(6)}", **fields})


def refuse(code: str, message: str | None = None) -> JSONResponse:
    """An error envelope (`success: false`, the code a string)."""
    return envelope(success=False, errors=[{"code": code, "message": message or _MESSAGES.get(code, "")}])


def page_token(position: Position) -> str:
    """An opaque paging token (upper-case base32, like Marketo's) naming a position in the activity log."""
    return base64.b32encode(f"{position[0]}.{position[1]}".encode()).decode().rstrip("=")


def token_position(token: str) -> Position | None:
    """The position a paging token names, or None for one this fake did not issue."""
    try:
        second, campaign = base64.b32decode(token + "=" * (-len(token) % 8)).decode().split(".")
        return int(second), int(campaign)
    except ValueError:  # bad base32, bytes, text or numbers
        return None


def users_of(usage: Usage) -> list[dict[str, Any]]:
    """The usage's users as Marketo lists them (`userId`, `count`)."""
    return [{"userId": user, "count": n} for user, n in usage.users]


def seed_quota_samples(conn: Conn, story: MarketoStory, now: datetime) -> int:
    """Stores the story's samples of today before `now` (every 15 min since 00:00 CT) newer than any stored one;
    returns how many. Starting data for a fresh database, written before the bot starts."""
    day = central_date(now).isoformat()
    stored = day_samples(conn, MUNCHKIN, day)
    after = stored[-1][0] if stored else -math.inf
    written = 0
    with transaction(conn):
        for at in story.sample_times(now):
            if at.timestamp() > after:
                usage = story.usage(at)
                users, errors = users_of(usage), dict(usage.errors)
                insert_quota_sample(
                    conn, MUNCHKIN, at.timestamp(), day, usage.total, story.quota, users, errors
                )
                written += 1
    return written


class MarketoApi:
    """Routes for Marketo's identity and the REST calls the pollers make, under `/marketo`, over `story`."""

    def __init__(
        self,
        story: MarketoStory,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.story = story
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.clock = clock
        self._token: str | None = None
        self._token_until = 0.0

    def instance_entry(self, chat_url: str) -> dict[str, Any]:
        """The `marketo.instances` entry pointing the bot at this fake on the chat server `chat_url` (no slash)."""
        return {
            "munchkin_id": MUNCHKIN,
            "base_url": chat_url.rstrip("/") + PREFIX,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "daily_quota": self.story.quota,
        }

    def routes(self) -> list[BaseRoute]:
        """One mount at `/marketo`: identity, the REST calls, and Marketo's 610 for any other path."""
        rest = {
            "/rest/v1/stats/usage.json": self._usage,
            "/rest/v1/stats/errors.json": self._errors,
            "/rest/asset/v1/smartCampaigns.json": self._campaigns,
            "/rest/v1/activities/pagingtoken.json": self._paging_token,
            "/rest/v1/activities.json": self._activities,
        }
        inner: list[BaseRoute] = [Route("/identity/oauth/token", self._identity, methods=["GET", "POST"])]
        inner += [Route(path, self._rest(handler)) for path, handler in rest.items()]
        inner.append(Route("/{rest:path}", self._rest(lambda _: refuse("610")), methods=["GET", "POST"]))
        return [Mount(PREFIX, routes=inner)]

    # -- identity --------------------------------------------------------------------------------------------

    async def _identity(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(parse_qsl((await request.body()).decode("utf-8", "replace")))
        given_id, given_secret = params.get("client_id", ""), params.get("client_secret", "")
        if not (
            hmac.compare_digest(given_id.encode(), self.client_id.encode())
            and hmac.compare_digest(given_secret.encode(), self.client_secret.encode())
        ):
            body = {"error": "unauthorized", "error_description": "Bad client credentials"}
            return JSONResponse(body, status_code=401)
        now = self.clock().timestamp()
        if (
            self._token is None or self._token_until <= now
        ):  # Marketo hands out the same token until it expires
            self._token, self._token_until = f"{uuid.uuid4()}:sbx", now + TOKEN_LIFE
        expires_in = max(0, int(self._token_until - now))
        return JSONResponse(
            {"access_token": self._token, "token_type": "bearer", "expires_in": expires_in, "scope": "api"}
        )

    def _rest(self, handler: Callable[[Request], Response]) -> Callable[[Request], Any]:
        """`handler` behind the access-token check (600 none, 601 unknown, 602 expired)."""

        async def endpoint(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            if not token:
                return refuse("600")
            if self._token is None or not hmac.compare_digest(token.encode(), self._token.encode()):
                return refuse("601")
            if self._token_until <= self.clock().timestamp():
                return refuse("602")
            return handler(request)

        return endpoint

    # -- usage -----------------------------------------------------------------------------------------------

    def _usage(self, request: Request) -> Response:
        usage = self.story.usage(self.clock())
        day = {"date": usage.day, "total": usage.total, "users": users_of(usage)}
        return envelope(success=True, result=[day])

    def _errors(self, request: Request) -> Response:
        usage = self.story.usage(self.clock())
        errors = [{"errorCode": code, "count": n} for code, n in usage.errors]
        total = sum(n for _, n in usage.errors)
        return envelope(success=True, result=[{"date": usage.day, "total": total, "errors": errors}])

    # -- campaigns and activities ----------------------------------------------------------------------------

    def _campaigns(self, request: Request) -> Response:
        q = request.query_params
        try:
            offset, max_return = int(q.get("offset", "0")), int(q.get("maxReturn", "20"))
        except ValueError:
            return refuse("1003", "offset and maxReturn must be integers")
        if offset < 0 or not 1 <= max_return <= 200:
            return refuse("1003", "maxReturn must be between 1 and 200")
        rows = self.story.campaigns()
        if "isActive" in q:
            rows = [c for c in rows if c["isActive"] == (q["isActive"].lower() == "true")]
        page = rows[offset : offset + max_return]
        if not page:
            return envelope(success=True, errors=[], warnings=[NO_ASSETS])
        return envelope(success=True, errors=[], result=page, warnings=[])

    def _paging_token(self, request: Request) -> Response:
        since = request.query_params.get("sinceDatetime", "")
        if not since.strip():
            return refuse("701", "sinceDatetime cannot be blank")
        when = parse_time(since)
        if when is None:
            return refuse("1003", "Invalid sinceDatetime")
        return envelope(success=True, nextPageToken=page_token((math.ceil(when.timestamp()), 0)))

    def _activities(self, request: Request) -> Response:
        q = request.query_params
        position = token_position(q.get("nextPageToken", ""))
        if position is None:
            return refuse("1003", "Invalid nextPageToken")
        try:
            types = {int(t) for t in q.get("activityTypeIds", "").split(",") if t.strip()}
            batch = int(q.get("batchSize", str(MAX_BATCH)))
        except ValueError:
            return refuse("1003", "activityTypeIds and batchSize must be integers")
        if not 1 <= len(types) <= MAX_TYPES:
            return refuse("1003", f"activityTypeIds: 1 to {MAX_TYPES} ids required")
        if not 1 <= batch <= MAX_BATCH:
            return refuse("1003", f"batchSize must be between 1 and {MAX_BATCH}")
        now = self.clock()
        result: list[dict[str, Any]] = []
        more = False
        for at, activity in self.story.activities(position, now):
            if len(result) == batch:
                more = True
                break
            position = (at[0], at[1] + 1)
            if activity["activityTypeId"] in types:
                result.append(activity)
        if not more:  # caught up: the next page starts after now
            position = max(position, (math.floor(now.timestamp()) + 1, 0))
        fields: dict[str, Any] = {"success": True, "nextPageToken": page_token(position), "moreResult": more}
        if result:
            fields["result"] = result
        return envelope(**fields)

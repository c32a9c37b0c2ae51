"""Async Marketo REST client: identity token cache, envelope parsing, retry policy, pacing and daily budget."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx

from notifbot.central_time import next_central_midnight
from notifbot.config import MarketoInstance
from notifbot.errors import MarketoError
from notifbot.marketo.budget import DailyBudget, Pacer, Sleeper

log = logging.getLogger(__name__)

TRANSIENT = frozenset({"502", "604", "608", "611", "713"})
TOKEN_CODES = frozenset({"601", "602"})
_SECRET_QUERY = re.compile(r"(client_secret=)[^&\s\"']*")


class _RedactSecrets(logging.Filter):
    """Blanks `client_secret=` values in httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "client_secret=" in message:
            record.msg, record.args = _SECRET_QUERY.sub(r"\1***", message), None
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(f, _RedactSecrets) for f in _httpx_log.filters):
    _httpx_log.addFilter(_RedactSecrets())


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _query(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v is not None}


@dataclass(frozen=True)
class _Request:
    """One logical API request (retried as a unit); `feature` is what its calls are counted against."""

    method: str
    path: str
    params: dict[str, Any]
    body: dict[str, Any] | None
    feature: str
    raw: bool = False


class MarketoClient:
    """One Marketo instance's REST API, paced and budgeted; one client per munchkin id."""

    def __init__(
        self,
        instance: MarketoInstance,
        *,
        base_url: str | None = None,
        budget: int | None = None,
        caps: Mapping[str, int] | None = None,
        max_calls: int = 50,
        window: float = 20.0,
        max_concurrent: int = 5,
        max_attempts: int = 4,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        rate_limit_wait: float = 20.0,
        token_margin: float = 60.0,
        timeout: float = 30.0,
        sleep: Sleeper = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.munchkin_id = instance.munchkin_id
        base = base_url or instance.base_url or f"https://{instance.munchkin_id}.mktorest.com"
        self.base_url = base.rstrip("/")
        self._client_id, self._client_secret = instance.client_id or "", instance.client_secret or ""
        self.max_attempts, self.backoff_base, self.backoff_max = max_attempts, backoff_base, backoff_max
        self.rate_limit_wait, self.token_margin = rate_limit_wait, token_margin
        self._sleep, self._now, self._monotonic = sleep, now, monotonic
        limit = budget if budget is not None else max(1, instance.daily_quota // 100)
        self._budget = DailyBudget(limit, now, caps)
        self._pacer = Pacer(max_calls, window, monotonic, sleep)
        self._slots = asyncio.Semaphore(max_concurrent)
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()
        self.paused_until: datetime | None = None

    # -- status ---------------------------------------------------------------------------------------------

    def restore_calls_today(self, day: date, used: Mapping[str, int]) -> None:
        """Counts calls an earlier run already made today ({feature: calls}) against today's budget."""
        self._budget.restore(day, used)

    def calls_for(self, feature: str) -> int:
        """REST calls `feature` (quota, campaigns, activities…) made today."""
        return self._budget.used_by(feature)

    def calls_left(self, feature: str) -> int:
        """Calls `feature` may still make today within its share and the whole budget."""
        return self._budget.left_for(feature)

    @property
    def calls_today(self) -> int:
        """REST calls notifbot made to this instance today (US Central); identity calls are not counted."""
        return self._budget.used

    @property
    def caps(self) -> Mapping[str, int]:
        """Per-feature caps within the daily budget (features not listed share what is left)."""
        return self._budget.caps

    @property
    def budget(self) -> int:
        """notifbot's own daily call budget for this instance."""
        return self._budget.limit

    async def aclose(self) -> None:
        """Closes the HTTP connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> MarketoClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- identity -------------------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        text = _SECRET_QUERY.sub(r"\1***", text)
        return text.replace(self._client_secret, "***") if self._client_secret else text

    async def _access_token(self, *, refresh: bool = False, stale: str | None = None) -> str:
        async with self._token_lock:
            if refresh and self._token == stale:
                self._token = None
            if self._token is not None and self._monotonic() < self._token_until:
                return self._token
            if not self._client_id or not self._client_secret:
                raise MarketoError(
                    "config", f"{self.munchkin_id}: client_id and client_secret must be configured"
                )
            params = {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            }
            try:
                resp = await self._http.get("/identity/oauth/token", params=params)
            except httpx.HTTPError as exc:
                msg = f"{self.munchkin_id}: identity endpoint unreachable ({type(exc).__name__}: {exc})"
                raise MarketoError("network", self._scrub(msg)) from None
            if resp.status_code in (400, 401, 403):
                raise MarketoError(
                    str(resp.status_code),
                    f"{self.munchkin_id}: Marketo rejected the API credentials (HTTP {resp.status_code}); check "
                    "client_id and client_secret of the LaunchPoint API service in the marketo config",
                )
            data = self._json(resp, "identity")
            token, expires_in = data.get("access_token"), data.get("expires_in")
            if not isinstance(token, str) or not isinstance(expires_in, int | float):
                raise MarketoError(
                    "parse", f"{self.munchkin_id}: identity answer lacks access_token/expires_in"
                )
            self._token = token
            self._token_until = self._monotonic() + float(expires_in) - self.token_margin
            return token

    # -- core call ------------------------------------------------------------------------------------------

    def _json(self, resp: httpx.Response, what: str) -> dict[str, Any]:
        ctype = resp.headers.get("content-type", "?").split(";")[0]
        try:
            data = json.loads(resp.content)
        except ValueError:
            snippet = self._scrub(" ".join(resp.text[:80].split()))
            raise MarketoError(
                "parse",
                f"{self.munchkin_id} {what}: HTTP {resp.status_code} with a body that is not valid JSON "
                f"({ctype}, starts {snippet!r}); Marketo or a proxy in between returned an error page "
                "or a truncated response",
            ) from None
        if not isinstance(data, dict):
            raise MarketoError("parse", f"{self.munchkin_id} {what}: JSON body is not an object")
        return data

    def _check_paused(self) -> None:
        if self.paused_until is not None:
            if self._now() < self.paused_until:
                local = self.paused_until.strftime("%Y-%m-%d %H:%M %Z")
                raise MarketoError(
                    "607", f"daily quota reached; paused until 00:00 CT ({local}) for {self.munchkin_id}"
                )
            self.paused_until = None

    def _spend(self, feature: str) -> None:
        self._check_paused()
        if (why := self._budget.try_spend(feature)) is not None:
            raise MarketoError("budget", f"{why} for {self.munchkin_id}; calls resume after 00:00 US Central")

    async def _attempt(self, req: _Request, token: str) -> dict[str, Any] | httpx.Response:
        """One budgeted, paced HTTP request: the parsed envelope, or the raw response of a non-JSON download."""
        self._spend(req.feature)
        async with self._slots:
            await self._pacer.acquire()
            try:
                resp = await self._http.request(
                    req.method,
                    req.path,
                    params=req.params,
                    json=req.body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as exc:
                return {
                    "success": False,
                    "errors": [{"code": "604", "message": f"{type(exc).__name__}: {exc}"}],
                }
        if resp.status_code in (502, 503, 504):
            return {"success": False, "errors": [{"code": "502", "message": f"HTTP {resp.status_code}"}]}
        if req.raw and resp.status_code == 200 and "json" not in resp.headers.get("content-type", ""):
            return resp
        data = self._json(resp, req.path)
        if "success" not in data:
            raise MarketoError(
                "parse", f"{self.munchkin_id} {req.path}: HTTP {resp.status_code}, no Marketo envelope"
            )
        return data

    async def get(
        self, path: str, params: dict[str, Any] | None = None, *, feature: str = "other"
    ) -> dict[str, Any]:
        """GETs `path` and returns the `success: true` envelope; raises MarketoError per the retry policy."""
        result = await self._call(_Request("GET", path, _query(params), None, feature))
        assert isinstance(result, dict)
        return result

    async def post(
        self, path: str, body: dict[str, Any] | None = None, *, feature: str = "other"
    ) -> dict[str, Any]:
        """POSTs a JSON body to `path` (bulk endpoints) and returns the `success: true` envelope."""
        result = await self._call(_Request("POST", path, {}, body, feature))
        assert isinstance(result, dict)
        return result

    async def download(self, path: str, *, feature: str = "other") -> bytes:
        """GETs a file (e.g. a bulk export's CSV); a JSON answer instead is an envelope with an error."""
        result = await self._call(_Request("GET", path, {}, None, feature, raw=True))
        if isinstance(result, httpx.Response):
            return result.content
        raise MarketoError("parse", f"{self.munchkin_id} {path}: expected a file, got a JSON envelope")

    async def _call(self, req: _Request) -> dict[str, Any] | httpx.Response:
        token = await self._access_token()
        refreshed = False
        attempt = 0
        path = req.path
        while True:
            attempt += 1
            data = await self._attempt(req, token)
            if isinstance(data, httpx.Response) or data.get("success") is True:
                return data
            errors = data.get("errors") or [{}]
            first = errors[0] if isinstance(errors[0], dict) else {}
            code, message = str(first.get("code", "unknown")), str(first.get("message", ""))
            log.info("marketo %s %s: error %s %s", self.munchkin_id, path, code, message)
            if code in TOKEN_CODES and not refreshed:
                refreshed = True
                token = await self._access_token(refresh=True, stale=token)
                attempt -= 1
                continue
            if code == "607":
                self.paused_until = next_central_midnight(self._now())
                self._check_paused()
            if code == "603":
                raise MarketoError(
                    "603",
                    f"access denied on {self.munchkin_id} {path}: give the API user's role the needed permission "
                    "(Admin → Users & Roles) or add notifbot's IP to the Web Services IP allow-list",
                )
            if attempt >= self.max_attempts or code not in TRANSIENT | {"606", "615"}:
                raise MarketoError(code, f"{self.munchkin_id} {path}: {message or 'request failed'}")
            if code == "606":
                await self._sleep(self.rate_limit_wait)
            else:
                await self._sleep(min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))

    # -- convenience ----------------------------------------------------------------------------------------

    async def usage(self) -> dict[str, Any]:
        """Today's API usage (`stats/usage.json`)."""
        return await self.get("/rest/v1/stats/usage.json", feature="quota")

    async def errors(self) -> dict[str, Any]:
        """Today's API error counts (`stats/errors.json`)."""
        return await self.get("/rest/v1/stats/errors.json", feature="quota")

    async def smart_campaigns(
        self, offset: int = 0, max_return: int = 200, is_active: bool | None = None
    ) -> dict[str, Any]:
        """One page of smart campaigns (Asset API, offset paging)."""
        params: dict[str, Any] = {"offset": offset, "maxReturn": max_return}
        if is_active is not None:
            params["isActive"] = "true" if is_active else "false"
        return await self.get("/rest/asset/v1/smartCampaigns.json", params, feature="campaigns")

    async def paging_token(self, since: datetime) -> str:
        """A paging token for activities since `since` (aware datetime)."""
        data = await self.get(
            "/rest/v1/activities/pagingtoken.json", {"sinceDatetime": since.isoformat()}, feature="activities"
        )
        token = data.get("nextPageToken")
        if not isinstance(token, str):
            raise MarketoError("parse", f"{self.munchkin_id}: paging token answer lacks nextPageToken")
        return token

    async def activities(
        self, next_page_token: str, activity_type_ids: list[int], batch_size: int = 300
    ) -> dict[str, Any]:
        """One page of activities (`moreResult`, `nextPageToken`; pages may be short or empty)."""
        params = {
            "nextPageToken": next_page_token,
            "activityTypeIds": ",".join(str(i) for i in activity_type_ids),
            "batchSize": min(batch_size, 300),
        }
        return await self.get("/rest/v1/activities.json", params, feature="activities")

    async def iter_smart_campaigns(
        self, is_active: bool | None = None, page_size: int = 200
    ) -> AsyncIterator[dict[str, Any]]:
        """Every smart campaign, page by page, until a short or empty page."""
        offset = 0
        while True:
            page = (await self.smart_campaigns(offset, page_size, is_active)).get("result") or []
            for campaign in page:
                yield campaign
            if len(page) < page_size:
                return
            offset += len(page)

    async def iter_activity_pages(
        self, token: str, activity_type_ids: list[int], batch_size: int = 300, max_pages: int | None = None
    ) -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
        """(activities, token to resume from) per page until `moreResult` is false (or `max_pages`)."""
        pages = 0
        while max_pages is None or pages < max_pages:
            data = await self.activities(token, activity_type_ids, batch_size)
            pages += 1
            token = str(data.get("nextPageToken") or token)
            yield list(data.get("result") or []), token
            if not data.get("moreResult"):
                return

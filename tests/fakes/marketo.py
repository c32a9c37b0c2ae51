"""A protocol-faithful fake of the Marketo REST API on a loopback port, served by uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import ThreadedServer

NO_ASSETS = "No assets found for the given search criteria."
HTML_ERROR = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
_MESSAGES = {
    "600": "Access token not specified",
    "601": "Access token invalid",
    "602": "Access token expired",
    "603": "Access denied",
    "604": "Request timed out",
    "606": "Max rate limit '100' exceeded with in '20' secs",
    "607": "Daily quota reached",
    "608": "API Temporarily Unavailable",
    "611": "System error",
    "615": "Concurrent access limit reached",
    "701": "cannot be blank",
    "1003": "Invalid value",
}


def _parse_dt(text: str) -> datetime:
    """Lenient ISO-8601 (Marketo accepts `Z`, offsets, or none meaning UTC)."""
    dt = datetime.fromisoformat(text.replace("Z+0000", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class FakeMarketo(ThreadedServer):
    """Marketo identity + REST (usage, errors, smartCampaigns, activities) on http://127.0.0.1:PORT."""

    thread_name = "fake-marketo"

    def __init__(
        self,
        client_id: str = "cid-test",
        client_secret: str = "csecret-test",
        *,
        expires_in: int = 3600,
        campaigns: list[dict[str, Any]] | None = None,
        activities: list[dict[str, Any]] | None = None,
        usage_users: dict[str, int] | None = None,
        rate_limit: int = 100,
        rate_window: float = 20.0,
        max_concurrent: int = 10,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.client_id, self.client_secret, self.expires_in = client_id, client_secret, expires_in
        self.campaigns = list(campaigns or [])
        self.activities = sorted(activities or [], key=lambda a: _parse_dt(a["activityDate"]))
        self.usage_users = dict(usage_users or {})
        self.rate_limit, self.rate_window, self.max_concurrent = rate_limit, rate_window, max_concurrent
        self.latency, self.clock = latency, clock
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()  # REST calls per path (every answer, errors included)
        self.call_times: list[float] = []  # clock() at the start of each REST call
        self.identity_calls = 0
        self.error_counts: Counter[str] = Counter()
        self.max_in_flight = 0
        self.short_pages: deque[int] = deque()  # forced sizes of the next activity pages (0 = empty)
        self._faults: deque[tuple[str, Any]] = deque()
        self._tokens: dict[str, float] = {}  # token -> expiry on clock()
        self._current: str | None = None
        self._page_tokens: dict[str, int] = {}
        self._window: deque[float] = deque()
        self._in_flight = 0
        self._app = Starlette(
            routes=[
                Route("/identity/oauth/token", self._identity, methods=["GET", "POST"]),
                Route("/rest/v1/stats/usage.json", self._rest(self._usage)),
                Route("/rest/v1/stats/errors.json", self._rest(self._errors)),
                Route("/rest/asset/v1/smartCampaigns.json", self._rest(self._campaigns)),
                Route("/rest/v1/activities/pagingtoken.json", self._rest(self._paging_token)),
                Route("/rest/v1/activities.json", self._rest(self._activities)),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------

    # -- fault injection ---------------------------------------------------------------------------------------

    def fail_next(self, code: str | int, n: int = 1) -> None:
        """The next `n` REST calls answer HTTP 200 `success: false` with error `code`."""
        with self._lock:
            self._faults += [("code", str(code))] * n

    def fail_next_http(self, status: int, body: str = HTML_ERROR, content_type: str = "text/html") -> None:
        """The next REST call answers HTTP `status` with `body` verbatim (HTML page, truncated JSON…)."""
        with self._lock:
            self._faults.append(("http", (status, body, content_type)))

    def expire_tokens(self) -> None:
        """Every issued token expires now (the next call with one answers 602)."""
        with self._lock:
            now = self.clock()
            self._tokens = {t: min(exp, now) for t, exp in self._tokens.items()}

    @property
    def rest_calls(self) -> int:
        """All REST calls answered (identity excluded)."""
        return sum(self.calls.values())

    # -- helpers ---------------------------------------------------------------------------------------------

    def _envelope(self, **fields: Any) -> JSONResponse:
        return JSONResponse({"requestId": uuid.uuid4().hex[:5] + "#" + uuid.uuid4().hex[:12], **fields})

    def _error(self, code: str, message: str | None = None) -> JSONResponse:
        with self._lock:
            self.error_counts[code] += 1
        return self._envelope(
            success=False, errors=[{"code": code, "message": message or _MESSAGES.get(code, "")}]
        )

    def _gate(self, request: Request) -> Response | None:
        """Faults, rate and concurrency limits, then the token; None when the call may proceed."""
        with self._lock:
            now = self.clock()
            self.calls[request.url.path] += 1
            self.call_times.append(now)
            fault = self._faults.popleft() if self._faults else None
            while self._window and self._window[0] <= now - self.rate_window:
                self._window.popleft()
            self._window.append(now)
            over_rate = len(self._window) > self.rate_limit
            over_concurrency = self._in_flight > self.max_concurrent
            auth = request.headers.get("authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            expiry = self._tokens.get(token) if token else None
        if fault is not None:
            kind, value = fault
            if kind == "code":
                return self._error(value)
            status, body, ctype = value
            return Response(body, status_code=status, media_type=ctype)
        if over_rate:
            return self._error("606")
        if over_concurrency:
            return self._error("615")
        if token is None:
            return self._error("600")
        if expiry is None:
            return self._error("601")
        if expiry <= self.clock():
            return self._error("602")
        return None

    def _rest(self, handler: Callable[[Request], Response]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            with self._lock:
                self._in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                if self.latency:
                    await asyncio.sleep(self.latency)
                return self._gate(request) or handler(request)
            finally:
                with self._lock:
                    self._in_flight -= 1

        return endpoint

    # -- endpoints -------------------------------------------------------------------------------------------

    async def _identity(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update((await request.form()).items())  # type: ignore[arg-type]
        with self._lock:
            self.identity_calls += 1
            if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
                body = {"error": "unauthorized", "error_description": "Bad client credentials"}
                return JSONResponse(body, status_code=401)
            now = self.clock()
            if self._current is None or self._tokens.get(self._current, 0) <= now:
                self._current = uuid.uuid4().hex
                self._tokens[self._current] = now + self.expires_in
            remaining = max(0, int(self._tokens[self._current] - now))
            return JSONResponse(
                {
                    "access_token": self._current,
                    "token_type": "bearer",
                    "expires_in": remaining,
                    "scope": "api",
                }
            )

    def _usage(self, request: Request) -> Response:
        users = [{"userId": u, "count": c} for u, c in self.usage_users.items()]
        today = datetime.now(UTC).date().isoformat()
        return self._envelope(
            success=True, result=[{"date": today, "total": sum(self.usage_users.values()), "users": users}]
        )

    def _errors(self, request: Request) -> Response:
        with self._lock:
            errs = [{"errorCode": c, "count": n} for c, n in sorted(self.error_counts.items())]
        today = datetime.now(UTC).date().isoformat()
        total = sum(e["count"] for e in errs)  # type: ignore[misc]
        return self._envelope(success=True, result=[{"date": today, "total": total, "errors": errs}])

    def _campaigns(self, request: Request) -> Response:
        q = request.query_params
        try:
            offset, max_return = int(q.get("offset", "0")), int(q.get("maxReturn", "20"))
        except ValueError:
            return self._error("1003", "offset and maxReturn must be integers")
        if not 1 <= max_return <= 200:
            return self._error("1003", "maxReturn must be between 1 and 200")
        rows = self.campaigns
        if "isActive" in q:
            wanted = q["isActive"].lower() == "true"
            rows = [c for c in rows if bool(c.get("isActive")) == wanted]
        page = rows[offset : offset + max_return]
        if not page:
            return self._envelope(success=True, errors=[], warnings=[NO_ASSETS])
        return self._envelope(success=True, errors=[], result=page, warnings=[])

    def _new_page_token(self, position: int) -> str:
        token = uuid.uuid4().hex.upper()
        with self._lock:
            self._page_tokens[token] = position
        return token

    def _paging_token(self, request: Request) -> Response:
        since = request.query_params.get("sinceDatetime")
        if not since:
            return self._error("701", "sinceDatetime cannot be blank")
        try:
            when = _parse_dt(since)
        except ValueError:
            return self._error("1003", "Invalid sinceDatetime")
        position = sum(1 for a in self.activities if _parse_dt(a["activityDate"]) < when)
        return self._envelope(success=True, nextPageToken=self._new_page_token(position))

    def _activities(self, request: Request) -> Response:
        q = request.query_params
        position = self._page_tokens.get(q.get("nextPageToken", ""))
        if position is None:
            return self._error("1003", "Invalid nextPageToken")
        try:
            types = {int(t) for t in q.get("activityTypeIds", "").split(",") if t}
            batch = int(q.get("batchSize", "300"))
        except ValueError:
            return self._error("1003", "activityTypeIds and batchSize must be integers")
        if not types or len(types) > 10:
            return self._error("1003", "activityTypeIds: 1 to 10 ids required")
        if not 1 <= batch <= 300:
            return self._error("1003", "batchSize must be between 1 and 300")
        with self._lock:
            forced = self.short_pages.popleft() if self.short_pages else None
        limit = batch if forced is None else min(batch, forced)
        result: list[dict[str, Any]] = []
        while position < len(self.activities) and len(result) < limit:
            act = self.activities[position]
            position += 1
            if act["activityTypeId"] in types:
                result.append(act)
        more = position < len(self.activities) or forced is not None
        fields: dict[str, Any] = {
            "success": True,
            "nextPageToken": self._new_page_token(position),
            "moreResult": more,
        }
        if result:
            fields["result"] = result
        return self._envelope(**fields)

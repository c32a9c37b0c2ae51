"""A protocol-faithful fake of the Marketo REST API on a loopback port, served by uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import bisect
import csv
import hashlib
import inspect
import io
import json
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import ThreadedServer

BULK = "/bulk/v1/activities/export"
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
    "1029": "Too many jobs in queue",
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
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        export_seconds: float = 600.0,
        max_queued_exports: int = 10,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.client_id, self.client_secret, self.expires_in = client_id, client_secret, expires_in
        self.campaigns = list(campaigns or [])
        self.now, self.export_seconds, self.max_queued_exports = now, export_seconds, max_queued_exports
        self.set_activities(activities or [])
        self.exports: dict[str, dict[str, Any]] = {}
        self.checksum_prefix = "sha256:"
        self.usage_users = dict(usage_users or {})
        self.rate_limit, self.rate_window, self.max_concurrent = rate_limit, rate_window, max_concurrent
        self.latency, self.clock = latency, clock
        self.host, self.port = host, port
        self._lock = threading.RLock()
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
                Route(f"{BULK}/create.json", self._rest(self._export_create), methods=["POST"]),
                Route(
                    BULK + "/{export_id}/enqueue.json", self._job_rest(self._export_enqueue), methods=["POST"]
                ),
                Route(BULK + "/{export_id}/status.json", self._job_rest(self._export_status)),
                Route(BULK + "/{export_id}/file.json", self._job_rest(self._export_file)),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def set_activities(self, activities: list[dict[str, Any]], times: list[datetime] | None = None) -> None:
        """Replaces the activity log (only those dated up to `now()` are visible); with `times` (their parsed
        dates) the list is taken as already sorted, which large simulations need."""
        if times is None:
            activities = sorted(activities, key=lambda a: _parse_dt(a["activityDate"]))
            times = [_parse_dt(a["activityDate"]) for a in activities]
        self.activities, self._times = activities, times

    def _visible(self) -> int:
        return bisect.bisect_right(self._times, self.now())

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

    def _rest(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            with self._lock:
                self._in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
            try:
                if self.latency:
                    await asyncio.sleep(self.latency)
                blocked = self._gate(request)
                if blocked is not None:
                    return blocked
                answer = handler(request)
                return await answer if inspect.isawaitable(answer) else answer
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
        today = self.now().date().isoformat()
        return self._envelope(
            success=True, result=[{"date": today, "total": sum(self.usage_users.values()), "users": users}]
        )

    def _errors(self, request: Request) -> Response:
        with self._lock:
            errs = [{"errorCode": c, "count": n} for c, n in sorted(self.error_counts.items())]
        today = self.now().date().isoformat()
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
        position = bisect.bisect_left(self._times, when)
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
        visible = self._visible()
        while position < visible and len(result) < limit:
            act = self.activities[position]
            position += 1
            if act["activityTypeId"] in types:
                result.append(act)
        more = position < visible or forced is not None
        fields: dict[str, Any] = {
            "success": True,
            "nextPageToken": self._new_page_token(position),
            "moreResult": more,
        }
        if result:
            fields["result"] = result
        return self._envelope(**fields)

    # -- Bulk Activity Extract -------------------------------------------------------------------------------

    def _job_rest(self, handler: Callable[[dict[str, Any]], Response]) -> Callable[[Request], Any]:
        """A REST endpoint for one export job: unknown ids answer 1003 as Marketo does."""

        def endpoint(request: Request) -> Response:
            job = self.exports.get(request.path_params["export_id"])
            return self._error("1003", "Export Id not found") if job is None else handler(job)

        return self._rest(endpoint)

    def _job_status(self, job: dict[str, Any]) -> str:
        if job["status"] == "Queued" and self.now() >= job["queued_at"] + timedelta(
            seconds=self.export_seconds
        ):
            job["status"] = "Completed"
            job["file"] = self._export_csv(job)
        return str(job["status"])

    def _job_result(self, job: dict[str, Any]) -> dict[str, Any]:
        out = {
            "exportId": job["id"],
            "format": "CSV",
            "status": self._job_status(job),
            "createdAt": job["created"],
        }
        if job["status"] == "Completed":
            content: bytes = job["file"]
            out.update(
                numberOfRecords=job["records"],
                fileSize=len(content),
                fileChecksum=self.checksum_prefix + hashlib.sha256(content).hexdigest(),
            )
        return out

    def _export_csv(self, job: dict[str, Any]) -> bytes:
        lo, hi = bisect.bisect_left(self._times, job["start"]), bisect.bisect_left(self._times, job["end"])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(job["fields"])
        records = 0
        for act in self.activities[lo:hi]:
            if not job["types"] or act["activityTypeId"] in job["types"]:
                writer.writerow(
                    [act.get(f, "") if f != "campaignId" else act.get(f) or "" for f in job["fields"]]
                )
                records += 1
        job["records"] = records
        return out.getvalue().encode()

    async def _export_create(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            window = body["filter"]["createdAt"]
            start, end = _parse_dt(window["startAt"]), _parse_dt(window["endAt"])
        except (ValueError, KeyError, TypeError):
            return self._error("609", "Invalid JSON: filter.createdAt.startAt and endAt are required")
        if end <= start or end - start > timedelta(days=31):
            return self._error("1003", "createdAt: the date range must be 31 days or less")
        job_id = str(uuid.uuid4())
        fields = body.get("fields") or [
            "marketoGUID",
            "leadId",
            "activityDate",
            "activityTypeId",
            "campaignId",
        ]
        with self._lock:
            self.exports[job_id] = {
                "id": job_id,
                "status": "Created",
                "created": self.now().isoformat(),
                "start": start,
                "end": end,
                "types": set(body["filter"].get("activityTypeIds") or []),
                "fields": list(fields),
            }
            result = self._job_result(self.exports[job_id])
        return self._envelope(success=True, result=[result])

    def _export_enqueue(self, job: dict[str, Any]) -> Response:
        with self._lock:
            queued = sum(1 for j in self.exports.values() if j["status"] == "Queued")
            if job["status"] != "Created":
                return self._error("1029", f"Export Job {job['id']} is already {job['status']}")
            if queued >= self.max_queued_exports:
                return self._error("1029")
            job["status"], job["queued_at"] = "Queued", self.now()
            result = self._job_result(job)
        return self._envelope(success=True, result=[result])

    def _export_status(self, job: dict[str, Any]) -> Response:
        with self._lock:
            result = self._job_result(job)
        return self._envelope(success=True, result=[result])

    def _export_file(self, job: dict[str, Any]) -> Response:
        with self._lock:
            done = self._job_status(job) == "Completed"
        if not done:
            return self._error("1003", f"Export Job {job['id']} is not completed")
        return Response(job["file"], media_type="text/csv")

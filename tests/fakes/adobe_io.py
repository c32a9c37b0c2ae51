"""A protocol-faithful fake of Adobe I/O Events on loopback: public-key server, IMS token endpoint and a journal.

Deliveries are signed like Adobe's (RSA-SHA256, PKCS#1 v1.5, over the raw body, Base64 in
`x-adobe-digital-signature-1/2`, key paths in `x-adobe-public-key1/2-path`) with RSA keys generated per fake.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections import Counter, deque
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import ThreadedServer

JOURNAL_PATH = "/events/organizations/org-1/integrations/cred-1/reg-1"
CODE = "com.adobe.platform.marketo.notification."


class SigningKey:
    """An RSA key pair and the path Adobe would publish its public half under."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.path = f"/prod/keys/pub-key-{uuid.uuid4()}.pem"
        self.pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, body: bytes) -> str:
        """Base64 RSA-SHA256 signature of `body`."""
        return base64.b64encode(self.private.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def marketo_event(
    suffix: str,
    event_id: str,
    recipient: str,
    *,
    data: dict[str, Any] | None = None,
    variant: str = "adobe",
    time: str = "2024-12-18T07:32:30Z",
    munchkin: str = "123-ABC-456",
) -> dict[str, Any]:
    """One event as Adobe delivers it: `adobe` (event.body, eventid, recipientclientid) or `marketo` (the
    CloudEvent directly in `event`, event_id, recipient_client_id). `suffix` may be a full type."""
    etype = suffix if suffix.startswith("com.") else CODE + suffix
    ce = {
        "specversion": "1.0",
        "source": "urn:mlm" if variant == "adobe" else "https://www.marketo.com",
        "type": etype,
        "id": f"ce-{event_id}",
        "time": time,
        "datacontenttype": "application/json",
        "data": {"munchkinId": munchkin, "imsOrgId": "ORG@AdobeOrg", **(data or {})},
    }
    if variant == "adobe":
        return {"eventid": event_id, "event": {"body": ce}, "recipientclientid": recipient}
    return {"event_id": event_id, "event": ce, "recipient_client_id": recipient}


class FakeAdobeIO(ThreadedServer):
    """Keys at /prod/keys/…pem, IMS at /ims/token/v3, a journal at JOURNAL_PATH, on http://127.0.0.1:PORT."""

    thread_name = "fake-adobe-io"

    def __init__(
        self,
        client_id: str = "adobe-client-1",
        client_secret: str = "adobe-s3cret-xyz",
        *,
        expires_in: int = 86399,
        page_limit: int = 10,
        retry_after: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.client_id, self.client_secret, self.expires_in = client_id, client_secret, expires_in
        self.page_limit, self.retry_after = page_limit, retry_after
        self.host, self.port = host, port
        self.key1, self.key2 = SigningKey(), SigningKey()
        self.keys = {k.path: k for k in (self.key1, self.key2)}
        self.key_fetches: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()  # every path asked for, keys or not
        self.keys_down = False
        self.token_requests = 0
        self.tokens: set[str] = set()
        self.journal: list[dict[str, Any]] = []  # events in journal order; position of event i = f"p{i}"
        self.expired_before = 0  # positions before this index answer 410
        self.journal_requests: list[dict[str, str]] = []  # query params of every journal call
        self.faults: deque[tuple[int, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        self._app = Starlette(
            routes=[
                Route("/prod/keys/{name}", self._key),
                Route("/ims/token/v3", self._token, methods=["POST"]),
                Route(JOURNAL_PATH, self._journal),
                Route("/{path:path}", self._anything_else),
            ]
        )

    # -- deliveries --------------------------------------------------------------------------------------------

    def signed(
        self,
        payload: Any,
        *,
        sign1: bool = True,
        sign2: bool = True,
        path1: str | None = None,
        path2: str | None = None,
        body: bytes | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a delivery of `payload` signed with key 1 and/or key 2."""
        raw = body if body is not None else json.dumps(payload).encode()
        headers = {"content-type": "application/json", "user-agent": "Adobe/1.0"}
        if isinstance(payload, dict) and "eventid" in payload:
            headers["x-adobe-event-id"] = str(payload["eventid"])
        if sign1:
            headers["x-adobe-digital-signature-1"] = self.key1.sign(raw)
            headers["x-adobe-public-key1-path"] = path1 or self.key1.path
        if sign2:
            headers["x-adobe-digital-signature-2"] = self.key2.sign(raw)
            headers["x-adobe-public-key2-path"] = path2 or self.key2.path
        return raw, headers

    # -- journal control ---------------------------------------------------------------------------------------

    def reset_key_traffic(self) -> None:
        """Forgets the paths asked for and brings the key server back up (one fake serves a module's tests)."""
        with self._lock:
            self.key_fetches.clear()
            self.requests.clear()
            self.keys_down = False

    def append(self, *events: dict[str, Any]) -> None:
        """Adds events to the journal."""
        with self._lock:
            self.journal.extend(events)

    def fail_next(self, status: int, headers: dict[str, str] | None = None, n: int = 1) -> None:
        """The next `n` journal calls answer `status` (e.g. 429 or 503 with retry-after)."""
        with self._lock:
            self.faults.extend([(status, headers or {})] * n)

    # -- endpoints ---------------------------------------------------------------------------------------------

    async def _anything_else(self, request: Request) -> Response:
        with self._lock:
            self.requests[request.url.path] += 1
        return Response(
            "<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml"
        )

    async def _key(self, request: Request) -> Response:
        path = request.url.path
        with self._lock:
            self.requests[path] += 1
            self.key_fetches[path] += 1
            down = self.keys_down
        if down:
            return Response("unavailable", status_code=503)
        key = self.keys.get(path)
        if key is None:
            return Response(
                "<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml"
            )
        return Response(key.pem, media_type="application/x-pem-file")

    async def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        with self._lock:
            self.token_requests += 1
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return JSONResponse({"error": "invalid_client", "error_description": "invalid client"}, 401)
            if form.get("grant_type") != "client_credentials":
                return JSONResponse({"error": "unsupported_grant_type"}, 400)
            token = "ims-" + uuid.uuid4().hex
            self.tokens.add(token)
        return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": self.expires_in})

    def _link(self, index: int, limit: int) -> str:
        return f'<{JOURNAL_PATH}?since=p{index}&limit={limit}>; rel="next"'

    async def _journal(self, request: Request) -> Response:
        q = request.query_params
        with self._lock:
            self.journal_requests.append(dict(q))
            fault = self.faults.popleft() if self.faults else None
            auth = request.headers.get("authorization", "")
            authorised = auth.startswith("Bearer ") and auth[7:] in self.tokens
            api_key_ok = request.headers.get("x-api-key") == self.client_id
            events = list(self.journal)
            expired_before = self.expired_before
        if fault is not None:
            return Response(status_code=fault[0], headers=fault[1])
        if not authorised:
            return JSONResponse({"error_code": "401013", "message": "Oauth token is not valid"}, 401)
        if not api_key_ok:
            return JSONResponse({"error_code": "403003", "message": "Api Key is invalid"}, 403)
        limit = min(int(q.get("limit", str(self.page_limit))), self.page_limit)
        if q.get("latest") == "true":
            start = len(events)
        elif "since" in q:
            since = q["since"]
            if not since.startswith("p"):
                return JSONResponse({"message": "invalid position"}, 400)
            index = int(since[1:])
            if index + 1 < expired_before:
                return JSONResponse({"message": "position expired"}, 410)
            start = index + 1
        else:
            start = expired_before
        page = events[start : start + limit]
        if not page:
            last = start - 1
            headers = {"retry-after": str(self.retry_after), "link": self._link(last, limit)}
            return Response(status_code=204, headers=headers)
        last = start + len(page) - 1
        body = {
            "events": [{"position": f"p{start + i}", "event": e} for i, e in enumerate(page)],
            "_page": {"last": f"p{last}", "count": len(page)},
        }
        # two Link headers, as Adobe sends: the next page and the latest position
        headers = [
            ("link", self._link(last, limit)),
            ("link", f'<{JOURNAL_PATH}?latest=true>; rel="latest"'),
        ]
        # Adobe's JSON escapes non-ASCII (a lone surrogate in an event arrives as the text \ud800)
        response = Response(json.dumps(body), media_type="application/json")
        for name, value in headers:
            response.raw_headers.append((name.encode(), value.encode()))
        return response

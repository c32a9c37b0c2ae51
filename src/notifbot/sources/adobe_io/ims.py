"""Adobe IMS server-to-server (OAuth client credentials) access tokens, cached until shortly before expiry."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

import httpx

from notifbot.errors import UpstreamError

log = logging.getLogger("notifbot.adobe_io")
EXPIRY_MARGIN_SECONDS = 300.0


class ImsTokens:
    """One cached bearer token; a new one is requested only when it (nearly) expired or was refused."""

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        scopes: Sequence[str],
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 10.0,
    ) -> None:
        self._url = url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": ",".join(scopes),
        }
        self._http = http
        self._clock = clock
        self._timeout = timeout
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.requests = 0

    def invalidate(self) -> None:
        """Forgets the cached token (the journal answered 401 with it)."""
        self._token = None

    async def token(self) -> str:
        """A valid access token; UpstreamError (transient or not) when IMS cannot give one."""
        async with self._lock:
            if self._token is not None and self._clock() < self._expires_at:
                return self._token
            self.requests += 1
            try:
                response = await self._http.post(self._url, data=self._form, timeout=self._timeout)
            except httpx.HTTPError as exc:
                raise UpstreamError(f"Adobe IMS unreachable: {type(exc).__name__}") from None
            if response.status_code == 429 or response.status_code >= 500:
                raise UpstreamError(f"Adobe IMS answered {response.status_code}")
            try:
                payload = response.json()
            except ValueError:
                payload = {}
            if response.status_code != 200 or not isinstance(payload.get("access_token"), str):
                reason = (
                    payload.get("error_description") or payload.get("error") or f"HTTP {response.status_code}"
                )
                raise UpstreamError(
                    f"Adobe IMS refused the client credentials ({str(reason)[:200]}): check ADOBE_CLIENT_ID, "
                    "ADOBE_CLIENT_SECRET and adobe_io.scopes against the Developer Console credential",
                    transient=False,
                )
            expires_in = payload.get("expires_in")
            lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
            self._token = str(payload["access_token"])
            self._expires_at = self._clock() + lifetime - min(EXPIRY_MARGIN_SECONDS, lifetime / 2)
            return self._token

"""Adobe I/O Events digital signatures: RSA-SHA256 over the raw body, public keys fetched from a fixed origin."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
from collections.abc import Callable, Mapping

import httpx
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from notifbot.errors import SignatureError, UpstreamError

log = logging.getLogger("notifbot.adobe_io")

KEY_TTL_SECONDS = 24 * 3600.0  # Adobe: cache keys no longer than 24 h
NEGATIVE_TTL_SECONDS = 300.0  # a path that is not a key is not fetched again for 5 min
MAX_CACHED_KEYS = 64
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
SIGNATURE_HEADERS = (
    ("x-adobe-digital-signature-1", "x-adobe-public-key1-path"),
    ("x-adobe-digital-signature-2", "x-adobe-public-key2-path"),
)


def valid_key_path(path: str | None) -> str | None:
    """The header's key path if it is a plain root-relative `.pem` path (no `..`, no URL, no query), else None."""
    if not path or len(path) > 512 or not path.startswith("/") or not path.endswith(".pem"):
        return None
    segments = path[1:].split("/")
    if any(s in ("", ".", "..") or not _SEGMENT.fullmatch(s) for s in segments):
        return None
    return path


class KeyCache:
    """Public keys by path from one origin, cached ≤ 24 h; concurrent misses for one path share one fetch."""

    def __init__(
        self,
        origin: str,
        http: httpx.AsyncClient,
        *,
        ttl: float = KEY_TTL_SECONDS,
        timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.origin = origin.rstrip("/")
        self._http = http
        self._ttl = min(ttl, KEY_TTL_SECONDS)
        self._timeout = timeout
        self._clock = clock
        self._keys: dict[str, tuple[float, rsa.RSAPublicKey | None]] = {}
        self._inflight: dict[str, asyncio.Future[rsa.RSAPublicKey | None]] = {}
        self.fetches = 0

    async def get(self, path: str) -> rsa.RSAPublicKey | None:
        """The RSA key at a validated `path`, or None when the origin says there is none; UpstreamError if down."""
        entry = self._keys.get(path)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        pending = self._inflight.get(path)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[rsa.RSAPublicKey | None] = asyncio.get_running_loop().create_future()
        self._inflight[path] = future
        try:
            key = await self._fetch(path)
        except BaseException as exc:
            if isinstance(exc, UpstreamError):
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it, nobody logs "never retrieved"
            else:
                future.cancel()
            raise
        finally:
            self._inflight.pop(path, None)
        future.set_result(key)
        if len(self._keys) >= MAX_CACHED_KEYS:
            self._keys.pop(next(iter(self._keys)))
        self._keys[path] = (self._clock() + (self._ttl if key is not None else NEGATIVE_TTL_SECONDS), key)
        return key

    async def _fetch(self, path: str) -> rsa.RSAPublicKey | None:
        url = self.origin + path
        self.fetches += 1
        try:
            response = await self._http.get(url, timeout=self._timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"could not fetch the Adobe I/O public key {path}: {type(exc).__name__}"
            ) from None
        if response.status_code in (429,) or response.status_code >= 500:
            raise UpstreamError(f"the Adobe I/O key server answered {response.status_code} for {path}")
        if response.status_code != 200:
            log.warning("adobe i/o key %s: key server answered %s", path, response.status_code)
            return None
        try:
            key = serialization.load_pem_public_key(response.content)
        except (ValueError, UnsupportedAlgorithm):
            log.warning("adobe i/o key %s is not a PEM public key", path)
            return None
        return key if isinstance(key, rsa.RSAPublicKey) else None


def _signature(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify_rsa_sha256(key: rsa.RSAPublicKey, signature: bytes, body: bytes) -> bool:
    """True when `signature` is PKCS#1 v1.5 RSA-SHA256 of `body` under `key`."""
    try:
        key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


async def verify_delivery(body: bytes, headers: Mapping[str, str], keys: KeyCache) -> None:
    """Returns when either signature verifies; SignatureError (401) if none does, UpstreamError (503) if a key
    needed to decide could not be fetched."""
    outage: UpstreamError | None = None
    presented = False
    for sig_header, path_header in SIGNATURE_HEADERS:
        signature, raw_path = _signature(headers.get(sig_header)), headers.get(path_header)
        if signature is None or not raw_path:
            continue
        presented = True
        path = valid_key_path(raw_path)
        if path is None:
            log.warning(
                "adobe i/o delivery: refused key path %r from %s (never fetched)", raw_path[:200], path_header
            )
            continue
        try:
            key = await keys.get(path)
        except UpstreamError as exc:
            outage = exc
            continue
        if key is not None and verify_rsa_sha256(key, signature, body):
            return
    if outage is not None:
        raise outage
    if not presented:
        raise SignatureError(
            "unsigned: an Adobe I/O delivery carries x-adobe-digital-signature-1/2 and x-adobe-public-key1/2-path"
        )
    raise SignatureError("neither Adobe I/O signature verifies against its public key")

"""Adobe I/O Events digital signatures: RSA-SHA256 over the raw body, public keys fetched from a fixed origin."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping

import httpx
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from notifbot.errors import SignatureError, UpstreamError
from notifbot.sources.adobe_io.throttle import LogThrottle, loggable

log = logging.getLogger("notifbot.adobe_io")

KEY_TTL_SECONDS = 24 * 3600.0  # Adobe: cache keys no longer than 24 h
NEGATIVE_TTL_SECONDS = 300.0  # a path that is not a key is not fetched again for 5 min
MAX_CACHED_KEYS = 64  # real keys only: Adobe publishes two at a time and rotates them rarely
MAX_MISSING_PATHS = 4_096  # paths the key server did not have (bounded; only these are ever evicted)
FETCH_BURST = 4  # new key paths fetched back to back before the rate limit applies …
FETCH_EVERY_SECONDS = 15.0  # … then one more per 15 s: Adobe's two keys after a rotation fit in the burst
MAX_TRUSTED_PATHS = (
    16  # paths that verified a genuine signature, remembered across restarts (most recent kept)
)
TRUSTED_SAVE_EVERY_SECONDS = 24 * 3600.0  # a trusted path's last-verified time is saved again after a day
# Adobe's documented key path: /prod/keys/pub-key-<id>.pem (ids seen: a UUID, or 10 letters and digits).
_KEY_PATH = re.compile(r"/(?:prod|stage)/keys/pub-key-[A-Za-z0-9][A-Za-z0-9_-]{0,127}\.pem")
SIGNATURE_HEADERS = (
    ("x-adobe-digital-signature-1", "x-adobe-public-key1-path"),
    ("x-adobe-digital-signature-2", "x-adobe-public-key2-path"),
)


def valid_key_path(path: str | None) -> str | None:
    """The header's key path if it has Adobe's documented form (`/prod/keys/pub-key-<id>.pem`), else None."""
    return path if path and _KEY_PATH.fullmatch(path) else None


class TokenBucket:
    """`burst` tokens, refilled at one per `every` seconds: how often an unauthenticated request may cost a fetch."""

    def __init__(self, burst: int, every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._burst = float(burst)
        self._every = every
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        """Spends one token if there is one."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) / self._every)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def wait(self) -> float:
        """Seconds until the next token."""
        return max(0.0, (1.0 - self._tokens) * self._every)


class KeyCache:
    """Public keys by path from one origin.

    Keys are cached ≤ 24 h in a cache only real keys enter; paths the origin does not have go to a separate
    bounded negative cache, and fetching a path not seen before is rate-limited (a token bucket), so requests
    naming random paths cost a handful of fetches and never push a real key out. Concurrent misses for one path
    share one fetch. Paths that verified a genuine signature (`trusted`, saved through `save`) skip the rate
    limit, so a flood of random paths after a restart cannot hold Adobe's own keys at 503.
    """

    def __init__(
        self,
        origin: str,
        http: httpx.AsyncClient,
        *,
        ttl: float = KEY_TTL_SECONDS,
        timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        fetch_burst: int = FETCH_BURST,
        fetch_every: float = FETCH_EVERY_SECONDS,
        max_missing: int = MAX_MISSING_PATHS,
        trusted: Mapping[str, float] | None = None,
        save: Callable[[str, float], Awaitable[None]] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.origin = origin.rstrip("/")
        self._http = http
        self._ttl = min(ttl, KEY_TTL_SECONDS)
        self._timeout = timeout
        self._clock = clock
        self._keys: dict[str, tuple[float, rsa.RSAPublicKey]] = {}
        self._missing: dict[str, float] = {}
        self._max_missing = max_missing
        self._inflight: dict[str, asyncio.Future[rsa.RSAPublicKey | None]] = {}
        self._bucket = TokenBucket(fetch_burst, fetch_every, clock)
        self._limited_log = LogThrottle(log, 60.0, clock)
        self.refused_log = LogThrottle(log, 60.0, clock)  # key paths verify_delivery never fetches
        self.fetches = 0
        # path -> when it last verified (epoch seconds), the most recent MAX_TRUSTED_PATHS
        recent = sorted((trusted or {}).items(), key=lambda item: item[1])[-MAX_TRUSTED_PATHS:]
        self._trusted: dict[str, float] = dict(recent)
        self._save = save
        self._wall = wall

    def trusted(self, path: str) -> bool:
        """True when `path` has verified a genuine signature (its fetch skips the rate limit)."""
        return path in self._trusted

    async def verified(self, path: str) -> None:
        """Marks `path` trusted after it verified a signature; saves it only when new or last saved a day ago."""
        now = self._wall()
        last = self._trusted.get(path)
        if last is not None and now - last < TRUSTED_SAVE_EVERY_SECONDS:
            return
        self._trusted[path] = now
        if len(self._trusted) > MAX_TRUSTED_PATHS:
            self._trusted.pop(min(self._trusted, key=self._trusted.__getitem__))  # the least recently saved
        if self._save is None:
            return
        try:
            await self._save(path, now)
        except Exception as exc:  # the delivery verified: a store problem must not fail it
            log.warning("adobe i/o: could not record the verified key path %s: %s", path, type(exc).__name__)

    def cached(self, path: str) -> rsa.RSAPublicKey | None:
        """The key at `path` if it is cached now (never fetches)."""
        entry = self._keys.get(path)
        return entry[1] if entry is not None and entry[0] > self._clock() else None

    def _known_missing(self, path: str) -> bool:
        expires = self._missing.get(path)
        return expires is not None and expires > self._clock()

    async def get(self, path: str) -> rsa.RSAPublicKey | None:
        """The RSA key at a validated `path`, or None when the origin says there is none; UpstreamError if down
        or if new paths are being asked for faster than the rate limit allows."""
        key = self.cached(path)
        if key is not None:
            return key
        if self._known_missing(path):
            return None
        pending = self._inflight.get(path)
        if pending is not None:
            return await asyncio.shield(pending)
        if path not in self._trusted and not self._bucket.take():
            wait = self._bucket.wait()
            self._limited_log.log(
                logging.WARNING,
                "adobe i/o key fetches rate-limited: key paths not seen before arrive too fast",
            )
            raise UpstreamError(
                "Adobe I/O key fetches are rate-limited: new key paths arrive too fast", retry_after=wait
            )
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
        self._remember(path, key)
        return key

    def _remember(self, path: str, key: rsa.RSAPublicKey | None) -> None:
        now = self._clock()
        if key is None:
            self._missing.pop(path, None)
            if len(self._missing) >= self._max_missing:
                self._missing.pop(next(iter(self._missing)))
            self._missing[path] = now + NEGATIVE_TTL_SECONDS
            return
        self._missing.pop(path, None)
        if path not in self._keys and len(self._keys) >= MAX_CACHED_KEYS:
            self._keys.pop(min(self._keys, key=lambda p: self._keys[p][0]))  # the one expiring first
        self._keys[path] = (now + self._ttl, key)

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
            log.info("adobe i/o key %s: key server answered %s", path, response.status_code)
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
    needed to decide could not be fetched.

    Cached keys are tried first, so a genuine delivery never waits for (or spends the fetch budget on) a path
    named in the other header.
    """
    presented: list[tuple[bytes, str]] = []
    for sig_header, path_header in SIGNATURE_HEADERS:
        signature, raw_path = _signature(headers.get(sig_header)), headers.get(path_header)
        if signature is None or not raw_path:
            continue
        path = valid_key_path(raw_path)
        if path is None:
            keys.refused_log.log(
                logging.WARNING,
                "adobe i/o delivery: refused key path %s from %s (never fetched)",
                loggable(raw_path, 120),
                path_header,
            )
            presented.append((signature, ""))
            continue
        presented.append((signature, path))
    if not presented:
        raise SignatureError(
            "unsigned: an Adobe I/O delivery carries x-adobe-digital-signature-1/2 and x-adobe-public-key1/2-path"
        )
    uncached: list[tuple[bytes, str]] = []
    for signature, path in presented:
        if not path:
            continue
        key = keys.cached(path)
        if key is None:
            uncached.append((signature, path))
        elif verify_rsa_sha256(key, signature, body):
            await keys.verified(path)
            return
    outage: UpstreamError | None = None
    for signature, path in uncached:
        try:
            fetched = await keys.get(path)
        except UpstreamError as exc:
            outage = exc
            continue
        if fetched is not None and verify_rsa_sha256(fetched, signature, body):
            await keys.verified(path)
            return
    if outage is not None:
        raise outage
    raise SignatureError("neither Adobe I/O signature verifies against its public key")

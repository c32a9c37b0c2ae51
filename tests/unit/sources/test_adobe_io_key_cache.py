"""The Adobe I/O key cache against a real key server on loopback: TTLs, outages, bounds and the fetch rate limit."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from notifbot.errors import SignatureError, UpstreamError
from notifbot.sources.adobe_io.signature import KeyCache, TokenBucket, verify_delivery
from tests.fakes.adobe_io import SigningKey
from tests.fakes.adobe_keys import Answer, Clock, KeyServer

EC_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
)
LIMITED = "Adobe I/O key fetches are rate-limited: new key paths arrive too fast"
WARNING = "adobe i/o key fetches rate-limited: key paths not seen before arrive too fast"


@contextmanager
def socket_bound_not_listening() -> Iterator[int]:
    """A loopback port that refuses connections (bound, so nobody else takes it, but not listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def same_key(a: rsa.RSAPublicKey | None, b: SigningKey) -> bool:
    return a is not None and a.public_numbers() == b.private.public_key().public_numbers()


def records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "notifbot.adobe_io"]


async def test_a_key_is_fetched_from_the_origin_once_and_cached(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    path = server.key(signer)
    keys = KeyCache(server.origin + "/", http)  # a trailing slash on the origin does not double the slash
    assert keys.origin == server.origin
    assert keys.cached(path) is None
    assert same_key(await keys.get(path), signer)
    assert same_key(await keys.get(path), signer) and same_key(keys.cached(path), signer)
    assert keys.fetches == 1 and server.hits[path] == 1


@pytest.mark.parametrize(("ttl", "lasts"), [(100.0, 100.0), (48 * 3600.0, 24 * 3600.0)])
async def test_a_key_is_kept_for_its_ttl_never_more_than_24_hours(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient, ttl: float, lasts: float
) -> None:
    clock = Clock()
    path = server.key(signer)
    keys = KeyCache(server.origin, http, ttl=ttl, clock=clock)
    start = clock.now
    await keys.get(path)
    clock.now = start + lasts - 0.001
    assert same_key(await keys.get(path), signer) and keys.fetches == 1
    clock.now = start + lasts
    assert keys.cached(path) is None
    assert same_key(await keys.get(path), signer) and keys.fetches == 2


async def test_the_default_ttl_is_24_hours(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    path = server.key(signer)
    keys = KeyCache(server.origin, http, clock=clock)
    start = clock.now
    await keys.get(path)
    clock.now = start + 24 * 3600 - 0.001
    await keys.get(path)
    assert keys.fetches == 1
    clock.now = start + 24 * 3600
    await keys.get(path)
    assert keys.fetches == 2


@pytest.mark.parametrize(
    ("answer", "log"),
    [
        (Answer(status=404), (logging.INFO, "key server answered 404")),
        (
            Answer(status=499),
            (logging.INFO, "key server answered 499"),
        ),  # the last "not a key", not an outage
        (Answer(status=403), (logging.INFO, "key server answered 403")),
        (Answer(body=b"not a key"), (logging.WARNING, "is not a PEM public key")),
        (Answer(body=EC_PEM), None),  # a PEM, but not RSA
    ],
)
async def test_no_key_at_a_path_is_cached_for_five_minutes(
    server: KeyServer,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    answer: Answer,
    log: tuple[int, str] | None,
) -> None:
    clock = Clock()
    path = server.add(answer)
    keys = KeyCache(server.origin, http, clock=clock)
    start = clock.now
    with caplog.at_level(logging.INFO, logger="notifbot.adobe_io"):
        assert await keys.get(path) is None
    if log is None:
        assert records(caplog) == []
    else:
        level, text = log
        assert records(caplog) == [(level, f"adobe i/o key {path}{':' if 'answered' in text else ''} {text}")]
    clock.now = start + 300 - 0.001
    assert await keys.get(path) is None
    assert keys.fetches == 1 and server.hits[path] == 1
    clock.now = start + 300
    assert await keys.get(path) is None
    assert keys.fetches == 2 and server.hits[path] == 2


@pytest.mark.parametrize("status", [429, 500, 502, 503, 599])
async def test_rate_limits_and_server_errors_are_outages_and_never_cached(
    server: KeyServer, http: httpx.AsyncClient, status: int
) -> None:
    path = server.add(Answer(status=status))
    keys = KeyCache(server.origin, http)
    for attempt in (1, 2):
        with pytest.raises(UpstreamError) as caught:
            await keys.get(path)
        assert str(caught.value) == f"the Adobe I/O key server answered {status} for {path}"
        assert caught.value.transient and caught.value.retry_after is None
        assert server.hits[path] == attempt


async def test_an_unreachable_origin_is_an_outage(http: httpx.AsyncClient) -> None:
    with socket_bound_not_listening() as port:
        keys = KeyCache(f"http://127.0.0.1:{port}", http)
        with pytest.raises(UpstreamError) as caught:
            await keys.get("/prod/keys/pub-key-1.pem")
    assert (
        str(caught.value) == "could not fetch the Adobe I/O public key /prod/keys/pub-key-1.pem: ConnectError"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert keys.fetches == 1


async def test_a_slow_key_server_times_out(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    path = server.key(signer, delay=1.0)
    keys = KeyCache(server.origin, http, timeout=0.1)
    started = time.monotonic()
    with pytest.raises(UpstreamError, match=r"public key .*: ReadTimeout$"):
        await keys.get(path)
    assert time.monotonic() - started < 0.8


async def test_redirects_are_not_followed_even_by_a_client_that_would(
    server: KeyServer, signer: SigningKey
) -> None:
    target = server.key(signer)
    path = server.add(Answer(status=302, location=server.origin + target))
    async with httpx.AsyncClient(follow_redirects=True) as http:
        keys = KeyCache(server.origin, http)
        assert await keys.get(path) is None
    assert server.hits[target] == 0


def test_only_trailing_slashes_leave_the_origin(server: KeyServer, http: httpx.AsyncClient) -> None:
    assert KeyCache(server.origin + "/mirrorX//", http).origin == server.origin + "/mirrorX"
    assert KeyCache(server.origin, http).origin == server.origin


async def test_concurrent_misses_share_one_fetch(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    path = server.key(signer, delay=0.1)
    keys = KeyCache(server.origin, http, fetch_burst=1)  # the waiters spend no fetch budget
    got = await asyncio.gather(*(keys.get(path) for _ in range(3)))
    assert all(same_key(k, signer) for k in got)
    assert keys.fetches == 1 and server.hits[path] == 1


async def test_concurrent_misses_share_one_outage(server: KeyServer, http: httpx.AsyncClient) -> None:
    path = server.add(Answer(status=503, delay=0.1))
    keys = KeyCache(server.origin, http)
    got = await asyncio.gather(*(keys.get(path) for _ in range(3)), return_exceptions=True)
    assert [type(e) for e in got] == [UpstreamError] * 3
    assert server.hits[path] == 1
    with pytest.raises(UpstreamError):
        await keys.get(path)  # an outage is not remembered: the next request asks again
    assert server.hits[path] == 2


async def test_a_cancelled_fetch_releases_its_waiters_and_the_path(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    path = server.key(signer, delay=0.2)
    keys = KeyCache(server.origin, http)
    first = asyncio.create_task(keys.get(path))
    await asyncio.sleep(0.05)
    waiter = asyncio.create_task(keys.get(path))
    await asyncio.sleep(0.05)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiter, 2)
    assert same_key(await asyncio.wait_for(keys.get(path), 2), signer)
    assert keys.fetches == 2


# -- bounds: real keys and missing paths are kept apart ---------------------------------------------------------


async def test_at_most_64_keys_the_one_expiring_first_goes(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    paths = [server.key(signer) for _ in range(65)]
    keys = KeyCache(server.origin, http, ttl=100.0, clock=clock, fetch_burst=100)
    for i, path in enumerate(paths[:64]):
        clock.now = 1000.0 + i  # paths[i] expires at 1100 + i
        await keys.get(path)
    for path in paths[:64]:
        await keys.get(path)
    assert keys.fetches == 64  # exactly 64 fit
    clock.now = (
        1100.0  # paths[0] expired: fetched again, it now expires last but stays first in insertion order
    )
    await keys.get(paths[0])
    assert keys.fetches == 65
    await keys.get(paths[64])  # a 65th key: paths[1], the one expiring first, goes
    for path in [paths[0], *paths[2:]]:
        assert same_key(await keys.get(path), signer)
    assert keys.fetches == 66
    await keys.get(paths[1])
    assert keys.fetches == 67 and server.hits[paths[1]] == 2


async def test_missing_paths_are_bounded_apart_from_keys_the_oldest_goes_first(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    real = server.key(signer)
    missing = [server.add(Answer(status=404)) for _ in range(4)]
    keys = KeyCache(server.origin, http, fetch_burst=100, max_missing=3)
    await keys.get(real)
    for path in missing[:3]:
        assert await keys.get(path) is None
    for path in missing[:3]:
        assert await keys.get(path) is None
    assert keys.fetches == 4  # exactly 3 missing paths fit
    await keys.get(missing[3])  # missing[0] goes; the real key never does
    for path in [*missing[1:], real]:
        await keys.get(path)
    assert keys.fetches == 5
    await keys.get(missing[0])
    assert keys.fetches == 6 and same_key(keys.cached(real), signer)


async def test_a_missing_path_fetched_again_counts_as_the_newest(
    server: KeyServer, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    a, b, c, d, e = (server.add(Answer(status=404)) for _ in range(5))
    keys = KeyCache(server.origin, http, clock=clock, fetch_burst=100, max_missing=3)
    for path in (a, b, c):
        await keys.get(path)
        clock.now += 10.0  # a, b, c known missing until 1300, 1310, 1320
    clock.now = 1315.0
    await keys.get(b)  # fetched again: b is now the newest, a (expired) the oldest
    await keys.get(d)  # a goes
    await keys.get(e)  # c goes, not b
    assert keys.fetches == 6
    await keys.get(b)
    assert keys.fetches == 6 and server.hits[b] == 2
    await keys.get(c)
    assert keys.fetches == 7 and server.hits[c] == 2


async def test_a_path_that_gains_a_key_is_cached_as_a_key(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    path = server.add(Answer(status=404))
    keys = KeyCache(server.origin, http, clock=clock)
    assert await keys.get(path) is None
    server.answers[path] = Answer(body=signer.pem)
    clock.now += 300
    assert same_key(await keys.get(path), signer)
    assert same_key(await keys.get(path), signer) and keys.fetches == 2


# -- the rate limit on fetching paths not seen before -----------------------------------------------------------


async def test_four_new_paths_back_to_back_then_one_per_15_seconds(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    paths = [server.key(signer) for _ in range(7)]
    keys = KeyCache(server.origin, http, clock=clock)
    with caplog.at_level(logging.DEBUG, logger="notifbot.adobe_io"):
        for path in paths[:4]:
            assert same_key(await keys.get(path), signer)
        for path in paths[4:6]:
            with pytest.raises(UpstreamError) as caught:
                await keys.get(path)
            assert str(caught.value) == LIMITED
            assert caught.value.transient and caught.value.retry_after == pytest.approx(15.0)
        assert keys.fetches == 4 and server.hits[paths[4]] == 0
        for path in paths[:4]:  # cached keys cost nothing
            assert same_key(await keys.get(path), signer)
        clock.now += 10.0
        with pytest.raises(UpstreamError) as caught:
            await keys.get(paths[4])
        assert caught.value.retry_after == pytest.approx(5.0)
        clock.now += 5.0
        assert same_key(await keys.get(paths[4]), signer)
        with pytest.raises(UpstreamError, match=LIMITED):
            await keys.get(paths[5])
        clock.now += 60.0
        assert same_key(await keys.get(paths[5]), signer)
    assert records(caplog) == [(logging.WARNING, WARNING)] + [(logging.DEBUG, WARNING)] * 3
    assert keys.fetches == 6


async def test_rate_limited_fetches_are_logged_once_a_minute(
    server: KeyServer, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    keys = KeyCache(server.origin, http, clock=clock, fetch_burst=1, fetch_every=3600.0)
    await keys.get(server.add(Answer(status=404)))
    with caplog.at_level(logging.INFO, logger="notifbot.adobe_io"):
        for now in (1000.0, 1059.999, 1060.0):
            clock.now = now
            with pytest.raises(UpstreamError, match=LIMITED):
                await keys.get(server.add(Answer(status=404)))
    assert records(caplog) == [
        (logging.WARNING, WARNING),
        (logging.WARNING, f"{WARNING} (and 1 more like it since the last one, logged at DEBUG)"),
    ]


def test_a_full_bucket_has_no_wait_and_a_short_wait_is_not_rounded_up() -> None:
    clock = Clock()
    bucket = TokenBucket(1, 15.0, clock)
    assert bucket.wait() == 0.0
    assert bucket.take() and not bucket.take()
    clock.now += 14.5
    assert not bucket.take()
    assert bucket.wait() == pytest.approx(0.5)


async def test_known_missing_paths_cost_no_fetch_budget(server: KeyServer, http: httpx.AsyncClient) -> None:
    missing = server.add(Answer(status=404))
    keys = KeyCache(server.origin, http, fetch_burst=1, fetch_every=3600.0)
    for _ in range(5):
        assert await keys.get(missing) is None
    with pytest.raises(UpstreamError, match=LIMITED):
        await keys.get(server.add(Answer(status=404)))
    assert keys.fetches == 1


# -- key paths that verified a genuine signature skip the rate limit ---------------------------------------------

BODY = b'{"eventid": "t-1"}'


class Saved:
    """The `save` callback: records each (path, at) it is given; raises `fail` when set."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self.fail: Exception | None = None

    async def __call__(self, path: str, at: float) -> None:
        self.calls.append((path, at))
        if self.fail is not None:
            raise self.fail


def signed_by(key: SigningKey, path: str, body: bytes = BODY) -> dict[str, str]:
    return {"x-adobe-digital-signature-1": key.sign(body), "x-adobe-public-key1-path": path}


async def test_only_a_verified_signature_makes_a_path_trusted(
    server: KeyServer, signer: SigningKey, other: SigningKey, http: httpx.AsyncClient
) -> None:
    real, wrong = server.key(signer), server.key(other)
    saved, clock = Saved(), Clock()
    keys = KeyCache(server.origin, http, save=saved, wall=clock)
    with pytest.raises(SignatureError):  # a real key at `wrong`, but the signature is another key's
        await verify_delivery(BODY, signed_by(signer, wrong), keys)
    with pytest.raises(SignatureError):  # the right key, a forged signature
        await verify_delivery(BODY, signed_by(signer, real, b"another body"), keys)
    assert keys.cached(real) is not None and keys.cached(wrong) is not None
    assert not keys.trusted(real) and not keys.trusted(wrong) and saved.calls == []
    both = {**signed_by(other, real), "x-adobe-digital-signature-2": signer.sign(BODY)}
    both["x-adobe-public-key2-path"] = real
    await verify_delivery(BODY, both, keys)  # signature 1 fails, signature 2 verifies with `real`
    assert keys.trusted(real) and not keys.trusted(wrong)
    assert saved.calls == [(real, clock.now)]


async def test_a_path_verified_after_a_fetch_is_trusted(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    path, saved = server.key(signer), Saved()
    keys = KeyCache(server.origin, http, save=saved, wall=Clock())
    await verify_delivery(BODY, signed_by(signer, path), keys)  # not cached: verified with the fetched key
    assert keys.trusted(path) and [p for p, _ in saved.calls] == [path]


async def test_trusted_paths_skip_the_rate_limit_but_not_the_negative_cache(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    real, gone = server.key(signer), server.add(Answer(status=404))
    keys = KeyCache(server.origin, http, fetch_burst=1, fetch_every=3600.0, trusted={real: 1.0, gone: 2.0})
    assert keys.trusted(real) and keys.trusted(gone)
    assert await keys.get(server.add(Answer(status=404))) is None  # the one token
    with pytest.raises(UpstreamError, match=LIMITED):
        await keys.get(server.add(Answer(status=404)))
    assert same_key(await keys.get(real), signer)
    for _ in range(3):
        assert await keys.get(gone) is None
    assert server.hits[real] == 1 and server.hits[gone] == 1 and keys.fetches == 3
    with pytest.raises(UpstreamError, match=LIMITED):  # trusting others took no token
        await keys.get(server.add(Answer(status=404)))
    with pytest.raises(SignatureError):  # the documented-path rule still applies before any fetch
        await verify_delivery(BODY, signed_by(signer, "/prod/keys/x.pem"), keys)
    assert not keys.trusted("/prod/keys/x.pem")


async def test_a_verified_path_is_saved_when_new_or_last_saved_a_day_ago(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    path, loaded = server.key(signer), server.key(signer)
    saved, clock = Saved(), Clock()
    keys = KeyCache(server.origin, http, save=saved, wall=clock, trusted={loaded: clock.now - 10.0})
    for _ in range(3):
        await keys.verified(path)
        await keys.verified(loaded)  # saved before this start, 10 s ago
    assert saved.calls == [(path, 1000.0)]
    clock.now = 1000.0 + 24 * 3600.0 - 0.001
    await keys.verified(path)
    assert len(saved.calls) == 1
    clock.now = 1000.0 + 24 * 3600.0
    await keys.verified(path)
    await keys.verified(path)
    await keys.verified(loaded)
    assert saved.calls == [(path, 1000.0), (path, clock.now), (loaded, clock.now)]


async def test_a_failed_save_is_logged_and_the_delivery_still_verifies(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    path, saved = server.key(signer), Saved()
    saved.fail = RuntimeError("disk full at /secret/place")
    keys = KeyCache(server.origin, http, save=saved, wall=Clock())
    with caplog.at_level(logging.INFO, logger="notifbot.adobe_io"):
        await verify_delivery(BODY, signed_by(signer, path), keys)
    assert keys.trusted(path)
    assert records(caplog) == [
        (logging.WARNING, f"adobe i/o: could not record the verified key path {path}: RuntimeError")
    ]


async def test_at_most_16_trusted_paths_the_least_recently_saved_goes(http: httpx.AsyncClient) -> None:
    clock = Clock()
    loaded = {f"/prod/keys/pub-key-{i}.pem": float(i) for i in range(20)}
    keys = KeyCache("http://127.0.0.1:9", http, trusted=dict(reversed(loaded.items())), wall=clock)
    assert [p for p in loaded if keys.trusted(p)] == list(loaded)[4:]  # the 16 most recent
    await keys.verified("/prod/keys/pub-key-new.pem")
    assert keys.trusted("/prod/keys/pub-key-new.pem")
    assert [p for p in loaded if keys.trusted(p)] == list(loaded)[5:]
    clock.now += 24 * 3600.0
    await keys.verified("/prod/keys/pub-key-5.pem")  # saved again: now the most recent
    await keys.verified("/prod/keys/pub-key-other.pem")
    assert keys.trusted("/prod/keys/pub-key-5.pem") and not keys.trusted("/prod/keys/pub-key-6.pem")
    assert keys.trusted("/prod/keys/pub-key-new.pem") and keys.trusted("/prod/keys/pub-key-other.pem")


async def test_without_a_store_trust_lives_in_memory(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    path = server.key(signer)
    keys = KeyCache(server.origin, http, fetch_burst=1, fetch_every=3600.0)
    await keys.verified(path)
    assert await keys.get(server.add(Answer(status=404))) is None
    assert same_key(await keys.get(path), signer)


async def test_exactly_16_paths_verified_from_empty_are_all_kept(http: httpx.AsyncClient) -> None:
    clock = Clock()
    keys = KeyCache("http://127.0.0.1:9", http, wall=clock)
    paths = [f"/prod/keys/pub-key-{i}.pem" for i in range(17)]
    for path in paths[:16]:
        clock.now += 1.0
        await keys.verified(path)
    assert all(keys.trusted(p) for p in paths[:16])
    clock.now += 1.0
    await keys.verified(paths[16])
    assert [p for p in paths if not keys.trusted(p)] == [paths[0]]

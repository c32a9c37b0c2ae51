"""Adobe I/O signatures: the key cache against a real key server on loopback, and verify_delivery's verdicts."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from notifbot.errors import SignatureError, UpstreamError
from notifbot.sources.adobe_io.signature import (
    KeyCache,
    valid_key_path,
    verify_delivery,
    verify_rsa_sha256,
)
from tests.fakes.adobe_io import SigningKey
from tests.fakes.adobe_keys import Answer, KeyServer

EC_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
)


@pytest.fixture(scope="module")
def server() -> Iterator[KeyServer]:
    with KeyServer() as s:
        yield s


# module-level, so mutmut's forked runs inherit them instead of generating RSA keys per run
SIGNER, OTHER = SigningKey(), SigningKey()


@pytest.fixture
def signer() -> SigningKey:
    return SIGNER


@pytest.fixture
def other() -> SigningKey:
    return OTHER


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def socket_bound_not_listening() -> Iterator[int]:
    """A loopback port that refuses connections (bound, so nobody else takes it, but not listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def same_key(a: rsa.RSAPublicKey | None, b: SigningKey) -> bool:
    return a is not None and a.public_numbers() == b.private.public_key().public_numbers()


# -- KeyCache -------------------------------------------------------------------------------------------------


async def test_a_key_is_fetched_from_the_origin_once_and_cached(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    path = server.key(signer)
    keys = KeyCache(server.origin + "/", http)  # a trailing slash on the origin does not double the slash
    assert keys.origin == server.origin
    assert same_key(await keys.get(path), signer)
    assert same_key(await keys.get(path), signer)
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
        (Answer(status=404), "key server answered 404"),
        (Answer(status=499), "key server answered 499"),  # the last status that is "not a key", not an outage
        (Answer(status=403), "key server answered 403"),
        (Answer(body=b"not a key"), "is not a PEM public key"),
        (Answer(body=EC_PEM), None),  # a PEM, but not RSA
    ],
)
async def test_no_key_at_a_path_is_cached_for_five_minutes(
    server: KeyServer,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    answer: Answer,
    log: str | None,
) -> None:
    clock = Clock()
    path = server.add(answer)
    keys = KeyCache(server.origin, http, clock=clock)
    start = clock.now
    with caplog.at_level(logging.WARNING, logger="notifbot.adobe_io"):
        assert await keys.get(path) is None
    messages = [r.getMessage() for r in caplog.records if r.name == "notifbot.adobe_io"]
    if log is None:
        assert messages == []
    else:
        assert messages == [f"adobe i/o key {path}{':' if 'answered' in log else ''} {log}"]
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
        assert caught.value.transient
        assert server.hits[path] == attempt


async def test_an_unreachable_origin_is_an_outage(http: httpx.AsyncClient) -> None:
    with socket_bound_not_listening() as port:
        keys = KeyCache(f"http://127.0.0.1:{port}", http)
        with pytest.raises(UpstreamError) as caught:
            await keys.get("/prod/keys/pub-key-1.pem")
    assert (
        str(caught.value) == "could not fetch the Adobe I/O public key /prod/keys/pub-key-1.pem: ConnectError"
    )
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


@pytest.mark.parametrize(("length", "ok"), [(511, True), (512, True), (513, False)])
def test_a_key_path_is_at_most_512_characters(length: int, ok: bool) -> None:
    path = "/prod/keys/" + "k" * (length - len("/prod/keys/.pem")) + ".pem"
    assert len(path) == length
    assert (valid_key_path(path) == path) is ok


async def test_concurrent_misses_share_one_fetch(
    server: KeyServer, signer: SigningKey, http: httpx.AsyncClient
) -> None:
    path = server.key(signer, delay=0.1)
    keys = KeyCache(server.origin, http)
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


async def test_at_most_64_entries_the_oldest_goes_first(server: KeyServer, http: httpx.AsyncClient) -> None:
    cap = 64
    paths = [server.add(Answer(status=404)) for _ in range(cap + 1)]
    keys = KeyCache(server.origin, http)
    for path in paths[:-1]:
        await keys.get(path)
    for path in paths[:-1]:
        await keys.get(path)
    assert keys.fetches == cap  # exactly 64 fit
    await keys.get(paths[-1])
    for path in paths[1:]:
        await keys.get(path)
    assert keys.fetches == cap + 1
    await keys.get(paths[0])  # the oldest was evicted
    assert keys.fetches == cap + 2
    assert [server.hits[p] for p in paths[:2]] == [2, 1]


# -- verify_delivery ------------------------------------------------------------------------------------------

BODY = b'{"eventid": "e-1", "event": {}}'


def headers(
    sig1: str | None = None, path1: str | None = None, sig2: str | None = None, path2: str | None = None
) -> dict[str, str]:
    out = {
        "x-adobe-digital-signature-1": sig1,
        "x-adobe-public-key1-path": path1,
        "x-adobe-digital-signature-2": sig2,
        "x-adobe-public-key2-path": path2,
    }
    return {k: v for k, v in out.items() if v is not None}


@pytest.fixture
def keys(server: KeyServer, http: httpx.AsyncClient) -> KeyCache:
    return KeyCache(server.origin, http)


async def test_either_signature_is_enough(
    server: KeyServer, keys: KeyCache, signer: SigningKey, other: SigningKey
) -> None:
    good, bad = signer.sign(BODY), other.sign(BODY)
    p = server.key(signer)
    await verify_delivery(BODY, headers(good, p, good, p), keys)
    await verify_delivery(BODY, headers(sig1=good, path1=p), keys)
    await verify_delivery(BODY, headers(sig2=good, path2=p), keys)
    await verify_delivery(BODY, headers(bad, p, good, p), keys)
    await verify_delivery(BODY, headers(good, p, bad, p), keys)
    await verify_delivery(BODY, headers(f"  {good}\n", p), keys)  # Base64 with surrounding whitespace


@pytest.mark.parametrize(
    "present",
    [
        {},
        {"sig1": "c2ln"},  # a signature without its key path
        {"path1": "/prod/keys/pub-key-1.pem", "path2": "/prod/keys/pub-key-2.pem"},
        {"sig1": "", "path1": "/prod/keys/pub-key-1.pem"},
        {"sig1": "not base64!", "path1": "/prod/keys/pub-key-1.pem"},
        {"sig1": SIGNER.sign(BODY)[:8] + "!" + SIGNER.sign(BODY)[8:], "path1": "/prod/keys/pub-key-1.pem"},
        {"sig2": "c2ln", "path2": ""},
    ],
)
async def test_without_a_usable_signature_and_path_the_delivery_is_unsigned(
    server: KeyServer, keys: KeyCache, present: dict[str, str]
) -> None:
    with pytest.raises(SignatureError) as caught:
        await verify_delivery(BODY, headers(**present), keys)
    assert str(caught.value) == (
        "unsigned: an Adobe I/O delivery carries x-adobe-digital-signature-1/2 and x-adobe-public-key1/2-path"
    )
    assert keys.fetches == 0


async def test_signatures_that_do_not_verify_are_refused(
    server: KeyServer, keys: KeyCache, signer: SigningKey, other: SigningKey
) -> None:
    p = server.key(signer)
    missing = server.add(Answer(status=404))
    cases = [
        headers(other.sign(BODY), p),  # another key's signature
        headers(signer.sign(BODY + b" "), p, signer.sign(b""), p),  # signatures of other bodies
        headers(signer.sign(BODY), missing),  # no key at the path
        headers(sig2=other.sign(BODY), path2=p),
    ]
    for case in cases:
        with pytest.raises(
            SignatureError, match=r"^neither Adobe I/O signature verifies against its public key$"
        ):
            await verify_delivery(BODY, case, keys)


async def test_a_suspicious_key_path_is_never_fetched_and_logged_shortened(
    server: KeyServer, keys: KeyCache, signer: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    evil = "https://evil.example/" + "a" * 300 + ".pem"
    good = server.key(signer)
    with caplog.at_level(logging.WARNING, logger="notifbot.adobe_io"):
        with pytest.raises(SignatureError, match=r"^neither"):
            await verify_delivery(BODY, headers(signer.sign(BODY), evil), keys)
        await verify_delivery(BODY, headers(signer.sign(BODY), "/../x.pem", signer.sign(BODY), good), keys)
    assert keys.fetches == 1
    assert [r.getMessage() for r in caplog.records if r.name == "notifbot.adobe_io"] == [
        f"adobe i/o delivery: refused key path {evil[:200]!r} from x-adobe-public-key1-path (never fetched)",
        "adobe i/o delivery: refused key path '/../x.pem' from x-adobe-public-key1-path (never fetched)",
    ]


async def test_a_key_outage_is_a_503_unless_the_other_signature_verifies(
    server: KeyServer, keys: KeyCache, signer: SigningKey, other: SigningKey
) -> None:
    down = server.add(Answer(status=503))
    p = server.key(signer)
    await verify_delivery(BODY, headers(signer.sign(BODY), down, signer.sign(BODY), p), keys)
    await verify_delivery(BODY, headers(signer.sign(BODY), p, signer.sign(BODY), down), keys)
    for case in (
        headers(signer.sign(BODY), down),
        headers(signer.sign(BODY), down, other.sign(BODY), p),
        headers(other.sign(BODY), p, signer.sign(BODY), down),
    ):
        with pytest.raises(UpstreamError, match=f"answered 503 for {down}$"):
            await verify_delivery(BODY, case, keys)


def test_rsa_sha256_is_pkcs1_v15_of_the_raw_body(signer: SigningKey, other: SigningKey) -> None:
    public = signer.private.public_key()
    assert verify_rsa_sha256(public, base64.b64decode(signer.sign(BODY)), BODY)
    assert not verify_rsa_sha256(public, base64.b64decode(other.sign(BODY)), BODY)
    pss = signer.private.sign(
        BODY, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
    )
    assert not verify_rsa_sha256(public, pss, BODY)
    sha1 = signer.private.sign(BODY, padding.PKCS1v15(), hashes.SHA1())
    assert not verify_rsa_sha256(public, sha1, BODY)

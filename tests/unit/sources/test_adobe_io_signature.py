"""Adobe I/O signatures: key paths, and verify_delivery's verdicts against a real key server on loopback."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from notifbot.errors import SignatureError, UpstreamError
from notifbot.sources.adobe_io.signature import KeyCache, valid_key_path, verify_delivery, verify_rsa_sha256
from tests.fakes.adobe_io import SigningKey
from tests.fakes.adobe_keys import Answer, Clock, KeyServer
from tests.unit.sources.conftest import SIGNER

# -- valid_key_path ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "ok"), [(0, False), (1, True), (2, True), (127, True), (128, True), (129, False)]
)
def test_a_key_id_is_1_to_128_characters(length: int, ok: bool) -> None:
    path = "/prod/keys/pub-key-" + "k" * length + ".pem"
    assert valid_key_path(path) == (path if ok else None)


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/prod/keys/pub-key-9.pem", True),
        ("/stage/keys/pub-key-Z.pem", True),
        ("/prod/keys/pub-key-a_b-C9.pem", True),
        ("/prod/keys/pub-key-_a.pem", False),  # an id starts with a letter or digit
        ("/prod/keys/pub-key--a.pem", False),
        ("/prod/keys/pub-key-a.b.pem", False),
        ("/prod/keys/pub-key-a.PEM", False),
        ("/dev/keys/pub-key-a.pem", False),
        ("/prod/keys/pub-key-a.pem/", False),
        ("x/prod/keys/pub-key-a.pem", False),
    ],
)
def test_only_adobes_key_path_form(path: str, ok: bool) -> None:
    assert valid_key_path(path) == (path if ok else None)


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


async def test_a_suspicious_key_path_is_never_fetched_and_logged_shortened_once_a_minute(
    server: KeyServer, http: httpx.AsyncClient, signer: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    keys = KeyCache(server.origin, http, clock=clock)
    evil = "https://evil.example/\n" + "a" * 300 + ".pem"
    good = server.key(signer)
    with caplog.at_level(logging.DEBUG, logger="notifbot.adobe_io"):
        with pytest.raises(SignatureError, match=r"^neither"):
            await verify_delivery(BODY, headers(signer.sign(BODY), evil), keys)
        clock.now += 59.999
        await verify_delivery(BODY, headers(signer.sign(BODY), "/../x.pem", signer.sign(BODY), good), keys)
        clock.now += 0.001
        with pytest.raises(SignatureError, match=r"^neither"):
            await verify_delivery(BODY, headers(sig2=signer.sign(BODY), path2="/a/b.pem"), keys)
    assert keys.fetches == 1
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "notifbot.adobe_io"] == [
        (
            logging.WARNING,
            f"adobe i/o delivery: refused key path {evil[:21]}\\n{'a' * 98}... (326 characters) from "
            "x-adobe-public-key1-path (never fetched)",
        ),
        (
            logging.DEBUG,
            "adobe i/o delivery: refused key path /../x.pem from x-adobe-public-key1-path (never fetched)",
        ),
        (
            logging.WARNING,
            "adobe i/o delivery: refused key path /a/b.pem from x-adobe-public-key2-path (never fetched)"
            " (and 1 more like it since the last one, logged at DEBUG)",
        ),
    ]


async def test_a_key_outage_is_a_503_unless_the_other_signature_verifies(
    server: KeyServer, http: httpx.AsyncClient, signer: SigningKey, other: SigningKey
) -> None:
    keys = KeyCache(server.origin, http, fetch_burst=10)  # the outage is asked for again on every delivery
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
    assert server.hits[down] == 4


async def test_a_cached_key_is_tried_before_any_fetch(
    server: KeyServer, http: httpx.AsyncClient, signer: SigningKey, other: SigningKey
) -> None:
    keys = KeyCache(server.origin, http, fetch_burst=2, fetch_every=3600.0)
    p = server.key(signer)
    await verify_delivery(BODY, headers(sig2=signer.sign(BODY), path2=p), keys)
    unseen = server.key(other)
    await verify_delivery(BODY, headers(signer.sign(BODY), unseen, signer.sign(BODY), p), keys)
    assert server.hits[unseen] == 0  # verified with the cached key: the unseen path was not fetched
    await verify_delivery(BODY, headers(other.sign(BODY), unseen, other.sign(BODY), p), keys)
    assert server.hits[unseen] == 1  # needed now: fetched with the last token
    with pytest.raises(UpstreamError, match=r"rate-limited") as caught:
        await verify_delivery(BODY, headers(other.sign(BODY), server.key(other), other.sign(BODY), p), keys)
    assert caught.value.retry_after is not None and caught.value.retry_after > 3000


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

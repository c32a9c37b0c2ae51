"""Key paths, Link headers, signatures and IMS token caching: the protocol details, without a network."""

from __future__ import annotations

import base64

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from notifbot.sources.adobe_io.ims import ImsTokens
from notifbot.sources.adobe_io.journal import next_link, retry_after
from notifbot.sources.adobe_io.signature import valid_key_path, verify_rsa_sha256


@pytest.mark.parametrize(
    "path,ok",
    [
        ("/prod/keys/pub-key-0c1b2a3d-4e5f-6789-abcd-ef0123456789.pem", True),
        ("/stage/keys/pub-key-x.pem", True),
        ("/prod/keys/../../etc/passwd.pem", False),
        ("/prod/./keys/a.pem", False),
        ("https://evil.example/prod/keys/a.pem", False),
        ("//evil.example/a.pem", False),
        ("prod/keys/a.pem", False),
        ("/prod/keys/a.txt", False),
        ("/prod/keys/a.pem?x=.pem", False),
        ("/prod/keys/a%2e%2e.pem", False),
        ("/prod\\keys\\a.pem", False),
        ("", False),
        (None, False),
    ],
)
def test_key_path_validation(path: str | None, ok: bool) -> None:
    assert (valid_key_path(path) is not None) is ok


def test_link_headers() -> None:
    assert next_link(['</events/x?since=p9&limit=10>; rel="next"']) == "/events/x?since=p9&limit=10"
    both = '</events/x?latest=true>; rel="latest", </events/x?since=p3>; rel="next"'
    assert next_link([both]) == "/events/x?since=p3"
    assert next_link(['</a>; rel="latest"', "</b>; rel=next"]) == "/b"
    assert next_link([]) is None and next_link(['</a>; rel="latest"']) is None


def test_retry_after() -> None:
    assert retry_after(httpx.Response(204, headers={"retry-after": "12"})) == 12
    assert retry_after(httpx.Response(204, headers={"retry-after": "soon"})) is None
    assert retry_after(httpx.Response(204)) is None


def test_rsa_sha256_pkcs1v15() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sig = key.sign(b"body", padding.PKCS1v15(), hashes.SHA256())
    assert verify_rsa_sha256(key.public_key(), sig, b"body")
    assert not verify_rsa_sha256(key.public_key(), sig, b"body!")
    assert base64.b64encode(sig)


async def test_ims_token_is_cached_until_expiry() -> None:
    calls: list[dict[str, str]] = []
    now = [1000.0]

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(dict(httpx.QueryParams(request.content.decode())))
        return httpx.Response(200, json={"access_token": f"t{len(calls)}", "expires_in": 3600})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        tokens = ImsTokens(
            "https://ims.test/ims/token/v3", "cid", "sec", ["a", "b"], http, clock=lambda: now[0]
        )
        assert await tokens.token() == "t1"
        now[0] += 3000
        assert await tokens.token() == "t1"
        now[0] += 400  # within the 5-minute margin of expiry
        assert await tokens.token() == "t2"
        tokens.invalidate()
        assert await tokens.token() == "t3"
    assert calls[0] == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "sec",
        "scope": "a,b",
    }

"""Fixtures shared by the Adobe I/O signature and key-cache unit tests: one key server, shared RSA keys, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.fakes.adobe_io import SigningKey
from tests.fakes.adobe_keys import KeyServer

# module-level, so mutmut's forked runs inherit them instead of generating RSA keys per run
SIGNER, OTHER = SigningKey(), SigningKey()


@pytest.fixture(scope="module")
def server() -> Iterator[KeyServer]:
    with KeyServer() as s:
        yield s


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

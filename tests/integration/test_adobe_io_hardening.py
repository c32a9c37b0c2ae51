"""/hooks/adobe-io under attack and under odd-but-signed input, over real HTTP against the fake Adobe key server."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from notifbot.model import Kind
from tests.fakes.adobe_io import FakeAdobeIO, marketo_event
from tests.integration.conftest import ADOBE_CLIENT
from tests.integration.live import LiveBot

CLIENT = ADOBE_CLIENT
INF = "__1e400__"  # written into the body as the JSON number 1e400 (which parses as infinity)


@pytest.fixture
def live(tmp_path: Path, adobe: FakeAdobeIO) -> Iterator[LiveBot]:
    env = {"ADOBE_CLIENT_ID": CLIENT, "ADOBE_IO_KEYS_URL": adobe.base_url}
    with LiveBot(tmp_path, env) as bot:
        yield bot


def quota(event_id: str, **kw: Any) -> dict[str, Any]:
    action = {"dailyQuota": 50000, "percent": 80, "serviceNames": ["bi-connector"]}
    return marketo_event(
        "web_services", event_id, CLIENT, data={"componentType": "web_services", "eventAction": action}, **kw
    )


def with_data(event_id: str, data: Any) -> dict[str, Any]:
    event = quota(event_id)
    event["event"]["body"]["data"] = data
    return event


def with_time(event_id: str, time: Any) -> dict[str, Any]:
    event = quota(event_id)
    event["event"]["body"]["time"] = time
    return event


# -- item 10: malformed events inside a signed batch -----------------------------------------------------------


def malformed_batch() -> list[dict[str, Any]]:
    surrogate_data = '{"componentType": "web_services", "eventAction": {"serviceNames": ["\\ud800"]}}'
    return [
        quota("ok-1"),
        with_data("deep", "[" * 100_000 + "]" * 100_000),
        with_data("surrogate", surrogate_data),
        with_data("surrogate-key", '{"\\udc00": 1, "componentType": "web_services"}'),
        with_data(
            "inf", {"componentType": "web_services", "eventAction": {"percent": "inf", "dailyQuota": INF}}
        ),
        with_data("huge", {"componentType": "web_services", "eventAction": {"dailyQuota": 10**300}}),
        with_time("t-plus14", "0001-01-01T00:00:00+14:00"),
        with_time("t-minus14", "9999-12-31T23:00:00-14:00"),
        with_time("t-year1", "0001-01-01T01:00:00Z"),
        with_time("t-epoch", 10**400),
        with_time("t-neg", -(10**20)),
        marketo_event("com.adobe.platform.marketo." + "x" * 500, "long-type", CLIENT, data={"a": 1}),
        quota("ok-2"),
    ]


async def test_malformed_events_in_a_signed_batch_are_kept_and_the_batch_answers_200(
    live: LiveBot, adobe: FakeAdobeIO
) -> None:
    batch = malformed_batch()
    raw = json.dumps(batch).replace(f'"{INF}"', "1e400").encode()
    body, headers = adobe.signed(batch, body=raw)
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        r = await client.post("/hooks/adobe-io", content=body, headers=headers)
    assert r.status_code == 200, r.text
    ids = [e["eventid"] for e in batch]
    assert [a["id"] for a in r.json()["accepted"]] == [f"adobe-io-{i}" for i in ids]
    stored = {i: live.stored(f"adobe-io-{i}") for i in ids}
    assert all(n is not None for n in stored.values())
    assert stored["ok-1"].kind is Kind.WEB_SERVICES  # type: ignore[union-attr]
    deep = stored["deep"]
    assert deep is not None and deep.kind is Kind.OTHER
    kept = deep.fields["payload"]["event"]["body"]["data"]
    assert kept.startswith("[[[") and len(kept) <= 10_000  # the raw text kept, cut to a safe size
    surrogate = stored["surrogate"]  # decoded, the lone surrogate replaced: still a quota event
    assert surrogate is not None and surrogate.kind is Kind.WEB_SERVICES
    assert surrogate.fields["service_names"] == ["\ufffd"]
    assert stored["surrogate-key"].kind is Kind.WEB_SERVICES  # type: ignore[union-attr]
    for name in ("inf", "huge"):  # unusable numbers are dropped from the fields, kept in event_action
        n = stored[name]
        assert n is not None and n.kind is Kind.WEB_SERVICES and "quota" not in n.fields
        assert json.dumps(n.fields, allow_nan=False)
    assert stored["long-type"].kind is Kind.OTHER  # type: ignore[union-attr]
    for name in ("t-plus14", "t-minus14", "t-year1", "t-epoch", "t-neg"):
        n = stored[name]
        assert n is not None and n.kind is Kind.WEB_SERVICES and n.occurred_at == n.received_at
        assert "time" in n.fields["unreadable"]


async def test_lone_surrogate_outside_data_is_replaced_not_refused(live: LiveBot, adobe: FakeAdobeIO) -> None:
    event = marketo_event(
        "campaign_abort",
        "s-outer",
        CLIENT,
        data={"eventAction": {"campaignName": "Q4 \ud800", "campaignId": 9}},
    )
    body, headers = adobe.signed([event, quota("s-ok")])
    assert b"\\ud800" in body
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        r = await client.post("/hooks/adobe-io", content=body, headers=headers)
    assert r.status_code == 200, r.text
    n = live.stored("adobe-io-s-outer")
    assert n is not None and n.kind is Kind.CAMPAIGN_ABORT and n.fields["campaign_name"] == "Q4 \ufffd"


async def test_an_edge_time_from_adobe_never_fails_a_concurrent_ingest(
    live: LiveBot, adobe: FakeAdobeIO
) -> None:
    import asyncio

    batch = [with_time(f"edge-{i}", "0001-01-01T00:00:00+14:00") for i in range(20)]
    body, headers = adobe.signed(batch)
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        answers = await asyncio.gather(
            *(client.post("/hooks/adobe-io", content=body, headers=headers) for _ in range(5)),
            *(client.post("/hooks/events", json={"kind": "audit", "id": f"side-{i}"}) for i in range(100)),
        )
    assert [r.status_code for r in answers] == [200] * 5 + [202] * 100
    assert live.rows("SELECT count(*) FROM events") == [(120,)]


# -- item 4: key-fetch amplification -----------------------------------------------------------------------------


async def test_random_key_paths_cause_a_handful_of_fetches_and_never_evict_the_real_key(
    live: LiveBot, adobe: FakeAdobeIO
) -> None:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        body, headers = adobe.signed(quota("before"), sign2=False)
        assert (await client.post("/hooks/adobe-io", content=body, headers=headers)).status_code == 200
        answers = []
        for i in range(300):
            forged = {
                "content-type": "application/json",
                "x-adobe-digital-signature-1": "AAAA",
                "x-adobe-digital-signature-2": "AAAA",
                "x-adobe-public-key1-path": f"/prod/keys/pub-key-{uuid.uuid4()}.pem",
                "x-adobe-public-key2-path": f"/{uuid.uuid4().hex}/{i}.pem",
            }
            answers.append((await client.post("/hooks/adobe-io", content=body, headers=forged)).status_code)
        assert set(answers) <= {401, 503}
        assert sum(adobe.requests.values()) <= 1 + 5, len(adobe.requests)
        body, headers = adobe.signed(quota("after"), sign2=False)
        assert (await client.post("/hooks/adobe-io", content=body, headers=headers)).status_code == 200
    assert adobe.key_fetches[adobe.key1.path] == 1  # still cached: the attack evicted nothing
    assert live.rows("SELECT key FROM events ORDER BY key") == [("adobe-io-after",), ("adobe-io-before",)]


async def test_a_cached_key_is_tried_before_any_fetch(live: LiveBot, adobe: FakeAdobeIO) -> None:
    """A genuine delivery verifies with a cached key even when the other header names an unfetched path."""
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        body, headers = adobe.signed(quota("c-1"), sign1=False)
        assert (await client.post("/hooks/adobe-io", content=body, headers=headers)).status_code == 200
        body, headers = adobe.signed(quota("c-2"), path1=f"/prod/keys/pub-key-{uuid.uuid4()}.pem")
        assert (await client.post("/hooks/adobe-io", content=body, headers=headers)).status_code == 200
    assert sum(adobe.requests.values()) == 1


# -- item 5: validationUrl posts are logged briefly, and rarely -------------------------------------------------


async def test_validation_url_logging_is_rate_limited_and_shortened(
    live: LiveBot, caplog: pytest.LogCaptureFixture
) -> None:
    evil = "https://csm.adobe.io/x\n2026-01-01 ERROR forged log line\r\n" + "A" * 10_000
    with caplog.at_level(logging.DEBUG, logger="notifbot.adobe_io"):
        async with httpx.AsyncClient(base_url=live.base_url) as client:
            for _ in range(50):
                r = await client.post("/hooks/adobe-io", json={"validationUrl": evil})
                assert r.status_code == 200
    records = [r for r in caplog.records if "validation" in r.getMessage()]
    assert len(records) == 50
    assert [r.levelno for r in records].count(logging.WARNING) == 1
    for rec in records:
        shown = rec.getMessage() + str(getattr(rec, "validation_url", ""))
        assert "\n" not in shown and "\r" not in shown
        assert len(shown) < 600
    assert "forged log line" in str(records[0].validation_url)  # escaped, not dropped  # type: ignore[attr-defined]


async def _flood_until_rate_limited(client: httpx.AsyncClient, body: bytes) -> list[int]:
    """Forged deliveries naming fresh documented key paths until the fetch budget is spent (a 503)."""
    answers: list[int] = []
    for _ in range(20):
        forged = {
            "content-type": "application/json",
            "x-adobe-digital-signature-1": "AAAA",
            "x-adobe-public-key1-path": f"/prod/keys/pub-key-{uuid.uuid4()}.pem",
        }
        answers.append((await client.post("/hooks/adobe-io", content=body, headers=forged)).status_code)
        if answers[-1] == 503:
            break
    return answers


def test_after_a_restart_a_flood_of_fresh_key_paths_does_not_hold_a_known_key_at_503(
    tmp_path: Path, adobe: FakeAdobeIO
) -> None:
    """Key paths that verified a genuine delivery are remembered in the database and skip the fetch limit."""
    import asyncio

    env = {"ADOBE_CLIENT_ID": CLIENT, "ADOBE_IO_KEYS_URL": adobe.base_url}
    body, headers = adobe.signed(quota("first"), sign2=False)
    with LiveBot(tmp_path, env) as bot, httpx.Client(base_url=bot.base_url) as client:
        assert client.post("/hooks/adobe-io", content=body, headers=headers).status_code == 200
    assert bot.rows("SELECT path FROM adobe_io_key_paths") == [(adobe.key1.path,)]

    async def after_restart(base_url: str) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            answers = await _flood_until_rate_limited(client, body)
            assert answers[-1] == 503 and set(answers[:-1]) == {401}, answers
            body2, headers2 = adobe.signed(quota("second"), sign2=False)
            r = await client.post("/hooks/adobe-io", content=body2, headers=headers2)
            assert r.status_code == 200, r.text
            forged = {**headers2, "x-adobe-digital-signature-1": "AAAA"}  # a known path, a forged signature
            assert (await client.post("/hooks/adobe-io", content=body2, headers=forged)).status_code == 401

    with LiveBot(tmp_path, env) as bot:
        asyncio.run(after_restart(bot.base_url))
        assert bot.stored("adobe-io-second") is not None
    assert adobe.key_fetches[adobe.key1.path] == 2  # once per process: the forged retry reused the cached key
    assert bot.rows("SELECT path FROM adobe_io_key_paths") == [(adobe.key1.path,)]

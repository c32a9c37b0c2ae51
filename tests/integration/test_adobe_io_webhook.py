"""POST/GET /hooks/adobe-io end to end: the real app, real SQLite, a fake Adobe key server on loopback."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from notifbot.app import Bot
from tests.fakes.adobe_io import FakeAdobeIO, marketo_event
from tests.integration.conftest import ADOBE_CLIENT, BotFactory, client_for, rows

CLIENT = ADOBE_CLIENT


def env_for(fake: FakeAdobeIO) -> dict[str, str]:
    return {"ADOBE_CLIENT_ID": CLIENT, "ADOBE_IO_KEYS_URL": fake.base_url}


async def deliver(bot: Bot, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with client_for(bot, "52.1.2.3") as client:
        return await client.post("/hooks/adobe-io", content=body, headers=headers)


def quota_event(event_id: str, recipient: str = CLIENT, **kw: Any) -> dict[str, Any]:
    action = {"dailyQuota": 50000, "percent": 80, "serviceNames": ["bi-connector"]}
    return marketo_event(
        "web_services",
        event_id,
        recipient,
        data={"componentType": "web_services", "eventAction": action},
        **kw,
    )


async def test_challenge_is_echoed_as_text_or_json(bot_factory: BotFactory, adobe: FakeAdobeIO) -> None:
    bot = await bot_factory(env_for(adobe))
    async with client_for(bot, "52.1.2.3") as client:
        text = await client.get("/hooks/adobe-io", params={"challenge": "8ec8d794-e0ab-42df"})
        as_json = await client.get(
            "/hooks/adobe-io", params={"challenge": "abc"}, headers={"accept": "application/json"}
        )
        missing = await client.get("/hooks/adobe-io")
    assert text.status_code == 200 and text.text == "8ec8d794-e0ab-42df"
    assert text.headers["content-type"].startswith("text/plain")
    assert as_json.status_code == 200 and as_json.json() == {"challenge": "abc"}
    assert missing.status_code == 400


async def test_validation_url_post_is_answered_logged_and_never_an_event(
    bot_factory: BotFactory, adobe: FakeAdobeIO, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await bot_factory(env_for(adobe), adobe_io={"auto_confirm_validation": True})
    url = f"{adobe.base_url}/prod/keys/not-csm.pem"  # not https://csm.adobe.io/: must not be opened
    with caplog.at_level(logging.WARNING, logger="notifbot.adobe_io"):
        r = await deliver(
            bot, json.dumps({"validationUrl": url}).encode(), {"content-type": "application/json"}
        )
    assert r.status_code == 200
    assert rows(bot, "SELECT count(*) FROM events") == [(0,)]
    assert any(getattr(rec, "validation_url", None) == url for rec in caplog.records)
    assert adobe.key_fetches == {}


@pytest.mark.parametrize("sign1,sign2", [(True, False), (False, True), (True, True)])
async def test_either_signature_is_enough(
    bot_factory: BotFactory, adobe: FakeAdobeIO, sign1: bool, sign2: bool
) -> None:
    bot = await bot_factory(env_for(adobe))
    body, headers = adobe.signed(quota_event("ev-1"), sign1=sign1, sign2=sign2)
    r = await deliver(bot, body, headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": [{"id": "adobe-io-ev-1", "duplicate": False}]}
    assert rows(bot, "SELECT kind, instance, source FROM events") == [
        ("web_services", "123-ABC-456", "adobe_io")
    ]


async def test_keys_are_fetched_once_and_cached(bot_factory: BotFactory, adobe: FakeAdobeIO) -> None:
    bot = await bot_factory(env_for(adobe))
    for i in range(3):
        body, headers = adobe.signed(quota_event(f"ev-{i}"), sign2=False)
        assert (await deliver(bot, body, headers)).status_code == 200
    assert adobe.key_fetches == {adobe.key1.path: 1}


async def test_forged_swapped_and_unsigned_deliveries_are_refused(
    bot_factory: BotFactory, adobe: FakeAdobeIO
) -> None:
    bot = await bot_factory(env_for(adobe))
    body, headers = adobe.signed(quota_event("ev-1"))
    forged = body.replace(b'"percent": 80', b'"percent": 99')
    assert forged != body
    assert (await deliver(bot, forged, headers)).status_code == 401
    swapped = dict(headers)
    swapped["x-adobe-public-key1-path"], swapped["x-adobe-public-key2-path"] = (
        adobe.key2.path,
        adobe.key1.path,
    )
    assert (await deliver(bot, body, swapped)).status_code == 401
    unsigned = {"content-type": "application/json"}
    r = await deliver(bot, body, unsigned)
    assert r.status_code == 401 and "unsigned" in r.json()["error"]
    assert rows(bot, "SELECT count(*) FROM events") == [(0,)]


@pytest.mark.parametrize(
    "path",
    [
        "/prod/keys/../keys/pub-key.pem",
        "https://evil.example/prod/keys/pub-key.pem",
        "//evil.example/pub-key.pem",
        "/prod/keys/pub-key.txt",
        "/prod/keys/pub-key.pem?x=1",
    ],
)
async def test_suspicious_key_paths_are_refused_and_never_fetched(
    bot_factory: BotFactory, adobe: FakeAdobeIO, path: str
) -> None:
    bot = await bot_factory(env_for(adobe))
    body, headers = adobe.signed(quota_event("ev-1"), sign2=False, path1=path)
    assert (await deliver(bot, body, headers)).status_code == 401
    assert adobe.key_fetches == {}


async def test_key_server_down_answers_503_then_the_retry_succeeds(
    bot_factory: BotFactory, adobe: FakeAdobeIO
) -> None:
    bot = await bot_factory(env_for(adobe))
    body, headers = adobe.signed(quota_event("ev-1"))
    adobe.keys_down = True
    r = await deliver(bot, body, headers)
    assert r.status_code == 503
    assert rows(bot, "SELECT count(*) FROM events") == [(0,)]
    adobe.keys_down = False
    retry = await deliver(bot, body, headers | {"x-adobe-retry-count": "1"})
    assert retry.status_code == 200
    assert rows(bot, "SELECT key FROM events") == [("adobe-io-ev-1",)]


async def test_wrong_recipient_is_refused(bot_factory: BotFactory, adobe: FakeAdobeIO) -> None:
    bot = await bot_factory(env_for(adobe))
    batch = [quota_event("ev-1"), quota_event("ev-2", recipient="someone-else")]
    body, headers = adobe.signed(batch)
    assert (await deliver(bot, body, headers)).status_code == 401
    assert rows(bot, "SELECT count(*) FROM events") == [(0,)]


def mixed_batch() -> list[dict[str, Any]]:
    """20 events: every documented type and variant, plus unknown ones."""
    abort = {"componentType": "campaign_abort", "subType": "user_campaign_abort"}
    out: list[dict[str, Any]] = []
    for i in range(4):
        out.append(quota_event(f"b-ws-{i}", variant="adobe" if i % 2 else "marketo"))
        out.append(
            marketo_event(
                "campaign_abort",
                f"b-ab-{i}",
                CLIENT,
                data={**abort, "eventAction": {"campaignId": 1000 + i, "userId": "ops@example.com"}},
                time="2021-05-27T10:22:37.489-5:00",
            )
        )
        out.append(
            marketo_event(
                "campaign_failure",
                f"b-cf-{i}",
                CLIENT,
                data={"componentType": "campaign_abort", "eventAction": {"campaignId": 7, "error": "asset"}},
                time="2024-07-11 13:20:42.755",
                variant="marketo",
            )
        )
        out.append(
            marketo_event(
                "com.adobe.platform.marketo.audit.user.campaign",
                f"b-au-{i}",
                CLIENT,
                data={"eventAction": "deactivate", "userId": "jo@example.com", "componentId": 55},
            )
        )
        out.append(marketo_event(f"brand_new_thing_{i}", f"b-un-{i}", CLIENT, data={"foo": i}))
    return out


async def test_batch_of_20_mixed_types(bot_factory: BotFactory, adobe: FakeAdobeIO) -> None:
    bot = await bot_factory(env_for(adobe))
    body, headers = adobe.signed(mixed_batch())
    r = await deliver(bot, body, headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["accepted"]) == 20
    kinds = dict(rows(bot, "SELECT kind, count(*) FROM events GROUP BY kind"))
    assert kinds == {"web_services": 4, "campaign_abort": 4, "campaign_failure": 4, "audit": 4, "other": 4}
    other = rows(bot, "SELECT original_kind, fields FROM events WHERE kind = 'other' ORDER BY key")[0]
    assert other[0] == "com.adobe.platform.marketo.notification.brand_new_thing_0"
    assert json.loads(other[1])["payload"]["eventid"] == "b-un-0"
    assert rows(bot, "SELECT count(*) FROM outbox") == [(20,)]
    again = await deliver(bot, body, headers)  # Adobe retries the whole batch: stored once
    assert all(a["duplicate"] for a in again.json()["accepted"])
    assert rows(bot, "SELECT count(*) FROM outbox") == [(20,)]


async def test_not_configured_answers_404(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    async with client_for(bot) as client:
        assert (await client.get("/hooks/adobe-io", params={"challenge": "x"})).status_code == 404


async def test_signature_checks_off_only_explicitly(
    bot_factory: BotFactory, adobe: FakeAdobeIO, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="notifbot.app"):
        bot = await bot_factory(env_for(adobe), adobe_io={"verify_signatures": False})
    assert any("verify_signatures is false" in r.getMessage() for r in caplog.records)
    r = await deliver(bot, json.dumps(quota_event("ev-9")).encode(), {"content-type": "application/json"})
    assert r.status_code == 200
    bad = await deliver(
        bot, json.dumps(quota_event("ev-8", "x")).encode(), {"content-type": "application/json"}
    )
    assert bad.status_code == 401  # the recipient check stays on


async def test_auto_confirm_opens_only_csm_adobe_urls() -> None:
    import asyncio

    from notifbot.metrics import Metrics
    from notifbot.sources.adobe_io.webhook import AdobeIOEndpoint

    opened: list[str] = []

    async def confirm(url: str) -> None:
        opened.append(url)

    async def accept(ns: Any) -> list[Any]:
        raise AssertionError("a validation request is not an event")

    endpoint = AdobeIOEndpoint(accept, Metrics(), client_id=CLIENT, keys=None, confirm=confirm)
    transport = httpx.ASGITransport(app=endpoint, client=("52.1.2.3", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
        for url in ("https://csm.adobe.io/csm/webhooks/validate?id=1", "https://csm.adobe.io.evil.example/x"):
            r = await client.post("/hooks/adobe-io", json={"validationUrl": url})
            assert r.status_code == 200
    await asyncio.sleep(0)
    assert opened == ["https://csm.adobe.io/csm/webhooks/validate?id=1"]

"""POST /hooks/events end to end through the real app and a real store, SQLite and PostgreSQL (docs/reference.md §POST /hooks/events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from notifbot.app import Bot
from tests.integration.conftest import BotFactory, client_for, rows

pytestmark = pytest.mark.backends
TOKEN = "s3cret-webhook-token-123"
JSON = {"Content-Type": "application/json"}


async def post(bot: Bot, body: object, *, headers: dict[str, str] | None = None, host: str = "127.0.0.1"):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with client_for(bot, host) as client:
        return await client.post("/hooks/events", content=content, headers=headers or JSON)


async def test_single_event_is_committed_before_202(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    r = await post(bot, {"kind": "campaign_failure", "id": "evt-1", "fields": {"campaign_name": "Q4"}})
    assert r.status_code == 202
    assert r.json() == {"accepted": [{"id": "evt-1", "duplicate": False}]}
    assert rows(bot, "SELECT key, kind FROM events") == [("evt-1", "campaign_failure")]
    assert rows(bot, "SELECT destination FROM outbox") == [("console",)]


async def test_array_and_duplicates_are_stored_once(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    batch = [{"kind": "engagement", "id": f"e{i}"} for i in range(3)]
    r1 = await post(bot, batch)
    r2 = await post(bot, batch[1])
    assert r1.status_code == r2.status_code == 202
    assert [a["duplicate"] for a in r1.json()["accepted"]] == [False, False, False]
    assert r2.json() == {"accepted": [{"id": "e1", "duplicate": True}]}
    assert rows(bot, "SELECT count(*) FROM events") == [(3,)]
    assert rows(bot, "SELECT count(*) FROM outbox") == [(3,)]


async def test_events_without_id_dedupe_by_content(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    event = {"kind": "crm_sync", "occurred_at": "2026-11-28T10:00:00Z", "fields": {"crm": "salesforce"}}
    first = (await post(bot, event)).json()["accepted"][0]
    again = (await post(bot, event)).json()["accepted"][0]
    other = (await post(bot, {**event, "occurred_at": "2026-11-28T11:00:00Z"})).json()["accepted"][0]
    assert again == {"id": first["id"], "duplicate": True}
    assert other["id"] != first["id"] and not other["duplicate"]


async def test_concurrent_requests_share_commits_and_all_land(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    results = await asyncio.gather(*(post(bot, {"kind": "audit", "id": f"c{i}"}) for i in range(200)))
    assert {r.status_code for r in results} == {202}
    assert rows(bot, "SELECT count(*) FROM events") == [(200,)]


async def test_unknown_kind_is_stored_as_other(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    r = await post(bot, {"kind": "program_status", "id": "ps1", "fields": {"winner": "B"}})
    assert r.status_code == 202
    assert rows(bot, "SELECT kind, original_kind FROM events") == [("other", "program_status")]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b"{not json", "body"),
        (b'"just a string"', "body"),
        (b"[]", "body"),
        (json.dumps({"id": "x"}).encode(), "kind"),
        (json.dumps({"kind": 5}).encode(), "kind"),
        (
            json.dumps({"kind": "crm_sync", "fields": {"failed_leads": "many"}}).encode(),
            "fields.failed_leads",
        ),
        (json.dumps({"kind": "web_services", "fields": {"percent": -3}}).encode(), "fields.percent"),
        (json.dumps({"kind": "audit", "severity": "loud"}).encode(), "severity"),
        (json.dumps({"kind": "audit", "labels": {"team": 3}}).encode(), "labels.team"),
        (json.dumps({"kind": "audit", "occurred_at": "yesterday"}).encode(), "occurred_at"),
        (json.dumps([{"kind": "audit"}, {"kind": "audit", "fields": []}]).encode(), "[1].fields"),
    ],
)
async def test_bad_events_get_400_with_location_and_store_nothing(
    bot_factory: BotFactory, body: bytes, loc: str
) -> None:
    bot = await bot_factory()
    r = await post(bot, body)
    assert r.status_code == 400
    payload = r.json()
    assert payload["error"]
    assert loc in [d["loc"] for d in payload["details"]], payload
    assert rows(bot, "SELECT count(*) FROM events") == [(0,)]


async def test_wrong_content_type_is_415(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    r = await post(bot, {"kind": "audit"}, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert "application/json" in r.json()["error"]


async def test_json_with_charset_and_vendor_type_accepted(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    for ctype in ("application/json; charset=utf-8", "application/vnd.marketo+json"):
        r = await post(bot, {"kind": "audit"}, headers={"Content-Type": ctype})
        assert r.status_code == 202, ctype


async def test_two_mebibyte_body_is_413(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    big = json.dumps({"kind": "other", "fields": {"blob": "x" * (2 * 1024 * 1024)}}).encode()
    r = await post(bot, big)
    assert r.status_code == 413
    assert rows(bot, "SELECT count(*) FROM events") == [(0,)]


async def test_oversized_stream_without_length_is_cut_off_while_reading(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"kind": "other", "fields": {"blob": "'
        for _ in range(64):  # up to 4 MiB offered, 64 KiB at a time
            sent += 1
            yield b"x" * 65536
        yield b'"}}'

    async with client_for(bot) as client:
        r = await client.post("/hooks/events", content=chunks(), headers=JSON)
    assert r.status_code == 413
    assert sent < 64, "the server read the whole oversized body before refusing it"


async def test_token_required_when_configured(bot_factory: BotFactory) -> None:
    bot = await bot_factory(env={"NOTIFBOT_WEBHOOK_TOKEN": TOKEN})
    event = {"kind": "audit"}
    assert (await post(bot, event)).status_code == 401
    wrong = await post(bot, event, headers={**JSON, "Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert TOKEN not in wrong.text
    assert (await post(bot, event, headers={**JSON, "Authorization": f"Bearer {TOKEN}"})).status_code == 202
    ok = await post(
        bot, {"kind": "audit", "id": "x"}, headers={**JSON, "X-Notifbot-Token": TOKEN}, host="203.0.113.9"
    )
    assert ok.status_code == 202


async def test_without_token_only_loopback_clients(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    assert (await post(bot, {"kind": "audit"}, host="203.0.113.9")).status_code == 401
    assert (await post(bot, {"kind": "audit"}, host="::1")).status_code == 202


async def test_health_readiness_and_metrics(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    await post(bot, {"kind": "audit", "id": "m1"})
    await post(bot, {"kind": "audit", "id": "m1"})
    await post(bot, b"{", headers=JSON)
    for _ in range(100):
        if rows(bot, "SELECT count(*) FROM outbox WHERE status = 'delivered'") == [(1,)]:
            break
        await asyncio.sleep(0.05)
    async with client_for(bot) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        text = (await client.get("/metrics")).text
    assert 'notifbot_events_received_total{source="events"} 1.0' in text
    assert 'notifbot_events_duplicate_total{source="events"} 1.0' in text
    assert 'notifbot_requests_rejected_total{status="400"} 1.0' in text
    assert "notifbot_outbox_depth" in text
    assert 'notifbot_deliveries_total{destination_type="console"} 1.0' in text
    assert 'notifbot_delivery_latency_seconds_bucket{destination_type="console"' in text
    await bot.stop()
    async with client_for(bot) as client:
        r = await client.get("/readyz")
    assert r.status_code == 503 and "shutting down" in r.text


async def test_other_methods_are_405_and_unknown_paths_404(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    async with client_for(bot) as client:
        r = await client.get("/hooks/events")
        assert r.status_code == 405 and r.headers["allow"] == "POST"
        assert (await client.get("/nope")).status_code == 404


async def test_store_failure_is_503_and_accepts_nothing(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    bot.db.close()  # the database goes away under the running app
    r = await post(bot, {"kind": "audit", "id": "lost?"})
    assert r.status_code == 503
    assert "nothing was accepted" in r.json()["error"]

"""The real MarketoClient over HTTP against FakeMarketo: tokens, error codes, retries, pacing, budget, paging."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from notifbot.config import MarketoInstance
from notifbot.errors import MarketoError
from notifbot.marketo import CENTRAL, MarketoClient
from tests.fakes.marketo import NO_ASSETS, FakeMarketo

SECRET = "s3cr3t-Value-XYZ"
START = datetime(2024, 3, 5, 15, 0, tzinfo=CENTRAL)  # a Tuesday afternoon, US Central


class FakeTime:
    """Wall clock + monotonic clock that only move when the client sleeps (or the test advances them)."""

    def __init__(self) -> None:
        self.wall = START.astimezone(UTC)
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def ft() -> FakeTime:
    return FakeTime()


@pytest.fixture
def fake(ft: FakeTime) -> Iterator[FakeMarketo]:
    with FakeMarketo("cid-1", SECRET, clock=ft.monotonic) as server:
        yield server


MakeClient = Callable[..., MarketoClient]


@pytest.fixture
async def make_client(fake: FakeMarketo, ft: FakeTime) -> AsyncIterator[MakeClient]:
    clients: list[MarketoClient] = []

    def build(secret: str = SECRET, daily_quota: int = 50_000, **kw: Any) -> MarketoClient:
        inst = MarketoInstance(
            munchkin_id="123-ABC-456",
            base_url=fake.base_url,
            client_id="cid-1",
            client_secret=secret,
            daily_quota=daily_quota,
        )
        opts: dict[str, Any] = {"sleep": ft.sleep, "now": ft.now, "monotonic": ft.monotonic, **kw}
        client = MarketoClient(inst, **opts)
        clients.append(client)
        return client

    yield build
    for c in clients:
        await c.aclose()


async def raises(coro: Any) -> MarketoError:
    with pytest.raises(MarketoError) as info:
        await coro
    assert SECRET not in str(info.value)
    return info.value


# -- identity ---------------------------------------------------------------------------------------------------


async def test_token_cached_then_refreshed_before_expiry(
    make_client: MakeClient, fake: FakeMarketo, ft: FakeTime
) -> None:
    client = make_client()
    for _ in range(3):
        assert (await client.usage())["success"] is True
    assert fake.identity_calls == 1
    ft.advance(3601)
    await client.usage()
    assert fake.identity_calls == 2
    assert fake.error_counts["602"] == 0  # refreshed proactively, never sent an expired token


async def test_token_expiring_mid_run_is_refreshed_and_call_retried(
    make_client: MakeClient, fake: FakeMarketo
) -> None:
    client = make_client()
    await client.usage()
    fake.expire_tokens()
    assert (await client.usage())["success"] is True
    assert fake.error_counts["602"] == 1
    assert fake.identity_calls == 2


@pytest.mark.parametrize("code", ["601", "602"])
async def test_token_error_refreshes_once_then_succeeds(
    make_client: MakeClient, fake: FakeMarketo, code: str
) -> None:
    client = make_client()
    fake.fail_next(code)
    assert (await client.errors())["success"] is True
    assert fake.identity_calls == 2
    assert fake.calls["/rest/v1/stats/errors.json"] == 2


async def test_token_error_twice_is_raised(make_client: MakeClient, fake: FakeMarketo) -> None:
    client = make_client()
    fake.fail_next("601", n=2)
    err = await raises(client.usage())
    assert err.code == "601"


async def test_bad_credentials_admin_message_without_secret(
    make_client: MakeClient, fake: FakeMarketo
) -> None:
    client = make_client(secret="wrong-" + SECRET)
    err = await raises(client.usage())
    assert err.code == "401"
    assert "client_id" in str(err) and "client_secret" in str(err)
    assert "wrong-" not in str(err)
    assert fake.rest_calls == 0


async def test_unreachable_identity_message_without_secret(ft: FakeTime) -> None:
    inst = MarketoInstance(munchkin_id="123-ABC-456", client_id="cid-1", client_secret=SECRET)
    client = MarketoClient(inst, base_url="http://127.0.0.1:9", sleep=ft.sleep, now=ft.now)
    try:
        err = await raises(client.usage())
        assert err.code == "network"
    finally:
        await client.aclose()


async def test_secret_never_logged(
    make_client: MakeClient, fake: FakeMarketo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    fake.fail_next("602")
    await client.usage()
    fake.fail_next_http(500, '{"leak": "' + SECRET + '"')
    await raises(client.usage())
    assert caplog.records
    assert all(SECRET not in r.getMessage() for r in caplog.records)


# -- retry policy --------------------------------------------------------------------------------------------------


async def test_606_waits_out_the_window(make_client: MakeClient, fake: FakeMarketo, ft: FakeTime) -> None:
    client = make_client()
    fake.fail_next("606")
    assert (await client.usage())["success"] is True
    assert ft.sleeps == [20.0]


async def test_fake_enforces_rate_limit_and_client_recovers(make_client: MakeClient, ft: FakeTime) -> None:
    with FakeMarketo("cid-1", SECRET, clock=ft.monotonic, rate_limit=5) as strict:
        inst = MarketoInstance(munchkin_id="123-ABC-456", client_id="cid-1", client_secret=SECRET)
        client = MarketoClient(
            inst, base_url=strict.base_url, max_calls=1000, sleep=ft.sleep, now=ft.now, monotonic=ft.monotonic
        )
        try:
            for _ in range(6):
                await client.usage()
        finally:
            await client.aclose()
        assert strict.error_counts["606"] == 1
        assert ft.sleeps and min(ft.sleeps) >= 20.0


async def test_615_backs_off(make_client: MakeClient, fake: FakeMarketo, ft: FakeTime) -> None:
    client = make_client()
    fake.fail_next("615", n=2)
    assert (await client.usage())["success"] is True
    assert ft.sleeps == [1.0, 2.0]


@pytest.mark.parametrize("code", ["502", "604", "608", "611", "713"])
async def test_transient_codes_retry_with_backoff(
    make_client: MakeClient, fake: FakeMarketo, ft: FakeTime, code: str
) -> None:
    client = make_client()
    fake.fail_next(code, n=2)
    await client.usage()
    assert ft.sleeps == [1.0, 2.0]
    fake.fail_next(code, n=4)
    err = await raises(client.usage())
    assert err.code == code
    assert fake.calls["/rest/v1/stats/usage.json"] == 3 + 4


async def test_607_stops_all_calls_until_midnight_central(
    make_client: MakeClient, fake: FakeMarketo, ft: FakeTime
) -> None:
    client = make_client()
    fake.fail_next("607")
    err = await raises(client.usage())
    assert err.code == "607" and "paused until 00:00 CT" in str(err)
    before = fake.rest_calls
    ft.advance(8 * 3600 + 59 * 60)  # 23:59 CT
    err = await raises(client.smart_campaigns())
    assert err.code == "607" and "daily quota reached" in str(err)
    assert fake.rest_calls == before
    ft.advance(120)  # 00:01 CT the next day
    assert (await client.usage())["success"] is True
    assert client.paused_until is None


async def test_603_fails_at_once_with_admin_message(
    make_client: MakeClient, fake: FakeMarketo, ft: FakeTime
) -> None:
    client = make_client()
    fake.fail_next("603")
    err = await raises(client.usage())
    assert err.code == "603"
    assert "role" in str(err) and "allow-list" in str(err)
    assert fake.rest_calls == 1 and ft.sleeps == []


async def test_unknown_code_fails_without_retry(make_client: MakeClient, fake: FakeMarketo) -> None:
    client = make_client()
    err = await raises(client.smart_campaigns(max_return=500))
    assert err.code == "1003" and "maxReturn" in str(err)
    assert fake.rest_calls == 1


# -- malformed responses -----------------------------------------------------------------------------------------


async def test_html_error_page_is_a_clear_error(make_client: MakeClient, fake: FakeMarketo) -> None:
    client = make_client()
    fake.fail_next_http(500)
    err = await raises(client.usage())
    assert err.code == "parse"
    assert "HTTP 500" in str(err) and "not valid JSON" in str(err) and "text/html" in str(err)


async def test_truncated_json_is_a_clear_error(make_client: MakeClient, fake: FakeMarketo) -> None:
    client = make_client()
    fake.fail_next_http(200, '{"requestId": "a1#b2", "success": tr', "application/json")
    err = await raises(client.usage())
    assert err.code == "parse" and "truncated" in str(err)


async def test_http_502_page_is_retried(make_client: MakeClient, fake: FakeMarketo, ft: FakeTime) -> None:
    client = make_client()
    fake.fail_next_http(502)
    assert (await client.usage())["success"] is True
    assert ft.sleeps == [1.0]


# -- budget and pacing -------------------------------------------------------------------------------------------


async def test_budget_defaults_to_one_percent_of_quota(make_client: MakeClient) -> None:
    assert make_client().budget == 500
    assert make_client(daily_quota=10_000).budget == 100


async def test_budget_exhausted_makes_no_http_call_and_resets_at_midnight(
    make_client: MakeClient, fake: FakeMarketo, ft: FakeTime
) -> None:
    client = make_client(budget=3)
    for _ in range(3):
        await client.usage()
    assert client.calls_today == 3  # identity calls are not counted
    err = await raises(client.usage())
    assert err.code == "budget"
    assert fake.rest_calls == 3
    ft.advance(9 * 3600 + 60)  # past 00:00 CT
    assert client.calls_today == 0
    await client.usage()
    assert client.calls_today == 1


async def test_pacing_never_exceeds_50_calls_per_20_seconds(
    make_client: MakeClient, fake: FakeMarketo, ft: FakeTime
) -> None:
    client = make_client()
    for _ in range(120):
        await client.usage()
    times = fake.call_times
    assert len(times) == 120
    assert max(sum(1 for t in times if start <= t < start + 20) for start in times) == 50
    assert fake.error_counts["606"] == 0
    assert ft.mono - 1000.0 >= 40


async def test_concurrency_capped_at_five(make_client: MakeClient, fake: FakeMarketo) -> None:
    fake.latency = 0.05
    client = make_client()
    await asyncio.gather(*(client.usage() for _ in range(15)))
    assert fake.max_in_flight <= 5
    assert fake.error_counts["615"] == 0


async def test_fake_enforces_concurrency_limit(ft: FakeTime) -> None:
    with FakeMarketo("cid-1", SECRET, clock=ft.monotonic, max_concurrent=2, latency=0.2) as strict:
        async with httpx.AsyncClient(base_url=strict.base_url) as http:
            tok = (
                await http.get(
                    "/identity/oauth/token",
                    params={
                        "grant_type": "client_credentials",
                        "client_id": "cid-1",
                        "client_secret": SECRET,
                    },
                )
            ).json()
            headers = {"Authorization": f"Bearer {tok['access_token']}"}
            answers = await asyncio.gather(
                *(http.get("/rest/v1/stats/usage.json", headers=headers) for _ in range(4))
            )
    codes = [a.json()["errors"][0]["code"] for a in answers if not a.json()["success"]]
    assert "615" in codes


# -- paging ------------------------------------------------------------------------------------------------------


def _campaigns(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "name": f"C{i}",
            "type": "trigger" if i % 3 else "batch",
            "isActive": i % 2 == 0,
            "computedUrl": f"https://app.marketo.com/#SC{i}A1",
        }
        for i in range(1, n + 1)
    ]


async def test_smart_campaign_paging(make_client: MakeClient, fake: FakeMarketo) -> None:
    fake.campaigns = _campaigns(450)
    client = make_client()
    active = [c async for c in client.iter_smart_campaigns(is_active=True)]
    assert [c["id"] for c in active] == list(range(2, 451, 2))
    assert fake.calls["/rest/asset/v1/smartCampaigns.json"] == 2
    every = [c async for c in client.iter_smart_campaigns()]
    assert len(every) == 450  # 200 + 200 + 50
    past = await client.smart_campaigns(offset=10_000)
    assert past["success"] is True and past["warnings"] == [NO_ASSETS] and "result" not in past


async def test_activity_paging_with_short_and_empty_pages(make_client: MakeClient, fake: FakeMarketo) -> None:
    base = datetime(2024, 3, 1, tzinfo=UTC)
    fake.set_activities(
        [
            {
                "id": i,
                "leadId": i,
                "activityDate": (base + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
                "activityTypeId": (1, 2, 6)[i % 3],
                "campaignId": 100 + i % 7,
            }
            for i in range(1000)
        ]
    )
    fake.short_pages.extend([5, 0, 0, 17])
    client = make_client()
    token = await client.paging_token(base + timedelta(minutes=100))
    seen: list[int] = []
    sizes: list[int] = []
    async for page, _next in client.iter_activity_pages(token, [2, 6], batch_size=300):
        sizes.append(len(page))
        seen += [a["id"] for a in page]
    expected = [i for i in range(100, 1000) if i % 3 != 0]
    assert seen == expected
    assert sizes[:4] == [5, 0, 0, 17]
    assert fake.calls["/rest/v1/activities.json"] == len(sizes)

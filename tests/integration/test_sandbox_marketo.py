"""The sandbox's fake Marketo on a loopback server, read by the bot's real Marketo client and pollers: the `quota`
and `stale-triggers` answers come out of the story through the real path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from notifbot.central_time import CENTRAL
from notifbot.commands.core import handle
from notifbot.commands.model import CommandContext, Invocation
from notifbot.commands.queries import quota_overview
from notifbot.config import MarketoInstance, Settings, parse_settings
from notifbot.errors import MarketoError
from notifbot.marketo import MarketoClient
from notifbot.replies import Reply
from notifbot.sandbox.guard import LoopbackHostOnly
from notifbot.sandbox.marketo import PREFIX, MarketoApi, seed_quota_samples
from notifbot.sandbox.marketo_story import CAMPAIGNS, MUNCHKIN, SEND_EMAIL, STALE, MarketoStory
from notifbot.sources.marketo.activities import ActivityScan
from notifbot.sources.marketo.campaigns import CampaignRefresh
from notifbot.sources.marketo.quota import QuotaWatch
from notifbot.store.runner import Database
from tests.fakes.marketo import FakeMarketo
from tests.fakes.server import ThreadedServer
from tests.integration.marketo_support import Sink, _no_sleep

NOW = datetime(2026, 3, 10, 15, 40, tzinfo=CENTRAL).astimezone(UTC)  # a Tuesday, past the warning
STORY = MarketoStory(anchor=datetime(2026, 3, 10, tzinfo=CENTRAL))


class StoryClock:
    """The one clock of the fake and the bot's pollers, moved by hand."""

    def __init__(self) -> None:
        self.wall = NOW

    def __call__(self) -> datetime:
        return self.wall


class SandboxMarketo(ThreadedServer):
    """The fake's routes on a Starlette app behind the sandbox's loopback Host check, as the chat server serves them."""

    thread_name = "sandbox-marketo"

    def __init__(self, api: MarketoApi) -> None:
        self.api = api
        self.host, self.port = "127.0.0.1", 0
        self._app = LoopbackHostOnly(Starlette(routes=api.routes()))


@pytest.fixture(scope="module")
def story_clock() -> StoryClock:
    return StoryClock()


@pytest.fixture(scope="module")
def server(story_clock: StoryClock) -> Iterator[SandboxMarketo]:
    with SandboxMarketo(MarketoApi(STORY, clock=story_clock)) as served:
        yield served


@pytest.fixture
def now(story_clock: StoryClock) -> StoryClock:
    """The shared clock, back at NOW for this test."""
    story_clock.wall = NOW
    return story_clock


@pytest.fixture
def settings(server: SandboxMarketo) -> Settings:
    """The bot's settings with the sandbox's instance entry (validated as any config is)."""
    return parse_settings(
        {"marketo": {"instances": [server.api.instance_entry(server.base_url)]}}, source="sandbox"
    )


@pytest.fixture
async def client(settings: Settings, now: StoryClock) -> AsyncIterator[MarketoClient]:
    """The real client as MarketoPolling builds it (budget and shares from the settings), on the story's clock."""
    inst = settings.marketo.instances[0]
    budget, caps = settings.marketo.budget_for(inst), settings.marketo.caps_for(inst)
    async with MarketoClient(inst, budget=budget, caps=caps, sleep=_no_sleep, now=now) as made:
        yield made


async def ask(db: Database, settings: Settings, now: StoryClock, text: str) -> Reply:
    """The reply of the command core to `/marketo <text>` from an admin."""

    async def admin(user: str) -> bool:
        return True

    async def nothing() -> None:
        return None

    ctx = CommandContext(db, settings, "0.0.0", NOW - timedelta(hours=1), now, admin, nothing)
    return await handle(Invocation(text=text, user_id="U0SANDBOX"), ctx)


def test_the_instance_entry_points_at_the_chat_server(server: SandboxMarketo, settings: Settings) -> None:
    inst = settings.marketo.instances[0]
    assert inst.munchkin_id == MUNCHKIN and inst.base_url == f"{server.base_url}{PREFIX}"
    assert inst.daily_quota == STORY.quota and inst.client_secret == server.api.client_secret
    assert len(server.api.client_secret) >= 24  # the sandbox's own, random per run


async def test_quota_answer_continues_the_seeded_curve(
    db: Database, settings: Settings, client: MarketoClient, now: StoryClock
) -> None:
    seeded = await db.call(seed_quota_samples, STORY, NOW)
    assert seeded == 62  # 00:15 … 15:30 CT
    sink = Sink(db)
    inst = settings.marketo.instances[0]
    watch = QuotaWatch(client, inst, db, sink, thresholds=settings.marketo.quota_thresholds, clock=now)
    await watch.run_once()

    expected = STORY.usage(NOW)
    [view] = await db.read(quota_overview, datetime(2026, 3, 10, tzinfo=CENTRAL).timestamp())
    assert (view.latest.sampled_at, view.latest.used, view.latest.quota) == (
        NOW.timestamp(),
        expected.total,
        50_000,
    )
    assert len(view.today) == seeded + 1
    assert [s.used for s in view.today] == sorted(s.used for s in view.today)  # one curve, seeded and polled

    reply = await ask(db, settings, now, "quota")
    usage, users = reply.sections[0], reply.sections[1]
    facts = {f.label: f.value for f in usage.facts}
    assert facts["Used today"].startswith(f"{expected.total:,} of 50,000 (")
    assert facts["Left"] == f"{50_000 - expected.total:,}"
    assert (
        usage.chart is not None and len(usage.chart.spark.split()[0]) == 16
    )  # an hour's bar from 00:00 to 15:40 CT
    assert facts["API errors today"].startswith("606 (rate limit): ")
    assert [i.text for i in users.items] == [u for u, _ in expected.users]
    # the warning the mid-afternoon crossing raises, through the real watch
    [alert] = [n for batch in sink.batches for n in batch]
    assert alert.fields["threshold"] == 80 and alert.fields["used"] == expected.total


async def test_stale_triggers_lists_the_idle_campaign_after_the_first_scan(
    db: Database, settings: Settings, client: MarketoClient, now: StoryClock
) -> None:
    sink = Sink(db)
    triggers = settings.marketo.triggers
    await CampaignRefresh(client, db, sink, triggers.at_risk_days, clock=now).run_once()
    scan = ActivityScan(client, db, triggers, sink, clock=now)
    await scan.run_once()  # the forward pass of the last day, then the deeper pass back to the stale activity

    cursor = await scan.cursor()
    assert cursor.mode == "rest" and cursor.back_mode == "rest"  # the story's volume stays on REST pages
    assert client.calls_for("activities") == 2 + 4 * 2  # token and page forward, then four windows back

    reply = await ask(db, settings, now, "stale-triggers")
    [section] = reply.sections
    assert (
        section.text == "1 of 3 active trigger campaigns had no one qualify for 90+ days (most idle first)."
    )
    [item] = section.items
    assert item.text == STALE.name and (item.detail or "").startswith("idle 100 days (last activity ")
    busy_too = await ask(db, settings, now, "stale-triggers 1")  # the busy two qualified someone within hours
    assert [i.text for i in busy_too.sections[0].items] == [STALE.name]
    assert sink.batches == []  # idle 100 days: not yet at risk of Marketo's cleanup (150)


async def test_the_fake_speaks_marketos_protocol(
    server: SandboxMarketo, settings: Settings, client: MarketoClient, now: StoryClock
) -> None:
    with pytest.raises(MarketoError) as refused:
        await client.post("/bulk/v1/activities/export/create.json", {})
    assert refused.value.code == "610"

    # activities paged seven at a time are the same as in one page, and a later token sees only what is new
    token = await client.paging_token(NOW - timedelta(days=1))
    whole = (await client.activities(token, [SEND_EMAIL], 300))["result"]
    paged: list[dict[str, Any]] = []
    resume = token
    async for page, resume in client.iter_activity_pages(token, [SEND_EMAIL], batch_size=7):  # noqa: B007
        paged += page
    assert paged == whole and len(whole) == 12 + 5  # every 2 h and every 5 h
    assert {a["campaignId"] for a in whole} == {c.campaign_id for c in CAMPAIGNS if c is not STALE}
    api = server.api
    async with httpx.AsyncClient(base_url=f"{server.base_url}{PREFIX}") as raw:
        params = {"client_id": api.client_id, "client_secret": api.client_secret}
        old = (await raw.get("/identity/oauth/token", params=params)).json()["access_token"]
        now.wall += timedelta(hours=5)  # past the token's lifetime: 602, and the client fetches a fresh one
        stale = (
            await raw.get("/rest/v1/stats/usage.json", headers={"Authorization": f"Bearer {old}"})
        ).json()
    assert stale["errors"][0]["code"] == "602"
    fresh = (await client.activities(resume, [SEND_EMAIL], 300)).get("result") or []
    newer = [
        a for _, a in STORY.activities((0, 0), now.wall) if a["activityDate"] > whole[-1]["activityDate"]
    ]
    assert fresh == newer and len(fresh) >= 3
    assert (await client.activities(token, [999], 300)).get("result") is None


async def test_a_wrong_secret_is_refused(server: SandboxMarketo) -> None:
    base_url = f"{server.base_url}{PREFIX}"
    inst = MarketoInstance(
        munchkin_id=MUNCHKIN, base_url=base_url, client_id="notifbot-sandbox", client_secret="no"
    )
    async with MarketoClient(inst, sleep=_no_sleep) as wrong:
        with pytest.raises(MarketoError) as refused:
            await wrong.usage()
    assert refused.value.code == "401"


async def rest_answers(base_url: str, client_id: str, secret: str) -> dict[str, Any]:
    """The same calls the pollers make, and a few refusals, as JSON (request ids and paging tokens dropped)."""
    async with httpx.AsyncClient(base_url=base_url) as raw:
        identity = await raw.get(
            "/identity/oauth/token", params={"client_id": client_id, "client_secret": secret}
        )
        auth = {"Authorization": f"Bearer {identity.json()['access_token']}"}

        async def get(path: str, **params: Any) -> dict[str, Any]:
            body: dict[str, Any] = (await raw.get(path, params=params, headers=auth)).json()
            body.pop("requestId")
            return body

        since = (NOW - timedelta(days=1)).isoformat()
        token = (await get("/rest/v1/activities/pagingtoken.json", sinceDatetime=since)).pop("nextPageToken")
        page = await get("/rest/v1/activities.json", nextPageToken=token, activityTypeIds="6,13", batchSize=5)
        rest = await get("/rest/v1/activities.json", nextPageToken=page["nextPageToken"], activityTypeIds="6")
        out = {
            "identity": sorted(identity.json()),
            "usage": await get("/rest/v1/stats/usage.json"),
            "errors": sorted((await get("/rest/v1/stats/errors.json"))["result"][0]),
            "campaigns": await get(
                "/rest/asset/v1/smartCampaigns.json", maxReturn=2, offset=1, isActive="true"
            ),
            "no campaigns": await get("/rest/asset/v1/smartCampaigns.json", maxReturn=200, offset=3),
            "activities": {**page, "nextPageToken": isinstance(page["nextPageToken"], str)},
            "next page": {**rest, "nextPageToken": isinstance(rest["nextPageToken"], str)},
            "no token": [e["code"] for e in (await raw.get("/rest/v1/stats/usage.json")).json()["errors"]],
            "blank since": [e["code"] for e in (await get("/rest/v1/activities/pagingtoken.json"))["errors"]],
            "bad page": [
                e["code"] for e in (await get("/rest/v1/activities.json", nextPageToken="X"))["errors"]
            ],
        }
    return out


async def test_the_sandbox_answers_as_the_test_fake_does(server: SandboxMarketo, now: StoryClock) -> None:
    """Given the story's data, tests/fakes/marketo.py and the sandbox answer the pollers' calls alike: the two
    fakes cannot drift apart silently."""
    activities = [a for _, a in STORY.activities((0, 0), NOW)]
    usage = STORY.usage(NOW)
    with FakeMarketo("cid", "secret", campaigns=STORY.campaigns(), activities=activities, now=now) as fake:
        fake.usage_users = dict(usage.users)
        expected = await rest_answers(fake.base_url, "cid", "secret")
    api = server.api
    answers = await rest_answers(f"{server.base_url}{PREFIX}", api.client_id, api.client_secret)
    assert answers == expected
    assert answers["usage"]["result"][0]["total"] == usage.total
    assert len(answers["activities"]["result"]) == 5 and answers["activities"]["moreResult"] is True
    assert len(answers["next page"]["result"]) == 12 + 5 - 5 and answers["next page"]["moreResult"] is False

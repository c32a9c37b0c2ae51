"""Trigger-campaign health over the real MarketoClient against FakeMarketo, storing into a real SQLite Database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from notifbot.commands.marketo_queries import stale_triggers
from notifbot.config import MarketoInstance, TriggerHealthSettings
from notifbot.marketo import MarketoClient
from notifbot.model import Kind
from notifbot.sources.marketo.activities import ActivityScan, ScanCursor
from notifbot.sources.marketo.campaigns import CampaignRefresh
from notifbot.store.marketo_state import calls_made_on, poller_state
from notifbot.store.runner import Database
from tests.fakes.marketo import FakeMarketo
from tests.integration.marketo_support import MUNCHKIN, Clock, Sink, _no_sleep


def campaign(
    cid: int, *, kind: str = "trigger", active: bool = True, created: str = "2023-01-05T10:00:00Z+0000"
) -> dict[str, Any]:
    return {
        "id": cid,
        "name": f"Campaign {cid}",
        "type": kind,
        "isActive": active,
        "isSystem": False,
        "computedUrl": f"https://app-ab01.marketo.com/#SC{cid}A1",
        "createdAt": created,
        "updatedAt": "2023-06-01T10:00:00Z+0000",
    }


def activity(i: int, when: datetime, campaign_id: int | None, type_id: int = 6) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": i,
        "marketoGUID": str(i),
        "leadId": 1000 + i,
        "activityDate": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "activityTypeId": type_id,
        "primaryAttributeValueId": 1,
        "attributes": [],
    }
    if campaign_id is not None:
        out["campaignId"] = campaign_id
    return out


def make_client(
    instance: MarketoInstance, clock: Clock, clients: list[MarketoClient], budget: int = 500, **caps: int
) -> MarketoClient:
    client = MarketoClient(
        instance,
        budget=budget,
        caps=caps or {"campaigns": 50, "activities": 150},
        sleep=_no_sleep,
        now=clock,
        backoff_base=0.0,
    )
    clients.append(client)
    return client


def stamp(when: datetime, hours: float = 0) -> str:
    """`when` moved by `hours`, in Marketo's timestamp style."""
    return (when + timedelta(hours=hours)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ+0000")


def settings(**kw: Any) -> TriggerHealthSettings:
    return TriggerHealthSettings(**kw)


# -- campaign refresh ------------------------------------------------------------------------------------------


async def test_refresh_stores_only_active_trigger_campaigns_across_pages(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    fake.campaigns = [campaign(i) for i in range(1, 421)]  # 420 active triggers: three pages of 200
    fake.campaigns += [campaign(i, kind="batch") for i in range(500, 520)]
    fake.campaigns += [campaign(i, active=False) for i in range(600, 650)]
    client = make_client(instance, clock, clients)
    refresh = CampaignRefresh(client, db, Sink(db), at_risk_days=150, clock=clock)
    await refresh.run_once()

    assert refresh.last is not None and (refresh.last.active, refresh.last.new) == (420, 420)
    assert fake.calls["/rest/asset/v1/smartCampaigns.json"] == 3  # 200 + 200 + 40 (the filter is server-side)
    result = await db.read(stale_triggers, 0, clock(), 500)
    assert (result.tracked, result.active) == (420, 420)
    assert result.idle[0].url == "https://app-ab01.marketo.com/#SC1A1"
    assert not result.idle[0].seen_activity
    state = await db.read(poller_state, MUNCHKIN, "campaigns")
    assert state is not None and state["calls_today"] == 3 and state["last_error"] is None


async def test_deactivated_and_reactivated_campaigns_are_tracked(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    fake.campaigns = [campaign(1), campaign(2), campaign(3)]
    refresh = CampaignRefresh(make_client(instance, clock, clients), db, Sink(db), 150, clock=clock)
    await refresh.run_once()
    fake.campaigns[1]["isActive"] = False
    clock.advance(60 * 24 * 30)
    await refresh.run_once()
    assert refresh.last is not None and refresh.last.deactivated == 1
    result = await db.read(stale_triggers, 0, clock(), 10)
    assert [c.campaign_id for c in result.idle] == [1, 3]

    fake.campaigns[1]["isActive"] = True  # reactivation restarts Marketo's idle clock, and ours
    clock.advance(60 * 24)
    await refresh.run_once()
    assert refresh.last is not None and refresh.last.reactivated == 1
    result = await db.read(stale_triggers, 0, clock(), 10)
    days = {c.campaign_id: c.idle_days for c in result.idle}
    assert days == {1: 31, 3: 31, 2: 0}


async def test_refresh_failing_part_way_stores_nothing(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    fake.campaigns = [campaign(i) for i in range(1, 301)]
    client = MarketoClient(instance, budget=500, sleep=_no_sleep, now=clock, max_attempts=1)
    clients.append(client)
    refresh = CampaignRefresh(client, db, Sink(db), 150, clock=clock)
    await client.smart_campaigns()  # warm the token so the fault hits the second page
    fake.fail_next_http(200, body="<html>oops</html>")  # page 1 is malformed
    await refresh.run_once()
    result = await db.read(stale_triggers, 0, clock(), 10)
    assert result.tracked == 0, "a partial list must never be stored (it would mark campaigns inactive)"
    state = await db.read(poller_state, MUNCHKIN, "campaigns")
    assert state is not None and "not valid JSON" in state["last_error"] and state["last_success_at"] is None
    await refresh.run_once()  # the poller keeps running: the next refresh succeeds
    assert (await db.read(stale_triggers, 0, clock(), 10)).tracked == 300


# -- REST activity scan ----------------------------------------------------------------------------------------


async def test_rest_scan_records_last_activity_per_campaign_and_resumes_from_its_cursor(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    t0 = clock() - timedelta(hours=20)
    acts = [activity(i, t0 + timedelta(minutes=i), 10 + i % 3) for i in range(700)]
    acts += [activity(1000 + i, t0 + timedelta(minutes=i, seconds=30), None, type_id=1) for i in range(100)]
    fake.set_activities(acts)
    # 13 was created two hours ago (no deeper scan can make it idle long): idle since its creation
    fake.campaigns = [
        campaign(10),
        campaign(11),
        campaign(12),
        campaign(13, created=stamp(clock(), hours=-2)),
    ]
    fake.short_pages.extend([40, 0])  # a short page and an empty one that still say moreResult: true
    client = make_client(instance, clock, clients)
    await CampaignRefresh(client, db, Sink(db), 150, clock=clock).run_once()
    scan = ActivityScan(client, db, settings(), Sink(db), clock=clock)
    assert await scan.run_once() == 3600.0

    pages = fake.calls["/rest/v1/activities.json"]
    assert pages == 2 + 3  # 40, 0, then 300 + 300 + 60 of the 700 watched activities (type 1 is not watched)
    assert fake.calls["/rest/v1/activities/pagingtoken.json"] == 1
    result = await db.read(stale_triggers, 0, clock(), 10)
    last = {c.campaign_id: c.idle_since for c in result.idle if c.seen_activity}
    assert last == {
        10: t0 + timedelta(minutes=699),
        11: t0 + timedelta(minutes=697),
        12: t0 + timedelta(minutes=698),
    }
    assert [c.campaign_id for c in result.idle] == [11, 12, 10, 13]  # most idle first
    assert result.idle[-1].basis == "created"
    cursor = ScanCursor.load((await db.read(poller_state, MUNCHKIN, "activities"))["cursor"])
    assert cursor.mode == "rest" and cursor.through == (t0 + timedelta(minutes=699)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )

    # A restart (a new scan on the same database) resumes from the stored token: no repeat, no new paging token.
    clock.advance(60)
    fake.set_activities([*acts, activity(5000, clock() - timedelta(minutes=5), 13)])
    restarted = ActivityScan(make_client(instance, clock, clients), db, settings(), Sink(db), clock=clock)
    await restarted.run_once()
    assert fake.calls["/rest/v1/activities/pagingtoken.json"] == 1
    assert fake.calls["/rest/v1/activities.json"] == pages + 1
    result = await db.read(stale_triggers, 0, clock(), 10)
    assert {c.campaign_id for c in result.idle if c.seen_activity} == {10, 11, 12, 13}


async def test_a_rejected_paging_token_is_replaced_from_the_last_activity_time(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    t0 = clock() - timedelta(hours=2)
    fake.set_activities([activity(i, t0 + timedelta(minutes=i), 10) for i in range(30)])
    client = make_client(instance, clock, clients)
    scan = ActivityScan(client, db, settings(), Sink(db), clock=clock)
    await scan.run_once()
    fake._page_tokens.clear()  # Marketo no longer knows the stored token
    await scan.run_once()
    state = await db.read(poller_state, MUNCHKIN, "activities")
    assert "Invalid nextPageToken" in state["last_error"]
    assert ScanCursor.load(state["cursor"]).token is None
    clock.advance(60)
    await scan.run_once()
    assert fake.calls["/rest/v1/activities/pagingtoken.json"] == 2
    state = await db.read(poller_state, MUNCHKIN, "activities")
    assert state["last_success_at"] > state["last_error_at"]


async def test_rest_pages_stay_within_the_activities_share(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    t0 = clock() - timedelta(hours=24)
    fake.set_activities([activity(i, t0 + timedelta(seconds=i), 10) for i in range(30_000)])
    client = make_client(instance, clock, clients, campaigns=5, activities=20)
    scan = ActivityScan(client, db, settings(activities="rest"), Sink(db), clock=clock)
    for _ in range(30):  # each run gets an even slice of what is left until the reset: one call here
        await scan.run_once()
        clock.advance(10)
    assert client.calls_for("activities") == 20  # 100 pages would be needed; the share allows 20
    assert fake.calls["/rest/v1/activities.json"] == 19
    state = await db.read(poller_state, MUNCHKIN, "activities")
    assert "activities share" in state["last_error"]
    assert ScanCursor.load(state["cursor"]).mode == "rest"  # forced rest never switches


# -- bulk activity extract -------------------------------------------------------------------------------------


async def test_auto_switches_to_a_daily_bulk_export_when_rest_cannot_keep_up(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    t0 = clock() - timedelta(hours=24)
    acts = [activity(i, t0 + timedelta(seconds=2 * i), 100 + i % 50) for i in range(40_000)]
    fake.set_activities(acts)
    fake.campaigns = [campaign(100 + i) for i in range(50)]
    client = make_client(instance, clock, clients, campaigns=10, activities=30)
    sink = Sink(db)
    await CampaignRefresh(client, db, sink, 150, clock=clock).run_once()
    scan = ActivityScan(client, db, settings(), sink, clock=clock)

    await scan.run_once()  # REST falls behind: ~133 pages/day needed, 30 allowed → bulk
    cursor = ScanCursor.load((await db.read(poller_state, MUNCHKIN, "activities"))["cursor"])
    assert cursor.mode == "bulk" and cursor.rate_per_day is not None and cursor.rate_per_day > 30 * 300
    rest_calls = client.calls_for("activities")

    clock.advance(60 * 24)  # a day later the export is due
    assert await scan.run_once() == 600.0  # create + enqueue
    assert fake.calls["/bulk/v1/activities/export/create.json"] == 1
    body_window = next(iter(fake.exports.values()))
    assert body_window["fields"] == ["activityDate", "activityTypeId", "campaignId"]
    assert await scan.run_once() == 600.0  # still processing
    clock.advance(15)
    await scan.run_once()  # completed: file fetched, checksum checked, activity applied
    bulk_calls = sum(n for path, n in fake.calls.items() if path.startswith("/bulk/"))
    assert client.calls_for("activities") == bulk_calls  # a new Central day: only the bulk calls count today
    assert bulk_calls == 5  # create, enqueue, status ×2, file
    assert rest_calls == 2  # the first run's slice of the share: a paging token and one page
    result = await db.read(stale_triggers, 0, clock(), 100)
    assert all(c.seen_activity for c in result.idle)
    newest = max(c.idle_since for c in result.idle)
    assert newest == t0 + timedelta(seconds=2 * 39_999)
    cursor = ScanCursor.load((await db.read(poller_state, MUNCHKIN, "activities"))["cursor"])
    assert cursor.export_id is None and cursor.mode == "bulk"


async def test_bulk_export_errors_are_recorded_and_retried(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    t0 = clock() - timedelta(hours=30)
    fake.set_activities([activity(i, t0 + timedelta(minutes=i), 7) for i in range(1000)])
    fake.campaigns = [campaign(7)]
    client = make_client(instance, clock, clients)
    await CampaignRefresh(client, db, Sink(db), 150, clock=clock).run_once()
    scan = ActivityScan(client, db, settings(activities="bulk", lookback_hours=30), Sink(db), clock=clock)

    fake.max_queued_exports = 0  # Marketo's export queue is full: 1029
    await scan.run_once()
    state = await db.read(poller_state, MUNCHKIN, "activities")
    assert "1029" in state["last_error"]
    assert (
        ScanCursor.load(state["cursor"]).export_id is not None
    )  # the created job is kept and enqueued later
    fake.max_queued_exports = 10
    await scan.run_once()
    assert fake.calls["/bulk/v1/activities/export/create.json"] == 1
    clock.advance(11)
    fake.checksum_prefix = "sha256:00"  # the downloaded file does not match the job's checksum
    await scan.run_once()
    state = await db.read(poller_state, MUNCHKIN, "activities")
    assert "checksum" in state["last_error"]
    assert not (await db.read(stale_triggers, 0, clock(), 10)).idle[0].seen_activity
    fake.checksum_prefix = "sha256:"
    await scan.run_once()
    assert (await db.read(stale_triggers, 0, clock(), 10)).idle[0].seen_activity


# -- at risk and Marketo's own notices ---------------------------------------------------------------------------


async def test_at_risk_warning_names_each_campaign_once_per_idle_period(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    fake.campaigns = [campaign(1), campaign(2)]
    sink = Sink(db)
    client = make_client(instance, clock, clients)
    refresh = CampaignRefresh(client, db, sink, at_risk_days=150, clock=clock)
    await refresh.run_once()
    clock.advance(60 * 24 * 100)
    fake.set_activities([activity(1, clock() - timedelta(hours=1), 2)])
    scan = ActivityScan(client, db, settings(), sink, clock=clock)
    # campaign 2 qualified someone on day 100; campaign 1 nobody, as far back as the deeper scan looks (150 days,
    # five 31-day windows: two hourly runs' slices of the activities share)
    for _ in range(2):
        await scan.run_once()
        clock.advance(60)
    assert len(sink.batches) == 1
    warning = sink.batches[0][0]
    assert warning.kind is Kind.TRIGGER_CLEANUP and warning.fields["stage"] == "at_risk"
    assert [c["id"] for c in warning.fields["campaigns"]] == [1]
    assert warning.fields["campaigns"][0]["url"] == "https://app-ab01.marketo.com/#SC1A1"
    assert warning.fields["campaigns"][0]["idle_at_least"] is True
    clock.advance(60 * 24 * 51)
    await refresh.run_once()
    assert len(sink.batches) == 1, "a campaign is announced once per idle period"
    clock.advance(60 * 24 * 100)
    await refresh.run_once()
    assert [c["id"] for c in sink.batches[1][0].fields["campaigns"]] == [2]


async def test_calls_are_recorded_per_poller_and_restored_as_shares(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    fake.campaigns = [campaign(1, created=stamp(clock(), hours=-2))]  # too young for a deeper scan to matter
    client = make_client(instance, clock, clients)
    await CampaignRefresh(client, db, Sink(db), 150, clock=clock).run_once()
    await ActivityScan(client, db, settings(), Sink(db), clock=clock).run_once()
    from notifbot.central_time import central_date

    used = await db.read(calls_made_on, MUNCHKIN, central_date(clock()).isoformat())
    assert used == {"campaigns": 1, "activities": 2}
    again = make_client(instance, clock, clients)
    again.restore_calls_today(central_date(clock()), used)
    assert again.calls_today == 3 and again.calls_left("activities") == 148
    assert json.loads((await db.read(poller_state, MUNCHKIN, "activities"))["cursor"])["mode"] == "rest"

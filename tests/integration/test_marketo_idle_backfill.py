"""Idle time of trigger campaigns with no activity in the scan's look-back (issue #10, item 13), over real HTTP.

A campaign active before notifbot started watching and with no activity since the scan's start is idle *at least*
since then; where that decides at-risk status the scan looks further back (REST pages or bulk exports, 31 days a
window) within the activities share of the budget. createdAt bounds idle time: a young campaign is not idle long.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from notifbot.commands.marketo_queries import stale_triggers
from notifbot.config import MarketoInstance, TriggerHealthSettings
from notifbot.kinds import describe
from notifbot.marketo import MarketoClient
from notifbot.sources.marketo.activities import ActivityScan, ScanCursor
from notifbot.sources.marketo.campaigns import CampaignRefresh
from notifbot.store.marketo_state import poller_state
from notifbot.store.runner import Database
from tests.fakes.marketo import FakeMarketo
from tests.integration.marketo_support import MUNCHKIN, Clock, Sink
from tests.integration.test_marketo_triggers import activity, make_client, settings

BULK = "/bulk/v1/activities/export"


def trigger(cid: int, created: datetime) -> dict[str, Any]:
    return {
        "id": cid,
        "name": f"Campaign {cid}",
        "type": "trigger",
        "isActive": True,
        "computedUrl": f"https://app-ab01.marketo.com/#SC{cid}A1",
        "createdAt": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ+0000"),  # Marketo's own style
    }


def install(fake: FakeMarketo, now: datetime) -> datetime:
    """1 idle since long before the install, 2 busy, 3 created 10 days ago, 4 last qualified 100 days ago."""
    old = datetime(2023, 1, 5, 10, 0, tzinfo=UTC)
    fake.campaigns = [trigger(1, old), trigger(2, old), trigger(3, now - timedelta(days=10)), trigger(4, old)]
    hundred = now - timedelta(days=100)
    acts = [activity(1, now - timedelta(hours=2), 2), activity(2, hundred, 4), activity(3, hundred, 99)]
    acts += [activity(10 + i, now - timedelta(days=200 + i), 1) for i in range(3)]  # beyond at_risk_days
    fake.set_activities(acts)
    return hundred


async def cursor_of(db: Database) -> ScanCursor:
    return ScanCursor.load((await db.read(poller_state, MUNCHKIN, "activities"))["cursor"])


async def refreshed_scan(
    client: MarketoClient,
    db: Database,
    clock: Clock,
    scan_settings: TriggerHealthSettings,
    at_risk_days: int = 150,
) -> tuple[ActivityScan, Sink]:
    """The campaigns read once (as the campaign poller does first), then an activity scan with the same sink."""
    sink = Sink(db)
    await CampaignRefresh(client, db, sink, at_risk_days=at_risk_days, clock=clock).run_once()
    return ActivityScan(client, db, scan_settings, sink, clock=clock), sink


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def run_hourly(scan: ActivityScan, clock: Clock, runs: int) -> None:
    """Runs the scan `runs` times an hour apart, as the poller does."""
    for _ in range(runs):
        await scan.run_once()
        clock.advance(60)


async def test_new_install_flags_long_idle_campaigns_after_a_deeper_rest_scan(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    start = clock()
    hundred = install(fake, start)
    client = make_client(instance, clock, clients)  # shares: campaigns 50, activities 150 calls a day
    scan, sink = await refreshed_scan(client, db, clock, settings(activities="rest"))
    await run_hourly(scan, clock, 3)

    warnings = [n for batch in sink.batches for n in batch]
    assert [[c["id"] for c in w.fields["campaigns"]] for w in warnings] == [[1]]
    [named] = warnings[0].fields["campaigns"]
    assert named["idle_days"] >= 150 and named["idle_at_least"] is True
    assert "no activity since at least" in (describe(warnings[0]).summary or "")  # worded by the kind

    result = await db.read(stale_triggers, 0, clock(), 10)
    by_id = {c.campaign_id: c for c in result.idle}
    assert by_id[1].basis == "at_least" and by_id[1].idle_days >= 150
    assert by_id[4].seen_activity and by_id[4].idle_since == hundred.replace(microsecond=0)
    assert by_id[4].idle_days == (clock() - hundred).days  # 100, and a few hours of runs
    assert by_id[3].basis == "created" and by_id[3].idle_days == 10, (
        "a young campaign is idle since its creation"
    )
    assert by_id[2].idle_days == 0
    assert result.at_risk == 1

    # the cost: a paging token and a page per 31-day window, inside each run's slice of the activities share
    cursor = await cursor_of(db)
    assert cursor.covered_from is not None and cursor.covered_from <= stamp(clock() - timedelta(days=150))
    windows = 5  # 149 days before the first pass's start, 31 a window
    assert fake.calls["/rest/v1/activities/pagingtoken.json"] == 1 + windows
    assert fake.calls["/rest/v1/activities.json"] == 3 + windows  # one page per forward run and per window
    assert client.calls_for("activities") == 14 <= 150
    assert not [p for p in fake.calls if p.startswith(BULK)]


async def test_the_deeper_scan_uses_bulk_exports_when_the_scan_does(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    start = clock()
    hundred = install(fake, start)
    fake.export_seconds = 60.0
    client = make_client(instance, clock, clients)
    scan, sink = await refreshed_scan(client, db, clock, settings(activities="bulk"))
    for _ in range(40):  # every run creates, enqueues or checks one job (forward or deeper): 10-minute steps
        await scan.run_once()
        clock.advance(10)
    result = await db.read(stale_triggers, 0, clock(), 10)
    by_id = {c.campaign_id: c for c in result.idle}
    assert by_id[4].seen_activity and by_id[4].idle_since == hundred.replace(microsecond=0)
    assert by_id[1].idle_days >= 150 and result.at_risk == 1
    assert [[c["id"] for c in n.fields["campaigns"]] for batch in sink.batches for n in batch] == [[1]]
    cursor = await cursor_of(db)
    assert cursor.covered_from is not None
    assert cursor.covered_from <= stamp(clock() - timedelta(days=150))
    assert cursor.back_export_id is None

    windows = sorted((job["start"], job["end"]) for job in fake.exports.values())
    assert len(windows) == 1 + 5  # the first daily export, then five 31-day windows back to at_risk_days
    assert all(end - begin <= timedelta(days=31) for begin, end in windows)
    assert all(a[1] == b[0] for a, b in pairwise(windows)), "contiguous, no gap"
    assert fake.calls[f"{BULK}/create.json"] == 6
    assert client.calls_for("activities") <= 150


async def test_a_long_lookback_flags_at_once_without_looking_further_back(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    install(fake, clock())
    client = make_client(instance, clock, clients)
    scan, sink = await refreshed_scan(
        client, db, clock, settings(lookback_hours=744, at_risk_days=30), at_risk_days=30
    )
    await scan.run_once()  # 31 days of look-back: enough to decide a 30-day risk
    assert fake.calls["/rest/v1/activities/pagingtoken.json"] == 1
    [[warning]] = sink.batches
    assert sorted(c["id"] for c in warning.fields["campaigns"]) == [1, 4]  # 3 is 10 days old; 2 is busy
    result = await db.read(stale_triggers, 0, clock(), 10)
    by_id = {c.campaign_id: c for c in result.idle}
    assert by_id[1].idle_days == 31 and by_id[1].basis == "at_least"
    assert by_id[3].idle_days == 10


async def test_the_deeper_scan_stays_inside_a_small_activities_share(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    start = clock()
    install(fake, start)
    base = start - timedelta(days=150)
    times = [base + timedelta(minutes=i) for i in range(150 * 1_440)]  # 1,440 activities a day for 150 days
    fake.set_activities([activity(100 + i, t, 2) for i, t in enumerate(times)], times)
    client = make_client(instance, clock, clients, campaigns=5, activities=12)
    scan, sink = await refreshed_scan(client, db, clock, settings(activities="rest"))
    for _ in range(48):  # two days of hourly runs
        await scan.run_once()
        clock.advance(60)
        assert client.calls_for("activities") <= 12
    rest = fake.calls["/rest/v1/activities.json"] + fake.calls["/rest/v1/activities/pagingtoken.json"]
    assert rest <= 3 * 12  # 48 hours from 10:00 CT span three Central days
    assert not sink.batches, "not decided yet: nothing is flagged on a guess"


async def test_young_campaigns_cost_no_deeper_scan_and_are_not_flagged(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    now = clock()
    fake.campaigns = [trigger(3, now - timedelta(days=10)), trigger(5, now - timedelta(days=149))]
    fake.set_activities([activity(1, now - timedelta(days=100), 5)])
    client = make_client(instance, clock, clients)
    scan, sink = await refreshed_scan(client, db, clock, settings())
    await run_hourly(scan, clock, 3)
    # neither can have been idle 150 days (created 10 and 149 days ago): looking further back decides nothing
    assert fake.calls["/rest/v1/activities/pagingtoken.json"] == 1 and not sink.batches
    result = await db.read(stale_triggers, 0, clock(), 10)
    assert {c.campaign_id: c.basis for c in result.idle} == {3: "at_least", 5: "at_least"}
    assert all(c.idle_days == 1 for c in result.idle)  # the day the first pass covered: a lower bound


async def test_a_refused_deeper_export_is_kept_and_enqueued_later(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    install(fake, clock())
    fake.export_seconds = 60.0
    client = make_client(instance, clock, clients)
    scan, _ = await refreshed_scan(client, db, clock, settings(activities="bulk"))
    await scan.run_once()  # the first daily export: created and queued
    clock.advance(10)
    fake.max_queued_exports = 0  # Marketo's queue (or its daily export allowance) is full: 1029
    await scan.run_once()  # the first export completes; the first deeper window's job is created, not queued
    state = await db.read(poller_state, MUNCHKIN, "activities")
    assert "1029" in state["last_error"]
    refused = ScanCursor.load(state["cursor"]).back_export_id
    assert refused is not None and fake.exports[refused]["status"] == "Created"
    fake.max_queued_exports = 10
    clock.advance(60)
    await scan.run_once()
    assert fake.exports[refused]["status"] == "Queued"
    assert fake.calls[f"{BULK}/create.json"] == 2, "the refused job is reused, not created again"


async def test_auto_looks_back_by_export_when_paging_would_cost_more_at_the_rest_scans_pace(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    start = clock()
    install(fake, start)
    busy = [
        activity(100 + i, start - timedelta(minutes=2 * i + 1), 2) for i in range(500)
    ]  # 500 in the last day
    fake.set_activities([*busy, activity(2, start - timedelta(days=100), 4)])
    client = make_client(instance, clock, clients)
    scan, sink = await refreshed_scan(client, db, clock, settings())
    # ~500 activities a day: paging 149 days back would take ~250 calls; five exports take ~25
    assert await scan.run_once() == 3600.0, "the REST scan keeps its hourly pace while the export runs"
    cursor = await cursor_of(db)
    assert (cursor.mode, cursor.back_mode) == ("rest", "bulk") and cursor.back_export_id is not None
    for _ in range(12):
        clock.advance(60)
        await scan.run_once()
    result = await db.read(stale_triggers, 0, clock(), 10)
    assert {c.campaign_id: c.basis for c in result.idle}[4] == "activity"
    assert [[c["id"] for c in n.fields["campaigns"]] for batch in sink.batches for n in batch] == [[1]]
    assert fake.calls["/rest/v1/activities/pagingtoken.json"] == 1


async def test_a_failed_export_is_forgotten_and_a_new_one_made(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    install(fake, clock())
    fake.export_seconds = 600.0
    client = make_client(instance, clock, clients)
    scan, _ = await refreshed_scan(client, db, clock, settings(activities="bulk"))
    await scan.run_once()  # the first daily export: created and queued
    forward = (await cursor_of(db)).export_id
    assert forward is not None
    fake.exports[forward]["status"] = "Failed"
    clock.advance(10)
    await scan.run_once()
    state = await db.read(poller_state, MUNCHKIN, "activities")
    assert f"activity export {forward} failed; retrying" in state["last_error"]
    assert (await cursor_of(db)).export_id is None
    for _ in range(20):  # a new forward export, then the first deeper window's
        clock.advance(10)
        await scan.run_once()
        deeper = (await cursor_of(db)).back_export_id
        if deeper is not None and fake.exports[deeper]["status"] == "Queued":
            break
    assert deeper is not None and deeper != forward
    fake.exports[deeper]["status"] = "Cancelled"
    clock.advance(10)
    await scan.run_once()
    state = await db.read(poller_state, MUNCHKIN, "activities")
    assert f"deeper activity export {deeper} cancelled; retrying" in state["last_error"]
    cursor = await cursor_of(db)
    assert cursor.back_export_id is None and not cursor.back_queued

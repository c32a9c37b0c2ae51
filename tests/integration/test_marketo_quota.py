"""QuotaWatch over the real MarketoClient against FakeMarketo, storing into a real SQLite Database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifbot.central_time import CENTRAL
from notifbot.commands.marketo_queries import quota_overview
from notifbot.config import MarketoInstance
from notifbot.i18n import texts_for
from notifbot.kinds import describe
from notifbot.marketo import MarketoClient
from notifbot.model import Kind, Severity
from notifbot.sources.marketo.quota import QuotaWatch, forecast
from notifbot.store.marketo_state import poller_state
from notifbot.store.runner import Database
from tests.fakes.marketo import FakeMarketo
from tests.integration.marketo_support import MUNCHKIN, SECRET, Clock, Sink, _no_sleep

DAY = "2024-03-05"


def make_watch(
    instance: MarketoInstance, db: Database, sink: Sink, clock: Clock, clients: list[MarketoClient], **kw: Any
) -> QuotaWatch:
    client = MarketoClient(instance, budget=500, sleep=_no_sleep, now=clock)
    clients.append(client)
    return QuotaWatch(client, instance, db, sink, clock=clock, **kw)


async def test_sample_is_stored_and_readable_by_quota_command(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    fake.usage_users = {"alice": 1_000, "bob": 2_500}
    fake.error_counts.update({"606": 3, "615": 1})
    sink = Sink(db)
    watch = make_watch(instance, db, sink, clock, clients)
    await watch.run_once()

    views = await db.read(quota_overview, 0.0)
    assert len(views) == 1
    latest = views[0].latest
    assert (latest.instance, latest.day, latest.used, latest.quota) == (MUNCHKIN, DAY, 3_500, 10_000)
    assert latest.users == [{"userId": "bob", "count": 2_500}, {"userId": "alice", "count": 1_000}]
    assert latest.errors == {"606": 3, "615": 1}
    assert sink.batches == []
    assert watch.last_percent == 35.0
    state = await db.call(poller_state, MUNCHKIN, "quota")
    assert state is not None
    assert state["calls_today"] == 2 and state["day"] == DAY
    assert state["last_success_at"] == clock().timestamp() and state["last_error"] is None


async def test_thresholds_fire_once_each_per_day_and_survive_restart(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    sink = Sink(db)
    watch = make_watch(instance, db, sink, clock, clients)
    key = f"quota-{MUNCHKIN}-{DAY}-"

    fake.usage_users = {"etl": 7_000, "crm": 1_000, "a": 10, "b": 9, "c": 8, "d": 7}
    await watch.run_once()
    assert sink.stored == [key + "80"]
    n = sink.batches[0][0]
    assert n.kind is Kind.WEB_SERVICES and n.severity is Severity.WARNING and n.instance == MUNCHKIN
    assert n.fields["used"] == 8_034 and n.fields["quota"] == 10_000 and n.fields["percent"] == 80.3
    assert n.fields["resets_at"].startswith("2024-03-06T00:00:00-06:00")
    assert [u["userId"] for u in n.fields["top_users"]] == ["etl", "crm", "a", "b", "c"]
    assert n.summary is None  # intake stores numbers only; the kind words them in the reader's language
    assert describe(n).summary == (
        f"Marketo API usage on {MUNCHKIN} passed 80 %: 8,034 of 10,000 calls today (80.3 %); resets at 00:00 CT"
    )

    clock.advance(5)
    fake.usage_users = {"etl": 8_500}
    await watch.run_once()
    assert len(sink.batches) == 1  # nothing new to say at 85 %

    clock.advance(5)
    fake.usage_users = {"etl": 9_600}
    await watch.run_once()
    assert sink.stored == [key + "80", key + "95"]
    assert sink.batches[-1][0].severity is Severity.WARNING

    # restart: a new watch (new client, no memory) on the same database at the same usage stores nothing new
    clock.advance(5)
    again = Sink(db)
    restarted = make_watch(instance, db, again, clock, clients)
    await restarted.run_once()
    assert again.results and all(a.duplicate for a in again.results)
    assert again.stored == []

    clock.advance(5)
    fake.usage_users = {"etl": 10_000}
    await restarted.run_once()
    assert again.stored == [key + "100"]
    top = again.batches[-1][-1]
    assert top.severity is Severity.CRITICAL and top.fields["percent"] == 100.0
    assert top.fields["outlook"] == "used_up"
    assert describe(top).detail == (
        "Forecast",
        "the quota is used up; Marketo refuses calls (607) until the reset at 00:00 CT",
    )

    # the next US Central day starts over
    clock.wall = datetime(2024, 3, 6, 9, 0, tzinfo=CENTRAL).astimezone(UTC)
    fake.usage_users = {"etl": 8_100}
    await restarted.run_once()
    assert again.stored[-1] == f"quota-{MUNCHKIN}-2024-03-06-80"


async def test_forecast_from_stored_samples(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    sink = Sink(db)
    watch = make_watch(instance, db, sink, clock, clients)
    fake.usage_users = {"etl": 5_000}
    await watch.run_once()  # 10:00 CT
    clock.advance(60)
    fake.usage_users = {"etl": 8_000}
    await watch.run_once()  # 11:00 CT: 3,000 calls/h, 2,000 left → 11:40 CT, 12 h before midnight
    n = sink.batches[0][0]
    assert n.fields["outlook"] == "runs_out" and n.fields["runs_out_at"].startswith(
        "2024-03-05T17:40:00+00:00"
    )
    text = "at the current rate the quota runs out at 11:40 CT, 12 h before the reset"
    assert describe(n).detail == ("Forecast", text)
    assert (describe(n).summary or "").endswith(f"; resets at 00:00 CT; {text}")
    sv = describe(n, t=texts_for("sv", "Europe/Stockholm"))
    assert sv.detail == (
        "Prognos",
        "i nuvarande takt tar kvoten slut kl. 11:40 CT, 12 h före återställningen",
    )


async def test_marketo_errors_are_recorded_and_not_raised(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    sink = Sink(db)
    watch = make_watch(instance, db, sink, clock, clients)
    fake.usage_users = {"etl": 100}
    await watch.run_once()
    ok_at = clock().timestamp()

    clock.advance(30)
    fake.fail_next(603)
    await watch.run_once()
    state = await db.call(poller_state, MUNCHKIN, "quota")
    assert state is not None
    assert "603" in state["last_error"] and state["last_error_at"] == clock().timestamp()
    assert state["last_success_at"] == ok_at
    assert SECRET not in state["last_error"]

    clock.advance(30)
    fake.fail_next_http(500)
    await watch.run_once()
    state = await db.call(poller_state, MUNCHKIN, "quota")
    assert state is not None and "not valid JSON" in state["last_error"]
    assert state["last_success_at"] == ok_at

    clock.advance(30)
    fake.fail_next(607)
    await watch.run_once()
    clock.advance(30)
    calls = fake.rest_calls
    await watch.run_once()  # paused until midnight CT: no call made, still recorded
    assert fake.rest_calls == calls
    state = await db.call(poller_state, MUNCHKIN, "quota")
    assert state is not None and "607" in state["last_error"]
    views = await db.read(quota_overview, 0.0)
    assert len(views[0].today) == 1  # only the successful poll left a sample
    # 607 is Marketo saying the quota is gone: its 100 % alert, once, and the watch sleeps to the reset
    alerts = [n for batch in sink.batches for n in batch]
    assert [n.fields["threshold"] for n in alerts] == [100]  # one observation, one alert: the highest
    assert alerts[-1].fields["outlook"] == "refused" and alerts[-1].severity is Severity.CRITICAL
    forecast_shown = describe(alerts[-1]).detail
    assert forecast_shown is not None and forecast_shown[1] == (
        "Marketo answers 607 (daily quota reached) to every call until the reset at 00:00 CT"
    )
    assert watch.next_interval(watch.last_percent or 0) > 11 * 3600  # 12:00 CT now


async def test_budget_exhaustion_is_recorded(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    sink = Sink(db)
    client = MarketoClient(instance, budget=1, sleep=_no_sleep, now=clock)
    clients.append(client)
    watch = QuotaWatch(client, instance, db, sink, clock=clock)
    fake.usage_users = {"etl": 100}
    await watch.run_once()  # usage fits the budget, errors.json does not
    state = await db.call(poller_state, MUNCHKIN, "quota")
    assert state is not None and "budget" in state["last_error"] and state["last_success_at"] is None
    assert state["calls_today"] == 1
    views = await db.read(quota_overview, 0.0)
    assert views[0].latest.used == 100


async def test_errors_json_fetched_at_most_every_half_hour(
    fake: FakeMarketo, db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    watch = make_watch(instance, db, Sink(db), clock, clients)
    for _ in range(4):
        await watch.run_once()
        clock.advance(10)
    assert fake.calls["/rest/v1/stats/usage.json"] == 4
    assert fake.calls["/rest/v1/stats/errors.json"] == 2  # at 0 and 30 min


@pytest.mark.parametrize(
    ("percent", "seconds"),
    [(0, 1800), (49.9, 1800), (50, 600), (79.9, 600), (80, 300), (99.9, 300), (100, 1800)],
)
async def test_next_interval_adapts_to_usage(
    percent: float,
    seconds: float,
    db: Database,
    clock: Clock,
    instance: MarketoInstance,
    clients: list[MarketoClient],
) -> None:
    watch = make_watch(instance, db, Sink(db), clock, clients)
    assert watch.next_interval(percent) == seconds


def test_forecast_edge_cases() -> None:
    now = datetime(2024, 3, 5, 12, 0, tzinfo=CENTRAL)
    t = now.timestamp()
    assert forecast([], now, 100, 1000) is None
    assert forecast([(t - 60, 50)], now, 100, 1000) is None  # too close together
    assert forecast([(t - 3600, 100)], now, 100, 1000) is None  # flat
    slow = forecast([(t - 3600, 0)], now, 100, 10_000)
    assert slow == {"outlook": "lasts"}
    assert forecast([], now, 1000, 1000) == {"outlook": "used_up"}


async def test_cadence_stretches_so_the_watch_lasts_until_the_reset(
    db: Database, clock: Clock, instance: MarketoInstance, clients: list[MarketoClient]
) -> None:
    roomy = MarketoClient(instance, budget=500, caps={"campaigns": 50, "activities": 150}, now=clock)
    tight = MarketoClient(instance, budget=100, caps={"campaigns": 10, "activities": 30}, now=clock)
    clients += [roomy, tight]
    sink = Sink(db)
    assert QuotaWatch(roomy, instance, db, sink, clock=clock).next_interval(85) == 300.0
    # 10:00 CT: 14 h to the reset, 60 calls not reserved for trigger health, ~1.17 calls per poll
    stretched = QuotaWatch(tight, instance, db, sink, clock=clock).next_interval(85)
    assert stretched == pytest.approx(14 * 3600 * (1 + 300 / 1800) / 60)
    assert QuotaWatch(tight, instance, db, sink, clock=clock).next_interval(10) == 1800.0
    tight.restore_calls_today(clock().astimezone(CENTRAL).date(), {"quota": 60})
    assert (
        QuotaWatch(tight, instance, db, sink, clock=clock).next_interval(85) == 14 * 3600 + 60
    )  # after the reset

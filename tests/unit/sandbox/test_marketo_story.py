"""The sandbox's Marketo story: a monotone burn that crosses the warning mid-afternoon, DST days, the seeded samples."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from notifbot.central_time import CENTRAL
from notifbot.sandbox.marketo import page_token, seed_quota_samples, token_position
from notifbot.sandbox.marketo_story import CAMPAIGNS, MUNCHKIN, STALE, MarketoStory
from notifbot.sources.marketo.campaigns import campaign_record
from notifbot.store.runner import Database

ORDINARY, SPRING_FORWARD, FALL_BACK = date(2026, 3, 10), date(2026, 3, 8), date(2026, 11, 1)
STEP = timedelta(minutes=5)


def ct(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CENTRAL)


def day_of_minutes(day: date) -> list[datetime]:
    """Every STEP of the US Central `day` as UTC instants (23, 24 or 25 hours of them)."""
    start = ct(day, 0).astimezone(UTC)
    end = ct(day + timedelta(days=1), 0).astimezone(UTC)
    return [start + k * STEP for k in range(int((end - start) / STEP))]


def crossing(story: MarketoStory, day: date, percent: float) -> datetime | None:
    """The first STEP of `day` at which the total reaches `percent` of the quota (in CT)."""
    for at in day_of_minutes(day):
        if story.usage(at).total * 100 >= percent * story.quota:
            return at.astimezone(CENTRAL)
    return None


@pytest.mark.parametrize(("day", "hours"), [(ORDINARY, 24), (SPRING_FORWARD, 23), (FALL_BACK, 25)])
def test_the_burn_grows_all_day_and_starts_over_at_the_ct_midnight(day: date, hours: int) -> None:
    story = MarketoStory()
    moments = day_of_minutes(day)
    assert len(moments) * STEP == timedelta(hours=hours)
    readings = [story.usage(at) for at in moments]
    assert readings[0].total == 0 and readings[0].users == ()
    for before, after in pairwise(readings):
        assert after.total >= before.total
        assert all(n >= dict(before.users).get(user, 0) for user, n in after.users)
        assert all(n >= dict(before.errors).get(code, 0) for code, n in after.errors)
    assert {r.day for r in readings} == {day.isoformat()}
    assert readings[-1].total < 0.95 * story.quota  # below the next threshold all day, DST or not
    assert story.usage(ct(day + timedelta(days=1), 0)).total == 0  # Marketo's day resets at 00:00 CT


@pytest.mark.parametrize("day", [ORDINARY, SPRING_FORWARD, FALL_BACK])
def test_the_warning_is_crossed_mid_afternoon(day: date) -> None:
    story = MarketoStory()
    at = crossing(story, day, story.warning)
    assert at is not None and ct(day, 13) <= at < ct(day, 16), at
    assert crossing(story, day, 95) is None
    if day == ORDINARY:
        assert ct(day, 14, 30) <= at <= ct(day, 14, 45)


@pytest.mark.parametrize(
    ("thresholds", "ends_below"), [((50.0, 60.0), 58.5), ((90.0,), 98.5), ((70.0, 100.0), 98.5)]
)
def test_configured_thresholds_move_the_story(thresholds: tuple[float, ...], ends_below: float) -> None:
    story = MarketoStory(quota=10_000, thresholds=thresholds)
    at = crossing(story, ORDINARY, min(thresholds))
    assert at is not None and ct(ORDINARY, 14) <= at < ct(ORDINARY, 15)
    end = story.usage(ct(ORDINARY, 23, 59)).total
    assert 100 * end < ends_below * story.quota


def test_users_and_errors_tell_who_burns_the_quota() -> None:
    usage = MarketoStory().usage(ct(ORDINARY, 15))
    users = dict(usage.users)
    assert list(users) == sorted(users, key=lambda u: -users[u])  # most calls first
    assert next(iter(users)) == "bi-connector@example.com"
    assert usage.total == sum(users.values())
    assert dict(usage.errors) == {
        "606": users["bi-connector@example.com"] // 250,
        "615": users["web-forms@example.com"] // 3000,
    }
    night = MarketoStory().usage(ct(ORDINARY, 3))
    assert {u for u, _ in night.users} == {
        "crm-sync@example.com",
        "nightly-etl@example.com",
    } and night.errors == ()


def test_three_active_trigger_campaigns_one_idle_for_100_days() -> None:
    anchor = ct(ORDINARY, 0)
    story = MarketoStory(anchor=anchor)
    records = [campaign_record(raw) for raw in story.campaigns()]  # the real poller's reading
    assert [r.campaign_id for r in records if r is not None] == [c.campaign_id for c in CAMPAIGNS]
    now = ct(ORDINARY, 15)
    latest: dict[int, datetime] = {}
    for (second, cid), activity in story.activities((0, 0), now):
        assert activity["campaignId"] == cid and datetime.fromtimestamp(second, UTC) <= now
        latest[cid] = datetime.fromtimestamp(second, UTC)
    assert (now - latest[STALE.campaign_id]).days == 100
    assert all(now - latest[c.campaign_id] < timedelta(hours=5) for c in CAMPAIGNS if c is not STALE)
    positions = [p for p, _ in story.activities((0, 0), now)]
    assert positions == sorted(set(positions))
    later = positions[len(positions) // 2]
    assert [p for p, _ in story.activities(later, now)] == positions[len(positions) // 2 :]


def test_paging_tokens_round_trip_and_foreign_ones_are_refused() -> None:
    token = page_token((1_773_100_800, 1102))
    assert token.isupper() and token.isalnum()
    assert token_position(token) == (1_773_100_800, 1102)
    assert token_position("") is None and token_position("NOT-A-TOKEN") is None
    assert token_position(page_token((1, 2))[:-2]) is None


async def test_seeding_writes_the_mornings_samples_once(tmp_path: Path) -> None:
    story = MarketoStory()
    now = ct(ORDINARY, 10, 7)
    db = Database(tmp_path / "n.db")
    try:
        assert await db.call(seed_quota_samples, story, now) == 40  # 00:15 … 10:00, every 15 minutes

        def rows(conn: sqlite3.Connection) -> list[tuple[float, str, int, int, str, str]]:
            sql = "SELECT sampled_at, day, used, quota, users, errors FROM quota_samples WHERE instance = ?"
            return [tuple(r) for r in conn.execute(sql + " ORDER BY sampled_at", (MUNCHKIN,))]

        stored = await db.read(rows)
        start = ct(ORDINARY, 0).astimezone(UTC)
        assert [r[0] for r in stored] == [
            (start + k * timedelta(minutes=15)).timestamp() for k in range(1, 41)
        ]
        for sampled_at, day, used, quota, users, errors in stored:
            expected = story.usage(datetime.fromtimestamp(sampled_at, UTC))
            assert (day, used, quota) == (ORDINARY.isoformat(), expected.total, story.quota)
            assert users == json.dumps([{"userId": u, "count": n} for u, n in expected.users])
            assert errors == json.dumps(dict(expected.errors), sort_keys=True)
        assert await db.call(seed_quota_samples, story, now) == 0  # a reused --db keeps its samples
        assert await db.call(seed_quota_samples, story, now + timedelta(minutes=30)) == 2
    finally:
        db.close()

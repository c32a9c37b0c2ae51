"""Digest periods: they tile time, end at the configured local time, and keep it across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifbot.digests import ANCHOR, DigestPolicy, digest_id, period_of

STOCKHOLM = "Europe/Stockholm"
ZONES = ["UTC", STOCKHOLM, "America/Chicago", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"]
EVERY = [timedelta(hours=h) for h in (1, 2, 3, 4, 6, 8, 12)] + [timedelta(days=d) for d in range(1, 8)]

policies = st.builds(
    DigestPolicy,
    st.sampled_from(EVERY),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    st.sampled_from(ZONES),
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(policies, instants)
def test_every_instant_is_in_exactly_one_period_and_the_periods_tile(
    policy: DigestPolicy, now: datetime
) -> None:
    p = period_of(policy, now)
    assert p.start <= now < p.end
    assert p.end - p.start <= policy.every + timedelta(hours=2)  # a DST change makes it at most that longer
    assert period_of(policy, p.end).start == p.end  # the next period begins where this one ends
    before = period_of(policy, p.start - timedelta(microseconds=1))
    assert before.end == p.start
    assert period_of(policy, p.start) == p == period_of(policy, p.end - timedelta(microseconds=1))


@settings(max_examples=300, deadline=None)
@given(policies, instants)
def test_periods_end_at_the_configured_local_time(policy: DigestPolicy, now: datetime) -> None:
    zone = ZoneInfo(policy.timezone)
    end = period_of(policy, now).end
    local = end.astimezone(zone).replace(tzinfo=None)
    step = min(policy.every, timedelta(days=1))
    walls = [
        datetime.combine(local.date() + timedelta(days=d), policy.at) + k * step
        for d in (-1, 0, 1)
        for k in range(timedelta(days=1) // step)
    ]
    if policy.every > timedelta(days=1):  # on local dates a whole number of periods after the Monday anchor
        walls = [w for w in walls if (w.date() - ANCHOR).days % (policy.every // timedelta(days=1)) == 0]
    wall = next(w for w in walls if w.replace(tzinfo=zone).astimezone(UTC) == end)
    exists = wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
    # the configured wall time itself, unless the clock skipped it that day (then read in the offset before)
    assert local == wall if exists else local > wall


def test_a_daily_stockholm_digest_stays_at_0800_local_across_dst() -> None:
    policy = DigestPolicy(timedelta(hours=24), time(8, 0), STOCKHOLM)
    spring = period_of(policy, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))  # CET -> CEST on Mar 29
    assert spring.start == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST
    assert period_of(policy, datetime(2026, 3, 28, 12, tzinfo=UTC)).start == datetime(
        2026, 3, 28, 7, tzinfo=UTC
    )
    assert period_of(policy, datetime(2026, 3, 29, 1, tzinfo=UTC)).end - spring.start == timedelta(0)
    assert spring.end - spring.start == timedelta(hours=24)
    # the period spanning the change is 23 hours long, and the autumn one 25
    assert period_of(policy, datetime(2026, 3, 29, 0, tzinfo=UTC)).end - period_of(
        policy, datetime(2026, 3, 29, 0, tzinfo=UTC)
    ).start == timedelta(hours=23)
    autumn = period_of(policy, datetime(2026, 10, 25, 3, tzinfo=UTC))
    assert autumn.end - autumn.start == timedelta(hours=25)
    assert autumn.end.astimezone(ZoneInfo(STOCKHOLM)).time() == time(8, 0)


def test_skipped_and_repeated_wall_times() -> None:
    policy = DigestPolicy(timedelta(days=1), time(2, 30), STOCKHOLM)
    # 02:30 does not exist on Mar 29: that end falls an hour later by the clock (03:30 CEST, 01:30 UTC)
    assert period_of(policy, datetime(2026, 3, 29, 0, tzinfo=UTC)).end == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    # 02:30 happens twice on Oct 25: the end is the first one (CEST, 00:30 UTC)
    assert period_of(policy, datetime(2026, 10, 24, 12, tzinfo=UTC)).end == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    hourly = DigestPolicy(timedelta(hours=1), time(0, 0), STOCKHOLM)
    # 02:00 (skipped) and 03:00 CEST are one instant: one end, not a period of length zero
    p = period_of(hourly, datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    assert (p.start, p.end) == (datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, tzinfo=UTC))
    assert period_of(hourly, p.end).end == datetime(2026, 3, 29, 2, tzinfo=UTC)


def test_weekly_digests_land_on_mondays() -> None:
    policy = DigestPolicy(timedelta(days=7), time(8, 0), STOCKHOLM)
    for days in range(0, 400, 17):
        p = period_of(policy, datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=days))
        for edge in (p.start, p.end):
            local = edge.astimezone(ZoneInfo(STOCKHOLM))
            assert (local.weekday(), local.time()) == (0, time(8, 0))


def test_every_must_tile_a_day_or_be_whole_days() -> None:
    for bad in (timedelta(minutes=30), timedelta(hours=5), timedelta(hours=36), timedelta(days=8)):
        with pytest.raises(ValueError, match="every must"):
            period_of(DigestPolicy(bad, time(8), "UTC"), datetime(2026, 1, 1, tzinfo=UTC))


def test_a_digest_identity_is_its_destination_match_and_schedule() -> None:
    daily = DigestPolicy(timedelta(days=1), time(8), STOCKHOLM)
    hourly = DigestPolicy(timedelta(hours=1), time(8), STOCKHOLM)
    ids = {digest_id(d, m, p) for d in ("a", "b") for m in ("all", "kind=x") for p in (daily, hourly)}
    assert len(ids) == 8
    assert digest_id("a", "all", daily) == digest_id(
        "a", "all", DigestPolicy(timedelta(hours=24), time(8), STOCKHOLM)
    )

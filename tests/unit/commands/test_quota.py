"""`quota`: usage today, the reset at midnight US Central, the burn-rate forecast, top users, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from notifbot.commands.queries import QuotaSample
from notifbot.commands.quota import burn_bars, forecast
from tests.unit.commands.conftest import Harness

CT_8AM = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 08:00 US Central (CST)
INSERT = (
    "INSERT INTO quota_samples (instance, sampled_at, day, used, quota, users, errors) VALUES (?,?,?,?,?,?,?)"
)
USERS = json.dumps(
    [{"userId": f"user{i}@example.com", "count": 1000 * i} for i in range(1, 8)]
    + [{"userId": "bi-connector@example.com", "count": 12_000}]
)


def sample(at: datetime, used: int, quota: int = 40_000) -> QuotaSample:
    return QuotaSample("123-ABC-456", at.timestamp(), "2026-11-30", used, quota, [], {})


def row(
    at: datetime, used: int, quota: int = 40_000, users: str = "[]", errors: str = "{}"
) -> tuple[object, ...]:
    return ("123-ABC-456", at.timestamp(), "2026-11-30", used, quota, users, errors)


def test_forecast_runs_out_before_the_reset() -> None:
    # 10,000 at 08:00 CT, 20,000 at 12:00 CT: 2,500 calls/h; 20,000 left → out at 8:00 PM CT, 4 h before midnight
    text = forecast([sample(CT_8AM, 10_000), sample(CT_8AM + timedelta(hours=4), 20_000)]) or ""
    assert (
        text == "At the current rate (2,500 calls/h) the quota runs out at 8:00 PM CT, 4 h before the reset."
    )


def test_forecast_lasts_until_the_reset_and_edge_cases() -> None:
    slow = [sample(CT_8AM, 10_000), sample(CT_8AM + timedelta(hours=4), 11_000)]
    assert "(250 calls/h) the quota lasts until the reset" in (forecast(slow) or "")
    idle = [sample(CT_8AM, 10_000), sample(CT_8AM + timedelta(hours=4), 10_000)]
    assert "No calls since 8:00 AM CT" in (forecast(idle) or "")
    full = [sample(CT_8AM, 10_000), sample(CT_8AM + timedelta(hours=4), 40_000)]
    assert "used up" in (forecast(full) or "") and "607" in (forecast(full) or "")
    dropped = [sample(CT_8AM, 10_000), sample(CT_8AM + timedelta(hours=4), 5_000)]
    assert "no forecast" in (forecast(dropped) or "")
    assert forecast([]) is None and forecast([sample(CT_8AM, 10)]) is None
    assert forecast([sample(CT_8AM, 10, quota=0), sample(CT_8AM + timedelta(hours=1), 20, quota=0)]) is None
    # one sample: the average since the reset at midnight (8 h for 10,000 calls → 1,250/h, out at 4:00 AM)
    midnight = CT_8AM - timedelta(hours=8)
    text = forecast([sample(CT_8AM, 10_000)], midnight) or ""
    assert "today's average rate (1,250 calls/h)" in text and "lasts until the reset" in text


def test_forecast_uses_the_recent_rate() -> None:
    # slow morning, fast last two hours: the forecast follows the last few hours, not the day's average
    s = [
        sample(CT_8AM - timedelta(hours=4), 1_000),
        sample(CT_8AM, 2_000),
        sample(CT_8AM + timedelta(hours=2), 12_000),
        sample(CT_8AM + timedelta(hours=4), 22_000),
    ]
    text = forecast(s) or ""
    assert "(5,000 calls/h)" in text and "runs out at 3:36 PM CT" in text


async def test_no_data_without_instances(bot: Harness) -> None:
    reply = await bot.ask("quota")
    assert reply.ok and reply.visibility == "ephemeral"
    text = reply.sections[0].text or ""
    assert text.startswith("No quota data yet — configure `marketo.instances` in the config")


async def test_no_data_with_instances_waits_for_first_poll(polled: Harness) -> None:
    text = await polled.text("quota --share")
    assert "waiting for the first poll" in text and "123-ABC-456" in text
    assert (await polled.ask("quota --share")).visibility == "in_channel"


async def test_quota_with_samples(polled: Harness) -> None:
    polled.now = CT_8AM + timedelta(hours=4, minutes=40)  # 12:40 PM CT
    await polled.sql(
        INSERT,
        row(CT_8AM - timedelta(days=1), 39_000),  # yesterday: ignored
        row(CT_8AM, 10_000),
        row(
            CT_8AM + timedelta(hours=4), 20_000, users=USERS, errors=json.dumps({"606": 12, "615": 3, "1": 0})
        ),
    )
    reply = await polled.ask("quota")
    main = reply.sections[0]
    assert main.title == "123-ABC-456"
    facts = {f.label: f.value for f in main.facts}
    assert facts["Used today"] == "20,000 of 40,000 (50%)"
    assert facts["Left"] == "20,000"
    assert facts["Resets"] == "in 11 h 20 min (00:00 CT)"
    assert facts["Sampled"] == "12:00 PM CT (40 min ago)"
    assert facts["API errors today"] == "606 (rate limit): 12 · 615 (concurrency limit): 3"
    assert "runs out at 8:00 PM CT, 4 h before the reset" in (main.text or "")
    users = reply.sections[1]
    assert users.title == "Top API users — 123-ABC-456"
    assert [i.text for i in users.items][:2] == ["bi-connector@example.com", "user7@example.com"]
    assert users.items[0].detail == "12,000 calls (60% of today's)"
    assert len(users.items) == 5 and users.more == 3


async def test_quota_after_midnight_without_a_new_sample(polled: Harness) -> None:
    await polled.sql(INSERT, row(CT_8AM, 39_000))
    polled.now = CT_8AM + timedelta(hours=17)  # 1:00 AM CT the next day
    text = await polled.text("quota")
    assert "No sample since the reset at midnight CT" in text and "39,000 of 40,000" in text


async def test_stale_sample_is_called_out(polled: Harness) -> None:
    await polled.sql(INSERT, row(CT_8AM, 5_000))
    polled.now = CT_8AM + timedelta(hours=3)
    text = await polled.text("quota")
    assert "3 h old" in text and "average rate" in text


async def test_observed_instance_without_config_and_configured_without_samples(bot: Harness) -> None:
    await bot.sql(INSERT, ("999-XYZ-000", CT_8AM.timestamp(), "2026-11-30", 10, 50_000, "not json", "[1,2"))
    bot.now = CT_8AM + timedelta(minutes=5)
    reply = await bot.ask("quota")
    assert reply.ok and reply.sections[0].title == "999-XYZ-000"
    assert "10 of 50,000" in json.dumps([f.value for f in reply.sections[0].facts])


def _sample(at: datetime, used: int, quota: int = 50_000) -> QuotaSample:
    return QuotaSample("123-ABC-456", at.timestamp(), "2026-11-28", used, quota, [], {})


def test_burn_bars_one_per_hour_since_the_reset_as_a_share_of_the_quota() -> None:
    start = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 00:00 CST
    samples = [
        _sample(start + timedelta(minutes=30), 1_000),  # hour 1: 2 % → the lowest bar
        _sample(start + timedelta(hours=2, minutes=10), 25_000),  # hour 3: 50 % → the 5th of 8
        _sample(start + timedelta(hours=4, minutes=59), 50_000),  # hour 5: all of it → the full bar
    ]
    assert burn_bars(samples, start, start + timedelta(hours=5, minutes=20)) == "▁▁▅▅██"
    assert burn_bars(samples, start, start + timedelta(minutes=1)) == "▁"
    assert burn_bars([_sample(start, 10, quota=0)], start, start) is None
    assert burn_bars([], start, start) is None


def test_burn_bars_cover_the_25_hour_day_when_daylight_saving_ends() -> None:
    start = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 00:00 CDT on 1 November; the next reset is 25 h later
    samples = [_sample(start + timedelta(hours=h, minutes=30), h * 2_000) for h in range(25)]
    bars = burn_bars(samples, start, start + timedelta(hours=24, minutes=45))
    assert bars is not None and len(bars) == 25
    assert list(bars) == sorted(bars)  # usage only grows within a day

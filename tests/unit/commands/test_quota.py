"""`quota`: usage today, the reset at midnight US Central, the burn-rate forecast, top users, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from notifbot.central_time import CENTRAL
from notifbot.commands.queries import QuotaSample, QuotaView
from notifbot.commands.quota import Burn, burn, chart_of, forecast, forecast_text
from notifbot.i18n import texts_for
from notifbot.render.chart import sparkline
from notifbot.render.console import render_console
from notifbot.render.slack_reply import render_reply
from notifbot.render.teams_reply import render_teams_reply
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


def bars(samples: list[QuotaSample], day_start: datetime, now: datetime) -> str | None:
    """The quota reply's sparkline: the chart of these samples, drawn as one bar per hour."""
    view = QuotaView("123-ABC-456", samples[-1], samples) if samples else None
    chart = chart_of(view, burn(samples, day_start), day_start, now) if view else None
    return sparkline(chart) if chart else None


def test_burn_bars_one_per_hour_since_the_reset_as_a_share_of_the_quota() -> None:
    start = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 00:00 CST
    samples = [
        _sample(start + timedelta(minutes=30), 1_000),  # hour 1: 2 % → the lowest bar
        _sample(start + timedelta(hours=2, minutes=10), 25_000),  # hour 3: 50 % → the 5th of 8
        _sample(start + timedelta(hours=4, minutes=59), 50_000),  # hour 5: all of it → the full bar
    ]
    assert bars(samples, start, start + timedelta(hours=5, minutes=20)) == "▁▁▅▅██"
    assert bars(samples, start, start + timedelta(minutes=1)) == "▁"
    assert bars([_sample(start, 10, quota=0)], start, start) is None
    assert bars([], start, start) is None


def test_burn_bars_cover_the_25_hour_day_when_daylight_saving_ends() -> None:
    start = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 00:00 CDT on 1 November; the next reset is 25 h later
    samples = [_sample(start + timedelta(hours=h, minutes=30), h * 2_000) for h in range(25)]
    line = bars(samples, start, start + timedelta(hours=24, minutes=45))
    assert line is not None and len(line) == 25
    assert list(line) == sorted(line)  # usage only grows within a day


# --- burn: the numbers behind the sentence ----------------------------------------------------------------------

MIDNIGHT = CT_8AM - timedelta(hours=8)
RESET = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # the next 00:00 CT
RUNS_OUT = "At the current rate (2,500 calls/h) the quota runs out at 8:00 PM CT, 4 h before the reset."
LASTS = "At the current rate (250 calls/h) the quota lasts until the reset."
IDLE = "No calls since 8:00 AM CT; at that rate the quota lasts until the reset."
USED_UP = "The quota is used up: calls fail with error 607 until the reset (12:00 AM CT)."
WENT_DOWN = "Usage went down since the previous sample, so there is no forecast yet."
AVERAGE_OUT = (
    "At today's average rate (3,750 calls/h) the quota runs out at 10:40 AM CT, 13 h 20 min before the reset."
)
AVERAGE_LASTS = "At today's average rate (1,250 calls/h) the quota lasts until the reset."
RECENT = "At the current rate (5,000 calls/h) the quota runs out at 3:36 PM CT, 8 h 24 min before the reset."


def at(hours: float, used: int, quota: int = 40_000) -> QuotaSample:
    """A sample `hours` after 08:00 CT."""
    return sample(CT_8AM + timedelta(hours=hours), used, quota)


# (samples, day_start, calls per hour, runs out at, the sentence `forecast` said before `burn` existed)
CASES: dict[str, tuple[list[QuotaSample], datetime | None, float | None, datetime | None, str | None]] = {
    "runs out": ([at(0, 10_000), at(4, 20_000)], None, 2_500, CT_8AM + timedelta(hours=12), RUNS_OUT),
    "lasts": ([at(0, 10_000), at(4, 11_000)], None, 250, None, LASTS),
    "idle": ([at(0, 10_000), at(4, 10_000)], None, 0, None, IDLE),
    "used up": ([at(0, 10_000), at(4, 40_000)], None, 7_500, CT_8AM + timedelta(hours=4), USED_UP),
    "used up, no time between": (
        [at(4, 40_000), at(4, 40_000)],
        None,
        None,
        CT_8AM + timedelta(hours=4),
        USED_UP,
    ),
    "used up after a drop": (
        [at(0, 41_000), at(4, 40_000)],
        None,
        None,
        CT_8AM + timedelta(hours=4),
        USED_UP,
    ),
    "went down": ([at(0, 10_000), at(4, 5_000)], None, None, None, WENT_DOWN),
    "no time between": ([at(4, 10_000), at(4, 12_000)], None, None, None, None),
    "no samples": ([], None, None, None, None),
    "one sample, no reset": ([at(0, 10)], None, None, None, None),
    "no quota": ([at(0, 10, 0), at(1, 20, 0)], None, None, None, None),
    "average, runs out": (
        [at(0, 30_000)],
        MIDNIGHT,
        3_750,
        CT_8AM + timedelta(hours=2, minutes=40),
        AVERAGE_OUT,
    ),
    "average, lasts": ([at(0, 10_000)], MIDNIGHT, 1_250, None, AVERAGE_LASTS),
    "average, used up": ([at(0, 40_000)], MIDNIGHT, 5_000, CT_8AM, USED_UP),
    "recent rate": (
        [at(-4, 1_000), at(0, 2_000), at(2, 12_000), at(4, 22_000)],
        None,
        5_000,
        CT_8AM + timedelta(hours=7, minutes=36),
        RECENT,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_burn_and_the_sentence_built_on_it(case: str) -> None:
    samples, day_start, per_hour, runs_out, sentence = CASES[case]
    b = burn(samples, day_start)
    assert forecast(samples, day_start) == forecast_text(b) == sentence  # the sentence is unchanged
    if sentence is None:
        assert b is None
        return
    assert (
        b is not None
        and b.reset_at == RESET
        and b.taken == datetime.fromtimestamp(samples[-1].sampled_at, UTC)
    )
    rate = None if b.rate_per_s is None else round(b.rate_per_s * 3600, 6)
    assert (rate, b.runs_out_at) == (per_hour, runs_out)
    assert b.current is (day_start is None)


def test_the_sentence_in_swedish_reads_the_same_burn() -> None:
    sv = texts_for("sv", "Europe/Stockholm")
    samples = [at(0, 10_000), at(4, 20_000)]
    text = forecast_text(burn(samples), sv)
    assert text == forecast(samples, t=sv)
    assert (
        text == "I nuvarande takt (2\xa0500 anrop/h) tar kvoten slut kl. 20:00 CT, 4 h före återställningen."
    )


def test_the_chart_in_swedish() -> None:
    sv = texts_for("sv", "Europe/Stockholm")
    samples = [at(0, 10_000), at(4, 20_000)]
    chart = chart_of(view_of(*samples), burn(samples), MIDNIGHT, CT_8AM + timedelta(hours=5), sv)
    assert chart is not None and chart.title == "API-anrop i dag — 123-ABC-456"
    assert chart.alt == (
        "API-anrop i dag: 20\xa0000 av 40\xa0000 (50\xa0%); i den här takten tar kvoten slut omkring kl. 20:00 CT."
    )
    assert (chart.quota_label, chart.reset_label) == ("kvot 40\xa0000", "återställning")
    assert [label for _, label in chart.ticks] == ["00:00 CT", "06:00 CT", "12:00 CT", "18:00 CT"]


def test_burn_is_a_plain_value() -> None:
    b = Burn(1, 2, 0.5, None, RESET, MIDNIGHT, CT_8AM, current=True)
    assert not b.used_up and Burn(2, 2, None, CT_8AM, RESET, MIDNIGHT, CT_8AM, current=False).used_up


# --- chart_of: the same burn as a picture ---------------------------------------------------------------------


def view_of(*samples: QuotaSample) -> QuotaView:
    return QuotaView("123-ABC-456", samples[-1], list(samples))


def test_the_chart_draws_the_burn_the_sentence_says() -> None:
    samples = [at(0, 10_000), at(4, 20_000)]
    now = CT_8AM + timedelta(hours=4, minutes=40)
    b = burn(samples, MIDNIGHT)
    chart = chart_of(view_of(*samples), b, MIDNIGHT, now)
    assert chart is not None
    assert chart.points == ((8 * 3600, 10_000), (12 * 3600, 20_000)) and chart.quota == 40_000
    assert chart.day == chart.reset == 24 * 3600 and chart.now == 12 * 3600 + 40 * 60
    # the dashed forecast leaves the latest reading and reaches the quota when `burn` says it runs out
    assert chart.forecast == ((12 * 3600, 20_000), (20 * 3600, 40_000))
    assert (
        chart.alt
        == "API calls today: 20,000 of 40,000 (50%); at this rate the quota runs out at about 8:00 PM CT."
    )
    assert chart.title == "API calls today — 123-ABC-456" and chart.quota_label == "quota 40,000"
    assert [label for _, label in chart.ticks] == ["12:00 AM CT", "6:00 AM CT", "12:00 PM CT", "6:00 PM CT"]
    assert [x for x, _ in chart.ticks] == [0, 6 * 3600, 12 * 3600, 18 * 3600]


def test_the_chart_forecast_and_alt_text_for_each_outcome() -> None:
    now = CT_8AM + timedelta(hours=5)

    def chart(*samples: QuotaSample, start: datetime = MIDNIGHT) -> tuple[object, str]:
        c = chart_of(view_of(*samples), burn(list(samples), start), start, now)
        assert c is not None
        return c.forecast, c.alt

    # lasts: the line runs on at the same rate up to the reset, below the quota
    forecast_line, alt = chart(at(0, 10_000), at(4, 11_000))
    assert forecast_line == ((12 * 3600, 11_000), (24 * 3600, 14_000))
    assert alt.endswith("(27.5%); at this rate the quota lasts until the reset.")
    assert chart(at(0, 10_000), at(4, 10_000))[0] == ((12 * 3600, 10_000), (24 * 3600, 10_000))  # idle: flat
    assert chart(at(0, 10_000), at(4, 40_000)) == (
        None,
        "API calls today: 40,000 of 40,000 (100%); used up until the reset at midnight CT.",
    )
    assert chart(at(0, 10_000), at(4, 5_000)) == (None, "API calls today: 5,000 of 40,000 (12.5%).")
    assert chart_of(view_of(at(0, 10, quota=0)), None, MIDNIGHT, now) is None
    assert chart_of(QuotaView("123-ABC-456", at(0, 10), []), None, MIDNIGHT, now) is None


@pytest.mark.parametrize(
    ("day", "hours", "ticks"),
    [
        ("2026-03-08", 23, [0, 5, 11, 17]),  # daylight saving starts: 02:00 does not exist; 06:00 is 5 h in
        ("2026-11-01", 25, [0, 7, 13, 19]),  # it ends: 01:00-02:00 twice; 06:00 is 7 h in
        ("2026-11-30", 24, [0, 6, 12, 18]),
    ],
)
def test_the_chart_day_is_the_central_day_23_to_25_hours(day: str, hours: int, ticks: list[int]) -> None:
    start = (
        datetime.fromisoformat(day).replace(tzinfo=CENTRAL).astimezone(UTC)
    )  # UTC: arithmetic in real hours
    s = _sample(start + timedelta(hours=3), 5_000)
    chart = chart_of(view_of(s), burn([s], start), start, start + timedelta(hours=hours, minutes=-1))
    assert chart is not None and chart.day == chart.reset == hours * 3600
    assert [x / 3600 for x, _ in chart.ticks] == ticks
    assert [label for _, label in chart.ticks] == ["12:00 AM CT", "6:00 AM CT", "12:00 PM CT", "6:00 PM CT"]
    assert len(sparkline(chart)) == hours
    assert (
        chart.forecast is not None and chart.forecast[1][0] == chart.reset
    )  # 5,000 in 3 h lasts to the reset


async def test_quota_reply_carries_the_chart(polled: Harness) -> None:
    polled.now = CT_8AM + timedelta(hours=4, minutes=40)
    await polled.sql(INSERT, row(CT_8AM, 10_000), row(CT_8AM + timedelta(hours=4), 20_000))
    main = (await polled.ask("quota")).sections[0]
    assert main.chart is not None and main.chart.forecast == ((12 * 3600, 20_000), (20 * 3600, 40_000))
    assert "Burn today" not in {f.label for f in main.facts}  # a field is half as wide: 20+ bars wrapped
    assert (main.chart.spark_label, main.chart.spark) == (
        "Burn today",
        f"{sparkline(main.chart)} (per hour since 00:00 CT)",
    )
    # Slack: the bars on a line of their own under the fields, full width
    blocks = render_reply(await polled.ask("quota"))["blocks"]
    fields = [i for i, b in enumerate(blocks) if "fields" in b]
    [spark] = [i for i, b in enumerate(blocks) if "Burn today" in json.dumps(b)]
    assert spark == fields[-1] + 1 and "fields" not in blocks[spark]
    assert (
        blocks[spark]["text"]["text"]
        == f"*Burn today:* {'▁' * 7}{'▃' * 4}{'▅' * 2} (per hour since 00:00 CT)"
    )
    # the terminal view (`render/console.py`) shows the same sparkline line
    terminal = render_console(render_reply(await polled.ask("quota"))).splitlines()
    assert f"Burn today: {'▁' * 7}{'▃' * 4}{'▅' * 2} (per hour since 00:00 CT)" in terminal
    # Teams: the chart is the picture (its numbers in the alt text), no row of bars beside it
    card = json.dumps(render_teams_reply(await polled.ask("quota")), ensure_ascii=False)
    assert '"type": "Image"' in card and "▁" not in card

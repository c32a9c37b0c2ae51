"""The console's quota panels: the chat reply's chart and forecast, the samples as rows, on 23-, 24- and 25-hour days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifbot.central_time import CENTRAL, last_central_midnight
from notifbot.commands.queries import QuotaSample, QuotaView
from notifbot.commands.quota import burn, chart_of, forecast
from notifbot.render.chart import svg
from notifbot.ui.quota import ONE_SAMPLE, quota_panel, quota_panels

INSTANCE = "123-ABC-456"


def midnight(day: str) -> datetime:
    """00:00 CT of `day`, in UTC (arithmetic in real hours)."""
    return datetime.fromisoformat(day).replace(tzinfo=CENTRAL).astimezone(UTC)


def sample(at: datetime, used: int, quota: int = 50_000) -> QuotaSample:
    day = at.astimezone(CENTRAL).date().isoformat()
    return QuotaSample(INSTANCE, at.timestamp(), day, used, quota, [], {})


def view(*today: QuotaSample, latest: QuotaSample | None = None) -> QuotaView:
    return QuotaView(INSTANCE, latest or today[-1], list(today))


@pytest.mark.parametrize(
    ("day", "hours", "times"),
    [
        # daylight saving ends: 1:00-2:00 CT comes twice, told apart by the zone's abbreviation
        ("2026-11-01", 25, ["12:30 AM CDT", "1:30 AM CDT", "1:30 AM CST", "6:30 AM CST"]),
        # it starts: 2:00-3:00 CT does not exist
        ("2026-03-08", 23, ["12:30 AM CST", "1:30 AM CST", "3:30 AM CDT", "8:30 AM CDT"]),
        ("2026-12-01", 24, ["12:30 AM CST", "1:30 AM CST", "2:30 AM CST", "7:30 AM CST"]),
    ],
)
def test_a_panel_is_the_commands_chart_and_forecast_with_the_samples_as_rows(
    day: str, hours: int, times: list[str]
) -> None:
    start = midnight(day)
    now = start + timedelta(hours=8)
    samples = [
        sample(start + timedelta(hours=h), used)
        for h, used in ((0.5, 500), (1.5, 1_900), (2.5, 2_600), (7.5, 9_000))
    ]
    panel = quota_panel(view(*samples), now)
    chart = chart_of(view(*samples), burn(samples, start), start, now)
    assert chart is not None and chart.day == hours * 3600
    assert panel.chart == svg(chart) and panel.caption == f"API calls today — {INSTANCE}"
    assert panel.forecast == forecast(samples, last_central_midnight(now))
    assert [r.time_ct for r in panel.rows] == times
    assert [(r.used_text, r.percent_text) for r in panel.rows] == [
        ("500", "1%"),
        ("1,900", "3.8%"),
        ("2,600", "5.2%"),
        ("9,000", "18%"),
    ]
    assert [r.at.at for r in panel.rows] == [s.sampled_at for s in samples]
    assert (panel.used_text, panel.percent_text, panel.left_text) == ("9,000 of 50,000", "18%", "41,000")
    assert panel.reset.at == (start + timedelta(hours=hours)).timestamp()
    assert panel.reset_ct.endswith("12:00 AM CT") and panel.today and not panel.stale


def test_one_sample_forecasts_from_the_days_average_and_a_stale_one_says_so() -> None:
    start = midnight("2026-12-01")
    only = sample(start + timedelta(hours=2), 4_000)
    panel = quota_panel(view(only), start + timedelta(hours=4))
    assert panel.forecast == forecast([only], start) and panel.forecast is not None
    assert panel.forecast.startswith("At today's average rate") and panel.stale


def test_no_sample_today_shows_the_latest_without_a_chart() -> None:
    start = midnight("2026-12-01")
    yesterday = sample(start - timedelta(hours=1), 48_000)
    panel = quota_panel(view(latest=yesterday), start + timedelta(hours=3))
    assert (panel.chart, panel.forecast, panel.rows, panel.today) == (None, None, (), False)
    assert panel.used_text == "48,000 of 50,000" and panel.latest.relative == "4 h ago"


def test_a_quota_of_zero_draws_nothing_and_divides_by_nothing() -> None:
    start = midnight("2026-12-01")
    zero = sample(start + timedelta(hours=1), 10, quota=0)
    panel = quota_panel(view(zero), start + timedelta(hours=2))
    assert (panel.chart, panel.forecast, panel.percent_text) == (None, None, "no quota")
    assert [r.percent_text for r in panel.rows] == ["no quota"]


def test_a_used_up_quota_and_the_instances_in_order() -> None:
    start = midnight("2026-12-01")
    samples = [sample(start + timedelta(hours=1), 20_000), sample(start + timedelta(hours=2), 50_000)]
    other = QuotaView("000-AAA-000", samples[0], [samples[0]])
    first, second = quota_panels([view(*samples), other], start + timedelta(hours=3))
    assert (first.instance, second.instance) == ("000-AAA-000", INSTANCE)
    assert second.forecast is not None and second.forecast.startswith("The quota is used up")
    assert second.percent == 100.0 and second.left_text == "0"
    assert ONE_SAMPLE not in (first.forecast, second.forecast)

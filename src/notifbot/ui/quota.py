"""The console's quota panels: per Marketo instance the chart, forecast, reset and the samples behind them.

Built from `quota_overview` with the functions the `quota` command uses (`burn`, `chart_of`, `forecast_text`,
`render.chart.svg`), so the page, the chat reply and the chart's data table cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markupsafe import Markup

from notifbot.central_time import CENTRAL, last_central_midnight, next_central_midnight
from notifbot.commands.queries import QuotaSample, QuotaView
from notifbot.commands.quota import STALE_SAMPLE, burn, chart_of, forecast_text
from notifbot.i18n import EN
from notifbot.render.chart import svg
from notifbot.ui.status import Moment, moment

ONE_SAMPLE = "One sample so far; a forecast follows the next poll."


@dataclass(frozen=True)
class SampleRow:
    """One stored reading, as the data table shows it."""

    at: Moment
    time_ct: str  # "1:30 AM CDT": the zone's abbreviation tells the two 1:30s apart when daylight saving ends
    used: int
    quota: int

    @property
    def used_text(self) -> str:
        """The calls used, with thousands separators."""
        return EN.count(self.used)

    @property
    def percent_text(self) -> str:
        """The share of that reading's quota."""
        return EN.percent(100 * self.used / self.quota) if self.quota > 0 else "no quota"


@dataclass(frozen=True)
class QuotaPanel:
    """One instance: today's chart and numbers, or only its latest reading when none was taken today."""

    instance: str
    caption: str  # the chart's title, also the data table's caption
    chart: Markup | None  # the inline SVG (escaped by render/chart.py); None without a sample today
    used: int
    quota: int
    latest: Moment
    forecast: str | None
    reset: Moment
    reset_ct: str
    rows: tuple[SampleRow, ...]
    errors: dict[str, int]
    age: timedelta  # of the latest sample

    @property
    def today(self) -> bool:
        """Whether a sample was taken since the last reset (otherwise the numbers are an older day's)."""
        return bool(self.rows)

    @property
    def percent(self) -> float:
        """The latest reading's share of the quota, in percent."""
        return 100 * self.used / self.quota if self.quota > 0 else 0.0

    @property
    def percent_text(self) -> str:
        """`percent` as text ("68.2%")."""
        return EN.percent(self.percent) if self.quota > 0 else "no quota"

    @property
    def used_text(self) -> str:
        """ "34,012 of 50,000"."""
        return f"{EN.count(self.used)} of {EN.count(self.quota)}"

    @property
    def left_text(self) -> str:
        """Calls left today."""
        return EN.count(max(0, self.quota - self.used))

    @property
    def stale(self) -> bool:
        """The latest sample is older than the quota command allows (an hour): is the quota watch running?"""
        return self.age > STALE_SAMPLE


def _row(sample: QuotaSample, now: datetime) -> SampleRow:
    """A sample as a table row, its Central clock time with the zone's abbreviation (CST or CDT)."""
    at = moment(sample.sampled_at, now)
    assert at is not None
    local = datetime.fromtimestamp(sample.sampled_at, UTC).astimezone(CENTRAL)
    return SampleRow(at, f"{EN.clock(local)} {local.tzname()}", sample.used, sample.quota)


def quota_panel(view: QuotaView, now: datetime) -> QuotaPanel:
    """The panel of one instance at `now` (an aware time)."""
    day_start = last_central_midnight(now)
    reset_at = next_central_midnight(now)
    b = burn(view.today, day_start)
    chart = chart_of(view, b, day_start, now)
    latest = moment(view.latest.sampled_at, now)
    reset = moment(reset_at, now)
    assert latest is not None and reset is not None
    return QuotaPanel(
        instance=view.instance,
        caption=chart.title if chart else f"API calls today — {view.instance}",
        chart=Markup(svg(chart)) if chart else None,  # render/chart.py escapes every text it writes
        used=view.latest.used,
        quota=view.latest.quota,
        latest=latest,
        forecast=(forecast_text(b) or ONE_SAMPLE) if chart else None,
        reset=reset,
        reset_ct=EN.ct(reset_at),
        rows=tuple(_row(s, now) for s in view.today),
        errors=dict(view.latest.errors),
        age=now - datetime.fromtimestamp(view.latest.sampled_at, UTC),
    )


def quota_panels(views: list[QuotaView], now: datetime) -> list[QuotaPanel]:
    """Every sampled instance's panel, by instance name."""
    return [quota_panel(v, now) for v in sorted(views, key=lambda v: v.instance)]

"""`quota`: API calls used today per instance, time to the reset at midnight US Central, forecast, top users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

from notifbot.central_time import CENTRAL, last_central_midnight, next_central_midnight
from notifbot.commands.common import visibility
from notifbot.commands.model import CommandContext
from notifbot.commands.queries import QuotaSample, QuotaView, quota_overview
from notifbot.i18n import EN, N_, Texts
from notifbot.render.chart import sparkline
from notifbot.replies import Chart, Fact, Item, Reply, Section, Segment

TITLE = N_("Marketo API quota")
RATE_WINDOW = timedelta(hours=3)  # "current rate" = the growth over roughly the last few hours
STALE_SAMPLE = timedelta(hours=1)
TOP_USERS = 5
TICK_HOURS = (0, 6, 12, 18)  # the chart's hour labels, on the Central clock
# TRANSLATORS: what Marketo's API error codes mean, shown as "607 (daily quota reached): 3"
ERROR_NAMES = {
    "601": N_("token invalid"),
    "602": N_("token expired"),
    "603": N_("access denied"),
    "604": N_("timed out"),
    "606": N_("rate limit"),
    "607": N_("daily quota reached"),
    "608": N_("API unavailable"),
    "611": N_("system error"),
    "615": N_("concurrency limit"),
}


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _reference(samples: Sequence[QuotaSample]) -> QuotaSample:
    """The sample to measure growth from: the oldest within the rate window, else the one before the last."""
    last = samples[-1]
    window = [s for s in samples[:-1] if last.sampled_at - s.sampled_at <= RATE_WINDOW.total_seconds()]
    return window[0] if window else samples[-2]


@dataclass(frozen=True)
class Burn:
    """Today's burn in numbers: the rate, when the quota runs out at it, and when it resets anyway.

    `rate_per_s` is None when usage went down since `since` (a counter correction) or, when the quota is used up,
    no time passed between the readings; `runs_out_at` is None when the quota lasts until the reset at that rate
    (or there is no rate), and the latest reading's time when it is already used up.
    """

    used: int
    quota: int
    rate_per_s: float | None
    runs_out_at: datetime | None
    reset_at: datetime
    since: datetime  # the reading the rate is measured from: a few hours back, or the reset with one sample
    taken: datetime  # the latest reading
    current: bool  # the rate of the last few hours (False: today's average, from one sample and the reset)

    @property
    def used_up(self) -> bool:
        """Whether calls fail with 607 until the reset."""
        return self.used >= self.quota


def burn(samples: Sequence[QuotaSample], day_start: datetime | None = None) -> Burn | None:
    """The burn rate at the latest sample and when the quota runs out at it; None without enough samples."""
    # With one sample, `day_start` (the last reset, zero calls) is the other reading: the day's average rate.
    if not samples or samples[-1].quota <= 0:
        return None
    last = samples[-1]
    if len(samples) >= 2:
        ref_at, ref_used = _reference(samples).sampled_at, _reference(samples).used
        current = True
    elif day_start is not None:
        ref_at, ref_used = day_start.timestamp(), 0
        current = False
    else:
        return None
    taken = _at(last.sampled_at)
    reading = Burn(
        used=last.used,
        quota=last.quota,
        rate_per_s=None,
        runs_out_at=None,
        reset_at=next_central_midnight(taken),
        since=_at(ref_at),
        taken=taken,
        current=current,
    )
    elapsed = last.sampled_at - ref_at
    if reading.used_up:
        rate = (last.used - ref_used) / elapsed if elapsed > 0 and last.used >= ref_used else None
        return replace(reading, rate_per_s=rate, runs_out_at=taken)
    if elapsed <= 0:
        return None
    if last.used < ref_used:
        return reading
    rate = (last.used - ref_used) / elapsed
    if rate <= 0:
        return replace(reading, rate_per_s=rate)
    runs_out = taken + timedelta(seconds=(last.quota - last.used) / rate)
    return replace(reading, rate_per_s=rate, runs_out_at=runs_out if runs_out < reading.reset_at else None)


def forecast_text(b: Burn | None, t: Texts = EN) -> str | None:
    """The sentence saying a Burn: when the quota runs out at the current rate, or why there is no forecast."""
    if b is None:
        return None
    if b.used_up:
        return t._("The quota is used up: calls fail with error 607 until the reset ({time}).").format(
            time=t.clock_ct(b.reset_at)
        )
    if b.rate_per_s is None:
        return t._("Usage went down since the previous sample, so there is no forecast yet.")
    if b.rate_per_s <= 0:
        return t._("No calls since {time}; at that rate the quota lasts until the reset.").format(
            time=t.clock_ct(b.since, b.taken)
        )
    per_hour = t._("{n} calls/h").format(n=t.count(round(b.rate_per_s * 3600)))
    if b.runs_out_at is None:
        if b.current:
            return t._("At the current rate ({rate}) the quota lasts until the reset.").format(rate=per_hour)
        return t._("At today's average rate ({rate}) the quota lasts until the reset.").format(rate=per_hour)
    values = {
        "rate": per_hour,
        "time": t.clock_ct(b.runs_out_at, b.taken),
        "span": t.span(b.reset_at - b.runs_out_at),
    }
    if b.current:
        return t._(
            "At the current rate ({rate}) the quota runs out at {time}, {span} before the reset."
        ).format(**values)
    return t._(
        "At today's average rate ({rate}) the quota runs out at {time}, {span} before the reset."
    ).format(**values)


def forecast(samples: Sequence[QuotaSample], day_start: datetime | None = None, t: Texts = EN) -> str | None:
    """When the quota runs out at the current rate, as a sentence; None without enough samples."""
    return forecast_text(burn(samples, day_start), t)


def _segment(b: Burn | None, start: float) -> Segment | None:
    """The forecast from the latest reading: to the quota when it runs out, else to the reset at the same rate."""
    if b is None or b.used_up or b.rate_per_s is None:
        return None
    taken = b.taken.timestamp()
    if b.runs_out_at is not None:
        return (taken - start, b.used), (b.runs_out_at.timestamp() - start, b.quota)
    end = b.reset_at.timestamp()
    return (taken - start, b.used), (end - start, b.used + b.rate_per_s * (end - taken))


def _alt(b: Burn | None, used: int, quota: int, t: Texts) -> str:
    """The chart in words: used of the quota, and what the forecast line says."""
    values = {"used": t.count(used), "quota": t.count(quota), "percent": t.percent(100 * used / quota)}
    if b is not None and b.used_up:
        return t._(
            "API calls today: {used} of {quota} ({percent}); used up until the reset at midnight CT."
        ).format(**values)
    if b is None or b.rate_per_s is None:
        return t._("API calls today: {used} of {quota} ({percent}).").format(**values)
    if b.runs_out_at is None:
        return t._(
            "API calls today: {used} of {quota} ({percent}); at this rate the quota lasts until the reset."
        ).format(**values)
    return t._(
        "API calls today: {used} of {quota} ({percent}); at this rate the quota runs out at about {time}."
    ).format(time=t.clock_ct(b.runs_out_at, b.taken), **values)


def chart_of(
    view: QuotaView, b: Burn | None, day_start: datetime, now: datetime, t: Texts = EN
) -> Chart | None:
    """Today's samples of one instance and their Burn as a Chart (the reply and the console draw the same one).

    `day_start` is the last 00:00 CT (the x axis starts there and ends at the next, 23 to 25 h later); None
    without a sample today or without a quota.
    """
    if not view.today or view.today[-1].quota <= 0:
        return None
    last, start = view.today[-1], day_start.timestamp()
    day = next_central_midnight(day_start).timestamp() - start
    midnight = day_start.astimezone(CENTRAL)
    ticks = tuple(
        (at.timestamp() - start, t.clock_ct(at))
        for at in (datetime.combine(midnight.date(), time(h), tzinfo=CENTRAL) for h in TICK_HOURS)
    )
    chart = Chart(
        title=t._("API calls today — {instance}").format(instance=view.instance),
        alt=_alt(b, last.used, last.quota, t),
        quota=last.quota,
        day=day,
        now=min(day, max(0.0, now.timestamp() - start)),
        points=tuple((s.sampled_at - start, s.used) for s in view.today),
        forecast=_segment(b, start),
        reset=day,
        # TRANSLATORS: the label on the quota chart's line at the daily quota ("quota 50,000")
        quota_label=t.pgettext("chart", "quota {n}").format(n=t.count(last.quota)),
        # TRANSLATORS: the label on the quota chart's mark at midnight US Central, where the quota resets
        reset_label=t.pgettext("chart", "reset"),
        ticks=ticks,
    )
    return replace(
        chart,
        spark_label=t.pgettext("fact", "Burn today"),
        # TRANSLATORS: after a row of bars, one per hour since the quota's reset at midnight US Central
        spark=t._("{bars} (per hour since 00:00 CT)").format(bars=sparkline(chart)),
    )


def _errors(sample: QuotaSample, t: Texts) -> str | None:
    parts = [
        f"{code} ({t._(ERROR_NAMES[code])}): {t.count(n)}" if code in ERROR_NAMES else f"{code}: {t.count(n)}"
        for code, n in sorted(sample.errors.items(), key=lambda kv: -kv[1])
    ]
    return " · ".join(parts) or None


def _users(view: QuotaView, t: Texts) -> Section | None:
    sample = view.latest
    users = sorted(sample.users, key=lambda u: -int(u["count"]))
    if not users:
        return None
    items = tuple(
        Item(
            str(u["userId"]),
            detail=t._("{n} calls").format(n=t.count(u["count"]))
            + (
                " "
                + t._("({percent} of today's)").format(percent=t.percent(100 * int(u["count"]) / sample.used))
                if sample.used
                else ""
            ),
        )
        for u in users[:TOP_USERS]
    )
    return Section(
        title=t._("Top API users — {instance}").format(instance=view.instance),
        items=items,
        more=max(0, len(users) - TOP_USERS),
    )


def _resets(reset: datetime, now: datetime, t: Texts) -> str:
    """When the quota resets: "in 7 h 20 min (00:00 CT)"; with a zone other than Central, its local time too."""
    if t.zone is None or t.zone.key == CENTRAL.key:
        return t._("in {span} (00:00 CT)").format(span=t.span(reset - now))
    return t._("in {span}, at {time}").format(span=t.span(reset - now), time=t.reset(reset, now))


def _instance(view: QuotaView, now: datetime, day_start: datetime, t: Texts) -> list[Section]:
    last = view.latest
    taken = _at(last.sampled_at)
    reset = next_central_midnight(now)
    if not view.today:
        text = t._(
            "No sample since the reset at midnight CT; the last one ({time}, {ago}) showed {used} of {quota} calls. "
            "Is the poller running? See `status`."
        ).format(
            time=t.clock_ct(taken, now),
            ago=t.ago(taken, now),
            used=t.count(last.used),
            quota=t.count(last.quota),
        )
        return [Section(title=view.instance, text=text)]
    percent = 100 * last.used / last.quota if last.quota else 0.0
    facts = [
        Fact(
            t.pgettext("fact", "Used today"),
            t._("{used} of {quota} ({percent})").format(
                used=t.count(last.used), quota=t.count(last.quota), percent=t.percent(percent)
            ),
        ),
        Fact(t.pgettext("fact", "Left"), t.count(max(0, last.quota - last.used))),
        Fact(t.pgettext("fact", "Resets"), _resets(reset, now, t)),
        Fact(t.pgettext("fact", "Sampled"), f"{t.clock_ct(taken, now)} ({t.ago(taken, now)})"),
    ]
    b = burn(view.today, day_start)
    chart = chart_of(view, b, day_start, now, t)
    if errors := _errors(last, t):
        facts.append(Fact(t.pgettext("fact", "API errors today"), errors))
    lines = [forecast_text(b, t) or t._("One sample so far; a forecast follows the next poll.")]
    if now - taken > STALE_SAMPLE:
        lines.append(
            t._("The latest sample is {span} old; check the poller with `status`.").format(
                span=t.span(now - taken)
            )
        )
    sections = [Section(title=view.instance, text="\n".join(lines), facts=tuple(facts), chart=chart)]
    users = _users(view, t)
    return [*sections, users] if users else sections


def _no_data(ctx: CommandContext, t: Texts) -> str:
    configured = [i.munchkin_id for i in ctx.settings.marketo.instances]
    if configured:
        return t._(
            "No quota data yet for {instances} — waiting for the first poll of Marketo's usage API."
        ).format(instances=", ".join(configured))
    return t._(
        "No quota data yet — configure `marketo.instances` in the config so notifbot can poll Marketo's usage API."
    )


async def quota_reply(ctx: CommandContext, share: bool, t: Texts = EN) -> Reply:
    """The quota card for every configured or observed instance (or a friendly note when there is no data)."""
    now = ctx.clock()
    day_start = last_central_midnight(now)
    views = await ctx.db.read(quota_overview, day_start.timestamp())
    if not views:
        return Reply(t._(TITLE), (Section(text=_no_data(ctx, t)),), visibility=visibility(share))
    sections: list[Section] = []
    for view in sorted(views, key=lambda v: v.instance):
        sections.extend(_instance(view, now, day_start, t))
    seen = {v.instance for v in views}
    for inst in ctx.settings.marketo.instances:
        if inst.munchkin_id not in seen:
            sections.append(
                Section(title=inst.munchkin_id, text=t._("Waiting for the first poll of the usage API."))
            )
    footer = t._(
        "Marketo's daily API quota resets at midnight US Central (00:00 CT); usage as Marketo reports it."
    )
    return Reply(t._(TITLE), tuple(sections), footer=footer, visibility=visibility(share))

"""`quota`: API calls used today per instance, time to the reset at midnight US Central, forecast, top users."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from notifbot.central_time import CENTRAL, last_central_midnight, next_central_midnight
from notifbot.commands.common import visibility
from notifbot.commands.model import CommandContext
from notifbot.commands.queries import QuotaSample, QuotaView, quota_overview
from notifbot.i18n import EN, N_, Texts
from notifbot.replies import Fact, Item, Reply, Section

TITLE = N_("Marketo API quota")
RATE_WINDOW = timedelta(hours=3)  # "current rate" = the growth over roughly the last few hours
STALE_SAMPLE = timedelta(hours=1)
TOP_USERS = 5
BARS = "▁▂▃▄▅▆▇█"  # an hour's bar: the share of the daily quota used by that hour's end, in eighths
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


def forecast(samples: Sequence[QuotaSample], day_start: datetime | None = None, t: Texts = EN) -> str | None:
    """When the quota runs out at the current rate, as a sentence; None without enough samples."""
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
    reset = next_central_midnight(taken)
    if last.used >= last.quota:
        return t._("The quota is used up: calls fail with error 607 until the reset ({time}).").format(
            time=t.clock_ct(reset)
        )
    elapsed = last.sampled_at - ref_at
    if elapsed <= 0:
        return None
    if last.used < ref_used:
        return t._("Usage went down since the previous sample, so there is no forecast yet.")
    rate = (last.used - ref_used) / elapsed
    if rate <= 0:
        return t._("No calls since {time}; at that rate the quota lasts until the reset.").format(
            time=t.clock_ct(_at(ref_at), taken)
        )
    per_hour = t._("{n} calls/h").format(n=t.count(round(rate * 3600)))
    runs_out = taken + timedelta(seconds=(last.quota - last.used) / rate)
    if runs_out >= reset:
        if current:
            return t._("At the current rate ({rate}) the quota lasts until the reset.").format(rate=per_hour)
        return t._("At today's average rate ({rate}) the quota lasts until the reset.").format(rate=per_hour)
    values = {"rate": per_hour, "time": t.clock_ct(runs_out, taken), "span": t.span(reset - runs_out)}
    if current:
        return t._(
            "At the current rate ({rate}) the quota runs out at {time}, {span} before the reset."
        ).format(**values)
    return t._(
        "At today's average rate ({rate}) the quota runs out at {time}, {span} before the reset."
    ).format(**values)


def burn_bars(samples: Sequence[QuotaSample], day_start: datetime, now: datetime) -> str | None:
    """Today's burn as one bar per hour since the reset: how much of the daily quota was used by each hour's end.

    An hour without a sample repeats the last reading (usage only grows within a day); None without a quota.
    """
    if not samples or samples[-1].quota <= 0:
        return None
    quota, start = samples[-1].quota, day_start.timestamp()
    hours = min(25, max(1, int((now.timestamp() - start) // 3600) + 1))  # 25: the day DST ends is 25 h long
    bars, used, i = [], 0, 0
    for hour in range(hours):
        end = start + (hour + 1) * 3600
        while i < len(samples) and samples[i].sampled_at <= end:
            used, i = samples[i].used, i + 1
        bars.append(BARS[min(len(BARS) - 1, max(0, used * len(BARS) // quota))])
    return "".join(bars)


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
    if bars := burn_bars(view.today, day_start, now):
        # TRANSLATORS: after a row of bars, one per hour since the quota's reset at midnight US Central
        facts.append(
            Fact(t.pgettext("fact", "Burn today"), t._("{bars} (per hour since 00:00 CT)").format(bars=bars))
        )
    if errors := _errors(last, t):
        facts.append(Fact(t.pgettext("fact", "API errors today"), errors))
    lines = [
        forecast(view.today, day_start, t) or t._("One sample so far; a forecast follows the next poll.")
    ]
    if now - taken > STALE_SAMPLE:
        lines.append(
            t._("The latest sample is {span} old; check the poller with `status`.").format(
                span=t.span(now - taken)
            )
        )
    sections = [Section(title=view.instance, text="\n".join(lines), facts=tuple(facts))]
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

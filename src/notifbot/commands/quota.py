"""`quota`: API calls used today per instance, time to the reset at midnight US Central, forecast, top users."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from notifbot.central_time import last_central_midnight, next_central_midnight
from notifbot.commands.common import ago, clock_ct, span, visibility
from notifbot.commands.model import CommandContext
from notifbot.commands.queries import QuotaSample, QuotaView, quota_overview
from notifbot.replies import Fact, Item, Reply, Section
from notifbot.text import format_count, format_percent

TITLE = "Marketo API quota"
RATE_WINDOW = timedelta(hours=3)  # "current rate" = the growth over roughly the last few hours
STALE_SAMPLE = timedelta(hours=1)
TOP_USERS = 5
ERROR_NAMES = {
    "601": "token invalid",
    "602": "token expired",
    "603": "access denied",
    "604": "timed out",
    "606": "rate limit",
    "607": "daily quota reached",
    "608": "API unavailable",
    "611": "system error",
    "615": "concurrency limit",
}


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _reference(samples: Sequence[QuotaSample]) -> QuotaSample:
    """The sample to measure growth from: the oldest within the rate window, else the one before the last."""
    last = samples[-1]
    window = [s for s in samples[:-1] if last.sampled_at - s.sampled_at <= RATE_WINDOW.total_seconds()]
    return window[0] if window else samples[-2]


def forecast(samples: Sequence[QuotaSample], day_start: datetime | None = None) -> str | None:
    """When the quota runs out at the current rate, as a sentence; None without enough samples."""
    # With one sample, `day_start` (the last reset, zero calls) is the other reading: the day's average rate.
    if not samples or samples[-1].quota <= 0:
        return None
    last = samples[-1]
    if len(samples) >= 2:
        ref_at, ref_used = _reference(samples).sampled_at, _reference(samples).used
        label = "the current rate"
    elif day_start is not None:
        ref_at, ref_used = day_start.timestamp(), 0
        label = "today's average rate"
    else:
        return None
    taken = _at(last.sampled_at)
    reset = next_central_midnight(taken)
    if last.used >= last.quota:
        return f"The quota is used up: calls fail with error 607 until the reset ({clock_ct(reset)})."
    elapsed = last.sampled_at - ref_at
    if elapsed <= 0:
        return None
    if last.used < ref_used:
        return "Usage went down since the previous sample, so there is no forecast yet."
    rate = (last.used - ref_used) / elapsed
    if rate <= 0:
        return f"No calls since {clock_ct(_at(ref_at), taken)}; at that rate the quota lasts until the reset."
    per_hour = f"{format_count(round(rate * 3600))} calls/h"
    runs_out = taken + timedelta(seconds=(last.quota - last.used) / rate)
    if runs_out >= reset:
        return f"At {label} ({per_hour}) the quota lasts until the reset."
    return (
        f"At {label} ({per_hour}) the quota runs out at {clock_ct(runs_out, taken)}, "
        f"{span(reset - runs_out)} before the reset."
    )


def _errors(sample: QuotaSample) -> str | None:
    parts = [
        f"{code} ({ERROR_NAMES[code]}): {format_count(n)}"
        if code in ERROR_NAMES
        else f"{code}: {format_count(n)}"
        for code, n in sorted(sample.errors.items(), key=lambda kv: -kv[1])
    ]
    return " · ".join(parts) or None


def _users(view: QuotaView) -> Section | None:
    sample = view.latest
    users = sorted(sample.users, key=lambda u: -int(u["count"]))
    if not users:
        return None
    items = tuple(
        Item(
            str(u["userId"]),
            detail=f"{format_count(u['count'])} calls"
            + (f" ({format_percent(100 * int(u['count']) / sample.used)} of today's)" if sample.used else ""),
        )
        for u in users[:TOP_USERS]
    )
    return Section(title=f"Top API users — {view.instance}", items=items, more=max(0, len(users) - TOP_USERS))


def _instance(view: QuotaView, now: datetime, day_start: datetime) -> list[Section]:
    last = view.latest
    taken = _at(last.sampled_at)
    reset = next_central_midnight(now)
    if not view.today:
        text = (
            f"No sample since the reset at midnight CT; the last one ({clock_ct(taken, now)}, {ago(taken, now)})"
            f" showed {format_count(last.used)} of {format_count(last.quota)} calls. Is the poller running?"
            " See `status`."
        )
        return [Section(title=view.instance, text=text)]
    percent = 100 * last.used / last.quota if last.quota else 0.0
    facts = [
        Fact(
            "Used today",
            f"{format_count(last.used)} of {format_count(last.quota)} ({format_percent(percent)})",
        ),
        Fact("Left", format_count(max(0, last.quota - last.used))),
        Fact("Resets", f"in {span(reset - now)} (00:00 CT)"),
        Fact("Sampled", f"{clock_ct(taken, now)} ({ago(taken, now)})"),
    ]
    if errors := _errors(last):
        facts.append(Fact("API errors today", errors))
    lines = [forecast(view.today, day_start) or "One sample so far; a forecast follows the next poll."]
    if now - taken > STALE_SAMPLE:
        lines.append(f"The latest sample is {span(now - taken)} old; check the poller with `status`.")
    sections = [Section(title=view.instance, text="\n".join(lines), facts=tuple(facts))]
    users = _users(view)
    return [*sections, users] if users else sections


def _no_data(ctx: CommandContext) -> str:
    configured = [i.munchkin_id for i in ctx.settings.marketo.instances]
    if configured:
        return f"No quota data yet for {', '.join(configured)} — waiting for the first poll of Marketo's usage API."
    return (
        "No quota data yet — configure `marketo.instances` in the config so notifbot can poll Marketo's "
        "usage API."
    )


async def quota_reply(ctx: CommandContext, share: bool) -> Reply:
    """The quota card for every configured or observed instance (or a friendly note when there is no data)."""
    now = ctx.clock()
    day_start = last_central_midnight(now)
    views = await ctx.db.read(quota_overview, day_start.timestamp())
    if not views:
        return Reply(TITLE, (Section(text=_no_data(ctx)),), visibility=visibility(share))
    sections: list[Section] = []
    for view in sorted(views, key=lambda v: v.instance):
        sections.extend(_instance(view, now, day_start))
    seen = {v.instance for v in views}
    for inst in ctx.settings.marketo.instances:
        if inst.munchkin_id not in seen:
            sections.append(
                Section(title=inst.munchkin_id, text="Waiting for the first poll of the usage API.")
            )
    footer = (
        "Marketo's daily API quota resets at midnight US Central (00:00 CT); usage as Marketo reports it."
    )
    return Reply(TITLE, tuple(sections), footer=footer, visibility=visibility(share))

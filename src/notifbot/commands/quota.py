"""`/marketo quota`: usage today, time to the reset at midnight US Central, burn-rate forecast, top users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.commands.model import CommandContext, Fact, Item, Reply, Section, Visibility
from notifbot.render.text import format_ct, next_central_midnight
from notifbot.store.queries import QuotaSample, quota_samples


def _span(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, mins = divmod(minutes, 60)
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def forecast(samples: list[QuotaSample]) -> str | None:
    """A sentence on when the quota runs out at today's rate (None with fewer than two samples)."""
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    elapsed = last.sampled_at - first.sampled_at
    if elapsed <= 0 or last.used <= first.used:
        return "usage has not grown since the first sample today"
    rate = (last.used - first.used) / elapsed
    now = datetime.fromtimestamp(last.sampled_at, UTC)
    reset = next_central_midnight(now)
    if last.used >= last.quota:
        return f"the quota is used up; calls fail with error 607 until the reset at {format_ct(reset)}"
    runs_out = now + timedelta(seconds=(last.quota - last.used) / rate)
    per_hour = f"{rate * 3600:,.0f} calls/h"
    if runs_out >= reset:
        return f"at the current rate ({per_hour}) the quota lasts until the reset"
    return (
        f"at the current rate ({per_hour}) the quota runs out at {format_ct(runs_out)}, "
        f"{_span(reset - runs_out)} before the reset"
    )


def _instance_section(instance: str, samples: list[QuotaSample], now: datetime) -> Section:
    last = samples[-1]
    percent = 100.0 * last.used / last.quota if last.quota else 0.0
    reset = next_central_midnight(now)
    facts = [
        Fact("Used today", f"{last.used:,} of {last.quota:,} ({percent:.0f} %)"),
        Fact("Resets", f"in {_span(reset - now)} ({format_ct(reset)})"),
        Fact("Sampled", format_ct(datetime.fromtimestamp(last.sampled_at, UTC))),
    ]
    errors = {k: v for k, v in last.errors.items() if v}
    if errors:
        facts.append(
            Fact("API errors today", ", ".join(f"{code}: {n:,}" for code, n in sorted(errors.items())))
        )
    users = sorted(last.users, key=lambda u: -int(u.get("count") or 0))[:5]
    items = tuple(
        Item(str(u.get("userId") or "unknown"), detail=f"{int(u.get('count') or 0):,} calls") for u in users
    )
    return Section(title=instance, text=forecast(samples), facts=tuple(facts), items=items)


async def quota_reply(ctx: CommandContext, share: bool) -> Reply:
    """The quota card for every instance with samples (or what to configure)."""
    samples = await ctx.db.read(quota_samples)
    visibility: Visibility = "in_channel" if share else "ephemeral"
    if not samples:
        if ctx.settings.marketo.instances:
            text = "No quota data yet — waiting for the first poll of Marketo's usage API."
        else:
            text = (
                "No quota data yet — configure `marketo.instances` in the config so notifbot can poll "
                "Marketo's usage API."
            )
        return Reply("Marketo API quota", (Section(text=text),), visibility=visibility)
    now = ctx.clock()
    sections = tuple(_instance_section(i, s, now) for i, s in sorted(samples.items()))
    return Reply(
        "Marketo API quota",
        sections,
        footer="Top API users are today's biggest callers.",
        visibility=visibility,
    )

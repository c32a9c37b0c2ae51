"""The quota watch's sentences, worded from the numbers and times it stores (docs/design/locale.md §3.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from notifbot.central_time import CENTRAL
from notifbot.i18n import Texts
from notifbot.iso_time import parse_time
from notifbot.model import Notification

QUOTA_SOURCE = "marketo"  # the quota watch (sources/marketo/quota.py) stores its events under this source

# `outlook`, as the quota watch stores it: what happens to the quota before the reset at 00:00 CT
USED_UP = "used_up"  # the calls counted reach the quota
REFUSED = "refused"  # Marketo itself answered 607 (daily quota reached)
LASTS = "lasts"  # at the current rate the quota lasts until the reset
RUNS_OUT = "runs_out"  # at the current rate it runs out at `runs_out_at`


def _span(t: Texts, seconds: float) -> str:
    """Whole hours from an hour up, else minutes: the quota watch's coarse "12 h" / "40 min"."""
    minutes = round(seconds / 60)
    return t._("{n} h").format(n=minutes // 60) if minutes >= 60 else t._("{n} min").format(n=minutes)


def is_number(value: object) -> TypeGuard[int | float]:
    """Whether `value` is an int or float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def plain_number(t: Texts, value: float) -> str:
    """A threshold or percentage as the watch writes it ("80", "97.5"; "97,5" in Swedish)."""
    return f"{value:g}" if t.english else t.count(value)


def forecast_text(fields: Mapping[str, Any], t: Texts) -> str | None:
    """The burn-rate forecast of a quota-watch event in `t`'s language, or None when it stored none."""
    outlook = fields.get("outlook")
    if outlook == USED_UP:
        return t._("the quota is used up; Marketo refuses calls (607) until the reset at 00:00 CT")
    if outlook == REFUSED:
        return t._("Marketo answers 607 (daily quota reached) to every call until the reset at 00:00 CT")
    if outlook == LASTS:
        return t._("at the current rate the quota lasts until the reset at 00:00 CT")
    runs_out, reset = parse_time(fields.get("runs_out_at")), parse_time(fields.get("resets_at"))
    if outlook != RUNS_OUT or runs_out is None or reset is None:
        return None
    return t._("at the current rate the quota runs out at {time} CT, {span} before the reset").format(
        time=f"{runs_out.astimezone(CENTRAL):%H:%M}", span=_span(t, (reset - runs_out).total_seconds())
    )


def quota_summary(n: Notification, fields: Mapping[str, Any], t: Texts) -> str | None:
    """The quota watch's one-line summary (threshold passed, or the reset), or None for other senders' events."""
    if n.source != QUOTA_SOURCE or not n.instance:
        return None
    used, quota, percent, threshold = (fields.get(k) for k in ("used", "quota", "percent", "threshold"))
    if n.status == "resolved" and used is None:
        return t._("Marketo's daily API quota on {instance} reset at 00:00 CT").format(instance=n.instance)
    if not (is_number(used) and is_number(quota) and is_number(percent) and is_number(threshold)):
        return None
    values = {
        "instance": n.instance,
        "threshold": plain_number(t, float(threshold)),
        "used": t.count(used),
        "quota": t.count(quota),
        "percent": plain_number(t, float(percent)),
    }
    forecast = fields.get("forecast") if isinstance(fields.get("forecast"), str) else forecast_text(fields, t)
    if forecast:
        return t._(
            "Marketo API usage on {instance} passed {threshold} %: {used} of {quota} calls today ({percent} %); "
            "resets at 00:00 CT; {forecast}"
        ).format(forecast=forecast, **values)
    return t._(
        "Marketo API usage on {instance} passed {threshold} %: {used} of {quota} calls today ({percent} %); "
        "resets at 00:00 CT"
    ).format(**values)

"""`web_services`: the subscription's daily REST API quota is nearly or fully used (resets at midnight US Central)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, with_config

from notifbot.central_time import next_central_midnight
from notifbot.i18n import EN, N_, Texts
from notifbot.iso_time import parse_time
from notifbot.kinds import mail_rules
from notifbot.kinds.parts import Parts, add, get
from notifbot.kinds.quota_text import forecast_text, quota_summary
from notifbot.kinds.spec import OPEN, Count, KindSpec, OpenFields
from notifbot.model import Kind, Notification, Severity
from notifbot.text import as_text


@with_config(OPEN)
class WebServicesFields(OpenFields, total=False):
    used: Count | None
    quota: Count | None
    percent: Annotated[float, Field(ge=0)] | None
    resets_at: datetime | None


def finite_number(value: object) -> float | None:
    """A finite number from an int, float or numeric string ("40,000"); None for anything else or out of range."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value.strip().replace(",", "")) if isinstance(value, str) else float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def quota_percent(fields: Mapping[str, Any]) -> float | None:
    """Percent of the daily API quota used: `percent`, else `used` / `quota`, else the `threshold` crossed."""
    percent = finite_number(fields.get("percent"))
    if percent is None:
        used, quota = finite_number(fields.get("used")), finite_number(fields.get("quota"))
        if used is not None and quota:
            percent = used * 100 / quota
    if percent is None or not math.isfinite(percent):
        percent = finite_number(fields.get("threshold"))
    return percent


def _next_reset(after: datetime) -> datetime | None:
    """The quota reset after `after`, or None at the end of the calendar (the fact is then left out)."""
    try:
        return next_central_midnight(after)
    except (OverflowError, ValueError):
        return None


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """How much of the quota is used, when it resets, who used it, and the forecast."""
    percent = quota_percent(fields)
    if percent is not None and percent < 100:
        title = t._("Marketo daily API quota at {percent}").format(percent=t.percent(percent))
    else:
        title = t._("Marketo daily API quota reached")
    parts = Parts(title, summary=quota_summary(n, fields, t))
    add(
        parts.facts, t.pgettext("fact", "API calls used"), get(fields, "used") and t.count(fields.get("used"))
    )
    add(parts.facts, t.pgettext("fact", "Daily quota"), get(fields, "quota") and t.count(fields.get("quota")))
    add(
        parts.facts,
        t.pgettext("fact", "Percent used"),
        t.percent(percent) if percent is not None else get(fields, "percent"),
    )
    resets: datetime | None = parse_time(fields.get("resets_at"))
    if resets is None and fields.get("resets_at") is None and isinstance(n.occurred_at, datetime):
        resets = _next_reset(n.occurred_at)
    add(
        parts.facts,
        t.pgettext("fact", "Resets"),
        reset_text(resets, t) if resets else get(fields, "resets_at"),
    )
    users = fields.get("top_users")
    if isinstance(users, list) and users:
        top = [
            f"{as_text(u.get('userId') or u.get('user') or '?')} ({t.count(u.get('count'))})"
            for u in users[:5]
            if isinstance(u, Mapping)
        ]
        add(parts.facts, t.pgettext("fact", "Top API users"), ", ".join(top))
    forecast = get(fields, "forecast") or forecast_text(fields, t)
    if forecast:
        parts.detail = (t.pgettext("heading", "Forecast"), forecast)
    return parts


def reset_text(resets: datetime, t: Texts) -> str:
    """The reset time: local with CT beside when a zone is set; US Central with its day when not (today's text)."""
    try:
        return t.reset(resets)
    except (OverflowError, ValueError):  # a time the zone cannot hold (year 1 or 9999): as `ct` shows it
        return t.ct(resets)


_TOP = N_("Find the top API users in Admin → Web Services → API Call Information.")


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """What 100 % means, and where to find who is using the quota."""
    percent = quota_percent(fields)
    if percent is not None and percent < 100:
        text = t._("At {full} every API call is refused until midnight US Central. {top}")
    else:
        text = t._(
            "All API calls are refused (error 607) until the quota resets at midnight US Central. {top}"
        )
    return text.format(full=t.percent(100), top=t._(_TOP))


def refine_severity(fields: Mapping[str, Any]) -> Severity | None:
    """Below 100 % of the quota it is a `warning`, not yet `critical`."""
    percent = quota_percent(fields)
    return Severity.WARNING if percent is not None and percent < 100 else None


WEB_SERVICES = KindSpec(
    kind=Kind.WEB_SERVICES,
    severity=Severity.CRITICAL,
    schema=WebServicesFields,
    salient=("used", "quota", "percent", "resets_at"),
    problem=("resets_at",),  # one quota day of one instance: 80 → 95 → 100 % and the reset are one message
    lasts=timedelta(hours=25),
    describe=describe,
    advice=advise,
    samples=("web_services",),
    refine_severity=refine_severity,
    email_rules=mail_rules.WEB_SERVICES,
)

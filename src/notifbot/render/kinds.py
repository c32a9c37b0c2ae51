"""What each notification kind shows: its title, key facts, detail text, list and link (raw, unescaped)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notifbot.central_time import next_central_midnight
from notifbot.iso_time import parse_time
from notifbot.links import DEFAULT_LINKS, MARKETO_LABEL, Link, LinkPolicy, classify_link, safe_url
from notifbot.model import Kind, Notification, quota_percent
from notifbot.text import (
    as_text,
    format_count,
    format_ct,
    format_date,
    format_percent,
    format_when,
    humanize,
    one_line,
    to_number,
)

Facts = list[tuple[str, str]]

CRM_NAMES: Mapping[str, str] = {"salesforce": "Salesforce", "dynamics": "Microsoft Dynamics"}
FACEBOOK_REASONS: Mapping[str, str] = {
    "terms_not_accepted": "Terms of Service not accepted",
    "app_removed": "Marketo app removed",
}
LINKEDIN_OPERATIONS: Mapping[str, str] = {
    "create_audience": "could not create the audience",
    "login": "could not log in",
    "send_leads": "could not send leads",
}
CLEANUP_STAGES: Mapping[str, str] = {
    "at_risk": "At risk (nearing 6 months idle)",
    "scheduled": "Scheduled for deactivation",
    "deactivated": "Deactivated",
}
DYNAMICS_CODES = ("dynamics", "microsoft_dynamics", "msdynamics")
CSV_LABEL = "See the full list (CSV)"  # Marketo's Dynamics digest: "See the full list" opens a CSV

__all__ = ["Listing", "Parts", "describe", "generic", "safe_url"]


@dataclass
class Listing:
    """A bounded list to show: kind of item, the raw items and how many exist in total."""

    kind: str  # "campaigns" or "leads"
    title: str
    items: list[Any]
    total: int


@dataclass
class Parts:
    """The raw (unescaped) content of one message."""

    title: str
    facts: Facts = field(default_factory=list)
    detail: tuple[str, str] | None = None
    listing: Listing | None = None
    link: Link | None = None  # set by `describe` from the first offered URL that may be opened
    link_label: str = MARKETO_LABEL  # what the button says when the link's host is Marketo's
    offers: list[tuple[object, str]] = field(default_factory=list)  # (raw URL value, its Marketo label)

    def offer(self, value: object, label: str = MARKETO_LABEL) -> Parts:
        """Offers `value` as the message's link (the first one that may be opened wins); returns self."""
        self.offers.append((value, label))
        return self

    def resolve(self, links: LinkPolicy) -> Parts:
        """Sets `link` from the offers, classified under `links`; returns self."""
        for value, label in self.offers:
            link = classify_link(value, links)
            if link is not None:
                self.link, self.link_label = link, label
                break
        return self

    @property
    def url(self) -> str | None:
        """The URL the message's button opens, if any."""
        return self.link.url if self.link is not None else None


def _get(fields: Mapping[str, Any], key: str) -> str | None:
    """The field as display text, or None when absent or blank."""
    text = as_text(fields.get(key)).strip()
    return text or None


def _add(facts: Facts, label: str, value: str | None) -> None:
    if value:
        facts.append((label, value))


def _code(fields: Mapping[str, Any], key: str) -> str:
    return as_text(fields.get(key)).strip().lower().replace(" ", "_").replace("-", "_")


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _campaign(fields: Mapping[str, Any], verb: str) -> Parts:
    name = _get(fields, "campaign_name")
    parts = Parts(f"Campaign {verb}: {name}" if name else f"Smart campaign {verb}").offer(fields.get("url"))
    _add(parts.facts, "Campaign", name)
    _add(parts.facts, "Program", _get(fields, "program_name"))
    _add(parts.facts, "Aborted by", _get(fields, "user_id"))
    _add(parts.facts, "Campaign ID", _get(fields, "campaign_id"))
    if error := _get(fields, "error"):
        parts.detail = ("Error", error)
    return parts


def _campaign_failure(n: Notification, fields: Mapping[str, Any]) -> Parts:
    return _campaign(fields, "failed")


def _campaign_abort(n: Notification, fields: Mapping[str, Any]) -> Parts:
    return _campaign(fields, "aborted")


def _crm_sync(n: Notification, fields: Mapping[str, Any]) -> Parts:
    crm = CRM_NAMES.get(_code(fields, "crm"), humanize(fields.get("crm")) or "CRM")
    problem = humanize(fields.get("problem"))
    leads = _as_list(fields.get("leads"))
    count = to_number(fields.get("failed_leads"))
    shown = format_count(fields.get("failed_leads")) if fields.get("failed_leads") is not None else None
    if count is not None:
        title = f"{crm}: {shown} lead{'' if count == 1 else 's'} failed to sync"
        title += f" ({problem})" if problem else ""
    else:
        title = f"{crm} sync failing: {problem}" if problem else f"{crm} sync problem"
    errors_label = CSV_LABEL if _code(fields, "crm") in DYNAMICS_CODES else MARKETO_LABEL
    parts = Parts(title).offer(fields.get("errors_url"), errors_label).offer(fields.get("url"))
    _add(parts.facts, "CRM", crm)
    _add(parts.facts, "Problem", problem[:1].upper() + problem[1:] if problem else None)
    _add(parts.facts, "Failed leads", shown)
    start, end = fields.get("period_start"), fields.get("period_end")
    if start or end:
        _add(
            parts.facts,
            "Period",
            f"{format_when(start) if start else '?'} → {format_when(end) if end else '?'}",
        )
    if error := _get(fields, "error"):
        parts.detail = ("Error", error)
    if leads:
        total = max(len(leads), int(count)) if count is not None and count < 1e12 else len(leads)
        parts.listing = Listing("leads", "Leads that failed to sync", leads, total)
    return parts


def _engagement(n: Notification, fields: Mapping[str, Any]) -> Parts:
    stream = _get(fields, "stream_name")
    program = _get(fields, "program_name")
    where = stream or program
    parts = Parts(
        f"Engagement content exhausted: {where}" if where else "Engagement program content exhausted"
    )
    parts.offer(fields.get("url"))
    _add(parts.facts, "Program", program)
    _add(parts.facts, "Stream", stream)
    if fields.get("exhausted_count") is not None:
        _add(parts.facts, "Exhausted people", format_count(fields.get("exhausted_count")))
    return parts


def _facebook(n: Notification, fields: Mapping[str, Any]) -> Parts:
    reason = FACEBOOK_REASONS.get(_code(fields, "reason")) or humanize(fields.get("reason"))
    parts = Parts(f"Facebook audience sync blocked: {reason}" if reason else "Facebook audience sync blocked")
    _add(parts.facts, "Reason", reason)
    _add(parts.facts, "Audience", _get(fields, "audience_name"))
    return parts


def _trigger_cleanup(n: Notification, fields: Mapping[str, Any]) -> Parts:
    stage = _code(fields, "stage")
    campaigns = _as_list(fields.get("campaigns"))
    count = len(campaigns)
    when = fields.get("deactivate_on")
    date = format_date(when) if when else None
    noun = f"{count} idle trigger campaign{'' if count == 1 else 's'}" if count else "Idle trigger campaigns"
    if stage == "scheduled":
        title = f"Cleanup scheduled: {noun} will be deactivated" + (f" on {date}" if date else "")
    elif stage == "deactivated":
        title = f"Cleanup done: {noun} deactivated"
    else:
        title = f"{noun} at risk of automatic cleanup"
    parts = Parts(title).offer(fields.get("url"))
    if count == 1 and isinstance(campaigns[0], Mapping):  # several campaigns are each linked in the list
        parts.offer(campaigns[0].get("url"))
    _add(parts.facts, "Stage", CLEANUP_STAGES.get(stage) or humanize(fields.get("stage")))
    _add(parts.facts, "Deactivated on" if stage == "deactivated" else "Deactivation date", date)
    _add(parts.facts, "Campaigns", format_count(count) if count else None)
    if campaigns:
        label = "Deactivated campaigns" if stage == "deactivated" else "Campaigns"
        parts.listing = Listing("campaigns", label, campaigns, count)
    return parts


def _linkedin(n: Notification, fields: Mapping[str, Any]) -> Parts:
    op = LINKEDIN_OPERATIONS.get(_code(fields, "operation")) or humanize(fields.get("operation"))
    attempts = _get(fields, "attempts")
    title = f"LinkedIn: {op}" if op else "LinkedIn sync problem"
    title += f" after {attempts} tries" if attempts else ""
    parts = Parts(title)
    _add(parts.facts, "Operation", humanize(fields.get("operation")) or None)
    _add(parts.facts, "Attempts", attempts)
    _add(parts.facts, "Audience", _get(fields, "audience_name"))
    return parts


def _web_services(n: Notification, fields: Mapping[str, Any]) -> Parts:
    percent = quota_percent(fields)
    if percent is not None and percent < 100:
        title = f"Marketo daily API quota at {format_percent(percent)}"
    else:
        title = "Marketo daily API quota reached"
    parts = Parts(title)
    _add(parts.facts, "API calls used", _get(fields, "used") and format_count(fields.get("used")))
    _add(parts.facts, "Daily quota", _get(fields, "quota") and format_count(fields.get("quota")))
    _add(
        parts.facts,
        "Percent used",
        format_percent(percent) if percent is not None else _get(fields, "percent"),
    )
    resets: datetime | None = parse_time(fields.get("resets_at"))
    if resets is None and fields.get("resets_at") is None and isinstance(n.occurred_at, datetime):
        resets = _next_reset(n.occurred_at)
    _add(parts.facts, "Resets", format_ct(resets) if resets else _get(fields, "resets_at"))
    users = fields.get("top_users")
    if isinstance(users, list) and users:
        top = [
            f"{as_text(u.get('userId') or u.get('user') or '?')} ({format_count(u.get('count'))})"
            for u in users[:5]
            if isinstance(u, Mapping)
        ]
        _add(parts.facts, "Top API users", ", ".join(top))
    forecast = _get(fields, "forecast")
    if forecast:
        parts.detail = ("Forecast", forecast)
    return parts


def _next_reset(after: datetime) -> datetime | None:
    """The quota reset after `after`, or None at the end of the calendar (the fact is then left out)."""
    try:
        return next_central_midnight(after)
    except (OverflowError, ValueError):
        return None


def _audit(n: Notification, fields: Mapping[str, Any]) -> Parts:
    user, action = _get(fields, "user_id"), _get(fields, "action")
    ctype, cname = _get(fields, "component_type"), _get(fields, "component_name")
    what = " ".join(w for w in (action, ctype, f'"{cname}"' if cname else None) if w)
    words = " — ".join(w for w in (user, what) if w)
    parts = Parts(f"Audit: {words}" if words else "Marketo audit event")
    _add(parts.facts, "User", user)
    _add(parts.facts, "Action", action)
    _add(parts.facts, "Component", " ".join(w for w in (ctype, cname) if w) or None)
    _add(parts.facts, "Component ID", _get(fields, "component_id"))
    return parts


def generic(n: Notification, fields: Mapping[str, Any], *, max_facts: int = 10) -> Parts:
    """Any notification as a title plus its fields as a bounded key/value list."""
    parts = Parts(f"Marketo notification: {n.kind_label}").offer(fields.get("url"))
    items = [(str(k), v) for k, v in fields.items() if v is not None and v != ""]
    shown = items if len(items) <= max_facts else items[: max_facts - 1]
    for key, value in shown:
        label = humanize(key) or key
        parts.facts.append((label[:1].upper() + label[1:], one_line(as_text(value))[:1_000]))
    if len(items) > len(shown):
        rest = [k for k, _ in items[len(shown) :]]
        parts.facts.append(("More fields", f"{len(rest)} more: " + ", ".join(rest)[:500]))
    return parts


DESCRIBERS: Mapping[Kind, Callable[[Notification, Mapping[str, Any]], Parts]] = {
    Kind.CAMPAIGN_FAILURE: _campaign_failure,
    Kind.CAMPAIGN_ABORT: _campaign_abort,
    Kind.CRM_SYNC: _crm_sync,
    Kind.ENGAGEMENT: _engagement,
    Kind.FACEBOOK: _facebook,
    Kind.TRIGGER_CLEANUP: _trigger_cleanup,
    Kind.LINKEDIN: _linkedin,
    Kind.WEB_SERVICES: _web_services,
    Kind.AUDIT: _audit,
}


def describe(n: Notification, links: LinkPolicy = DEFAULT_LINKS) -> Parts:
    """The raw parts of `n`'s message, its link classified under `links`; unknown kinds fall back to a generic list."""
    fields: Mapping[str, Any] = n.fields if isinstance(n.fields, Mapping) else {}
    describer = DESCRIBERS.get(n.kind)
    if describer is not None:
        try:
            return describer(n, fields).resolve(links)
        except Exception:  # a renderer must never drop a notification over an odd field value
            pass
    try:
        return generic(n, fields).resolve(links)
    except Exception:  # fields that cannot even be listed: the title alone
        return Parts(f"Marketo notification: {n.kind_label}")

"""`crm_sync`: Salesforce or Microsoft Dynamics sync problems, and the leads that failed to sync."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, N_, Texts
from notifbot.kinds import mail_rules
from notifbot.kinds.parts import Listing, Parts, add, as_list, code, get
from notifbot.kinds.spec import OPEN, Count, Ident, KindSpec, OpenFields, ShortText, Text
from notifbot.links import MARKETO_LABEL
from notifbot.model import Kind, Notification, Severity
from notifbot.text import humanize, to_number

CRM_NAMES: Mapping[str, str] = {"salesforce": "Salesforce", "dynamics": "Microsoft Dynamics"}
DYNAMICS_CODES = ("dynamics", "microsoft_dynamics", "msdynamics")
CSV_LABEL = N_("See the full list (CSV)")  # Marketo's Dynamics digest: "See the full list" opens a CSV


@with_config(OPEN)
class FailedLead(OpenFields, total=False):
    id: Ident | None
    name: ShortText | None
    email: ShortText | None
    error: Text | None


@with_config(OPEN)
class CrmSyncFields(OpenFields, total=False):
    crm: ShortText | None
    problem: ShortText | None
    failed_leads: Count | None
    period_start: datetime | None
    period_end: datetime | None
    errors_url: ShortText | None
    leads: list[FailedLead] | None
    error: Text | None


def _title(crm: str, problem: str, count: float | None, shown: str | None, t: Texts) -> str:
    """ "Salesforce: 3 leads failed to sync (expired credentials)", or the sync problem when no count is given."""
    if count is not None:
        n = int(count) if count.is_integer() and abs(count) < 1e18 else 2  # 2: the plural form
        if problem:
            text = t.ngettext(
                "{crm}: {n} lead failed to sync ({problem})", "{crm}: {n} leads failed to sync ({problem})", n
            )
        else:
            text = t.ngettext("{crm}: {n} lead failed to sync", "{crm}: {n} leads failed to sync", n)
        return text.format(crm=crm, n=shown, problem=problem)
    if problem:
        return t._("{crm} sync failing: {problem}").format(crm=crm, problem=problem)
    return t._("{crm} sync problem").format(crm=crm)


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """Which CRM, what went wrong, how many leads failed (and which), over which period."""
    crm = CRM_NAMES.get(code(fields.get("crm")), humanize(fields.get("crm")) or "CRM")
    problem = humanize(fields.get("problem"))
    leads = as_list(fields.get("leads"))
    count = to_number(fields.get("failed_leads"))
    shown = t.count(fields.get("failed_leads")) if fields.get("failed_leads") is not None else None
    errors_label = t._(CSV_LABEL) if code(fields.get("crm")) in DYNAMICS_CODES else MARKETO_LABEL
    parts = Parts(_title(crm, problem, count, shown, t))
    parts.offer(fields.get("errors_url"), errors_label).offer(fields.get("url"))
    add(parts.facts, t.pgettext("fact", "CRM"), crm)
    add(parts.facts, t.pgettext("fact", "Problem"), problem[:1].upper() + problem[1:] if problem else None)
    add(parts.facts, t.pgettext("fact", "Failed leads"), shown)
    start, end = fields.get("period_start"), fields.get("period_end")
    if start or end:
        add(
            parts.facts,
            t.pgettext("fact", "Period"),
            f"{t.when(start) if start else '?'} → {t.when(end) if end else '?'}",
        )
    if error := get(fields, "error"):
        parts.detail = (t.pgettext("heading", "Error"), error)
    if leads:
        total = max(len(leads), int(count)) if count is not None and count < 1e12 else len(leads)
        parts.listing = Listing("leads", t._("Leads that failed to sync"), leads, total)
    return parts


# TRANSLATORS: Marketo's Dynamics digest links its CSV of failed leads as "See the full list" (kept in English)
_CSV = N_('Open the CSV ("See the full list", kept 30 days)')

_SALESFORCE: Mapping[str, str] = {
    "expired_credentials": N_(
        "Re-authenticate the Salesforce sync user in Admin → Salesforce, then re-enable the sync."
    ),
    "api_limit_exceeded": N_(
        "The Salesforce org hit its rolling 24-h API request limit; Marketo's sync resumes on its own once calls "
        "free up. Raise the org limit or cut other integrations' usage."
    ),
    "permissions": N_(
        "Give the Salesforce sync user access to the objects and fields it syncs (profile, field-level security), "
        "then re-enable the sync in Admin → Salesforce."
    ),
    "sync_disabled": N_(
        "The sync is off: fix the reported cause, then turn it back on in Admin → Salesforce."
    ),
}
_SALESFORCE_DEFAULT = N_(
    "Check the sync errors in Admin → Salesforce, fix the cause, and re-enable the sync if it stopped."
)

# {csv} is the sentence `_CSV` ("Open the CSV …")
_DYNAMICS: Mapping[str, str] = {
    "duplicate_leads": N_(
        "{csv}, then merge or delete the duplicate records in Dynamics; the next sync retries them."
    ),
    "field_length_mismatch": N_(
        "{csv}, then shorten those values or widen the Dynamics fields so both sides' field lengths match."
    ),
    "expired_credentials": N_(
        "Re-enter the Dynamics sync user's credentials in Admin → Microsoft Dynamics, then re-enable the sync."
    ),
    "permissions": N_(
        "Give the Dynamics sync user the security role it needs, then re-enable the sync in "
        "Admin → Microsoft Dynamics."
    ),
    "sync_disabled": N_(
        "The sync is off: fix the reported cause, then turn it back on in Admin → Microsoft Dynamics."
    ),
}
_DYNAMICS_DEFAULT = N_(
    "{csv} to see why each lead failed, fix those records; they sync again on the next cycle."
)

_CRM_DEFAULT = N_(
    "Check the CRM sync errors in Marketo Admin, fix the cause, and re-enable the sync if it stopped."
)


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """The next step for this CRM and problem."""
    crm, problem = code(fields.get("crm")), code(fields.get("problem"))
    if crm == "salesforce":
        return t._(_SALESFORCE.get(problem, _SALESFORCE_DEFAULT))
    if crm in DYNAMICS_CODES:
        return t._(_DYNAMICS.get(problem, _DYNAMICS_DEFAULT)).format(csv=t._(_CSV))
    return t._(_CRM_DEFAULT)


CRM_SYNC = KindSpec(
    kind=Kind.CRM_SYNC,
    severity=Severity.CRITICAL,
    schema=CrmSyncFields,
    salient=("crm", "problem", "failed_leads", "period_start", "period_end"),
    describe=describe,
    advice=advise,
    samples=("crm_sync", "crm_sync_dynamics"),
    email_rules=mail_rules.CRM_SYNC,
)

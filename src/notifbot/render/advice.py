"""One actionable "what to do" line per notification kind (and per CRM problem)."""

from __future__ import annotations

from collections.abc import Mapping

from notifbot.iso_time import parse_time
from notifbot.model import Kind, Notification, quota_percent
from notifbot.text import as_text, format_date

_CSV = 'Open the CSV ("See the full list", kept 30 days)'

_SALESFORCE: Mapping[str, str] = {
    "expired_credentials": "Re-authenticate the Salesforce sync user in Admin → Salesforce, then re-enable the sync.",
    "api_limit_exceeded": (
        "The Salesforce org hit its rolling 24-h API request limit; Marketo's sync resumes on its own once calls "
        "free up. Raise the org limit or cut other integrations' usage."
    ),
    "permissions": (
        "Give the Salesforce sync user access to the objects and fields it syncs (profile, field-level security), "
        "then re-enable the sync in Admin → Salesforce."
    ),
    "sync_disabled": "The sync is off: fix the reported cause, then turn it back on in Admin → Salesforce.",
}
_SALESFORCE_DEFAULT = (
    "Check the sync errors in Admin → Salesforce, fix the cause, and re-enable the sync if it stopped."
)

_DYNAMICS: Mapping[str, str] = {
    "duplicate_leads": f"{_CSV}, then merge or delete the duplicate records in Dynamics; the next sync retries them.",
    "field_length_mismatch": (
        f"{_CSV}, then shorten those values or widen the Dynamics fields so both sides' field lengths match."
    ),
    "expired_credentials": "Re-enter the Dynamics sync user's credentials in Admin → Microsoft Dynamics, "
    "then re-enable the sync.",
    "permissions": "Give the Dynamics sync user the security role it needs, then re-enable the sync in "
    "Admin → Microsoft Dynamics.",
    "sync_disabled": "The sync is off: fix the reported cause, then turn it back on in Admin → Microsoft Dynamics.",
}
_DYNAMICS_DEFAULT = (
    f"{_CSV} to see why each lead failed, fix those records; they sync again on the next cycle."
)

_CRM_DEFAULT = (
    "Check the CRM sync errors in Marketo Admin, fix the cause, and re-enable the sync if it stopped."
)

_FACEBOOK: Mapping[str, str] = {
    "terms_not_accepted": "Accept Facebook's Custom Audience Terms of Service for the ad account, then resend "
    "the leads to the audience.",
    "app_removed": "The Marketo app was removed from Facebook: reconnect it in Admin → LaunchPoint, then resend "
    "the leads.",
}
_FACEBOOK_DEFAULT = (
    "Check the Facebook connection in Admin → LaunchPoint and the ad account, then resend the leads."
)

_LINKEDIN: Mapping[str, str] = {
    "create_audience": "Marketo could not create the LinkedIn audience after 3 tries: check the ad account "
    "connection in Admin → LaunchPoint, then retry.",
    "login": "Marketo could not log in to LinkedIn: re-authorize the LinkedIn service in Admin → LaunchPoint.",
    "send_leads": "Leads did not reach LinkedIn after 3 tries: check the LinkedIn service in Admin → LaunchPoint "
    "and the audience, then re-run the step.",
}
_LINKEDIN_DEFAULT = (
    "Check the LinkedIn service in Admin → LaunchPoint (login, ad account, audience), then retry."
)

_SIMPLE: Mapping[Kind, str] = {
    Kind.CAMPAIGN_FAILURE: "Open the campaign, fix the cause in the error (e.g. approve the asset or fix the "
    "flow step), then reschedule or reactivate it.",
    Kind.CAMPAIGN_ABORT: "Confirm with the user who aborted it that this was intended; if not, reschedule the "
    "batch or reactivate the trigger campaign.",
    Kind.ENGAGEMENT: "Add new content to the stream, or adjust its cadence or transitions, so exhausted people "
    "get something next.",
    Kind.AUDIT: "No action needed if the change was expected; otherwise review it with the user in "
    "Admin → Audit Trail.",
    Kind.OTHER: "Open the notification in Marketo (the bell) for details, and route this kind to the right "
    "team in notifbot.yaml.",
}


def _key(value: object) -> str:
    return as_text(value).strip().lower().replace(" ", "_").replace("-", "_")


def _crm_sync(fields: Mapping[str, object]) -> str:
    crm, problem = _key(fields.get("crm")), _key(fields.get("problem"))
    if crm == "salesforce":
        return _SALESFORCE.get(problem, _SALESFORCE_DEFAULT)
    if crm in ("dynamics", "microsoft_dynamics", "msdynamics"):
        return _DYNAMICS.get(problem, _DYNAMICS_DEFAULT)
    return _CRM_DEFAULT


def _trigger_cleanup(fields: Mapping[str, object]) -> str:
    stage = _key(fields.get("stage"))
    if stage == "deactivated":
        return "Reactivate the campaigns still needed; the others can stay off or be archived."
    when = fields.get("deactivate_on")
    by = f" before {format_date(when)}" if parse_time(when) is not None else " before the cleanup date"
    return (
        "To keep a campaign, a person must qualify, or deactivate and reactivate it to reset the 6-month "
        f"clock{by}."
    )


def _web_services(fields: Mapping[str, object]) -> str:
    percent = quota_percent(fields)
    top = "Find the top API users in Admin → Web Services → API Call Information."
    if percent is not None and percent < 100:
        return f"At 100% every API call is refused until midnight US Central. {top}"
    return f"All API calls are refused (error 607) until the quota resets at midnight US Central. {top}"


def what_to_do(n: Notification) -> str:
    """The next step a Marketo admin should take for `n`, as one plain-text line."""
    fields = n.fields if isinstance(n.fields, Mapping) else {}
    if n.kind is Kind.CRM_SYNC:
        return _crm_sync(fields)
    if n.kind is Kind.TRIGGER_CLEANUP:
        return _trigger_cleanup(fields)
    if n.kind is Kind.WEB_SERVICES:
        return _web_services(fields)
    if n.kind is Kind.FACEBOOK:
        return _FACEBOOK.get(_key(fields.get("reason")), _FACEBOOK_DEFAULT)
    if n.kind is Kind.LINKEDIN:
        return _LINKEDIN.get(_key(fields.get("operation")), _LINKEDIN_DEFAULT)
    return _SIMPLE.get(n.kind, _SIMPLE[Kind.OTHER])

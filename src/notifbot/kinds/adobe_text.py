"""The one-line summaries of Adobe I/O events, worded from the fields the mapping stores (docs/design/locale.md §3.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifbot.i18n import Texts
from notifbot.kinds.parts import as_list, get
from notifbot.kinds.quota_text import is_number
from notifbot.model import Kind, Notification
from notifbot.text import as_text

ADOBE_LABEL = "adobe_stream"  # the label sources/adobe_io/mapping.py puts on every event it makes
JOURNAL_EXPIRED = "adobe_io_journal_expired"  # the event sources/adobe_io/journal.py raises on a 410
CRM_NAMES: Mapping[str, str] = {"dynamics": "Microsoft Dynamics", "salesforce": "Salesforce"}


def _web_services(fields: Mapping[str, Any], t: Texts) -> str:
    percent, quota = fields.get("percent"), fields.get("quota")
    if is_number(percent):
        text = (
            t._("Marketo web services reached {percent} of the daily API quota ({quota} calls)")
            if quota is not None
            else t._("Marketo web services reached {percent} of the daily API quota")
        )
    elif quota is not None:
        text = t._("Marketo web services reached a threshold of the daily API quota ({quota} calls)")
    else:
        text = t._("Marketo web services reached a threshold of the daily API quota")
    shown = (f"{percent:g} %" if t.english else t.percent(percent)) if is_number(percent) else ""
    text = text.format(percent=shown, quota=t.count(quota))
    services = ", ".join(as_text(s) for s in as_list(fields.get("service_names")))[:300]
    return f"{text}: {services}" if services else text


def _campaign(fields: Mapping[str, Any], failed: bool, t: Texts) -> str:
    name, cid, user = get(fields, "campaign_name"), fields.get("campaign_id"), get(fields, "user_id")
    if failed:
        if name:
            text = (
                t._('Smart campaign "{name}" failed by {user}')
                if user
                else t._('Smart campaign "{name}" failed')
            )
        elif cid is not None:
            text = t._("Smart campaign {id} failed by {user}") if user else t._("Smart campaign {id} failed")
        else:
            text = t._("Smart campaign failed by {user}") if user else t._("Smart campaign failed")
    elif name:
        text = (
            t._('Smart campaign "{name}" aborted by {user}')
            if user
            else t._('Smart campaign "{name}" aborted')
        )
    elif cid is not None:
        text = t._("Smart campaign {id} aborted by {user}") if user else t._("Smart campaign {id} aborted")
    else:
        text = t._("Smart campaign aborted by {user}") if user else t._("Smart campaign aborted")
    # the mapping's English collapsed double spaces in the name or id; the same is kept for every language
    return text.format(name=(name or "").replace("  ", " "), id=as_text(cid).replace("  ", " "), user=user)


def _crm_sync(fields: Mapping[str, Any], t: Texts) -> str:
    name = CRM_NAMES.get(as_text(fields.get("crm")), "CRM")
    problem = get(fields, "problem_text") or get(fields, "problem")
    if problem:
        return t._("{crm} sync failed: {problem}").format(crm=name, problem=problem)
    return t._("{crm} sync failed").format(crm=name)


def _other(n: Notification, fields: Mapping[str, Any], t: Texts) -> str:
    etype = get(fields, "adobe_event_type") or t._("(no type)")
    unreadable = fields.get("unreadable")
    if isinstance(unreadable, Mapping) and ("data" in unreadable or "fields" in unreadable):
        return t._("Unreadable Adobe I/O event {type}").format(type=etype)
    return t._("Unrecognised Adobe I/O event {type}").format(type=etype)


def adobe_summary(n: Notification, fields: Mapping[str, Any], t: Texts) -> str | None:
    """What an Adobe I/O event says, in `t`'s language; None for events that did not come through the mapping."""
    if not isinstance(n.labels, Mapping) or ADOBE_LABEL not in n.labels:
        return None
    if n.kind is Kind.WEB_SERVICES:
        return _web_services(fields, t)
    if n.kind in (Kind.CAMPAIGN_FAILURE, Kind.CAMPAIGN_ABORT):
        return _campaign(fields, n.kind is Kind.CAMPAIGN_FAILURE, t)
    if n.kind is Kind.ENGAGEMENT:
        where = get(fields, "stream_name") or get(fields, "program_name")
        if where:
            return t._("Nurture content exhausted: {where}").format(where=where)
        return t._("Nurture program content exhausted")
    if n.kind is Kind.CRM_SYNC:
        return _crm_sync(fields, t)
    if n.kind is Kind.AB_TEST_RESULT:
        program = get(fields, "program_name")
        return (
            t._("A/B test result for {program}").format(program=program)
            if program
            else t._("A/B test result")
        )
    if n.kind is Kind.AUDIT:
        keys = ("user_id", "action", "component_type", "component_name")
        words = " ".join(w for w in (get(fields, k) for k in keys) if w)
        return t._("Marketo audit: {words}").format(words=words) if words else t._("Marketo audit event")
    if n.kind is Kind.OTHER and "payload" in fields:
        return _other(n, fields, t)
    if n.kind is Kind.OTHER and n.kind_label == JOURNAL_EXPIRED:
        return t._(
            "The Adobe I/O journal position expired (HTTP 410), so notifbot restarted reading from the {restart} "
            "events: Marketo notifications raised meanwhile may have been missed. Check Marketo's notifications "
            "(bell icon) for the gap."
        ).format(restart=get(fields, "journal_restart") or "latest")
    return None

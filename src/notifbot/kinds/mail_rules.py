"""Each kind's e-mail rules: English and Swedish wording of Marketo's notification e-mails, and field extraction.

Marketo does not publish these formats: the patterns follow the notification descriptions (facts sheet §1, README)
and are tolerant of wording; whatever is not found is left out and the subject and text are kept by the reader.
"""

from __future__ import annotations

import re

from notifbot.kinds.mail import (
    EmailRule,
    Fields,
    bullets,
    clip,
    compact,
    either,
    labelled,
    marketo_url,
    number,
    quoted,
    urls,
    words,
)

_CAMPAIGN = ("smart campaign", "campaign name", "campaign", "smart kampanj", "kampanjnamn", "kampanj")
_PROGRAM = ("program name", "program", "programnamn")
_ERROR = ("error message", "error", "reason", "felmeddelande", "fel", "orsak")
_DATE = r"(\d{4}-\d{2}-\d{2}|\d{1,2} \w+ \d{4}|\w+ \d{1,2}, \d{4})"


def _campaign_failure(subject: str, text: str) -> Fields:
    subject_name = re.search(r"[:–-]\s*(.+)$", subject)
    name = (
        labelled(text, *_CAMPAIGN)
        or quoted(subject)
        or (clip(subject_name.group(1)) if subject_name else None)
    )
    return compact(
        {
            "campaign_name": name,
            "program_name": labelled(text, *_PROGRAM),
            "campaign_id": labelled(text, "campaign id", "kampanj-id"),
            "error": labelled(text, *_ERROR),
            "url": marketo_url(text),
        }
    )


CAMPAIGN_FAILURE = (
    EmailRule(
        subject=words(
            "campaign failure",
            r"campaign\b.*\bfailed",
            "failed campaign",
            "kampanjfel",
            r"kampanj\w*\b.*\bmisslyckades",
        ),
        extract=_campaign_failure,
    ),
)

_CRM_PROBLEMS = {
    "expired_credentials": words(
        "expired credentials", "credentials have expired", r"utg\w+ inloggningsuppgifter"
    ),
    "api_limit_exceeded": words("api limit", "api request limit", r"api-gr\w+ (har )?överskri"),
    "permissions": words("permission", "insufficient access", "behörighet"),
    "duplicate_leads": words("duplicate", "dubblett"),
    "field_length_mismatch": words("field length", "fältlängd"),
    "sync_disabled": words(
        "sync (has been )?disabled", "sync is down", r"synk\w* (har )?(stängts av|avaktiverats)"
    ),
}


def _leads(text: str) -> list[dict[str, str]]:
    leads: list[dict[str, str]] = []
    for line in bullets(text):
        if line.startswith(("http://", "https://")):
            continue
        email = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", line)
        name, _, error = line.partition(":") if ":" in line else (line, "", "")
        name = re.sub(r"[<(]?[\w.+-]+@[\w-]+(?:\.[\w-]+)+[>)]?", "", name).strip(" -–,")
        lead = {"name": clip(name), "email": email.group(0) if email else "", "error": clip(error)}
        leads.append({k: v for k, v in lead.items() if v})
    return leads


def _crm_sync(subject: str, text: str) -> Fields:
    both = f"{subject}\n{text}"
    crm = "dynamics" if re.search(r"dynamics", both, re.I) else "salesforce"
    links = urls(text)
    csv = next((u for u in links if ".csv" in u.lower() or "download" in u.lower()), None)
    return compact(
        {
            "crm": crm,
            "problem": either(both, _CRM_PROBLEMS),
            "failed_leads": number(
                both,
                r"(\d[\d,  ]*)\s+(?:leads?|records?|people|persons?|personer|poster)\s+(?:\w+\s+)?"
                r"(?:failed|could not|did not|kunde inte|inte|misslyckades)",
            ),
            "error": labelled(text, *_ERROR),
            "leads": _leads(text) if crm == "dynamics" else None,
            "errors_url": (csv or (links[0] if links else None)) if crm == "dynamics" else marketo_url(text),
        }
    )


CRM_SYNC = (
    EmailRule(
        subject=words("salesforce", "dynamics", r"crm[ -]?sync", r"crm[ -]?synk"),
        body=words(r"\bsync", r"synk", "failed", "misslyck"),
        extract=_crm_sync,
    ),
)


def _engagement(subject: str, text: str) -> Fields:
    both = f"{subject}\n{text}"
    return compact(
        {
            "program_name": labelled(
                text, "engagement program", "program", "engagemangsprogram", "programnamn"
            ),
            "stream_name": labelled(text, "stream", "ström", "strömmen"),
            "exhausted_count": number(both, r"(\d[\d,  ]*)\s+(?:people|persons?|leads?|personer|leads)\b"),
            "url": marketo_url(text),
        }
    )


ENGAGEMENT = (
    EmailRule(
        subject=words("exhausted", "engagement", r"uttömd", r"uttömt", "engagemang"), extract=_engagement
    ),
    EmailRule(
        body=words(r"exhausted content", r"have exhausted", r"har uttömt", r"uttömt innehåll"),
        extract=_engagement,
    ),
)


def _facebook(subject: str, text: str) -> Fields:
    both = f"{subject}\n{text}"
    reasons = {
        "terms_not_accepted": words("terms of service", "terms", "användarvillkor", "villkor"),
        "app_removed": words(r"app\w* (was |has been )?removed", r"appen (har )?tagits bort", "borttagen"),
    }
    return compact(
        {
            "reason": either(both, reasons),
            "audience_name": labelled(text, "audience", "custom audience", "målgrupp"),
        }
    )


FACEBOOK = (EmailRule(subject=words("facebook"), extract=_facebook),)

_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "två": 2, "tre": 3, "fyra": 4, "fem": 5}


def _linkedin(subject: str, text: str) -> Fields:
    both = f"{subject}\n{text}"
    operations = {
        "create_audience": words(r"create (the |an )?audience", r"skapa (en |målgrupp)", r"skapa målgrupp"),
        "login": words(r"log ?in", "sign in", "logga in"),
        "send_leads": words(r"(push|send)(ing)? (the )?leads", r"skicka (leads|personer)"),
    }
    tries = re.search(r"(\d+|two|three|four|five|två|tre|fyra|fem)\s+(?:tries|attempts|försök)", both, re.I)
    attempts = None
    if tries:
        raw = tries.group(1).lower()
        attempts = int(raw) if raw.isdigit() and len(raw) < 6 else _NUMBER_WORDS.get(raw)
    return compact(
        {
            "operation": either(both, operations),
            "attempts": attempts,
            "audience_name": labelled(text, "audience", "matched audience", "målgrupp"),
        }
    )


LINKEDIN = (EmailRule(subject=words("linkedin"), extract=_linkedin),)


def _cleanup_campaign(line: str) -> dict[str, str]:
    link = next(iter(urls(line)), None)
    name = re.sub(r"https?://\S+", "", line).strip(" -–—|:<>")
    program = re.search(r"\((?:program:?\s*)?([^()]+)\)\s*$", name, re.I) or re.search(
        r"\s[—–|]\s*(?:program:?\s*)?(.+)$", name, re.I
    )
    if program:
        name = name[: program.start()].strip(" -–—|:")
    item = {"name": clip(name), "program_name": clip(program.group(1)) if program else "", "url": link or ""}
    return {k: v for k, v in item.items() if v}


def _trigger_cleanup(subject: str, text: str) -> Fields:
    both = f"{subject}\n{text}"
    done = words(
        r"have been deactivated",
        r"were deactivated",
        r"har inaktiverats",
        r"inaktiverades",
        "deactivation notice",
    )
    stage = (
        "deactivated"
        if done.search(both) and not re.search(r"will be|kommer att", both, re.I)
        else "scheduled"
    )
    when = re.search(rf"(?:on|by|den|på)\s+{_DATE}", both, re.I) or re.search(_DATE, both)
    items = [_cleanup_campaign(b) for b in bullets(text)]
    return compact(
        {
            "stage": stage,
            "deactivate_on": when.group(1) if when else None,
            "campaigns": [i for i in items if i.get("name")],
            "url": marketo_url(text) if not items else None,
        }
    )


TRIGGER_CLEANUP = (
    EmailRule(
        subject=words(
            r"trigger campaign cleanup",
            r"idle trigger",
            r"inaktiva triggerkampanjer",
            r"rensning av (inaktiva )?trigger",
            r"triggerkampanj\w* (kommer att )?inaktiver",
        ),
        extract=_trigger_cleanup,
    ),
)


def _web_services(subject: str, text: str) -> Fields:
    both = f"{subject}\n{text}"
    pair = re.search(
        r"(\d[\d,  ]*\d|\d)\s+(?:of|out of|av|utav)\s+(?:the\s+|din\w*\s+)?(\d[\d,  ]*\d|\d)", both, re.I
    )
    percent = re.search(r"(\d{1,3}(?:[.,]\d+)?)\s*%", both)
    used = int(re.sub(r"\D", "", pair.group(1))) if pair else None
    quota = int(re.sub(r"\D", "", pair.group(2))) if pair else None
    return compact(
        {
            "used": used,
            "quota": quota,
            "percent": float(percent.group(1).replace(",", ".")) if percent else None,
        }
    )


WEB_SERVICES = (
    EmailRule(
        subject=words(
            r"api (daily )?(quota|limit)",
            r"daily (api )?(quota|limit)",
            "web services",
            r"api-kvot",
            r"daglig\w* api",
            "webbtjänster",
        ),
        extract=_web_services,
    ),
)

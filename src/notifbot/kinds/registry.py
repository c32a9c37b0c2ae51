"""The kind registry: every `Kind`'s spec, and the lookups the sources, renderers and commands use."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from itertools import chain
from types import MappingProxyType
from typing import Any

from notifbot.i18n import EN, Texts
from notifbot.kinds import (
    ab_test_result,
    audit,
    campaigns,
    crm_sync,
    engagement,
    facebook,
    linkedin,
    other,
    trigger_cleanup,
    web_services,
)
from notifbot.kinds.adobe_text import adobe_summary
from notifbot.kinds.mail import EmailRule
from notifbot.kinds.parts import Parts
from notifbot.kinds.samples import load_samples
from notifbot.kinds.spec import KindSpec
from notifbot.links import DEFAULT_LINKS, LinkPolicy
from notifbot.model import Kind, Notification, Severity

_SPECS = (
    campaigns.CAMPAIGN_FAILURE,
    campaigns.CAMPAIGN_ABORT,
    crm_sync.CRM_SYNC,
    engagement.ENGAGEMENT,
    facebook.FACEBOOK,
    trigger_cleanup.TRIGGER_CLEANUP,
    linkedin.LINKEDIN,
    web_services.WEB_SERVICES,
    audit.AUDIT,
    ab_test_result.AB_TEST_RESULT,
    other.OTHER,
)
KINDS: Mapping[Kind, KindSpec] = MappingProxyType({spec.kind: spec for spec in _SPECS})


# the order e-mail rules are tried in: the most specific wording first ("campaign" is in a cleanup notice too)
EMAIL_ORDER = (
    Kind.TRIGGER_CLEANUP,
    Kind.CRM_SYNC,
    Kind.FACEBOOK,
    Kind.LINKEDIN,
    Kind.ENGAGEMENT,
    Kind.WEB_SERVICES,
    Kind.CAMPAIGN_FAILURE,
)


def classify_email(
    subject: str, text: str, rules: Sequence[tuple[Kind, EmailRule]] = ()
) -> tuple[Kind, dict[str, Any]]:
    """The kind of a Marketo notification e-mail and the fields its wording gives; `other` and {} when none match.

    `rules` (the config's `email.rules`) are tried first, in order, so they can override the built-in ones.
    """
    builtin = ((kind, rule) for kind in EMAIL_ORDER for rule in KINDS[kind].email_rules)
    for kind, rule in chain(rules, builtin):
        if not rule.matches(subject, text):
            continue
        spec = KINDS[kind]
        try:
            fields = rule.extract(subject, text)
            if spec.adapter is not None:
                spec.adapter.validate_python(fields)  # checked, kept as text (JSON-safe, as the e-mail said)
        except Exception:  # an odd extraction never loses the e-mail: the kind, without fields
            fields = {}
        return kind, fields
    return Kind.OTHER, {}


def spec_for(kind: Kind) -> KindSpec:
    """The spec of `kind` (every Kind has one)."""
    return KINDS[kind]


def default_severity(kind: Kind, fields: Mapping[str, Any]) -> Severity:
    """Severity when the sender gave none: by kind, refined where a field says more."""
    return KINDS[kind].default_severity(fields)


def salient_fields(kind: Kind, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that tell one occurrence of `kind` from another (its salient fields; all when it names none)."""
    names = KINDS[kind].salient
    return {k: fields.get(k) for k in names} if names is not None else dict(fields)


def problem_fields(kind: Kind, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that name one ongoing problem of `kind` (its `problem` fields, else its salient fields)."""
    names = KINDS[kind].problem
    return {k: fields.get(k) for k in names} if names is not None else salient_fields(kind, fields)


def dedupe_key(
    kind: Kind, instance: str | None, fields: Mapping[str, Any], occurred_at: datetime, original_kind: str
) -> str:
    """A stable key for an event without an `id`: same occurrence, same key, across restarts."""
    salient = salient_fields(kind, fields)
    material = {
        "kind": original_kind,
        "instance": instance,
        "fields": salient,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
    return f"nb-{digest[:32]}"


def _fields(n: Notification) -> Mapping[str, Any]:
    return n.fields if isinstance(n.fields, Mapping) else {}


def describe(n: Notification, links: LinkPolicy = DEFAULT_LINKS, t: Texts = EN) -> Parts:
    """The raw parts of `n`'s message in `t`'s locale, its link classified under `links`; unknown kinds get a list."""
    fields = _fields(n)
    spec = KINDS.get(n.kind)
    parts: Parts | None = None
    if spec is not None and spec.describe is not other.generic:
        with suppress(Exception):  # a renderer must never drop a notification over an odd field value
            parts = spec.describe(n, fields, t).resolve(links)
    if parts is None:
        try:
            parts = other.generic(n, fields, t).resolve(links)
        except Exception:  # fields that cannot even be listed: the title alone
            return Parts(t._("Marketo notification: {kind}").format(kind=n.kind_label))
    if parts.summary is None:
        with suppress(Exception):  # odd fields: no summary rather than no message
            parts.summary = adobe_summary(n, fields, t)
    return parts


def what_to_do(n: Notification, t: Texts = EN) -> str:
    """The next step a Marketo admin should take for `n`, as one plain-text line in `t`'s locale."""
    spec = KINDS.get(n.kind, KINDS[Kind.OTHER])
    return spec.advice(_fields(n), t)


def sample_for_kind(kind: str) -> dict[str, Any]:
    """The first sample whose kind is `kind` (or whose name is `kind`; `other` gets the unknown-kind sample)."""
    samples = load_samples()
    spec = next((s for k, s in KINDS.items() if k.value == kind), None)
    if spec is not None and spec.samples:
        return samples[spec.samples[0]]
    for event in samples.values():
        if event.get("kind") == kind:
            return event
    if kind in samples:
        return samples[kind]
    names = sorted({str(e.get("kind")) for e in samples.values()} | set(samples))
    raise KeyError(f"no sample for kind {kind!r}; known kinds and samples: {', '.join(names)}")


def item_label(n: Notification, t: Texts = EN) -> str:
    """One line naming what one event of a group is about (raw text): its title, and its summary when it has one."""
    parts = describe(n, t=t)
    title = parts.title
    own = n.summary or parts.summary  # the event's own summary wins; else the kind's, in `t`'s language
    summary = " ".join(str(own).split()) if own else ""
    return f"{title}: {summary}" if summary and summary not in title else title

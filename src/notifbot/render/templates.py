"""Admin templates (docs/design/locale.md §7): one sandboxed Jinja2 environment, and `Templates`, compiled per kind and
locale, which override a message's title, summary and "what to do" with raw text the renderers escape as any other."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jinja2 import ChainableUndefined, Template, Undefined, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifbot.i18n import EN, Texts
from notifbot.kinds import KINDS, Parts
from notifbot.model import Kind, Notification
from notifbot.text import as_text

log = logging.getLogger("notifbot.render")

Slot = Literal["title", "summary", "what_to_do"]
SLOTS: tuple[Slot, ...] = ("title", "summary", "what_to_do")
# (kind, locale or None for every locale, slot)
TemplateKey = tuple[Kind, str | None, Slot]

# Jinja's own filters that only shape text; `attr`, `format`, `map`, `xmlattr`, `tojson` and the rest are left out
PLAIN_FILTERS = (
    "default",
    "upper",
    "lower",
    "capitalize",
    "trim",
    "truncate",
    "replace",
    "join",
    "length",
    "first",
    "last",
    "round",
    "int",
)
# ours, formatting for the message's locale and zone (`Texts`)
LOCALE_FILTERS = ("count", "percent", "when", "date")
FILTERS = frozenset(PLAIN_FILTERS + LOCALE_FILTERS)
# what every kind's templates may name besides its schema's fields
ENVELOPE = frozenset({"kind", "severity", "instance", "key", "summary", "occurred_at", "count"})
# where the locale filters find the message's `Texts`: not an identifier, so no template can name it
TEXTS_KEY = "notifbot.texts"
MAX_OUTPUT = 4_000  # chars one template gives at most; the renderers cut each slot shorter still
MAX_REPEAT = 4_000  # the longest text or list `*` may build


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with `*` bounded and `**` refused so no template builds a huge value."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """`left operator right`, refused when it would build a huge value."""
        if operator == "**":
            raise SecurityError("the ** operator is not allowed")
        sizes = [len(v) for v in (left, right) if isinstance(v, str | list | tuple)]
        times = [v for v in (left, right) if isinstance(v, int)]
        if sizes and times and sizes[0] * times[0] > MAX_REPEAT:
            raise SecurityError(f"`*` would build more than {MAX_REPEAT} items")
        return super().call_binop(context, operator, left, right)


def _locale_filter(format_of: Callable[[Texts], Callable[[object], str]]) -> Callable[..., str]:
    """A filter formatting its value with the `Texts` the template is rendered with; undefined values give ""."""

    @pass_context
    def locale_filter(context: Context, value: object) -> str:
        if isinstance(value, Undefined):
            return ""
        texts = context.get(TEXTS_KEY)
        return format_of(texts if isinstance(texts, Texts) else EN)(value)

    return locale_filter


def _environment() -> ImmutableSandboxedEnvironment:
    """The one environment: no autoescape (output is raw text), no globals, the filter whitelist only."""
    env = _Sandbox(autoescape=False, undefined=ChainableUndefined, finalize=_finalize)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in PLAIN_FILTERS} | {
        "count": _locale_filter(lambda t: t.count),
        "percent": _locale_filter(lambda t: t.percent),
        "when": _locale_filter(lambda t: t.when),
        "date": _locale_filter(lambda t: t.date),
    }
    return env


def _finalize(value: object) -> object:
    """None shows as nothing (a field may be null), not as "None"."""
    return "" if value is None else value


ENV = _environment()


def path_of(kind: Kind, locale: str | None, slot: Slot) -> str:
    """Where a template is in the config: `templates.campaign_failure.sv.title`."""
    return ".".join(["templates", kind.value, *([locale] if locale else []), slot])


def context_names(kind: Kind) -> frozenset[str] | None:
    """The names a template of `kind` may use: its schema's fields and the envelope; None when any field may come."""
    spec = KINDS.get(kind)
    if spec is None or spec.schema is None:
        return None
    return spec.field_names | ENVELOPE


def context_of(n: Notification, t: Texts, count: int = 1) -> dict[str, Any]:
    """What a template of `n`'s kind sees: the kind's fields (all of them without a schema), then the envelope."""
    names = context_names(n.kind)
    fields = n.fields if isinstance(n.fields, Mapping) else {}
    values: dict[str, Any] = {
        k: v for k, v in fields.items() if isinstance(k, str) and (names is None or k in names)
    }
    values.update(
        kind=n.kind_label,
        severity=n.severity.value,
        instance=n.instance,
        key=n.key,
        summary=as_text(n.summary) if n.summary else None,
        occurred_at=t.when(n.occurred_at),
        count=count,
    )
    values = {k: v for k, v in values.items() if v is not None}  # absent, so `default(…)` applies
    values[TEXTS_KEY] = t
    return values


def render_text(template: Template, values: Mapping[str, Any]) -> str:
    """The template's output on `values`, cut at `MAX_OUTPUT` chars (stops a runaway loop from filling memory)."""
    out: list[str] = []
    size = 0
    for chunk in template.generate(values):
        out.append(chunk)
        size += len(chunk)
        if size >= MAX_OUTPUT:
            break
    return "".join(out)[:MAX_OUTPUT]


@dataclass(frozen=True)
class Slots:
    """The raw title, summary and "what to do" of one message (None: the message shows none)."""

    title: str
    summary: str | None
    what_to_do: str | None


@dataclass(frozen=True, eq=False)
class Templates:
    """The admin's compiled templates by (kind, locale or None, slot); empty: every message as the catalog says."""

    compiled: Mapping[TemplateKey, Template] = field(default_factory=dict)
    # the (kind, locale, slot) whose template has failed at run time, so each is logged once
    failed: set[tuple[Kind, str, Slot]] = field(default_factory=set, repr=False)

    @classmethod
    def build(cls, sources: Mapping[TemplateKey, str]) -> Templates:
        """Compiled from their sources (checked by `config.template_checks` first: this raises on a bad one)."""
        return cls({key: ENV.from_string(source) for key, source in sources.items()})

    def __bool__(self) -> bool:
        return bool(self.compiled)

    def template(self, kind: Kind, locale: str, slot: Slot) -> Template | None:
        """The template of `slot` for `kind` in `locale`: the locale's own, else the one for every locale."""
        return self.compiled.get((kind, locale, slot)) or self.compiled.get((kind, None, slot))

    def apply(
        self, n: Notification, parts: Parts, advice: str | None, t: Texts = EN, *, count: int = 1
    ) -> Slots:
        """`n`'s title, summary and advice, each from its template when there is one, else as the catalog has it.

        The summary shown without a template is the event's, else the kind's own (`Parts.summary`). A template that
        fails, or gives only blanks, leaves its slot as the catalog has it. `count` is the alert group's size.
        """
        catalog = Slots(parts.title, as_text(n.summary) if n.summary else parts.summary, advice)
        if not self.compiled:
            return catalog
        values: dict[str, Any] | None = None
        out: dict[Slot, str | None] = {
            "title": catalog.title,
            "summary": catalog.summary,
            "what_to_do": catalog.what_to_do,
        }
        for slot in SLOTS:
            template = self.template(n.kind, t.locale, slot)
            if template is None:
                continue
            try:
                if values is None:
                    values = context_of(n, t, count)
                text = render_text(template, values)
            except (
                Exception
            ) as exc:  # an admin's template never costs the message: the catalog's text instead
                self._failed_once(n.kind, t.locale, slot, exc)
                continue
            if text.strip():
                out[slot] = text
        return Slots(out["title"] or catalog.title, out["summary"], out["what_to_do"])

    def _failed_once(self, kind: Kind, locale: str, slot: Slot, exc: Exception) -> None:
        """Logs a failing template the first time it fails for this kind, locale and slot."""
        if (kind, locale, slot) in self.failed:
            return
        self.failed.add((kind, locale, slot))
        path = path_of(kind, locale if (kind, locale, slot) in self.compiled else None, slot)
        log.warning(
            "%s: failed in %s (%s: %s); showing the catalog's text", path, locale, type(exc).__name__, exc
        )


NO_TEMPLATES = Templates()

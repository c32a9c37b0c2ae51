"""What check-config says about admin templates (docs/design/locale.md §7.4): syntax, Python internals, statements,
filters and fields a template may not use, then a render of each against its kind's samples in each locale."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from jinja2 import Template, TemplateError, TemplateSyntaxError, meta, nodes

from notifbot.config.templates import KindTemplates, template_sources
from notifbot.i18n import available, texts_for
from notifbot.iso_time import parse_time
from notifbot.kinds import KINDS, load_samples
from notifbot.model import Kind, Notification, Severity
from notifbot.render.templates import (
    ENV,
    FILTERS,
    TemplateKey,
    context_names,
    context_of,
    path_of,
    render_text,
)

# statements that reach other templates or keep state; a template gives text only
REFUSED: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
    nodes.Extends: "extends",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Assign: "set",
    nodes.AssignBlock: "set",
}
SMOKE_TIME = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def template_problems(templates: Mapping[Kind, KindTemplates]) -> list[str]:
    """check-config's problems with the `templates:` section, each with its path."""
    return problems(template_sources(templates))


def problems(sources: Mapping[TemplateKey, str]) -> list[str]:
    """Every problem of the templates, each as `templates.<kind>[.<locale>].<slot>: what is wrong`."""
    out: list[str] = []
    for (kind, locale, slot), source in sources.items():
        path = path_of(kind, locale, slot)
        found, template = _template_problems(kind, source)
        out += [f"{path}: {problem}" for problem in found]
        if template is not None:
            out += [f"{path}: {problem}" for problem in _smoke(kind, locale, template)]
    return out


def _template_problems(kind: Kind, source: str) -> tuple[list[str], Template | None]:
    """What is wrong with one template's source, and the compiled template when nothing is."""
    try:
        ast = ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [f"line {exc.lineno}: {exc.message}"], None
    found = _internals(ast) + _statements(ast)
    unknown = _filters_and_tests(ast)
    found += unknown
    if not unknown and not any(f.name == "attr" for f in ast.find_all(nodes.Filter)):
        found += _unknown_fields(kind, ast)  # Jinja's walk needs every filter and test to exist
    if found:
        return found, None
    try:
        return [], ENV.from_string(source)
    except TemplateError as exc:
        return [str(exc)], None


def _internals(ast: nodes.Template) -> list[str]:
    """Names starting with `_` (`''.__class__`, `self.__dict__`, `x['__globals__']`) and the `attr` filter."""
    names: list[str] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Filter)):
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem):
            name = (
                node.arg.value
                if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)
                else ""
            )
        elif isinstance(node, nodes.Name):
            name = node.name
        elif isinstance(node, nodes.Filter):
            name = "|attr" if node.name == "attr" else _attribute(node)
        else:
            name = ""
        if (name.startswith("_") or name == "|attr") and name not in names:
            names.append(name)
    if not names:
        return []
    return [f"reaches Python internals ({', '.join(sorted(names))}): not allowed"]


def _attribute(node: nodes.Filter) -> str:
    """The first `_` part of a filter's `attribute=` (`join(attribute='__class__')`), else ""."""
    for kw in node.kwargs:
        if kw.key == "attribute" and isinstance(kw.value, nodes.Const) and isinstance(kw.value.value, str):
            return next((p for p in kw.value.value.split(".") if p.startswith("_")), "")
    return ""


def _statements(ast: nodes.Template) -> list[str]:
    """Refused statements, calls and `**`: a template shows fields, it does not run code."""
    found: list[str] = []
    kinds: tuple[type[nodes.Node], ...] = (nodes.Call, nodes.Pow, *REFUSED)
    for node in ast.find_all(kinds):
        if isinstance(node, nodes.Call):
            callee = node.node
            name = callee.attr if isinstance(callee, nodes.Getattr) else getattr(callee, "name", "…")
            problem = f"calls {name}(): not allowed (a template uses fields and filters only)"
        elif isinstance(node, nodes.Pow):
            problem = "the ** operator is not allowed"
        else:
            problem = (
                f"{{% {REFUSED[type(node)]} %}} is not allowed: a template gives text (fields and filters)"
            )
        if problem not in found:
            found.append(problem)
    return found


def _filters_and_tests(ast: nodes.Template) -> list[str]:
    """Filters outside the whitelist (and tests Jinja does not have)."""
    found: list[str] = []
    for node in ast.find_all((nodes.Filter, nodes.Test)):
        if isinstance(node, nodes.Filter) and node.name not in FILTERS and node.name != "attr":
            problem = f"unknown filter '{node.name}' (filters: {', '.join(sorted(FILTERS))})"
        elif isinstance(node, nodes.Test) and node.name not in ENV.tests:
            problem = f"unknown test '{node.name}'"
        else:
            continue
        if problem not in found:
            found.append(problem)
    return found


def _unknown_fields(kind: Kind, ast: nodes.Template) -> list[str]:
    """Names the kind's context does not have (a kind without a schema takes any field)."""
    names = context_names(kind)
    if names is None:
        return []
    listed = ", ".join(sorted(names))
    unknown = sorted(meta.find_undeclared_variables(ast) - names)
    return [f"unknown field '{name}' (fields: {listed})" for name in unknown]


def _samples(kind: Kind) -> Iterator[tuple[str, Notification]]:
    """The kind's samples as notifications, built as intake would (fields as given; the sample's envelope)."""
    samples = load_samples()
    for name in KINDS[kind].samples:
        event: dict[str, Any] = samples[name]
        fields = event.get("fields") or {}
        given = event.get("severity")
        raw_kind = str(event.get("kind") or kind.value)
        yield (
            name,
            Notification(
                key=str(event.get("id") or name),
                kind=kind,
                severity=Severity(given) if given else KINDS[kind].default_severity(fields),
                occurred_at=parse_time(event.get("occurred_at")) or SMOKE_TIME,
                instance=event.get("instance"),
                summary=event.get("summary"),
                fields=fields,
                original_kind=raw_kind if kind is Kind.OTHER else None,
            ),
        )


def _smoke(kind: Kind, locale: str | None, template: Template) -> list[str]:
    """Renders the template on each sample of its kind in each locale it applies to; says where it fails."""
    found: list[str] = []
    for name, n in _samples(kind):
        for loc in [locale] if locale else sorted(available()):
            try:
                render_text(template, context_of(n, texts_for(loc)))
            except Exception as exc:
                found.append(f"fails on the sample '{name}' in {loc}: {type(exc).__name__}: {exc}")
    return found

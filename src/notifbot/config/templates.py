"""The `templates:` section: an admin's title, summary and "what to do" per kind, for every locale or one
(docs/design/locale.md §7.1); checked by `config.template_checks`, compiled into `render.templates.Templates`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from notifbot.model import Kind

if TYPE_CHECKING:  # Jinja is imported only for a config that has templates
    from notifbot.render.templates import Slot, TemplateKey, Templates

# a Jinja2 template (sandboxed; fields and whitelisted filters only)
TemplateSource = Annotated[str, StringConstraints(max_length=2_000)]
SLOTS: tuple[Slot, ...] = (
    "title",
    "summary",
    "what_to_do",
)  # render.templates.SLOTS, without importing Jinja


class TemplateTexts(BaseModel):
    """The templates of one kind in one locale; a slot left out keeps the catalog's text."""

    model_config = ConfigDict(extra="forbid")

    title: TemplateSource | None = None
    summary: TemplateSource | None = None
    what_to_do: TemplateSource | None = None

    def slots(self) -> dict[Slot, str]:
        """The slots this sets, with their sources."""
        return {slot: source for slot in SLOTS if (source := getattr(self, slot)) is not None}


class KindTemplates(TemplateTexts):
    """One kind's templates for every locale, and per locale (one field per catalog; that locale's win)."""

    en: TemplateTexts | None = None
    sv: TemplateTexts | None = None

    def sources(self, kind: Kind) -> dict[TemplateKey, str]:
        """Every template it sets, by (kind, locale or None, slot)."""
        out: dict[TemplateKey, str] = {(kind, None, slot): source for slot, source in self.slots().items()}
        for locale in LOCALES:
            texts: TemplateTexts | None = getattr(self, locale)
            if texts is not None:
                out |= {(kind, locale, slot): source for slot, source in texts.slots().items()}
        return out


# the per-locale fields of KindTemplates (tests/unit/test_config_templates.py keeps them equal to i18n.available())
LOCALES = tuple(name for name in KindTemplates.model_fields if name not in TemplateTexts.model_fields)


def template_sources(templates: Mapping[Kind, KindTemplates]) -> dict[TemplateKey, str]:
    """Every template of the section, by (kind, locale or None, slot)."""
    out: dict[TemplateKey, str] = {}
    for kind, kind_templates in templates.items():
        out |= kind_templates.sources(kind)
    return out


def compile_templates(templates: Mapping[Kind, KindTemplates]) -> Templates | None:
    """The section compiled, for the senders and `notifbot render` (after `template_problems` found none); None
    when it is empty (every message as the catalog has it, and Jinja is not imported)."""
    if not templates:
        return None
    from notifbot.render.templates import Templates

    return Templates.build(template_sources(templates))

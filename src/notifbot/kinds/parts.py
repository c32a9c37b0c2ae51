"""The raw (unescaped) content of one message that a kind's describer returns, and helpers to build it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from notifbot.links import MARKETO_LABEL, Link, LinkPolicy, classify_link
from notifbot.text import as_text

Facts = list[tuple[str, str]]


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
    # the kind's own one-line summary in the reader's language, shown when the event brings none (docs/design/locale.md §3.5)
    summary: str | None = None
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


def get(fields: Mapping[str, Any], key: str) -> str | None:
    """The field as display text, or None when absent or blank."""
    text = as_text(fields.get(key)).strip()
    return text or None


def add(facts: Facts, label: str, value: str | None) -> None:
    """Appends the fact when it has a value."""
    if value:
        facts.append((label, value))


def code(value: object) -> str:
    """A value as a lower-case snake_case code ("Expired credentials" → "expired_credentials")."""
    return as_text(value).strip().lower().replace(" ", "_").replace("-", "_")


def as_list(value: object) -> list[Any]:
    """A list field as a list: None → [], a single value → [value]."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]

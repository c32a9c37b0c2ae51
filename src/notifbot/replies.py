"""What a command answers, as values: a Reply of Sections of Facts and Items (renderers turn it into Block Kit or a card)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Visibility = Literal["ephemeral", "in_channel"]


@dataclass(frozen=True)
class Fact:
    """A labelled value (rendered as a field); both parts are plain, untrusted text."""

    label: str
    value: str


@dataclass(frozen=True)
class Item:
    """One line of a list, optionally linked (only https URLs are ever linked)."""

    text: str
    url: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Section:
    """A block of a reply: optional heading, paragraph, facts and a bounded list (`more` = items left out)."""

    title: str | None = None
    text: str | None = None
    facts: tuple[Fact, ...] = ()
    items: tuple[Item, ...] = ()
    more: int = 0


@dataclass(frozen=True)
class Reply:
    """What a command answers; `visibility` ephemeral (only the asker) or in_channel (everyone)."""

    title: str
    sections: tuple[Section, ...] = ()
    footer: str | None = None
    visibility: Visibility = "ephemeral"
    ok: bool = True

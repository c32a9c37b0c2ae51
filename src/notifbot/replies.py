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


Segment = tuple[tuple[float, float], tuple[float, float]]  # a line from one (x, y) to another


@dataclass(frozen=True)
class Chart:
    """Today's quota burn as plain data for a picture: x in seconds since the last 00:00 CT, y in API calls.

    `commands` builds it (render sits below commands and cannot see a QuotaView); every text is already in the
    reader's language and still untrusted (the renderers escape it).
    """

    title: str
    alt: str  # the numbers in words: the picture's alternative text
    quota: int
    day: float  # the Central day's length: 23, 24 or 25 h on the days daylight saving starts and ends
    now: float  # when the reading ends (the last bar and the step line stop here)
    points: tuple[tuple[float, int], ...]  # (seconds since the midnight, used), oldest first
    forecast: Segment | None  # from the latest reading to where the rate reaches the quota (or to the reset)
    reset: float  # where the quota resets (the day's end)
    reset_label: str
    quota_label: str
    ticks: tuple[tuple[float, str], ...] = ()  # hour labels at their offsets
    # the chart as one line of text, for where a picture cannot go (Slack, terminals): "Burn today", "▁▂▃ (…)";
    # drawn full width, as a two-column field wraps a day's 24 bars
    spark_label: str = ""
    spark: str = ""


@dataclass(frozen=True)
class Section:
    """A block of a reply: optional heading, paragraph, facts, a bounded list (`more` = items left out), a chart."""

    title: str | None = None
    text: str | None = None
    facts: tuple[Fact, ...] = ()
    items: tuple[Item, ...] = ()
    more: int = 0
    chart: Chart | None = None  # a picture of the section's numbers; each renderer chooses how to draw it


@dataclass(frozen=True)
class Reply:
    """What a command answers; `visibility` ephemeral (only the asker) or in_channel (everyone)."""

    title: str
    sections: tuple[Section, ...] = ()
    footer: str | None = None
    visibility: Visibility = "ephemeral"
    ok: bool = True

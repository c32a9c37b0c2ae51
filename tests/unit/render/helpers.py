"""Shared helpers for renderer tests: build notifications, walk messages, validate with slack_sdk."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import Block

from notifbot.model import Kind, Notification, Severity
from notifbot.render.limits import slack_limit_problems
from notifbot.sources.events import parse_event

T = datetime(2026, 11, 28, 10, tzinfo=UTC)


def note(kind: str, fields: Mapping[str, Any] | None = None, **extra: Any) -> Notification:
    """A validated Notification, as the webhook would produce it."""
    return parse_event({"kind": kind, "fields": dict(fields or {}), **extra}, now=T)


def raw_note(kind: str, fields: Mapping[str, Any], **extra: Any) -> Notification:
    """A Notification built directly, bypassing validation (odd field types reach the renderer)."""
    k = Kind.parse(kind)
    return Notification(
        key=extra.pop("key", "k-1"),
        kind=k,
        severity=extra.pop("severity", Severity.WARNING),
        occurred_at=extra.pop("occurred_at", T),
        fields=fields,
        original_kind=None if k is not Kind.OTHER else kind,
        **extra,
    )


def strings(obj: Any) -> Iterator[str]:
    """Every string value in a JSON-like structure."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, Mapping):
        for value in obj.values():
            yield from strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from strings(value)


def assert_valid(message: dict[str, Any]) -> None:
    """Within every Block Kit limit, and every block parses and serialises with slack_sdk."""
    assert slack_limit_problems(message) == []
    for block in message["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.to_dict()


def all_text(message: dict[str, Any]) -> str:
    """All strings of a message joined (for `in` checks)."""
    return "\n".join(strings(message))


def many_leads(n: int = 5000) -> list[dict[str, Any]]:
    """A Dynamics digest's failed leads at stress size (each with a long error)."""
    return [
        {
            "id": i,
            "name": f"Lead Person {i}",
            "email": f"lead{i}@example.com",
            "error": "Duplicate detected " * 5,
        }
        for i in range(n)
    ]


def dynamics_digest(n: int = 5000) -> Notification:
    """A `crm_sync` Dynamics digest naming `n` failed leads."""
    fields = {"crm": "dynamics", "problem": "duplicate_leads", "failed_leads": n, "leads": many_leads(n)}
    return note("crm_sync", fields)


def many_campaigns(n: int = 400) -> list[dict[str, Any]]:
    """A cleanup notice's campaigns at stress size (long names and program names, https links)."""
    return [
        {
            "id": i,
            "name": f"Campaign {i} " + "x" * 60,
            "program_name": "Program " * 10,
            "url": f"https://app-ab12.marketo.com/#SC{i}A1",
        }
        for i in range(n)
    ]


def slack_links(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, url) of every Slack button with a URL."""
    return [
        (el["text"]["text"], el["url"])
        for b in message["blocks"]
        if b["type"] == "actions"
        for el in b["elements"]
        if "url" in el
    ]


def teams_links(card: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, url) of every Action.OpenUrl: the card's actions and the runs' select actions."""
    out = [(a["title"], a["url"]) for a in card.get("actions", [])]
    for block in card["body"]:
        runs = block.get("inlines", []) if block["type"] == "RichTextBlock" else []
        out += [(r["text"], r["selectAction"]["url"]) for r in runs if "selectAction" in r]
    return out

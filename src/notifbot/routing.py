"""Pure routing: which destinations a notification reaches under the ordered route table (docs/reference.md §Configuration, routes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from notifbot.config import MatchValue, Route
from notifbot.model import Notification

_MISSING = object()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _lookup(n: Notification, key: str) -> list[Any]:
    """The notification's values for a match key: envelope attributes first, then fields, then labels."""
    if key == "kind":
        return [n.kind.value, n.kind_label]
    if key == "severity":
        return [n.severity.value]
    if key == "instance":
        return [n.instance] if n.instance is not None else []
    for source in (n.fields, n.labels):
        value = source.get(key, _MISSING)
        if value is not _MISSING and value is not None:
            return [value]
    return []


def matches(n: Notification, match: Mapping[str, MatchValue]) -> bool:
    """True when every key matches; a list of wanted values matches any of them."""
    for key, wanted in match.items():
        options = {_text(w) for w in (wanted if isinstance(wanted, list) else [wanted])}
        if not any(_text(v) in options for v in _lookup(n, key)):
            return False
    return True


def route(n: Notification, routes: Sequence[Route]) -> list[str]:
    """Destination names in order, without repeats; first match wins unless the route says `continue`."""
    out: list[str] = []
    for r in routes:
        if not matches(n, r.match):
            continue
        out.extend(name for name in r.to if name not in out)
        if not r.continue_:
            break
    return out

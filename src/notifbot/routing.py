"""Pure routing: which destinations a notification reaches under the ordered route table (docs/reference.md §Configuration, routes)."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from json.encoder import encode_basestring_ascii
from typing import Any

from notifbot.config import DigestSettings, MatchValue, RemindSettings, Route
from notifbot.groups import GroupPolicy
from notifbot.kinds.registry import problem_fields, spec_for
from notifbot.model import Notification, match_text

_PLAIN = re.compile(r"[A-Za-z0-9_.:@/-]+")  # shown as is in a group key; anything else JSON-quoted
PROBLEM = "problem"  # the `by` of the default grouping: kind, instance and the kind's salient fields


def matches(n: Notification, match: Mapping[str, MatchValue]) -> bool:
    """True when every key matches; a list of wanted values matches any of them."""
    for key, wanted in match.items():
        options = {match_text(w) for w in (wanted if isinstance(wanted, list) else [wanted])}
        if not any(match_text(v) in options for v in n.values_for(key)):
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


@dataclass(frozen=True)
class Target:
    """A destination a notification reaches, and how: grouped, digested, or (both None) one message per event."""

    destination: str
    group: GroupPolicy | None = None
    digest: DigestSettings | None = None
    remind: RemindSettings | None = None
    match: str = ""  # the route's match, readable (`digest_label`): with the schedule, a digest's identity


@functools.lru_cache(maxsize=1024)
def _default_policy(repeat_window: timedelta, lasts: timedelta | None) -> GroupPolicy:
    """The default repeat grouping (one value per window and kind lifetime, not one per event)."""
    return GroupPolicy(
        (PROBLEM,), timedelta(0), repeat_window, max(repeat_window, lasts or timedelta(0)), thread=False
    )


def _policy(r: Route, repeat_window: timedelta, n: Notification) -> GroupPolicy | None:
    if r.digest is not None or r.group is False:
        return None
    # the default: a repeat of the same problem edits its message instead of posting again
    if r.group is None:
        return _default_policy(repeat_window, spec_for(n.kind).lasts) if repeat_window else None
    return _route_policy(r.group.by_tuple, r.group.wait, r.group.interval, r.group.repeat)


@functools.lru_cache(maxsize=1024)
def _route_policy(
    by: tuple[str, ...], wait: timedelta, interval: timedelta, repeat: timedelta
) -> GroupPolicy:
    return GroupPolicy(by, wait, interval, repeat)


def targets(n: Notification, routes: Sequence[Route], repeat_window: timedelta) -> list[Target]:
    """As `route`, with each destination's grouping; a destination reached twice keeps its first route's way."""
    out: dict[str, Target] = {}
    for r in routes:
        if not matches(n, r.match):
            continue
        policy = _policy(r, repeat_window, n)
        label = digest_label(r.match) if r.digest is not None else ""
        for name in r.to:
            remind = r.remind if policy is not None else None
            out.setdefault(name, Target(name, policy, r.digest, remind, label))
        if not r.continue_:
            break
    return list(out.values())


def digest_label(match: Mapping[str, MatchValue]) -> str:
    """A route's match as a digest names it, e.g. `kind=lead_sync_failure instance=123-ABC-456` (`all`: none)."""
    parts = [
        f"{k}={json.dumps(v) if isinstance(v, list) else match_text(v)}" for k, v in sorted(match.items())
    ]
    return " ".join(parts) or "all"


def group_values(n: Notification, by: Sequence[str]) -> dict[str, Any]:
    """The values of `by` for `n` (None where it has none); `problem` expands to kind, instance and salient fields."""
    values: dict[str, Any] = {}
    for key in by:
        if key == PROBLEM:
            fields = {k: v for k, v in problem_fields(n.kind, n.fields).items() if v is not None}
            values.update({"kind": n.kind_label, "instance": n.instance, **fields})
            continue
        found = n.values_for(key)
        values[key] = (n.kind_label if key == "kind" else match_text(found[0])) if found else None
    return values


def _json_text(value: Any) -> str:
    """A non-text value as JSON (numbers and booleans without the encoder's overhead: this runs per event)."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True)


def group_key(n: Notification, by: Sequence[str]) -> str:
    """The readable group key, e.g. `kind=campaign_failure instance=123-ABC-456` (a value JSON-quoted if needed)."""
    parts = []
    for key, value in group_values(n, by).items():
        if value is None:
            parts.append(f"{key}=-")
            continue
        text = value if isinstance(value, str) else _json_text(value)
        plain = text != "-" and _PLAIN.fullmatch(text) is not None
        parts.append(f"{key}={text if plain else encode_basestring_ascii(text)}")
    return " ".join(parts)


@functools.lru_cache(maxsize=4096)  # a storm asks for the same group again and again
def group_id(destination: str, key: str) -> str:
    """The stored identity of a group at one destination: a digest of the destination and the key."""
    return hashlib.sha256(f"{destination}\n{key}".encode()).hexdigest()[:32]

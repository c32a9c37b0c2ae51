"""Dead routes: a match naming a severity or kind no notification has, or a misspelt reserved key, never matches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

from notifbot.config.routes import MatchValue, Route
from notifbot.kinds import KINDS
from notifbot.model import Kind, Severity, match_text

RESERVED = ("kind", "severity", "instance")


def distance(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions, adjacent swaps): how far a typo is from a word."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            best = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, rows[-2][j - 2] + 1)
            row.append(best)
        rows.append(row)
    return rows[-1][-1]


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known word a typo most likely meant (at most 2 edits, and fewer than half its letters), or None."""
    limit = min(2, (len(word) - 1) // 2)
    scored = sorted((distance(word.lower(), k), k) for k in known)
    return scored[0][1] if scored and scored[0][0] <= limit else None


@cache
def field_names() -> frozenset[str]:
    """Every field name a built-in kind declares: a match on one of them is legitimate, however close to `kind`."""
    return frozenset().union(*(spec.field_names for spec in KINDS.values()))


def _values(value: MatchValue) -> list[str]:
    return [match_text(v) for v in (value if isinstance(value, list) else [value])]


def _key_problem(at: str, key: str) -> str | None:
    if key in RESERVED or key in field_names():
        return None
    meant = closest(key, RESERVED)
    if meant is None:
        return None
    return (
        f"{at}: '{key}' looks like a misspelt {meant} (a match key is kind, severity, instance, or a field or "
        f"label name); did you mean {meant}?"
    )


def _severity_problems(at: str, value: MatchValue) -> list[str]:
    valid = [s.value for s in Severity]
    return [
        f"{at}: '{v}' is not a severity, so this never matches (valid: {', '.join(valid)})"
        for v in _values(value)
        if v not in valid
    ]


def _kind_problems(at: str, value: MatchValue) -> list[str]:
    # any other kind an event names is routed by that name (docs/reference.md §Event JSON): only near-misses are typos
    known = [k.value for k in Kind]
    problems = []
    for v in _values(value):
        meant = None if v in known else closest(v, known)
        if meant is not None:
            problems.append(f"{at}: '{v}' is not a kind; did you mean {meant}? (kinds: {', '.join(known)})")
    return problems


def route_problems(routes: Sequence[Route]) -> list[str]:
    """Each route's match keys and values that can never match, and group keys that name nothing, as `path: message`."""
    problems: list[str] = []
    for i, route in enumerate(routes):
        for key, value in route.match.items():
            at = f"routes[{i}].match.{key}"
            if key == "severity":
                problems += _severity_problems(at, value)
            elif key == "kind":
                problems += _kind_problems(at, value)
            elif (problem := _key_problem(at, key)) is not None:
                problems.append(problem)
        if route.group:
            for j, key in enumerate(route.group.by):
                if (problem := _key_problem(f"routes[{i}].group.by[{j}]", key)) is not None:
                    problems.append(problem)
    return problems

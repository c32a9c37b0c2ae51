"""What of an invalid config can still be checked: the settings without the parts pydantic refused.

`check-config` reports every problem in one pass: the schema errors, and the semantic and environment problems of
the rest, so fixing one section never reveals the problems of another. A refused value is removed (its default
applies); a refused list item is removed and problem paths are given back in the file's own numbering.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from notifbot.config.checks import environment_problems
from notifbot.config.env import Env
from notifbot.config.settings import Settings
from notifbot.destinations import SPECS
from notifbot.errors import loc_path

_GONE = object()
_STAND_IN = {"type": "console"}
_ROUNDS = 8  # a removed value may reveal a missing one above it; a few rounds reach a valid rest


def _view(node: Any, at: tuple[Any, ...], back: dict[tuple[Any, ...], list[int]]) -> Any:
    """`node` without removed list items; `back` maps each list's path (view numbering) to its items' old indices."""
    if isinstance(node, dict):
        return {k: _view(v, (*at, k), back) for k, v in node.items()}
    if isinstance(node, list):
        kept = [i for i, v in enumerate(node) if v is not _GONE]
        back[at] = kept
        return [_view(node[i], (*at, n), back) for n, i in enumerate(kept)]
    return node


def _remove(work: Any, loc: Sequence[Any], back: dict[tuple[Any, ...], list[int]], refused: set[str]) -> bool:
    """Removes from `work` what a view's `loc` names (union tags absent from the data are skipped); False if none."""
    node: Any = work
    parent: Any = None
    key: Any = None
    view_at: tuple[Any, ...] = ()
    for part in loc:
        if isinstance(node, dict) and part in node:
            parent, key, node, view_at = node, part, node[part], (*view_at, part)
        elif (
            isinstance(node, list) and isinstance(part, int) and view_at in back and part < len(back[view_at])
        ):
            index = back[view_at][part]
            parent, key, node, view_at = node, index, node[index], (*view_at, part)
    if parent is None:
        return False
    if isinstance(parent, list):
        parent[key] = _GONE
    elif view_at[:1] == ("destinations",) and len(view_at) == 2:
        if isinstance(node, dict) and node.get("type") in SPECS:
            refused.add(node["type"])
        parent[key] = dict(_STAND_IN)  # the name stays defined: routes to it are not reported as unknown
    else:
        del parent[key]
    return True


def _problem_paths(back: dict[tuple[Any, ...], list[int]]) -> list[tuple[re.Pattern[str], str, list[int]]]:
    moved = [(at, kept) for at, kept in back.items() if kept != list(range(len(kept)))]
    moved.sort(
        key=lambda item: -len(item[0])
    )  # inner lists first: their paths still use the view's outer numbers
    return [(re.compile(re.escape(loc_path(at)) + r"\[(\d+)\]"), loc_path(at), kept) for at, kept in moved]


def renumber(problems: list[str], back: dict[tuple[Any, ...], list[int]]) -> list[str]:
    """Problems whose paths use the salvaged settings' list numbering, in the file's numbering."""
    out = []
    for problem in problems:
        for pattern, prefix, kept in _problem_paths(back):
            found = pattern.match(problem)
            if found is not None:
                problem = f"{prefix}[{kept[int(found.group(1))]}]{problem[found.end() :]}"
        out.append(problem)
    return out


@dataclass(frozen=True)
class Salvaged:
    """The settings that remain, their lists' renumbering, and the types of the destinations put aside."""

    settings: Settings
    back: dict[tuple[Any, ...], list[int]]
    refused_types: frozenset[str]

    def renumber(self, problems: list[str]) -> list[str]:
        """`problems` of these settings with paths in the file's list numbering."""
        return renumber(problems, self.back)

    def environment_problems(self, env: Env) -> list[str]:
        """What the environment lacks for the rest, and the variables the refused destinations' types require."""
        problems = self.renumber(environment_problems(self.settings, env))
        for dest_type in sorted(self.refused_types):
            problems += [
                found
                for var, hint in SPECS[dest_type].required_env
                if not env.get(var) and (found := f"env.{var}: {hint}") not in problems
            ]
        return problems


def salvage(data: dict[str, Any], error: ValidationError) -> Salvaged | None:
    """Settings from `data` without what pydantic refused, and how to read their problems; None if none are left."""
    work = copy.deepcopy(data)
    back: dict[tuple[Any, ...], list[int]] = {}
    refused: set[str] = set()
    _view(work, (), back)
    errors = error.errors(include_url=False)
    for _ in range(_ROUNDS):
        removed = False
        for e in errors:
            loc = e["loc"][:-1] if e["type"] == "missing" else e["loc"]
            removed = _remove(work, loc, back, refused) or removed
        if not removed:
            return None
        back = {}
        view = _view(work, (), back)
        try:
            return Salvaged(Settings.model_validate(view), back, frozenset(refused))
        except ValidationError as again:
            errors = again.errors(include_url=False)
    return None

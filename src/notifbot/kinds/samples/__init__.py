"""Realistic sample events (docs/reference.md §Event JSON), named by each kind's spec, for `render`, `demo` and tests."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def _load() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in files(__name__).iterdir():
        if entry.name.endswith(".json") and entry.is_file():
            data = json.loads(entry.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                out[entry.name[: -len(".json")]] = data
    return dict(sorted(out.items()))


def load_samples() -> dict[str, dict[str, Any]]:
    """Every sample event by name (the file name without `.json`), sorted by name; fresh copies."""
    return copy.deepcopy(_load())

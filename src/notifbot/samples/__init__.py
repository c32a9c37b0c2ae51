"""Realistic sample events (docs/reference.md §Event JSON), one per notification kind, for `render`, `demo` and tests."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib.resources import files
from typing import Any

from notifbot.model import Kind


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


def sample_for_kind(kind: str) -> dict[str, Any]:
    """The first sample whose kind is `kind` (or whose name is `kind`; `other` gets the unknown-kind sample)."""
    samples = load_samples()
    for event in samples.values():
        if event.get("kind") == kind:
            return event
    if kind in samples:
        return samples[kind]
    if kind == Kind.OTHER.value:
        for event in samples.values():
            if Kind.parse(str(event.get("kind"))) is Kind.OTHER:
                return event
    known = sorted({str(e.get("kind")) for e in samples.values()} | set(samples))
    raise KeyError(f"no sample for kind {kind!r}; known kinds and samples: {', '.join(known)}")

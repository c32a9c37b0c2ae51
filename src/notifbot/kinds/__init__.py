"""The kind registry: one `KindSpec` per notification kind, one module per kind (the two campaign kinds share one)."""

# To add a kind: a member of `model.Kind`; a module here with its `KindSpec` (severity, schema, salient fields,
# describer, advice, samples); its entry in `registry._SPECS`; its sample in `samples/`; its row in the README and
# docs/reference.md kinds tables. tests/unit/kinds/test_complete.py checks that every slot is filled.

from __future__ import annotations

from notifbot.kinds.parts import Facts, Listing, Parts
from notifbot.kinds.registry import (
    KINDS,
    classify_email,
    dedupe_key,
    default_severity,
    describe,
    item_label,
    sample_for_kind,
    spec_for,
    what_to_do,
)
from notifbot.kinds.samples import load_samples
from notifbot.kinds.spec import KindSpec

__all__ = [
    "KINDS",
    "Facts",
    "KindSpec",
    "Listing",
    "Parts",
    "classify_email",
    "dedupe_key",
    "default_severity",
    "describe",
    "item_label",
    "load_samples",
    "sample_for_kind",
    "spec_for",
    "what_to_do",
]

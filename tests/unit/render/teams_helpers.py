"""Adaptive Card 1.5 schema validation (msteams stripped) and size checks for Teams renderer tests."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from notifbot.render.card import card_size

SCHEMA = Path(__file__).resolve().parents[2] / "data" / "schemas" / "adaptive-card-1.5.json"
TEAMS_LIMIT = 28 * 1024


@cache
def validator() -> jsonschema.Draft6Validator:
    """The draft-06 validator for the official Adaptive Card 1.5 schema."""
    return jsonschema.Draft6Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def schema_error(card: dict[str, Any]) -> str | None:
    """The most relevant schema violation of `card` (with the Teams-only `msteams` stripped), or None."""
    stripped = copy.deepcopy(card)
    stripped.pop("msteams", None)
    error = best_match(validator().iter_errors(stripped))
    return None if error is None else f"{list(error.absolute_path)}: {error.message[:300]}"


def assert_valid_card(card: dict[str, Any]) -> None:
    """Validates against the 1.5 schema, is full width, and stays under Teams' 28 KB."""
    assert schema_error(card) is None, schema_error(card)
    assert card["msteams"] == {"width": "Full"} and card["version"] == "1.5"
    assert card_size(card) < TEAMS_LIMIT

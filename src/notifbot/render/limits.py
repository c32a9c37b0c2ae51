"""Slack Block Kit limits, and a checker that lists every way a message breaks them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_BLOCKS = 50
MAX_TEXT = 40_000
SECTION_TEXT = 3_000
SECTION_FIELDS = 10
FIELD_TEXT = 2_000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3_000
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2_000
BUTTON_URL = 3_000
CONFIRM_TITLE = 100  # a button's confirm dialog
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
ACTION_ID = 255
BLOCK_ID = 255
IMAGE_URL = 3_000
ALT_TEXT = 2_000

TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
_UNCHECKED_BLOCKS = frozenset({"divider", "image", "rich_text", "input", "file", "video"})


def _text_object(obj: Any, path: str, limit: int, *, plain_only: bool = False) -> list[str]:
    """Problems of one text object ({type, text})."""
    if not isinstance(obj, Mapping):
        return [f"{path}: text object must be an object"]
    problems: list[str] = []
    kind = obj.get("type")
    allowed = {"plain_text"} if plain_only else TEXT_TYPES
    if kind not in allowed:
        problems.append(f"{path}.type: must be {' or '.join(sorted(allowed))}, got {kind!r}")
    text = obj.get("text")
    if not isinstance(text, str):
        problems.append(f"{path}.text: must be a string")
    elif not text.strip():
        problems.append(f"{path}.text: empty text (Slack rejects it)")
    elif len(text) > limit:
        problems.append(f"{path}.text: {len(text)} chars > {limit}")
    if "emoji" in obj and kind == "mrkdwn":
        problems.append(f"{path}.emoji: only allowed on plain_text")
    return problems


def _max_len(obj: Mapping[str, Any], key: str, path: str, limit: int) -> list[str]:
    """Problem if obj[key] is present and not a string of at most `limit` chars."""
    if key not in obj:
        return []
    value = obj[key]
    if not isinstance(value, str):
        return [f"{path}.{key}: must be a string"]
    if not value:
        return [f"{path}.{key}: empty"]
    if len(value) > limit:
        return [f"{path}.{key}: {len(value)} chars > {limit}"]
    return []


def _button(el: Mapping[str, Any], path: str) -> list[str]:
    """Problems of one button element."""
    problems = _text_object(el.get("text"), f"{path}.text", BUTTON_TEXT, plain_only=True)
    problems += _max_len(el, "action_id", path, ACTION_ID)
    problems += _max_len(el, "value", path, BUTTON_VALUE)
    problems += _max_len(el, "url", path, BUTTON_URL)
    style = el.get("style")
    if style is not None and style not in ("primary", "danger"):
        problems.append(f"{path}.style: must be primary or danger")
    if "confirm" in el:
        problems += _confirm(el["confirm"], f"{path}.confirm")
    return problems


def _confirm(obj: Any, path: str) -> list[str]:
    """Problems of a confirm dialog object: every one of title, text, confirm and deny is required."""
    if not isinstance(obj, Mapping):
        return [f"{path}: confirm must be an object"]
    problems: list[str] = []
    for key, limit in (
        ("title", CONFIRM_TITLE),
        ("text", CONFIRM_TEXT),
        ("confirm", CONFIRM_BUTTON),
        ("deny", CONFIRM_BUTTON),
    ):
        problems += _text_object(obj.get(key), f"{path}.{key}", limit, plain_only=key != "text")
    style = obj.get("style")
    if style is not None and style not in ("primary", "danger"):
        problems.append(f"{path}.style: must be primary or danger")
    return problems


def _element(el: Any, path: str) -> list[str]:
    """Problems of one interactive element (buttons checked in depth)."""
    if not isinstance(el, Mapping):
        return [f"{path}: element must be an object"]
    if el.get("type") == "button":
        return _button(el, path)
    if not isinstance(el.get("type"), str):
        return [f"{path}.type: missing"]
    return _max_len(el, "action_id", path, ACTION_ID)


def _context_element(el: Any, path: str) -> list[str]:
    """Problems of one context element (text or image)."""
    if isinstance(el, Mapping) and el.get("type") == "image":
        return _max_len(el, "image_url", path, IMAGE_URL) + _max_len(el, "alt_text", path, ALT_TEXT)
    return _text_object(el, path, CONTEXT_TEXT)


def _section(block: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    has_text = "text" in block
    fields = block.get("fields")
    if has_text:
        problems += _text_object(block["text"], f"{path}.text", SECTION_TEXT)
    if fields is not None:
        if not isinstance(fields, list) or not fields:
            problems.append(f"{path}.fields: must be a non-empty list")
        else:
            if len(fields) > SECTION_FIELDS:
                problems.append(f"{path}.fields: {len(fields)} fields > {SECTION_FIELDS}")
            for i, f in enumerate(fields):
                problems += _text_object(f, f"{path}.fields[{i}]", FIELD_TEXT)
    if not has_text and fields is None:
        problems.append(f"{path}: section needs text or fields")
    if "accessory" in block:
        problems += _element(block["accessory"], f"{path}.accessory")
    return problems


def _elements(block: Mapping[str, Any], path: str, limit: int) -> list[Any] | str:
    """The block's elements list, or a problem text."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return f"{path}.elements: must be a non-empty list"
    if len(elements) > limit:
        return f"{path}.elements: {len(elements)} elements > {limit}"
    return elements


def _duplicates(items: list[Any], key: str, path: str) -> list[str]:
    """Problems for values of `key` repeated among `items` (Slack rejects duplicate ids)."""
    seen: set[str] = set()
    problems: list[str] = []
    for item in items:
        value = item.get(key) if isinstance(item, Mapping) else None
        if isinstance(value, str):
            if value in seen:
                problems.append(f"{path}: duplicate {key} {value!r}")
            seen.add(value)
    return problems


def block_problems(block: Any, path: str) -> list[str]:
    """Every limit one block breaks."""
    if not isinstance(block, Mapping):
        return [f"{path}: block must be an object"]
    problems = _max_len(block, "block_id", path, BLOCK_ID)
    kind = block.get("type")
    if kind == "header":
        problems += _text_object(block.get("text"), f"{path}.text", HEADER_TEXT, plain_only=True)
    elif kind == "section":
        problems += _section(block, path)
    elif kind in ("context", "actions"):
        limit = CONTEXT_ELEMENTS if kind == "context" else ACTIONS_ELEMENTS
        check = _context_element if kind == "context" else _element
        elements = _elements(block, path, limit)
        if isinstance(elements, str):
            problems.append(elements)
        else:
            for i, el in enumerate(elements):
                problems += check(el, f"{path}.elements[{i}]")
            problems += _duplicates(elements, "action_id", f"{path}.elements")
    elif kind not in _UNCHECKED_BLOCKS:
        problems.append(f"{path}.type: unknown block type {kind!r}")
    return problems


def slack_limit_problems(message: Mapping[str, Any]) -> list[str]:
    """Every Block Kit limit `message` ({text, blocks}) breaks; empty when Slack would accept it."""
    if not isinstance(message, Mapping):
        return ["message: must be an object"]
    problems: list[str] = []
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("text: top-level fallback text is missing or empty")
    elif len(text) > MAX_TEXT:
        problems.append(f"text: {len(text)} chars > {MAX_TEXT}")
    blocks = message.get("blocks")
    if blocks is None:
        return problems
    if not isinstance(blocks, list):
        return [*problems, "blocks: must be a list"]
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"blocks: {len(blocks)} blocks > {MAX_BLOCKS}")
    for i, block in enumerate(blocks):
        problems += block_problems(block, f"blocks[{i}]")
    return problems + _duplicates(blocks, "block_id", "blocks")

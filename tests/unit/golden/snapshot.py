"""Byte-for-byte comparison of rendered output with its golden file under tests/data/golden/en/, or its rewrite."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden" / "en"
UPDATE_VAR = "NOTIFBOT_GOLDEN_UPDATE"
# read at import: tests/conftest.py clears NOTIFBOT_* variables around every test
_UPDATE = os.environ.get(UPDATE_VAR, "") not in ("", "0")


def updating() -> bool:
    """True when this run rewrites the golden files instead of comparing with them."""
    return _UPDATE


def dump(value: Any) -> str:
    """The golden form: pretty JSON, sorted keys, UTF-8 as is, one trailing newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def console_lines(text: str) -> dict[str, list[str]]:
    """Terminal text as a list of its lines (lossless: joined by newlines it is the text), so diffs read by line."""
    return {"lines": text.split("\n")}


def check(rel: str, value: Any) -> None:
    """Fails unless `value` dumps to exactly the bytes of golden file `rel`; with the update variable, rewrites it."""
    path = GOLDEN / rel
    new = dump(value).encode("utf-8")
    old = path.read_bytes() if path.is_file() else None
    if updating():
        rewrote = old != new
        if rewrote:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(new)
        pytest.fail(
            f"{UPDATE_VAR} is set: rewrote {int(rewrote)} file(s) ({rel}); review `git diff tests/data/golden`, "
            f"then run again without {UPDATE_VAR} to pass"
        )
    if old is None:
        pytest.fail(f"golden file missing: {path}; create it with {UPDATE_VAR}=1 (and review what it says)")
    if old != new:
        diff = "".join(
            difflib.unified_diff(
                old.decode("utf-8", "replace").splitlines(keepends=True),
                new.decode("utf-8").splitlines(keepends=True),
                f"golden/{rel}",
                "current output",
            )
        )
        pytest.fail(
            f"output differs from golden file {rel} (if intended, regenerate with {UPDATE_VAR}=1):\n"
            + (
                diff
                or f"(no line differs: line endings or encoding; golden {old[-40:]!r}, now {new[-40:]!r})"
            ),
            pytrace=False,
        )


def orphans(expected: set[str]) -> list[str]:
    """Golden files no case produces any more (relative paths, sorted)."""
    present = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.json")} if GOLDEN.is_dir() else set()
    return sorted(present - expected)

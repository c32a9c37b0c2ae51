"""docs/reference.md keeps step with the code: every config key with its default, every CLI command and option,
every environment variable the code reads."""

from __future__ import annotations

import argparse
import re
import types
import typing
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from notifbot.cli import build_parser
from notifbot.config import Settings
from notifbot.durations import duration_value

REPO = Path(__file__).resolve().parents[2]
REFERENCE = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
REQUIRED = object()


def _section(title: str, level: str = "##") -> str:
    """The text under the heading `title` up to the next heading of the same or a higher level."""
    start = REFERENCE.index(f"\n{level} {title}\n")
    ends = [m.start() for m in re.finditer(rf"\n#{{1,{len(level)}}} ", REFERENCE[start + 1 :])]
    return REFERENCE[start : start + 1 + ends[0]] if ends else REFERENCE[start:]


def _models(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
    """The models an annotation holds, each with the path suffix that leads into it ("", "[]" or ".<name>")."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [("", annotation)]
    if origin is typing.Annotated:
        return _models(args[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in args for m in _models(a)]
    if origin is list:
        return [("[]" + s, m) for s, m in _models(args[0])]
    if origin is dict:
        return [(".<name>" + s, m) for s, m in _models(args[1])]
    return []


def _default(info: FieldInfo) -> Any:
    if info.is_required():
        return REQUIRED
    return info.get_default(call_default_factory=True)


def config_keys(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, default) of every leaf key of the settings, nested models walked (union members too)."""
    for name, info in model.model_fields.items():
        if info.exclude:
            continue  # internal (`source`), never read from the file
        path = f"{prefix}{info.alias or name}"
        inner = _models(info.annotation)
        if not inner:
            yield path, _default(info)
        for suffix, sub in inner:
            yield from config_keys(sub, f"{path}{suffix}.")


def _rows(text: str) -> dict[str, str]:
    """Key → default cell of every `| \\`key\\` | default | meaning |` table row."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"`[^`]+`", cells[0]):
            out[cells[0].strip("`")] = cells[1]
    return out


def _documented_default(cell: str) -> Any:
    if cell.startswith("required"):
        return REQUIRED
    if cell.startswith("unset"):
        return None
    literal = re.match(r"`([^`]*)`", cell)
    assert literal is not None, f"default cell {cell!r} has no `literal`"
    return yaml.safe_load(literal.group(1))


def _same(documented: Any, actual: Any) -> bool:
    if isinstance(actual, timedelta):
        return duration_value(documented) == actual
    if isinstance(actual, time):
        return documented == f"{actual:%H:%M}"
    if isinstance(actual, bool | type(None)) or actual is REQUIRED:
        return documented is actual
    return not isinstance(documented, bool) and bool(documented == actual)


KEYS = sorted(config_keys())
CONFIG = _rows(_section("Configuration"))


def test_the_walk_finds_keys_of_every_nesting() -> None:
    paths = dict(KEYS)
    assert {"storage.path", "teams.commands.channels[].team_id", "marketo.triggers.at_risk_days"} <= set(
        paths
    )
    assert {"destinations.<name>.channel", "destinations.<name>.format", "routes[].continue"} <= set(paths)
    assert paths["server.port"] == 8080 and paths["teams.commands.channels[].channel_id"] is REQUIRED


@pytest.mark.parametrize(("key", "default"), KEYS, ids=[k for k, _ in KEYS])
def test_every_config_key_is_documented_with_its_default(key: str, default: Any) -> None:
    assert key in CONFIG, f"config key {key} is missing from docs/reference.md §Configuration"
    documented = _documented_default(CONFIG[key])
    assert _same(documented, default), f"{key}: documented default {documented!r}, code has {default!r}"


def test_no_documented_config_key_is_gone() -> None:
    assert sorted(set(CONFIG) - dict(KEYS).keys()) == []


def _commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield words, parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from _commands(sub, (*words, name))


COMMANDS = sorted(_commands(build_parser()), key=lambda c: c[0])


def test_the_cli_walk_finds_nested_commands() -> None:
    names = {" ".join(words) for words, _ in COMMANDS}
    assert {"serve", "routes test", "teams login", "outbox"} <= names


@pytest.mark.parametrize("words", [w for w, _ in COMMANDS], ids=[" ".join(w) for w, _ in COMMANDS])
def test_every_command_and_option_is_documented(words: tuple[str, ...]) -> None:
    parser = dict(COMMANDS)[words]
    text = _section(f"`notifbot {' '.join(words)}`", "###")
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            assert any(o in text for o in action.option_strings if o.startswith("--")), (
                f"notifbot {' '.join(words)}: option {action.option_strings} is not documented"
            )
        elif not action.choices:  # a positional with choices is documented by them
            assert str(action.metavar or action.dest).upper() in text.upper()
        for choice in action.choices or ():
            assert str(choice) in text, f"notifbot {' '.join(words)}: choice {choice!r} is not documented"


def test_the_global_options_are_documented() -> None:
    text = _section("Command line")
    assert "--version" in text and "--help" in text


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    names: set[str] = set()
    for path in (REPO / "src" / "notifbot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"""\.get\(\s*["']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)["']""", source))
        names |= set(re.findall(r"""environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]""", source))
    env_module = (REPO / "src" / "notifbot" / "config" / "env.py").read_text(encoding="utf-8")
    secrets = re.search(r"def secrets\(self\).*?names = \((.*?)\)", env_module, re.S)
    assert secrets is not None
    names |= set(re.findall(r'"([A-Z_]+)"', secrets.group(1)))
    assert len(names) >= 12, names  # the scan itself still finds them
    env = _section("Environment")
    assert sorted(n for n in names if f"`{n}`" not in env) == []

"""Settings from YAML plus environment: `${VAR}` expansion, pydantic validation, then the semantic checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from notifbot.config.checks import environment_problems, semantic_problems
from notifbot.config.env import Env
from notifbot.config.salvage import salvage
from notifbot.config.settings import Settings
from notifbot.destinations import DESTINATION_TYPES
from notifbot.errors import ConfigError, loc_path

DEFAULT_CONFIG_FILE = "notifbot.yaml"
EnvironmentCheck = Callable[[Env], list[str]]  # what the environment lacks for the settings read
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replaces `${VAR}` and `${VAR:-default}`; returns the text and the names that were unset."""
    missing: list[str] = []

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = environ.get(name)
        if value:
            return value
        if default is not None:
            return default
        missing.append(name)
        return ""

    return _VAR.sub(sub, text), missing


def _expand_values(value: Any, environ: Mapping[str, str], missing: list[str]) -> Any:
    """Expands `${VAR}` inside string values only, so comments and YAML syntax are never touched."""
    if isinstance(value, str):
        text, unset = expand_env(value, environ)
        missing.extend(n for n in unset if n not in missing)
        return text
    if isinstance(value, dict):
        return {k: _expand_values(v, environ, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_values(v, environ, missing) for v in value]
    return value


def _path_of(err: Mapping[str, Any]) -> str:
    parts = list(err["loc"])
    # A discriminated union puts its tag after the destination name; drop it so paths read like the YAML.
    if len(parts) >= 3 and parts[0] == "destinations" and parts[2] in DESTINATION_TYPES:
        del parts[2]
    return loc_path(tuple("continue" if p == "continue_" else p for p in parts)) or "(root)"


def inspect_settings(data: Any, *, source: str) -> tuple[Settings | None, list[str], EnvironmentCheck]:
    """Every problem of parsed YAML data in one pass (schema, then semantic), the settings, and their environment check.

    When the data does not validate, the settings are what remains without the refused parts (`salvage`), so their
    semantic and environment problems are reported with the schema errors, with paths in the file's list numbering.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return (
            None,
            [f"(root): expected a mapping at the top of {source}, got {type(data).__name__}"],
            _nothing,
        )
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_path_of(e)}: {e['msg']}" for e in exc.errors(include_url=False)]
        rest = salvage(data, exc)
        if rest is None:
            return None, problems, _nothing
        rest.settings.source = source
        problems += [p for p in rest.renumber(semantic_problems(rest.settings)) if p not in problems]
        return rest.settings, problems, rest.environment_problems
    settings.source = source
    return settings, semantic_problems(settings), partial(environment_problems, settings)


def _nothing(env: Env) -> list[str]:
    return []


def parse_settings(data: Any, *, source: str) -> Settings:
    """Validated Settings from parsed YAML data, or ConfigError listing every problem as `path: message`."""
    settings, problems, _ = inspect_settings(data, source=source)
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """`--config`, else $NOTIFBOT_CONFIG, else ./notifbot.yaml if present, else None (embedded default)."""
    if explicit:
        return Path(explicit)
    if environ.get("NOTIFBOT_CONFIG"):
        return Path(environ["NOTIFBOT_CONFIG"])
    local = Path(DEFAULT_CONFIG_FILE)
    return local if local.is_file() else None


def _read(
    explicit: str | None, environ: Mapping[str, str]
) -> tuple[Settings | None, list[str], EnvironmentCheck]:
    """The settings of the chosen file (salvaged when invalid) and every problem of the file, in one pass."""
    path = config_path(explicit, environ)
    if path is None:
        default = Settings()
        return default, [], partial(environment_problems, default)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [f"(file): cannot read {path}: {exc.strerror}"], _nothing
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [f"(file): {path} is not valid YAML: {exc}"], _nothing
    missing: list[str] = []
    data = _expand_values(raw, environ, missing)
    problems = [
        f"env.{name}: referenced in {path} but not set (use ${{{name}:-default}})" for name in missing
    ]
    settings, found, environment = inspect_settings(data, source=str(path))
    return settings, problems + found, environment


def load_settings(explicit: str | None, environ: Mapping[str, str]) -> Settings:
    """Settings from the file chosen by `config_path`, or the embedded default."""
    settings, problems, _ = _read(explicit, environ)
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def check_settings(explicit: str | None, environ: Mapping[str, str]) -> tuple[Settings | None, list[str]]:
    """Every problem of the config and the environment in one pass (`check-config`), and the settings if valid."""
    settings, problems, environment = _read(explicit, environ)
    problems += [p for p in environment(Env(environ)) if p not in problems]
    return (settings if not problems else None), problems

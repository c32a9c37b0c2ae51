"""The Slack app manifests in manifests/ validate against Slack's schema and match notifbot's defaults.

The schema is Slack's app-manifest JSON schema (slackapi/manifest-schema,
`schemas/manifest.schema.1.0.0.json`, MIT-licensed). It is looked up in the project's tests/data/schemas/
first, then in a `shared/schemas` directory beside any ancestor of this file (the repo is cloned at P,
shared data lives at P/../shared).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema.validators import validator_for

from notifbot.config import SlackSettings

SCHEMA_NAME = "slack-manifest-1.0.0.json"
REPO = Path(__file__).resolve().parents[2]
MANIFESTS = {
    "http": REPO / "manifests" / "slack-app.yaml",
    "socket": REPO / "manifests" / "slack-app-socket.yaml",
}
SLASH_URL = "https://notifbot.example.com/slack/events"
USAGE_HINT = (
    "help | quota | stale-triggers [days] | recent [kind] [n] | mute <kind> <duration> | unmute <kind> "
    "| mutes | routes | status"
)


def _find_schema() -> Path | None:
    here = Path(__file__).resolve()
    candidates = [REPO / "tests" / "data" / "schemas" / SCHEMA_NAME]
    candidates += [parent / "shared" / "schemas" / SCHEMA_NAME for parent in here.parents]
    return next((c for c in candidates if c.is_file()), None)


@pytest.fixture(scope="module")
def validator() -> Any:
    path = _find_schema()
    if path is None:
        pytest.skip(f"{SCHEMA_NAME} not found in tests/data/schemas/ nor in any ancestor's shared/schemas/")
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load(MANIFESTS[name].read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_manifest_is_valid(validator: Any, name: str) -> None:
    manifest = _load(name)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == []


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_manifest_content(name: str) -> None:
    m = _load(name)
    info = m["display_information"]
    assert info["name"] == "notifbot"
    assert info["description"]
    # The schema spells this constraint "regex" (not "pattern"), so jsonschema ignores it: check it here.
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", info["background_color"])
    assert m["features"]["bot_user"] == {"display_name": "notifbot", "always_online": True}
    assert m["oauth_config"]["scopes"]["bot"] == [
        "commands",
        "chat:write",
        "chat:write.public",
        "channels:history",
        "groups:history",
        "usergroups:read",
        "users:read",
    ]

    (cmd,) = m["features"]["slash_commands"]
    assert cmd["command"] == SlackSettings().command == "/marketo"
    assert cmd["usage_hint"] == USAGE_HINT
    assert cmd["should_escape"] is False

    settings = m["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    if name == "http":
        assert settings["socket_mode_enabled"] is False
        assert cmd["url"] == SLASH_URL
        assert settings["interactivity"]["request_url"] == SLASH_URL
    else:
        assert settings["socket_mode_enabled"] is True
        assert "url" not in cmd
        assert "request_url" not in settings["interactivity"]
        assert "event_subscriptions" not in settings


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_the_fake_slack_grants_what_the_manifest_asks(name: str) -> None:
    from tests.fakes.slack import SCOPES

    assert set(_load(name)["oauth_config"]["scopes"]["bot"]) == SCOPES


def _readme_scopes(text: str) -> list[str]:
    """The Slack scopes named in `text` (`commands`, `chat:write.public`; not setting paths like `slack.admins`)."""
    return [s for s in re.findall(r"`([^`]+)`", text) if re.fullmatch(r"[a-z]+|[a-z]+:[a-z.]+", s)]


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_the_readme_lists_the_bot_scopes_the_manifest_asks(name: str) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(
        r"It asks for these bot\s+scopes:(.*?)\n\s+An app created from an older manifest(.*?)\n2\. ",
        readme,
        re.S,
    )
    assert match is not None, "README: the scope list of 'Create the Slack app from the manifest' is gone"
    asked = _load(name)["oauth_config"]["scopes"]["bot"]
    assert _readme_scopes(match[1]) == asked
    older = _readme_scopes(match[2])  # the scopes an app from an older manifest may lack
    assert older and set(older) <= set(asked)


def _no_slash(m: dict[str, Any]) -> None:
    m["features"]["slash_commands"][0]["command"] = "marketo"


def _long_name(m: dict[str, Any]) -> None:
    m["display_information"]["name"] = "n" * 36


def _long_command(m: dict[str, Any]) -> None:
    m["features"]["slash_commands"][0]["command"] = "/" + "m" * 32


def _unknown_key(m: dict[str, Any]) -> None:
    m["settings"]["socket_mode"] = True


def _bad_url(m: dict[str, Any]) -> None:
    m["features"]["slash_commands"][0]["url"] = "notifbot.example.com/slack/events"


@pytest.mark.parametrize("breaker", [_no_slash, _long_name, _long_command, _unknown_key, _bad_url])
@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_broken_manifest_fails(validator: Any, name: str, breaker: Any) -> None:
    broken = copy.deepcopy(_load(name))
    breaker(broken)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)

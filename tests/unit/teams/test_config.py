"""check-config for the Teams sections: ids, URLs, sign-in and the commands block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from notifbot.config import parse_settings
from notifbot.config.checks import environment_problems
from notifbot.config.env import Env, settings_secrets

TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
CHANNEL = "19:abc@thread.tacv2"


def problems(env: dict[str, str] | None = None, **data: Any) -> list[str]:
    data.setdefault("routes", [{"to": list(data.get("destinations", {"console": 0}))[:1] or ["console"]}])
    return environment_problems(parse_settings(data, source="test"), Env(env or {}))


def test_a_good_teams_destination_with_a_token_passes() -> None:
    dests = {"t": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL}}
    assert problems({"GRAPH_ACCESS_TOKEN": "x" * 10}, destinations=dests) == []


def test_bad_ids_and_missing_sign_in_are_reported() -> None:
    dests = {"t": {"type": "teams", "team_id": "Marketing", "channel_id": "General"}}
    found = problems(destinations=dests)
    assert any(p.startswith("destinations.t.team_id: expected the team's group id") for p in found)
    assert any(p.startswith("destinations.t.channel_id: expected a channel id like 19:") for p in found)
    assert any(p.startswith("teams.client_id:") and "teams login" in p for p in found)


def test_missing_auth_record_says_run_login(tmp_path: Path) -> None:
    dests = {"t": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL}}
    teams = {"client_id": "cid", "auth_record": str(tmp_path / "none.json")}
    assert [p.split(":")[0] for p in problems(destinations=dests, teams=teams)] == ["teams.auth_record"]
    (tmp_path / "none.json").write_text("{}")
    assert problems(destinations=dests, teams=teams) == []


def test_graph_url_must_be_https_unless_loopback() -> None:
    dests = {"t": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL}}
    env = {"GRAPH_ACCESS_TOKEN": "x" * 10, "GRAPH_API_URL": "http://graph.example/v1.0"}
    assert any(p.startswith("teams.graph_url:") for p in problems(env, destinations=dests))
    env["GRAPH_API_URL"] = "http://127.0.0.1:8123/v1.0"
    assert problems(env, destinations=dests) == []


def test_workflow_url_checks_and_secrets() -> None:
    url = "https://prod-00.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sp=x&sig=SIGSECRET123"
    found = problems(destinations={"f": {"type": "teams_workflow", "url": url}})
    assert found and "2025-11-30" in found[0]
    assert problems(destinations={"f": {"type": "teams_workflow", "url": "http://example.com/x"}})[
        0
    ].startswith("destinations.f.url: the Workflows trigger URL must be https")
    good = url.replace("prod-00.westus.logic.azure.com", "default1.environment.api.powerplatform.com")
    assert problems(destinations={"f": {"type": "teams_workflow", "url": good}}) == []
    s = parse_settings({"destinations": {"f": {"type": "teams_workflow", "url": good}}, "routes": [{"to": ["f"]}]},
                       source="test")  # fmt: skip
    assert settings_secrets(s) == [good, "SIGSECRET123"]


def test_commands_block_needs_a_public_https_url_and_channels() -> None:
    env = {"GRAPH_ACCESS_TOKEN": "x" * 10}
    channels = [{"team_id": TEAM, "channel_id": CHANNEL}]
    found = problems(env, teams={"commands": {"channels": channels}})
    assert [p.split(":")[0] for p in found] == ["teams.commands.notification_url"]
    found = problems(
        env, teams={"commands": {"channels": channels, "notification_url": "http://bot.example/x"}}
    )
    assert "only notifies https" in found[0]
    ok = {"channels": channels, "notification_url": "https://bot.example/teams/notifications"}
    assert problems(env, teams={"commands": ok}) == []
    assert problems(env, teams={"commands": {"notification_url": "https://bot.example/t"}})[0].startswith(
        "teams.commands.channels"
    )


def test_teams_example_config_is_valid(monkeypatch: Any, capsys: Any) -> None:
    from notifbot.cli import main

    example = Path(__file__).resolve().parents[3] / "examples" / "teams.yaml"
    monkeypatch.setenv("GRAPH_ACCESS_TOKEN", "eyJ-test-token")
    monkeypatch.setenv(
        "TEAMS_WORKFLOW_URL", "https://x.environment.api.powerplatform.com/workflows/1?sig=abcd"
    )
    assert main(["check-config", "--config", str(example)]) == 0, capsys.readouterr().out
    monkeypatch.delenv("TEAMS_WORKFLOW_URL")
    assert main(["check-config", "--config", str(example)]) == 1
    assert "env.TEAMS_WORKFLOW_URL" in capsys.readouterr().out


def test_msgraph_is_imported_only_when_teams_graph_is_configured() -> None:
    import subprocess
    import sys

    code = (
        "import sys, notifbot.app, notifbot.cli, notifbot.render.teams, notifbot.destinations.teams_workflow;"
        "print('msgraph' in sys.modules or 'azure.identity' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

"""Settings: env expansion, validation messages as `path: message`, the embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifbot.config import ConfigError, Settings, expand_env, load_settings, parse_settings
from notifbot.config.checks import environment_problems
from notifbot.config.env import Env, settings_secrets


def problem_paths(data: dict[str, object]) -> list[str]:
    """The `path` of every problem `parse_settings` reports for `data` (it must report some)."""
    with pytest.raises(ConfigError) as err:
        parse_settings(data, source="t")
    return [p.split(":")[0] for p in err.value.problems]


def test_embedded_default_is_console_on_loopback() -> None:
    s = Settings()
    assert (s.server.host, s.server.port, s.storage.path) == ("127.0.0.1", 8080, "var/notifbot.db")
    assert [r.to for r in s.routes] == [["console"]]
    assert environment_problems(s, Env({})) == []


def test_env_expansion_with_defaults() -> None:
    text, missing = expand_env("a: ${A}\nb: ${B:-fallback}\nc: ${C}", {"A": "1"})
    assert text == "a: 1\nb: fallback\nc: "
    assert missing == ["C"]


def test_every_problem_reported_with_its_path() -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(
            {
                "server": {"port": "eighty"},
                "slack": {"command": "marketo"},
                "destinations": {"ops": {"type": "slack"}, "x": {"type": "pager"}},
                "routes": [{"to": []}],
                "bogus": 1,
            },
            source="t",
        )
    paths = {p.split(":")[0] for p in err.value.problems}
    assert {
        "server.port",
        "slack.command",
        "destinations.ops.channel",
        "destinations.x",
        "routes[0].to",
        "bogus",
    } <= paths


def test_unknown_destination_and_missing_catch_all() -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(
            {
                "destinations": {"a": {"type": "console"}},
                "routes": [{"match": {"kind": "audit"}, "to": ["b"]}],
            },
            source="t",
        )
    assert err.value.problems == [
        "routes[0].to[0]: unknown destination 'b' (defined: a)",
        "routes[0]: the last route has a match; add a catch-all route (one without `match`) so no "
        "notification goes unrouted",
    ]


def test_environment_problems() -> None:
    s = parse_settings(
        {
            "server": {"host": "0.0.0.0"},
            "destinations": {"ops": {"type": "slack", "channel": "C1"}},
            "routes": [{"to": "ops"}],
        },
        source="t",
    )
    problems = environment_problems(s, Env({}))
    assert any(p.startswith("env.SLACK_BOT_TOKEN:") for p in problems)
    assert any(p.startswith("server.host:") for p in problems)
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "NOTIFBOT_WEBHOOK_TOKEN": "t"}
    assert [p.split(":")[0] for p in environment_problems(s, Env(env))] == ["env.SLACK_SIGNING_SECRET"]
    assert environment_problems(s, Env({**env, "SLACK_SIGNING_SECRET": "x"})) == []
    assert environment_problems(s, Env({**env, "SLACK_APP_TOKEN": "xapp-1"})) == []
    assert [p.split(":")[0] for p in environment_problems(s, Env({**env, "SLACK_APP_TOKEN": "nope"}))] == [
        "env.SLACK_APP_TOKEN"
    ]
    quiet = s.model_copy(update={"slack": s.slack.model_copy(update={"interactive": False})})
    assert environment_problems(quiet, Env(env)) == []


def test_load_from_file_expands_env(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("destinations:\n  ops: {type: slack, channel: '${CH}'}\nroutes:\n  - to: [ops]\n")
    s = load_settings(str(f), {"CH": "C777"})
    assert s.destinations["ops"].channel == "C777"  # type: ignore[union-attr]
    with pytest.raises(ConfigError) as err:
        load_settings(str(f), {})
    assert err.value.problems[0].startswith("env.CH:")


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(str(tmp_path / "missing.yaml"), {})
    bad = tmp_path / "bad.yaml"
    bad.write_text("routes: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(str(bad), {})


def test_config_file_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, {}).source == "embedded default"
    (tmp_path / "notifbot.yaml").write_text("server: {port: 9000}\n")
    assert load_settings(None, {}).server.port == 9000
    other = tmp_path / "other.yaml"
    other.write_text("server: {port: 9001}\n")
    assert load_settings(None, {"NOTIFBOT_CONFIG": str(other)}).server.port == 9001


def test_marketo_instances_are_validated_without_reaching_marketo() -> None:
    paths = problem_paths(
        {
            "marketo": {
                "instances": [
                    {"munchkin_id": "123-ABC-456", "client_id": "id", "client_secret": "s"},
                    {"munchkin_id": "123-ABC-456", "base_url": "http://example.com"},
                    {"munchkin_id": "bad"},
                ]
            }
        }
    )
    # one pass: the schema error, then the semantic problems of the instances that did validate
    assert paths == [
        "marketo.instances[2].munchkin_id",
        "marketo.instances[1].munchkin_id",
        "marketo.instances[1].client_id",
        "marketo.instances[1].client_secret",
        "marketo.instances[1].base_url",
    ]
    paths = problem_paths(
        {
            "marketo": {
                "instances": [
                    {"munchkin_id": "123-ABC-456", "client_id": "id", "client_secret": "s"},
                    {"munchkin_id": "123-ABC-456", "base_url": "http://example.com"},
                ]
            }
        }
    )
    assert paths == [
        "marketo.instances[1].munchkin_id",
        "marketo.instances[1].client_id",
        "marketo.instances[1].client_secret",
        "marketo.instances[1].base_url",
    ]
    ok = parse_settings(
        {"marketo": {"instances": [{"munchkin_id": "123-ABC-456", "client_id": "i", "client_secret": "s"}]}},
        source="t",
    )
    assert ok.marketo.instances[0].daily_quota == 50_000


def test_marketo_budget_shares_and_trigger_settings_are_validated() -> None:
    inst = {"munchkin_id": "123-ABC-456", "client_id": "i", "client_secret": "s", "daily_quota": 20_000}
    ok = parse_settings({"marketo": {"instances": [inst], "budget_percent": 2}}, source="t")
    assert ok.marketo.budget_for(ok.marketo.instances[0]) == 400
    assert ok.marketo.caps_for(ok.marketo.instances[0]) == {"campaigns": 40, "activities": 120}
    assert ok.marketo.triggers.activities == "auto" and len(ok.marketo.triggers.activity_type_ids) == 10
    paths = problem_paths(
        {
            "marketo": {
                "instances": [inst],
                "budget_percent": 0,
                "quota_thresholds": [],
                "triggers": {"activities": "sometimes", "activity_type_ids": list(range(1, 12))},
            }
        }
    )
    assert paths == [
        "marketo.budget_percent",
        "marketo.quota_thresholds",
        "marketo.triggers.activities",
        "marketo.triggers.activity_type_ids",
    ]
    with pytest.raises(ConfigError, match="leave at least 10 % of the budget to the quota watch"):
        parse_settings(
            {"marketo": {"triggers": {"campaigns_share_percent": 50, "activities_share_percent": 45}}},
            source="t",
        )


def test_secrets_written_in_the_config_are_known_for_redaction() -> None:
    settings = parse_settings(
        {
            "marketo": {
                "instances": [
                    {"munchkin_id": "123-ABC-456", "client_id": "i", "client_secret": "literal-mkto-secret"}
                ]
            },
            "adobe_io": {"client_id": "adobe-id", "client_secret": "literal-adobe-secret"},
        },
        source="t",
    )
    assert settings_secrets(settings) == ["literal-mkto-secret", "literal-adobe-secret"]
    assert settings_secrets(parse_settings({}, source="t")) == []


def test_storage_bounds_have_safe_defaults_and_are_validated() -> None:
    s = parse_settings({}, source="t").storage
    assert (s.wal_max_bytes, s.min_free_bytes) == (64 * 1024 * 1024, 32 * 1024 * 1024)
    bad = {"storage": {"wal_max_bytes": 8 * 1024 * 1024, "min_free_bytes": -1}}
    assert problem_paths(bad) == ["storage.wal_max_bytes", "storage.min_free_bytes"]
    assert problem_paths({"storage": {"wal_max_bytes": "64 MiB"}}) == ["storage.wal_max_bytes"]


def test_storage_url_takes_postgresql_urls_and_never_shows_the_password() -> None:
    s = parse_settings(
        {"storage": {"url": "postgresql://bot:pw-secret-1@db.internal:5433/notifbot"}}, source="t"
    )
    assert (s.storage.url, s.storage.pool_size, s.storage.lease_seconds) == (
        "postgresql://bot:pw-secret-1@db.internal:5433/notifbot",
        4,
        15.0,
    )
    assert (
        parse_settings({"storage": {"url": "postgres://db/n"}}, source="t").storage.url == "postgres://db/n"
    )
    for url in (
        "mysql://bot:pw-secret-1@db/n",
        "sqlite:///var/x.db?password=pw-secret-1",
        "bot:pw-secret-1@db",
    ):
        with pytest.raises(ConfigError) as err:
            parse_settings({"storage": {"url": url}}, source="t")
        [problem] = err.value.problems
        assert problem.startswith("storage.url:") and "postgresql://" in problem, problem
        assert "pw-secret-1" not in problem
    with pytest.raises(ConfigError) as err:
        parse_settings({"storage": {"url": "postgresql://bot:pw-secret-1@db:99999/n"}}, source="t")
    assert "pw-secret-1" not in str(err.value) and "Port out of range" in str(err.value)


def test_pool_size_and_lease_seconds_are_bounded() -> None:
    bad = {"storage": {"pool_size": 0, "lease_seconds": 0.5}}
    assert problem_paths(bad) == ["storage.pool_size", "storage.lease_seconds"]
    assert problem_paths({"storage": {"pool_size": 65, "lease_seconds": 301}}) == [
        "storage.pool_size",
        "storage.lease_seconds",
    ]
    s = parse_settings({"storage": {"pool_size": 64, "lease_seconds": 300}}, source="t").storage
    assert (s.pool_size, s.lease_seconds) == (64, 300)


def test_database_url_from_the_environment_is_checked_and_its_password_redacted() -> None:
    s = parse_settings({}, source="t")
    env = Env({"NOTIFBOT_DATABASE_URL": "postgresql://bot:env-pw-77@db/notifbot"})
    assert env.database_url == "postgresql://bot:env-pw-77@db/notifbot"
    assert environment_problems(s, env) == []
    assert "env-pw-77" in env.secrets()
    [problem] = environment_problems(s, Env({"NOTIFBOT_DATABASE_URL": "mysql://bot:env-pw-77@db/x"}))
    assert problem.startswith("env.NOTIFBOT_DATABASE_URL:") and "env-pw-77" not in problem
    in_config = parse_settings({"storage": {"url": "postgresql://bot:cfg-pw-88@db/n"}}, source="t")
    assert settings_secrets(in_config) == ["cfg-pw-88"]
    assert Env({}).database_url is None and Env({"NOTIFBOT_DATABASE_URL": ""}).database_url is None


def test_sqlite_only_keys_set_explicitly_are_listed() -> None:
    s = parse_settings(
        {"storage": {"url": "postgresql://db/n", "path": "x.db", "synchronous": "normal"}}, source="t"
    )
    assert s.storage.sqlite_only_keys() == ["storage.path", "storage.synchronous"]
    assert (
        parse_settings({"storage": {"url": "postgresql://db/n"}}, source="t").storage.sqlite_only_keys() == []
    )

"""The first-hour rough edges of the command line (issue #16): render as posted, check-config in one pass, no
database created by a read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notifbot.cli import main
from notifbot.render.slack import ACK_ACTION, MUTE_ACTION, OPEN_ACTION

ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s" * 32}


def _action_ids(out: str) -> list[str]:
    blocks = json.loads(out)["blocks"]
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def _render(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["render", "--kind", "campaign_failure", *args]) == 0
    return _action_ids(capsys.readouterr().out)


def test_render_shows_the_buttons_the_configured_bot_posts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./notifbot.yaml: the embedded default, interactive
    monkeypatch.delenv("NOTIFBOT_CONFIG", raising=False)
    assert _render(capsys) == [ACK_ACTION, MUTE_ACTION, OPEN_ACTION]
    assert _render(capsys, "--no-interactive") == [OPEN_ACTION]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("slack: {interactive: false}\n")
    assert _render(capsys, "--config", str(cfg)) == [OPEN_ACTION]
    assert _render(capsys, "--config", str(cfg), "--interactive") == [ACK_ACTION, MUTE_ACTION, OPEN_ACTION]


def test_render_teams_has_only_the_open_action(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--interactive", "--no-interactive"):
        assert main(["render", "--kind", "campaign_failure", "--format", "teams", flag]) == 0
        card = json.loads(capsys.readouterr().out)
        assert [a["type"] for a in card.get("actions", [])] == ["Action.OpenUrl"]


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> list[str]:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    code = main(["check-config", "--config", str(cfg)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == (1 if out else 0)
    return out


ROUTES = """
destinations:
  ops: {type: console}
routes:
  - match: {severity: urgent}
    to: ops
  - match: {kind: crm_synch}
    to: ops
  - match: {knd: crm_sync}
    to: ops
  - match: {severity: [critical, Warning]}
    to: ops
  - match: {kind: [crm_sync, my_own_kind], instnace: 123-ABC-456, campaign_name: Welcome, team: web}
    group: {by: [kind, severty]}
    to: ops
  - to: ops
"""


def test_check_config_flags_routes_that_can_never_match(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert _check(tmp_path, capsys, ROUTES) == [
        "routes[0].match.severity: 'urgent' is not a severity, so this never matches (valid: critical, warning, "
        "info)",
        "routes[1].match.kind: 'crm_synch' is not a kind; did you mean crm_sync? (kinds: campaign_failure, "
        "campaign_abort, crm_sync, engagement, facebook, trigger_cleanup, linkedin, web_services, audit, "
        "ab_test_result, other)",
        "routes[2].match.knd: 'knd' looks like a misspelt kind (a match key is kind, severity, instance, or a field "
        "or label name); did you mean kind?",
        "routes[3].match.severity: 'Warning' is not a severity, so this never matches (valid: critical, warning, "
        "info)",
        "routes[4].match.instnace: 'instnace' looks like a misspelt instance (a match key is kind, severity, "
        "instance, or a field or label name); did you mean instance?",
        "routes[4].group.by[1]: 'severty' looks like a misspelt severity (a match key is kind, severity, instance, "
        "or a field or label name); did you mean severity?",
    ]


def test_field_and_label_matches_and_own_kinds_stay_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    text = """
destinations:
  ops: {type: console}
routes:
  - match: {kind: deploy_finished, team: web, crm: salesforce, failed_leads: 3, severity: info}
    group: {by: [team, crm, instance]}
    to: ops
  - to: ops
"""
    assert _check(tmp_path, capsys, text) == []


def test_check_config_reports_every_problem_in_one_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "ADOBE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    text = """
adobe_io: {journal_url: 42, nonsense: true}
destinations:
  ops: {type: slack, channel: C1}
  broken: {type: slack}
routes:
  - {match: {kind: crm_sync}}
  - {match: {severity: urgent}, to: broken}
  - {match: {kind: crm_synch}, to: [ops, nowhere]}
"""
    lines = _check(tmp_path, capsys, text)
    paths = [line.split(":")[0] for line in lines]
    # schema errors, then semantic problems of the rest (in the file's route numbering), then the environment
    assert paths[:4] == [
        "adobe_io.journal_url",
        "adobe_io.nonsense",
        "destinations.broken.channel",
        "routes[0].to",
    ]
    assert "routes[1].match.severity" in paths
    assert "routes[2].to[1]" in paths and "routes[2].match.kind" in paths
    assert "routes[2]" in paths  # the last route has a match
    assert "routes[1].to[0]" not in paths  # a refused destination is still defined
    assert {"env.SLACK_BOT_TOKEN", "env.SLACK_SIGNING_SECRET"} <= set(paths)
    assert len(paths) == len(set(paths))


def test_outbox_list_outside_the_bot_directory_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("NOTIFBOT_CONFIG", "NOTIFBOT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for argv in (["outbox", "list"], ["outbox", "retry", "all"], ["prune", "--dry-run"], ["prune"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert str(tmp_path / "var" / "notifbot.db") in err
        assert "--config" in err and "NOTIFBOT_CONFIG" in err
    assert main(["backup", str(tmp_path / "copy.db")]) == 1
    assert "no database at" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_outbox_list_names_the_database_and_opens_it_read_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifbot.store.db import connect

    monkeypatch.delenv("NOTIFBOT_DATABASE_URL", raising=False)
    db = tmp_path / "bot.db"
    connect(db).close()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"storage: {{path: {db}}}\n")
    before = db.read_bytes()
    assert main(["outbox", "list", "--config", str(cfg)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "no dead deliveries\n"
    assert captured.err == f"outbox: database {db}\n"
    assert main(["prune", "--dry-run", "--config", str(cfg)]) == 0
    assert f"database {db}" in capsys.readouterr().err
    assert db.read_bytes() == before


def test_a_read_only_connection_creates_nothing_and_refuses_writes(tmp_path: Path) -> None:
    import sqlite3

    from notifbot.store.db import connect, connect_read_only

    with pytest.raises(sqlite3.OperationalError):
        connect_read_only(tmp_path / "var" / "none.db")
    assert list(tmp_path.iterdir()) == []
    connect(tmp_path / "bot.db").close()
    conn = connect_read_only(tmp_path / "bot.db")
    try:
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM outbox")
    finally:
        conn.close()


def test_outbox_on_postgres_names_the_server_without_its_password(
    pg_store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifbot.store.pg_url import redacted
    from tests.pg_support import empty_store

    empty_store(pg_store_url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOTIFBOT_CONFIG", raising=False)
    monkeypatch.setenv("NOTIFBOT_DATABASE_URL", pg_store_url)
    assert main(["outbox", "list"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "no dead deliveries\n"
    assert captured.err == f"outbox: database {redacted(pg_store_url)}\n"
    assert not (tmp_path / "var").exists()  # no SQLite file made on the side


def test_serve_lists_config_and_environment_problems_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "destinations:\n  ops: {type: slack, channel: C1}\nroutes:\n  - {match: {severity: urgent}, to: ops}\n  - to: ops\n"
    )
    assert main(["serve", "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "routes[0].match.severity: 'urgent' is not a severity" in err and "env.SLACK_BOT_TOKEN" in err

"""The command line: check-config, routes test, render, outbox, help."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from notifbot.cli import main
from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "notifbot.yaml"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "check-config", "routes", "render", "send", "demo", "outbox", "teams"):
        assert command in out


def test_example_config_is_valid(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-example")
    assert main(["check-config", "--config", str(EXAMPLE)]) == 1
    assert "env.SLACK_SIGNING_SECRET" in capsys.readouterr().out
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5")
    assert main(["check-config", "--config", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == ""


def test_check_config_prints_each_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("destinations:\n  ops: {type: slack}\nroutes:\n  - to: [nowhere]\n")
    assert main(["check-config", "--config", str(cfg)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    # one pass: the schema error and the problems of the rest together, the refused destination's environment too
    assert lines == [
        "destinations.ops.channel: Field required",
        "routes[0].to[0]: unknown destination 'nowhere' (defined: ops)",
        "env.SLACK_BOT_TOKEN: a slack destination is configured; set the bot token (xoxb-…)",
    ]
    cfg.write_text("destinations:\n  ops: {type: slack, channel: C1}\nroutes:\n  - to: [nowhere]\n")
    assert main(["check-config", "--config", str(cfg)]) == 1
    assert [line.split(":")[0] for line in capsys.readouterr().out.strip().splitlines()] == [
        "routes[0].to[0]",
        "env.SLACK_BOT_TOKEN",
        "env.SLACK_SIGNING_SECRET",
    ]
    cfg.write_text("destinations:\n  ops: {type: slack, channel: C1}\nroutes:\n  - to: [ops]\n")
    assert main(["check-config", "--config", str(cfg)]) == 1
    assert capsys.readouterr().out.startswith("env.SLACK_BOT_TOKEN:")


def _destinations(out: str) -> list[str]:
    return [line for line in out.splitlines() if line and not line.startswith(" ")]


def test_routes_test_prints_destinations_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["routes", "test", "--config", str(EXAMPLE), "--kind", "crm_sync", "--field", "crm=salesforce"]
    assert main([*args, "--field", "problem=expired_credentials", "--label", "team=emea"]) == 0
    assert _destinations(capsys.readouterr().out) == ["crm-team", "marketing-ops"]
    assert (
        main(["routes", "test", "--config", str(EXAMPLE), "--kind", "web_services", "--label", "team=emea"])
        == 0
    )
    assert _destinations(capsys.readouterr().out) == ["emea-marketing", "marketing-ops"]


def test_render_prints_block_kit_for_a_sample_or_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "--kind", "web_services", "--format", "slack"]) == 0
    message = json.loads(capsys.readouterr().out)
    assert message["text"] and message["blocks"][0]["type"] == "header"
    event = tmp_path / "e.json"
    event.write_text(
        json.dumps({"kind": "engagement", "fields": {"stream_name": "Stream 2", "exhausted_count": 7}})
    )
    assert main(["render", "--event", str(event)]) == 0
    assert "Stream 2" in capsys.readouterr().out


def test_render_unknown_kind_and_bad_file_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "--kind", "nope"]) != 0
    assert "nope" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "crm_sync", "fields": {"failed_leads": "lots"}}))
    assert main(["render", "--event", str(bad)]) == 2
    assert "fields.failed_leads" in capsys.readouterr().err


def test_outbox_list_and_retry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    conn = connect(tmp_path / "var" / "notifbot.db")
    n = parse_event({"kind": "audit", "id": "k1"}, now=__import__("datetime").datetime.now())
    insert_notifications(conn, [(n, [Target("ops", "slack", "C1")])])
    row = outbox.claim_next(conn, "slack", "C1", "w", 1e12, 30)
    assert row is not None
    outbox.mark_dead(conn, row.id, "w", "the bot is not a member of channel C1: invite it")
    conn.close()
    assert main(["outbox", "list"]) == 0
    out = capsys.readouterr().out
    assert "k1" in out and "invite it" in out
    assert main(["outbox", "retry", str(row.id)]) == 0
    assert f"re-queued {row.id}" in capsys.readouterr().out
    assert main(["outbox", "retry", str(row.id)]) == 1
    assert main(["outbox", "retry"]) == 2
    assert main(["outbox", "list"]) == 0
    assert "no dead deliveries" in capsys.readouterr().out


def test_serve_refuses_a_public_address_without_a_webhook_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "server.host" in err and "NOTIFBOT_WEBHOOK_TOKEN" in err


def test_serve_with_slack_destination_but_no_token_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("destinations:\n  ops: {type: slack, channel: C1}\nroutes:\n  - to: [ops]\n")
    assert main(["serve", "--config", str(cfg)]) == 1
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_email_classify_prints_kind_fields_and_message_and_names_an_unreadable_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = Path(__file__).parents[1] / "data" / "email"
    missing = tmp_path / "missing.eml"
    code = main(
        ["email", "classify", str(data / "crm_sync_dynamics-en.eml"), str(missing), "--instance", "1-X"]
    )
    out, err = capsys.readouterr()
    assert code == 1 and f"cannot read {missing}" in err
    assert "kind: crm_sync" in out and "instance: 1-X" in out and '"crm": "dynamics"' in out
    assert "Ann Berg" in out and "Microsoft Dynamics" in out  # the rendered message
    assert main(["email", "classify", str(data / "other-en.eml")]) == 0
    assert "kind: other" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["email", "classify", "--help"])
    assert "saved e-mail" in capsys.readouterr().out


def test_routes_test_shows_how_each_destination_groups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "n.yaml"
    cfg.write_text(
        "destinations: {ops: {type: console}, crm: {type: console}, all: {type: console}}\n"
        "routes:\n"
        "  - match: {kind: campaign_failure}\n"
        "    to: [ops]\n"
        "    group: {by: [kind, instance], wait: 30s, interval: 5m, repeat: 4h}\n"
        "    continue: true\n"
        "  - match: {kind: crm_sync}\n"
        "    to: crm\n"
        "    digest: {every: 24h, at: '08:00', timezone: Europe/Stockholm}\n"
        "  - to: all\n"
    )
    base = ["routes", "test", "--config", str(cfg)]
    assert (
        main([*base, "--kind", "campaign_failure", "--instance", "123-ABC-456", "--field", "campaign_id=7"])
        == 0
    )
    assert capsys.readouterr().out.splitlines() == [
        "ops",
        "  group kind=campaign_failure instance=123-ABC-456  (by kind, instance; wait 30s, interval 5m, repeat 4h)",
        "all",
        "  group kind=campaign_failure instance=123-ABC-456 campaign_id=7  (by problem; wait 0s, interval 10m, repeat 10m)",
    ]
    assert main([*base, "--kind", "crm_sync", "--field", "crm=dynamics"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["crm", "  digest every 1d at 08:00 Europe/Stockholm"]
    assert re.fullmatch(r"  in the period ending \d{4}-\d\d-\d\d 08:00 CES?T \(.* 0[67]:00 UTC\)", out[2]), (
        out
    )

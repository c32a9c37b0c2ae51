"""email.mailboxes[].graph: the issue's key names, defaults, exactly one reader per mailbox, and the sign-in check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notifbot.config import ConfigError, Env, environment_problems, parse_settings, settings_secrets

IMAP = {"host": "imap.example.com", "username": "u", "password": "p4ss"}


def mailbox(**box: Any) -> dict[str, Any]:
    return {"name": "marketo-alerts", "instance": "123-ABC-456", **box}


def problems(*mailboxes: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        parse_settings({"email": {"mailboxes": list(mailboxes)}}, source="t")
    return "\n".join(err.value.problems)


def test_the_issue_example_parses_with_its_defaults() -> None:
    data = {"mailboxes": [mailbox(graph={"mailbox": "marketo-alerts@contoso.com", "folder": "Inbox"})]}
    [m] = parse_settings({"email": data}, source="t").email.mailboxes
    assert m.imap is None and m.graph is not None
    assert (m.graph.mailbox, m.graph.folder, m.graph.processed_folder, m.graph.processed_category) == (
        "marketo-alerts@contoso.com",
        "Inbox",
        "notifbot/processed",
        None,
    )
    assert m.folder == "Inbox" and m.poll_seconds == 60
    assert settings_secrets(parse_settings({"email": data}, source="t")) == []  # no IMAP password to redact


def test_exactly_one_of_imap_and_graph() -> None:
    both = problems(mailbox(imap=IMAP, graph={"mailbox": "a@contoso.com"}))
    assert "set exactly one of imap" in both and "got both" in both and "marketo-alerts" in both
    assert "got neither" in problems(mailbox())


def test_processed_folder_must_differ_unless_a_category_marks_mail() -> None:
    same = problems(
        mailbox(
            graph={
                "mailbox": "a@contoso.com",
                "folder": "Inbox/Marketo",
                "processed_folder": "inbox/marketo/",
            }
        )
    )
    assert "processed_folder must differ from folder" in same and "processed_category" in same
    parse_settings(
        {
            "email": {
                "mailboxes": [
                    mailbox(
                        graph={
                            "mailbox": "a@contoso.com",
                            "processed_folder": "Inbox",
                            "processed_category": "Done",
                        }
                    )
                ]
            }
        },
        source="t",
    )
    assert problems(mailbox(graph={"mailbox": "no spaces@contoso.com"})).startswith(
        "email.mailboxes[0].graph.mailbox:"
    )


def test_a_graph_mailbox_needs_a_teams_sign_in(tmp_path: Path) -> None:
    data: dict[str, Any] = {"email": {"mailboxes": [mailbox(graph={"mailbox": "a@contoso.com"})]}}
    found = environment_problems(parse_settings(data, source="t"), Env({}))
    assert any("mailbox marketo-alerts (email.mailboxes[].graph)" in p and "teams login" in p for p in found)
    data["teams"] = {"client_id": "cid", "auth_record": str(tmp_path / "none.json")}
    found = environment_problems(parse_settings(data, source="t"), Env({}))
    assert any(p.startswith("teams.auth_record:") and "notifbot teams login" in p for p in found)
    assert not [
        p
        for p in environment_problems(parse_settings(data, source="t"), Env({"GRAPH_ACCESS_TOKEN": "t"}))
        if "teams" in p
    ]
    data["teams"]["graph_url"] = "http://graph.example.com/v1.0"
    found = environment_problems(parse_settings(data, source="t"), Env({"GRAPH_ACCESS_TOKEN": "t"}))
    assert any(p.startswith("teams.graph_url: must be https") for p in found)

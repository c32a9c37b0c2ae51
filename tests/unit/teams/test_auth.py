"""Teams sign-in: `teams login` persists the account record; serve builds a silent credential or uses a token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.identity import AuthenticationRecord

from notifbot.cli import main
from notifbot.config import parse_settings
from notifbot.config.env import Env
from notifbot.errors import ConfigError
from notifbot.teams import auth


class FakeDeviceCode:
    """Stands in for DeviceCodeCredential.authenticate: shows the code through the prompt, returns a record."""

    def __init__(self, prompt: Any) -> None:
        self.prompt = prompt
        self.scopes: list[str] = []

    def authenticate(self, *, scopes: list[str]) -> AuthenticationRecord:
        self.scopes = scopes
        self.prompt("https://microsoft.com/devicelogin", "ABCD-EFGH", datetime(2026, 11, 29, 10, tzinfo=UTC))
        return AuthenticationRecord("tid", "cid", "login.microsoftonline.com", "home", "svc@contoso.com")


def settings(tmp_path: Path, **teams: Any) -> Any:
    data = {"client_id": "cid", "auth_record": str(tmp_path / "var" / "teams-auth.json"), **teams}
    return parse_settings({"teams": data}, source="test")


def test_login_saves_a_private_account_record(tmp_path: Path) -> None:
    shown: list[str] = []
    s = settings(tmp_path)
    fake = FakeDeviceCode(lambda url, code, _: shown.append(f"{url} {code}"))
    assert auth.login(s.teams, fake.prompt, credential=fake) == "svc@contoso.com"
    assert shown == ["https://microsoft.com/devicelogin ABCD-EFGH"]
    assert "https://graph.microsoft.com/ChannelMessage.Send" in fake.scopes
    path = Path(s.teams.auth_record)
    assert json.loads(path.read_text())["username"] == "svc@contoso.com"
    assert path.stat().st_mode & 0o077 == 0


def test_login_asks_for_the_mail_scope_only_when_a_mailbox_is_read_through_graph(tmp_path: Path) -> None:
    s = settings(tmp_path)
    teams_only = FakeDeviceCode(lambda *_: None)
    auth.login(s.teams, teams_only.prompt, credential=teams_only)
    assert not [x for x in teams_only.scopes if "Mail." in x]
    with_mail = FakeDeviceCode(lambda *_: None)
    auth.login(s.teams, with_mail.prompt, credential=with_mail, mail=True)
    assert "https://graph.microsoft.com/Mail.ReadWrite.Shared" in with_mail.scopes
    assert "https://graph.microsoft.com/ChannelMessage.Send" in with_mail.scopes


def test_serve_credential_is_silent_device_code_from_the_record(tmp_path: Path) -> None:
    s = settings(tmp_path, allow_unencrypted_cache=True)
    with pytest.raises(ConfigError, match="teams login"):
        auth.credential_for(s.teams, Env({}).graph_access_token)
    fake = FakeDeviceCode(lambda *_: None)
    auth.login(s.teams, fake.prompt, credential=fake)
    cred = auth.credential_for(s.teams, Env({}).graph_access_token)
    assert isinstance(cred, auth.ThreadedCredential)
    inner = cred._credential
    assert type(inner).__name__ == "DeviceCodeCredential"
    assert inner._auth_record.username == "svc@contoso.com" and inner._disable_automatic_authentication


async def test_graph_access_token_wins_and_is_never_shown(tmp_path: Path) -> None:
    cred = auth.credential_for(
        settings(tmp_path).teams, Env({"GRAPH_ACCESS_TOKEN": "eyJ-secret"}).graph_access_token
    )
    assert isinstance(cred, auth.StaticTokenCredential)
    assert (await cred.get_token("scope")).token == "eyJ-secret"
    assert "eyJ" not in repr(cred)


def test_teams_login_cli_needs_a_client_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("teams: {tenant_id: contoso.onmicrosoft.com}\n")
    assert main(["teams", "login", "--config", str(cfg)]) == 1
    assert "teams.client_id" in capsys.readouterr().err

"""The sandbox's settings derived from yours: chat destinations on the chat server, Teams twins, nothing external."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from notifbot.config import MarketoInstance, Settings, parse_settings
from notifbot.destinations import SlackDestination, TeamsWorkflowDestination
from notifbot.sandbox.marketo import MarketoApi
from notifbot.sandbox.marketo_story import MUNCHKIN, MarketoStory
from notifbot.sandbox.page import ConsoleLink
from notifbot.sandbox.run import SANDBOX_CHANNEL, SandboxError, bind, derive, page_url, sandbox_env
from notifbot.sandbox.services import Services
from notifbot.sandbox.slack_api import TOKEN, YOU

BASE = "http://127.0.0.1:8090"


def _services() -> Services:
    services = Services()
    services.bind("127.0.0.1", 8090)
    return services


def _derive(data: dict[str, Any] | None = None) -> tuple[Settings, dict[str, str], Services]:
    services = _services()
    base = parse_settings(data, source="test") if data is not None else Settings()
    derived = derive(base, services, port=9999, db_path="/tmp/x/sandbox.db")
    return derived.settings, derived.channels, services


def test_the_embedded_default_gets_one_channel_that_sees_everything_with_its_teams_twin() -> None:
    settings, channels, services = _derive()
    assert channels == {SANDBOX_CHANNEL: "sandbox"}
    assert settings.destinations["sandbox"] == SlackDestination(type="slack", channel=SANDBOX_CHANNEL)
    twin = settings.destinations["sandbox-teams"]
    assert isinstance(twin, TeamsWorkflowDestination) and twin.url == services.teams.url(SANDBOX_CHANNEL)
    first, *rest = settings.routes
    assert (first.to, first.continue_, first.match) == (["sandbox", "sandbox-teams"], True, {})
    assert settings.server.console  # the page's "Open console" signs in to it
    assert [r.to for r in rest] == [["console"]]  # the default's console stays as it was


def test_your_destinations_post_to_the_sandbox_and_each_slack_one_gets_a_twin_on_its_routes() -> None:
    settings, channels, services = _derive(
        {
            "marketo": {
                "instances": [{"munchkin_id": "123-ABC-456", "client_id": "id", "client_secret": "s3cret"}]
            },
            "slack": {"admins": ["U0ADMIN1"]},
            "destinations": {
                "ops": {"type": "slack", "channel": "C0OPS", "locale": "sv"},
                "ops-teams": {"type": "console"},  # the twin's natural name is taken
                "crm": {"type": "teams", "team_id": "t", "channel_id": "19:c@thread.tacv2"},
                "flow": {"type": "teams_workflow", "url": "https://prod.example/workflows/abc?sig=real"},
            },
            "routes": [
                {"match": {"severity": "critical"}, "to": ["ops", "crm"], "group": False},
                {"to": ["flow", "ops-teams"]},
            ],
        }
    )
    assert channels == {"C0OPS": "ops", "crm": "crm", "flow": "flow"}
    twin = settings.destinations["ops-teams-2"]
    assert isinstance(twin, TeamsWorkflowDestination)
    assert (twin.url, twin.locale) == (services.teams.url("C0OPS"), "sv")
    for name in ("crm", "flow"):
        dest = settings.destinations[name]
        assert isinstance(dest, TeamsWorkflowDestination) and dest.url == services.teams.url(name)
    assert [r.to for r in settings.routes] == [["ops", "ops-teams-2", "crm"], ["flow", "ops-teams"]]
    assert settings.routes[0].group is False and settings.routes[0].match == {"severity": "critical"}
    assert settings.marketo.instances == [] and settings.adobe_io is None and settings.email.mailboxes == []
    assert settings.teams.commands.channels == [] and settings.slack.admins == ["U0ADMIN1", YOU]
    assert settings.slack.api_url == services.slack.api_url
    assert (settings.server.host, settings.server.port, settings.server.proxy_headers) == (
        "127.0.0.1",
        9999,
        False,
    )
    assert (settings.storage.url, settings.storage.path) == (None, "/tmp/x/sandbox.db")


def test_with_the_fake_marketo_it_is_the_only_instance() -> None:
    services = _services()
    fake = MarketoApi(MarketoStory())
    instance = MarketoInstance.model_validate(fake.instance_entry(services.slack.base_url))
    real = {
        "marketo": {"instances": [{"munchkin_id": "123-ABC-456", "client_id": "id", "client_secret": "s"}]}
    }
    derived = derive(parse_settings(real, source="test"), services, port=1, db_path="x.db", marketo=instance)
    [only] = derived.settings.marketo.instances
    assert (only.munchkin_id, only.base_url) == (MUNCHKIN, f"{BASE}/marketo")


def test_the_bot_gets_only_the_sandbox_secrets_and_your_webhook_token() -> None:
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-real",
        "SLACK_APP_TOKEN": "xapp-real",
        "NOTIFBOT_DATABASE_URL": "postgresql://u:p@db/prod",
        "GRAPH_ACCESS_TOKEN": "real",
        "NOTIFBOT_WEBHOOK_TOKEN": "mine",
    }
    yours = {"NOTIFBOT_CONSOLE_TOKEN": "yours" * 8, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": "also yours" * 4}
    console = ConsoleLink(9999)
    env = sandbox_env({**environ, **yours}, "s" * 32, f"{BASE}/slack/api/", console)
    assert (env.slack_bot_token, env.slack_signing_secret, env.webhook_token) == (TOKEN, "s" * 32, "mine")
    # the sandbox's own console tokens, never yours; long enough for the console, and never shown
    assert (env.console_token, env.console_viewer_token) == (console.admin, console.viewer)
    assert min(len(console.admin), len(console.viewer)) >= 32 and console.admin != console.viewer
    assert console.admin not in repr(console) and console.viewer not in repr(console)
    assert env.slack_app_token is None and env.database_url is None and env.graph_access_token is None
    assert env.slack_api_url(Settings()) == f"{BASE}/slack/api/"


def test_a_taken_port_is_refused_with_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SandboxError, match=rf"port {port} .*in use.*--port {port + 1}"):
            bind("127.0.0.1", port)


def test_page_urls_bracket_an_ipv6_literal() -> None:
    assert (page_url("127.0.0.1", 8090), page_url("::1", 8090)) == (f"{BASE}/", "http://[::1]:8090/")

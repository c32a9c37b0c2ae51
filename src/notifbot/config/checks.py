"""The checks behind `check-config` and start-up: references between sections, then what the environment lacks."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from notifbot.config.env import CONSOLE_TOKEN_MIN_CHARS, Env
from notifbot.config.route_checks import route_problems
from notifbot.config.settings import DEFAULT_ADOBE_IMS_URL, DEFAULT_ADOBE_KEYS_URL, AdobeIOSettings, Settings
from notifbot.destinations import SPECS, spec_for, target_of
from notifbot.net import https_or_loopback, is_loopback
from notifbot.store.pg_url import url_problem

# The distribution is `marketo-notifbot` (pyproject.toml; tests/unit/test_packaging.py keeps hints in step): the
# `notifbot` on the public package index is an unrelated project, and a hint naming it installs a stranger's code.
TEAMS_EXTRA_INSTALL = "pip install 'marketo-notifbot[teams]' (from a checkout: pip install -e '.[teams]')"


def semantic_problems(settings: Settings) -> list[str]:
    """Problems pydantic cannot see: references between sections."""
    problems: list[str] = []
    for i, route in enumerate(settings.routes):
        for j, name in enumerate(route.to):
            if name not in settings.destinations:
                known = ", ".join(sorted(settings.destinations)) or "none"
                problems.append(f"routes[{i}].to[{j}]: unknown destination '{name}' (defined: {known})")
    problems += route_problems(settings.routes)
    seen: set[str] = set()
    for i, inst in enumerate(settings.marketo.instances):
        at = f"marketo.instances[{i}]"
        if inst.munchkin_id in seen:
            problems.append(f"{at}.munchkin_id: {inst.munchkin_id} is listed twice")
        seen.add(inst.munchkin_id)
        for key in ("client_id", "client_secret"):
            if not getattr(inst, key):
                var = f"MARKETO_{key.upper()}"
                problems.append(
                    f"{at}.{key}: required to poll Marketo (Admin → LaunchPoint → View Details); "
                    f"e.g. {key}: ${{{var}}}"
                )
        if inst.base_url and not https_or_loopback(inst.base_url):
            problems.append(
                f"{at}.base_url: use the https REST endpoint, e.g. https://{inst.munchkin_id}.mktorest.com"
            )
    t = settings.marketo.triggers
    if t.campaigns_share_percent + t.activities_share_percent > 90:
        problems.append(
            "marketo.triggers: campaigns_share_percent + activities_share_percent must leave at least 10 % of "
            "the budget to the quota watch (they add up to "
            f"{t.campaigns_share_percent + t.activities_share_percent:g} %)"
        )
    problems.extend(_adobe_io_problems(settings.adobe_io))
    problems.extend(_shared_channel_problems(settings))
    if settings.templates:  # Jinja's parser is imported only for a config that has templates
        from notifbot.config.template_checks import template_problems

        problems.extend(template_problems(settings.templates))
    if settings.routes and settings.routes[-1].match:
        problems.append(
            f"routes[{len(settings.routes) - 1}]: the last route has a match; add a catch-all route "
            "(one without `match`) so no notification goes unrouted"
        )
    return problems


def _shared_channel_problems(settings: Settings) -> list[str]:
    """Destinations posting to one channel must agree on its language and zone: the channel gets one message."""
    problems: list[str] = []
    first: dict[str, tuple[str, str, str | None]] = {}
    for name, dest in settings.destinations.items():
        target = target_of(dest)
        wants = (dest.locale or settings.locale, dest.timezone or settings.timezone)
        if target not in first:
            first[target] = (name, *wants)
            continue
        other, *theirs = first[target]
        for key, mine, its in zip(("locale", "timezone"), wants, theirs, strict=True):
            if mine != its:
                problems.append(
                    f"destinations.{name}.{key}: posts to the same channel as destinations.{other} with another "
                    f"{key} ({mine or 'none'} vs {its or 'none'}); give both the same {key}"
                )
    return problems


def _adobe_io_problems(adobe: AdobeIOSettings | None) -> list[str]:
    """Config-only checks of the adobe_io section."""
    if adobe is None:
        return []
    problems: list[str] = []
    if adobe.journal_url is not None and not https_or_loopback(adobe.journal_url):
        problems.append(
            "adobe_io.journal_url: use the https Journaling endpoint from the Developer Console "
            "(registration → Event Delivery Method → Journaling), e.g. https://events-va6.adobe.io/…"
        )
    if adobe.ims_url is not None and not https_or_loopback(adobe.ims_url):
        problems.append(f"adobe_io.ims_url: use https, e.g. {DEFAULT_ADOBE_IMS_URL}")
    if adobe.journal_url is not None and not adobe.scopes:
        problems.append("adobe_io.scopes: the journal needs an IMS token; list the credential's scopes")
    return problems


def _adobe_io_env_problems(settings: Settings, env: Env) -> list[str]:
    adobe = settings.adobe_io
    if adobe is None:
        return []
    problems: list[str] = []
    if env.adobe_client_id(adobe) is None:
        problems.append(
            "adobe_io.client_id: required to check every event's recipient (and to read the journal); set "
            "ADOBE_CLIENT_ID to the project's OAuth Server-to-Server Client ID (Developer Console → "
            "Credentials), or client_id: ${ADOBE_CLIENT_ID}"
        )
    if adobe.journal_url is not None and env.adobe_client_secret(adobe) is None:
        problems.append(
            "env.ADOBE_CLIENT_SECRET: adobe_io.journal_url is set, so notifbot needs an IMS token; set the "
            "OAuth Server-to-Server client secret (Developer Console → Credentials → Retrieve client secret)"
        )
    if not https_or_loopback(env.adobe_keys_url):
        problems.append(
            "env.ADOBE_IO_KEYS_URL: public keys must come over https (default " + DEFAULT_ADOBE_KEYS_URL + ")"
        )
    return problems


def environment_problems(settings: Settings, env: Env) -> list[str]:
    """Problems with the environment for this configuration (check-config and serve both use this)."""
    problems: list[str] = []
    types = {d.type for d in settings.destinations.values()}
    for dest_type, spec in SPECS.items():
        if dest_type in types:
            problems += [f"env.{var}: {hint}" for var, hint in spec.required_env if not env.get(var)]
    slack_in_use = "slack" in types or env.slack_bot_token is not None
    if slack_in_use and settings.slack.interactive:
        if env.slack_app_token is None and env.slack_signing_secret is None:
            problems.append(
                "env.SLACK_SIGNING_SECRET: Slack commands and buttons arrive at POST /slack/events (HTTP mode) and "
                "need the app's signing secret (Basic Information → App Credentials); or set SLACK_APP_TOKEN "
                "for Socket Mode, or slack.interactive: false to only post alerts"
            )
        if env.slack_app_token is not None and not env.slack_app_token.startswith("xapp-"):
            problems.append(
                "env.SLACK_APP_TOKEN: an app-level token starts with xapp- (Basic Information → App-Level Tokens)"
            )
    problems.extend(_adobe_io_env_problems(settings, env))
    if env.database_url is not None and (problem := url_problem(env.database_url)) is not None:
        problems.append(f"env.NOTIFBOT_DATABASE_URL: {problem}")
    problems += teams_problems(settings, env)
    problems += [
        f"email.mailboxes[{i}].imap.xoauth2_token_env: the environment variable {var} is not set: set it to an "
        "OAuth2 access token for the mailbox, or use xoauth2_token_command"
        for i, m in enumerate(settings.email.mailboxes)
        if m.imap is not None and (var := m.imap.xoauth2_token_env) is not None and not env.get(var)
    ]
    if not env.webhook_token and not is_loopback(settings.server.host):
        problems.append(
            f"server.host: '{settings.server.host}' is not a loopback address; set NOTIFBOT_WEBHOOK_TOKEN "
            "before listening beyond this machine"
        )
    problems += _forwarded_ip_problems(settings.server.forwarded_allow_ips)
    if not env.webhook_token:
        problems += _proxy_problems(settings, env)
    if settings.server.console:
        problems += console_problems(env)
    return problems


def console_problems(env: Env) -> list[str]:
    """The console's tokens, named but never shown: an admin token always (loopback too), each long enough."""
    new_token = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    admin, viewer = env.console_token, env.console_viewer_token
    if admin is None:
        return [
            "server.console: the console at /ui needs NOTIFBOT_CONSOLE_TOKEN, the admin sign-in token (at least "
            f"{CONSOLE_TOKEN_MIN_CHARS} characters, e.g. from `{new_token}`), on a loopback address too: every "
            "local process, and web pages through DNS rebinding, can reach loopback"
        ]
    problems = [
        f"env.{name}: {len(token)} characters; a console token needs at least {CONSOLE_TOKEN_MIN_CHARS} "
        f"(e.g. from `{new_token}`)"
        for name, token in (("NOTIFBOT_CONSOLE_TOKEN", admin), ("NOTIFBOT_CONSOLE_VIEWER_TOKEN", viewer))
        if token is not None and len(token) < CONSOLE_TOKEN_MIN_CHARS
    ]
    if viewer is not None and viewer == admin:
        problems.append(
            "env.NOTIFBOT_CONSOLE_VIEWER_TOKEN: the same as NOTIFBOT_CONSOLE_TOKEN, so it would sign in as an "
            "admin; give the read-only viewers a token of their own"
        )
    return problems


def _forwarded_ip_problems(ips: list[str]) -> list[str]:
    problems = []
    for i, ip in enumerate(ips):
        try:
            if ip != "*":
                ipaddress.ip_network(ip, strict=False)
        except ValueError:
            problems.append(
                f"server.forwarded_allow_ips[{i}]: {ip!r} is not an IP address, a network (10.0.0.0/8) or *"
            )
    return problems


def _proxy_problems(settings: Settings, env: Env) -> list[str]:
    """Proxy settings are refused without a token: without one, /hooks/events trusts loopback peers, and through
    a proxy every client arrives from loopback or can claim to in X-Forwarded-For."""
    why = (
        "trusting a reverse proxy needs NOTIFBOT_WEBHOOK_TOKEN: without one, POST /hooks/events accepts any "
        "loopback peer, and through a proxy every client arrives from (or can claim to be) loopback. Set "
        "NOTIFBOT_WEBHOOK_TOKEN (and send it from every sender)"
    )
    problems = []
    if settings.server.proxy_headers:
        problems.append(f"server.proxy_headers (--proxy-headers): {why}, or leave proxy headers off")
    if settings.server.forwarded_allow_ips:
        problems.append(f"server.forwarded_allow_ips (--forwarded-allow-ips): {why}, or remove the setting")
    if env.get("FORWARDED_ALLOW_IPS"):
        problems.append(f"env.FORWARDED_ALLOW_IPS: {why}, or unset FORWARDED_ALLOW_IPS")
    return problems


def _teams_auth_problems(settings: Settings, env: Env, need: str) -> list[str]:
    if env.graph_access_token:
        return []
    if not settings.teams.client_id:
        return [
            f"teams.client_id: {need} needs Microsoft Graph: set the Entra app's client id and run "
            "`notifbot teams login`, or set GRAPH_ACCESS_TOKEN"
        ]
    if not Path(settings.teams.auth_record).is_file():
        return [
            f"teams.auth_record: {settings.teams.auth_record} not found: run `notifbot teams login` once "
            "(device-code sign-in of the service account), or set GRAPH_ACCESS_TOKEN"
        ]
    return []


def teams_problems(settings: Settings, env: Env) -> list[str]:
    """Problems of each destination (its spec's checks), then of the Graph settings and Teams commands."""
    problems: list[str] = []
    graph_users = []
    for name, dest in settings.destinations.items():
        spec = spec_for(dest)
        if spec.uses_graph:
            graph_users.append(name)
        problems += spec.problems(name, dest)
    commands = settings.teams.commands
    if commands.channels and not commands.notification_url:
        problems.append(
            "teams.commands.notification_url: Teams commands need the public https URL of "
            "POST /teams/notifications (e.g. https://notifbot.example.com/teams/notifications)"
        )
    if commands.notification_url and not https_or_loopback(commands.notification_url):
        problems.append("teams.commands.notification_url: Microsoft Graph only notifies https URLs")
    if commands.notification_url and not commands.channels:
        problems.append("teams.commands.channels: list the channels to listen in ({team_id, channel_id})")
    if commands.renew_before_minutes >= commands.subscription_minutes:
        problems.append("teams.commands.renew_before_minutes: must be less than subscription_minutes")
    mailboxes = [m.name for m in settings.email.mailboxes if m.graph is not None]
    uses_graph = bool(graph_users or commands.channels or mailboxes)
    if uses_graph and not https_or_loopback(env.graph_url(settings)):
        problems.append(
            "teams.graph_url: must be https (http only for a loopback test server); or set GRAPH_API_URL"
        )
    if uses_graph:
        need = (
            f"destination {graph_users[0]}"
            if graph_users
            else "teams.commands"
            if commands.channels
            else f"mailbox {mailboxes[0]} (email.mailboxes[].graph)"
        )
        problems += _teams_auth_problems(settings, env, need)
        if not teams_extra_installed():
            problems.append(
                f"teams: {need} needs the Teams extra (msgraph-sdk, azure-identity): {TEAMS_EXTRA_INSTALL}"
            )
    return problems


def teams_extra_installed() -> bool:
    """True when msgraph-sdk and azure-identity can be imported (checked without importing them)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("msgraph", "azure.identity"))

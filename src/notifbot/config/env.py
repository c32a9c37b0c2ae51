"""The environment variables notifbot reads, and the secrets to redact from logs (docs/reference.md §Environment)."""

from __future__ import annotations

from collections.abc import Mapping

from notifbot.config.settings import DEFAULT_ADOBE_IMS_URL, DEFAULT_ADOBE_KEYS_URL, AdobeIOSettings, Settings
from notifbot.destinations import spec_for
from notifbot.store.pg_url import password_of

# the console's sign-in tokens (NOTIFBOT_CONSOLE_TOKEN, NOTIFBOT_CONSOLE_VIEWER_TOKEN): at least this long
CONSOLE_TOKEN_MIN_CHARS = 32


class Env:
    """The environment variables notifbot reads (docs/reference.md §Environment), resolved once."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name)
        return value if value else None

    @property
    def webhook_token(self) -> str | None:
        return self.get("NOTIFBOT_WEBHOOK_TOKEN")

    @property
    def console_token(self) -> str | None:
        """NOTIFBOT_CONSOLE_TOKEN: signs in to the console at /ui as an admin (server.console)."""
        return self.get("NOTIFBOT_CONSOLE_TOKEN")

    @property
    def console_viewer_token(self) -> str | None:
        """NOTIFBOT_CONSOLE_VIEWER_TOKEN: signs in to the console read-only (optional)."""
        return self.get("NOTIFBOT_CONSOLE_VIEWER_TOKEN")

    @property
    def database_url(self) -> str | None:
        """NOTIFBOT_DATABASE_URL: a PostgreSQL store, overriding `storage.url`."""
        return self.get("NOTIFBOT_DATABASE_URL")

    @property
    def slack_bot_token(self) -> str | None:
        return self.get("SLACK_BOT_TOKEN")

    @property
    def slack_signing_secret(self) -> str | None:
        return self.get("SLACK_SIGNING_SECRET")

    @property
    def slack_app_token(self) -> str | None:
        return self.get("SLACK_APP_TOKEN")

    @property
    def adobe_keys_url(self) -> str:
        return (self.get("ADOBE_IO_KEYS_URL") or DEFAULT_ADOBE_KEYS_URL).rstrip("/")

    def adobe_client_id(self, settings: AdobeIOSettings | None) -> str | None:
        """The Adobe client id: `adobe_io.client_id`, else ADOBE_CLIENT_ID."""
        return (settings.client_id if settings else None) or self.get("ADOBE_CLIENT_ID")

    def adobe_client_secret(self, settings: AdobeIOSettings | None) -> str | None:
        """The Adobe client secret: `adobe_io.client_secret`, else ADOBE_CLIENT_SECRET."""
        return (settings.client_secret if settings else None) or self.get("ADOBE_CLIENT_SECRET")

    def adobe_ims_url(self, settings: AdobeIOSettings | None) -> str:
        """The IMS token endpoint: `adobe_io.ims_url`, else ADOBE_IMS_URL, else Adobe's."""
        return (settings.ims_url if settings else None) or self.get("ADOBE_IMS_URL") or DEFAULT_ADOBE_IMS_URL

    @property
    def graph_access_token(self) -> str | None:
        return self.get("GRAPH_ACCESS_TOKEN")

    def slack_api_url(self, settings: Settings) -> str:
        """SLACK_API_URL, else slack.api_url: where every Slack Web API call goes."""
        return self.get("SLACK_API_URL") or settings.slack.api_url

    def graph_url(self, settings: Settings) -> str:
        """GRAPH_API_URL, else teams.graph_url, without a trailing slash."""
        return (self.get("GRAPH_API_URL") or settings.teams.graph_url).rstrip("/")

    def secrets(self) -> list[str]:
        """Every secret value present, so logs can redact them."""
        names = (
            "NOTIFBOT_WEBHOOK_TOKEN",
            "NOTIFBOT_CONSOLE_TOKEN",
            "NOTIFBOT_CONSOLE_VIEWER_TOKEN",
            "SLACK_BOT_TOKEN",
            "SLACK_SIGNING_SECRET",
            "SLACK_APP_TOKEN",
            "MARKETO_CLIENT_SECRET",
            "ADOBE_CLIENT_SECRET",
            "TEAMS_WORKFLOW_URL",
            "GRAPH_ACCESS_TOKEN",
        )
        found = [v for n in names if (v := self.get(n)) and len(v) >= 4]
        password = password_of(self.database_url) if self.database_url else None
        return found + ([password] if password else [])


def settings_secrets(settings: Settings) -> list[str]:
    """Secrets written in the configuration itself (not only via ${VAR}): Marketo and Adobe client secrets,
    and each destination's (its spec's `secrets`: Workflows URLs and their `sig` signatures)."""
    out = [
        i.client_secret for i in settings.marketo.instances if i.client_secret and len(i.client_secret) >= 4
    ]
    out += [
        m.imap.password
        for m in settings.email.mailboxes
        if m.imap is not None and m.imap.password and len(m.imap.password) >= 4
    ]
    password = password_of(settings.storage.url) if settings.storage.url else None
    if password:
        out.append(password)
    if settings.adobe_io is not None and settings.adobe_io.client_secret:
        out.append(settings.adobe_io.client_secret)
    for dest in settings.destinations.values():
        out += spec_for(dest).secrets(dest)
    return out

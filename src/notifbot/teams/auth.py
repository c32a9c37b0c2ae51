"""Delegated sign-in for Microsoft Graph: device code once (`notifbot teams login`), then the persisted token cache."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from azure.core.credentials import AccessToken

from notifbot.errors import ConfigError

# Delegated permissions the service account consents to: post and edit its messages, read channel messages
SCOPES = (
    "https://graph.microsoft.com/ChannelMessage.Send",
    "https://graph.microsoft.com/ChannelMessage.ReadWrite",
    "https://graph.microsoft.com/ChannelMessage.Read.All",
    "https://graph.microsoft.com/User.Read",
)
# asked for too when a mailbox is read through Graph: read and move mail in mailboxes the account may open
MAIL_SCOPES = ("https://graph.microsoft.com/Mail.ReadWrite.Shared",)
DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
Prompt = Callable[[str, str, datetime], None]


class SignIn(Protocol):
    """The `teams:` settings sign-in reads (config's TeamsSettings has them; the transport never imports config)."""

    @property
    def client_id(self) -> str | None: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def auth_record(self) -> str: ...
    @property
    def cache_name(self) -> str: ...
    @property
    def allow_unencrypted_cache(self) -> bool: ...


class StaticTokenCredential:
    """An async credential handing out a token managed elsewhere (GRAPH_ACCESS_TOKEN); never refreshed here."""

    def __init__(self, token: str, lifetime: float = 3_600.0) -> None:
        self._token = token
        self._lifetime = lifetime

    def __repr__(self) -> str:
        return "StaticTokenCredential(token=***)"

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time() + self._lifetime))

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        return None


class ThreadedCredential:
    """Wraps a synchronous azure-identity credential so cache look-ups and refreshes never block the event loop."""

    def __init__(self, credential: Any) -> None:
        self._credential = credential

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token: AccessToken = await asyncio.to_thread(self._credential.get_token, *scopes, **kwargs)
        return token

    async def close(self) -> None:
        await asyncio.to_thread(self._credential.close)

    async def __aenter__(self) -> ThreadedCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


def _device_code(teams: SignIn, **kwargs: Any) -> Any:
    from azure.identity import DeviceCodeCredential, TokenCachePersistenceOptions

    if not teams.client_id:
        raise ConfigError(["teams.client_id: set the Entra app registration's Application (client) ID"])
    cache = TokenCachePersistenceOptions(
        name=teams.cache_name, allow_unencrypted_storage=teams.allow_unencrypted_cache
    )
    return DeviceCodeCredential(
        teams.client_id,
        tenant_id=teams.tenant_id,
        cache_persistence_options=cache,
        **kwargs,
    )


def login(teams: SignIn, prompt: Prompt, *, credential: Any = None, mail: bool = False) -> str:
    """Runs the device-code sign-in (with the mail scopes when `mail`), persists the account record, and returns
    the signed-in user name."""
    cred = credential if credential is not None else _device_code(teams, prompt_callback=prompt)
    record = cred.authenticate(scopes=list(SCOPES + (MAIL_SCOPES if mail else ())))
    path = Path(teams.auth_record)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record.serialize(), encoding="utf-8")
    path.chmod(0o600)
    return str(record.username)


def credential_for(teams: SignIn, access_token: str | None) -> Any:
    """GRAPH_ACCESS_TOKEN if set, else the cached sign-in of `notifbot teams login` (silent; never prompts)."""
    if access_token:
        return StaticTokenCredential(access_token)
    from azure.identity import AuthenticationRecord

    path = Path(teams.auth_record)
    try:
        record = AuthenticationRecord.deserialize(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            [f"teams.auth_record: cannot read {path} ({exc.__class__.__name__}): run `notifbot teams login`"]
        ) from None
    return ThreadedCredential(
        _device_code(teams, authentication_record=record, disable_automatic_authentication=True)
    )

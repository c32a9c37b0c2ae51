"""Configuration: the settings models, the environment, loading from YAML and the checks (docs/reference.md)."""

from __future__ import annotations

from notifbot.config.checks import environment_problems, semantic_problems
from notifbot.config.env import Env, settings_secrets
from notifbot.config.loading import (
    DEFAULT_CONFIG_FILE,
    check_settings,
    config_path,
    expand_env,
    inspect_settings,
    load_settings,
    parse_settings,
)
from notifbot.config.routes import DigestSettings, GroupSettings, MatchValue, RemindSettings, Route
from notifbot.config.settings import (
    DEFAULT_ACTIVITY_TYPES,
    DEFAULT_ADOBE_IMS_URL,
    DEFAULT_ADOBE_KEYS_URL,
    DEFAULT_ADOBE_SCOPES,
    AdobeIOSettings,
    LinksSettings,
    MarketoInstance,
    MarketoSettings,
    ServerSettings,
    Settings,
    SlackSettings,
    StorageSettings,
    TeamsChannel,
    TeamsCommandSettings,
    TeamsSettings,
    TriggerHealthSettings,
)
from notifbot.errors import ConfigError

__all__ = [
    "DEFAULT_ACTIVITY_TYPES",
    "DEFAULT_ADOBE_IMS_URL",
    "DEFAULT_ADOBE_KEYS_URL",
    "DEFAULT_ADOBE_SCOPES",
    "DEFAULT_CONFIG_FILE",
    "AdobeIOSettings",
    "ConfigError",
    "DigestSettings",
    "Env",
    "GroupSettings",
    "LinksSettings",
    "MarketoInstance",
    "MarketoSettings",
    "MatchValue",
    "RemindSettings",
    "Route",
    "ServerSettings",
    "Settings",
    "SlackSettings",
    "StorageSettings",
    "TeamsChannel",
    "TeamsCommandSettings",
    "TeamsSettings",
    "TriggerHealthSettings",
    "check_settings",
    "config_path",
    "environment_problems",
    "expand_env",
    "inspect_settings",
    "load_settings",
    "parse_settings",
    "semantic_problems",
    "settings_secrets",
]

"""The settings models, validated with pydantic; their defaults are the embedded default (docs/reference.md §Configuration)."""

from __future__ import annotations

import re
import shlex
from datetime import timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from notifbot.config.routes import Duration, Route
from notifbot.config.templates import KindTemplates
from notifbot.delivery.settings import DeliverySettings
from notifbot.destinations import Destination
from notifbot.destinations.console import ConsoleDestination
from notifbot.i18n import LocaleName, ZoneName
from notifbot.kinds.mail import EmailRule, user_rule
from notifbot.kinds.registry import KINDS
from notifbot.links import marketo_host_entry
from notifbot.model import Kind
from notifbot.net import is_loopback
from notifbot.store.pg_url import url_problem


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetentionSettings(_Strict):
    """What pruning keeps (store/retention.py): rows older than their window go, in small batches, every `every`."""

    enabled: bool = True
    # events whose every outbox row is delivered or dead, with those rows, and closed alert groups and posted
    # digests, once older than this
    days: Annotated[int, Field(ge=1, le=36500)] = 90
    quota_sample_days: Annotated[int, Field(ge=1, le=36500)] = 90  # Marketo API usage samples
    # trigger campaigns gone inactive, and activity of campaigns that are not (or no longer) trigger campaigns
    activity_days: Annotated[int, Field(ge=1, le=36500)] = 400
    inbox_days: Annotated[int, Field(ge=1, le=36500)] = 30  # answered Teams command notifications
    every: Duration = timedelta(hours=1)
    batch: Annotated[int, Field(ge=10, le=10_000)] = (
        200  # rows one transaction deletes at most (bench/retention.py)
    )


def _database_url(url: str | None) -> str | None:
    """A PostgreSQL URL (postgresql:// or postgres://); the message never shows its password."""
    if url is not None:
        problem = url_problem(url)
        if problem is not None:
            raise ValueError(problem)
    return url


SQLITE_ONLY_KEYS = ("path", "synchronous", "wal_max_bytes", "min_free_bytes")


class StorageSettings(_Strict):
    # PostgreSQL instead of SQLite (NOTIFBOT_DATABASE_URL overrides it); then the SQLite keys below do not apply
    url: Annotated[str | None, AfterValidator(_database_url)] = None
    pool_size: Annotated[int, Field(ge=1, le=64)] = (
        4  # PostgreSQL connections (and store threads) per replica
    )
    lease_seconds: Annotated[float, Field(ge=1, le=300)] = (
        15.0  # how long a replica holds a poller or channel
    )
    path: str = "var/notifbot.db"
    synchronous: Literal["full", "normal"] = "full"
    # the WAL file stays under this: past half of it the WAL is checkpointed and rewound (store/wal.py); the other
    # half takes what is written meanwhile, hence the 16 MiB floor
    wal_max_bytes: Annotated[int, Field(ge=16 * 1024 * 1024, le=1024**4)] = 64 * 1024 * 1024
    # /readyz answers 503 when the database's filesystem has less free space than this
    min_free_bytes: Annotated[int, Field(ge=0, le=1024**4)] = 32 * 1024 * 1024
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    def sqlite_only_keys(self) -> list[str]:
        """The SQLite-only keys this config sets explicitly (ignored when the store is PostgreSQL)."""
        return [f"storage.{k}" for k in SQLITE_ONLY_KEYS if k in self.model_fields_set]


class ServerSettings(_Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 1_048_576
    # open connections at once; more get a fast 503. Needs 2 × this + 64 open files (serve checks the limit)
    max_connections: Annotated[int, Field(ge=1, le=100_000)] = 400
    # a client must finish its request line and headers within this (408 + close), and its body within that
    header_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    body_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # trust X-Forwarded-For from these proxies (empty: FORWARDED_ALLOW_IPS, else loopback); both need a token
    proxy_headers: bool = False
    forwarded_allow_ips: list[str] = Field(default_factory=list)  # addresses, networks (10.0.0.0/8) or *
    # the operations console at /ui (needs NOTIFBOT_CONSOLE_TOKEN); off: /ui is a 404 like any unknown path
    console: bool = False


class SlackSettings(_Strict):
    api_url: str = "https://slack.com/api/"
    # how long one Web API call may take; a post that times out may still have reached Slack and is looked for
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    command: Annotated[str, Field(pattern=r"^/[a-z0-9_-]{1,31}$")] = "/marketo"
    # user ids (U…/W…) and user-group ids (S…) allowed to mute, unmute and acknowledge; empty = everyone
    admins: list[Annotated[str, Field(pattern=r"^[UWS][A-Z0-9]{2,30}$")]] = Field(default_factory=list)
    # receive /marketo commands and button clicks (HTTP with SLACK_SIGNING_SECRET, or Socket Mode with SLACK_APP_TOKEN)
    interactive: bool = True


class TeamsChannel(_Strict):
    team_id: Annotated[str, Field(min_length=1)]
    channel_id: Annotated[str, Field(min_length=1)]


class TeamsCommandSettings(_Strict):
    """Commands typed in Teams channels, received as Graph change notifications at POST /teams/notifications."""

    notification_url: str | None = None  # the public https URL of POST /teams/notifications
    channels: list[TeamsChannel] = Field(default_factory=list)
    subscription_minutes: Annotated[int, Field(ge=5, le=60)] = 55
    renew_before_minutes: Annotated[int, Field(ge=1, le=30)] = 15
    check_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0  # how often subscriptions are checked


class TeamsSettings(_Strict):
    graph_url: str = "https://graph.microsoft.com/v1.0"
    # the Entra app registration (public client, device code) and where `teams login` keeps its sign-in
    client_id: str | None = None
    tenant_id: str = "organizations"
    auth_record: str = "var/teams-auth.json"
    cache_name: str = "notifbot-teams"
    allow_unencrypted_cache: bool = False
    bot_name: Annotated[str, Field(min_length=1, max_length=50)] = "notifbot"
    # Entra user object ids allowed to mute, unmute and acknowledge from Teams; empty = everyone
    admins: list[str] = Field(default_factory=list)
    commands: TeamsCommandSettings = Field(default_factory=TeamsCommandSettings)


class MarketoInstance(_Strict):
    munchkin_id: Annotated[str, Field(pattern=r"^\d{3}-[A-Z]{3}-\d{3}$")]
    base_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    daily_quota: Annotated[int, Field(ge=1)] = 50_000


# Flow-step activities that carry the campaignId of the campaign that ran them: Send Email, Change Data Value,
# Change Score, Add to List, Remove from List, Send Alert, Interesting Moment, Change Status in Progression,
# Call Webhook, Add to Nurture. Ids are Marketo's standard ones; check GET /rest/v1/activities/types.json.
DEFAULT_ACTIVITY_TYPES = (6, 13, 22, 24, 25, 38, 46, 104, 110, 113)


class TriggerHealthSettings(_Strict):
    enabled: bool = True
    refresh_minutes: Annotated[int, Field(ge=15, le=10_080)] = 360  # list of active trigger campaigns
    scan_minutes: Annotated[int, Field(ge=5, le=1_440)] = 60  # activities (REST pages, or bulk job progress)
    # auto: REST pages while they fit the activities share of the budget, else a daily Bulk Activity Extract
    activities: Literal["auto", "rest", "bulk", "off"] = "auto"
    activity_type_ids: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=10)] = (
        Field(default_factory=lambda: list(DEFAULT_ACTIVITY_TYPES))
    )
    lookback_hours: Annotated[int, Field(ge=0, le=744)] = 24  # how far back the very first scan starts
    bulk_every_hours: Annotated[int, Field(ge=1, le=744)] = 24
    at_risk_days: Annotated[int, Field(ge=1, le=365)] = 150
    campaigns_share_percent: Annotated[float, Field(ge=0, le=100)] = 10.0
    activities_share_percent: Annotated[float, Field(ge=0, le=100)] = 30.0


class MarketoSettings(_Strict):
    instances: list[MarketoInstance] = Field(default_factory=list)
    budget_percent: Annotated[float, Field(gt=0, le=100)] = 1.0  # notifbot's own calls, % of the daily quota
    quota_thresholds: Annotated[list[Annotated[float, Field(gt=0, le=100)]], Field(min_length=1)] = Field(
        default_factory=lambda: [80.0, 95.0, 100.0]
    )
    triggers: TriggerHealthSettings = Field(default_factory=TriggerHealthSettings)

    def budget_for(self, instance: MarketoInstance) -> int:
        """notifbot's daily call budget for `instance` (never below one call)."""
        return max(1, int(instance.daily_quota * self.budget_percent / 100))

    def caps_for(self, instance: MarketoInstance) -> dict[str, int]:
        """Per-feature shares of the budget: trigger health is capped so the quota watch always has the rest."""
        budget, t = self.budget_for(instance), self.triggers
        return {
            "campaigns": int(budget * t.campaigns_share_percent / 100),
            "activities": int(budget * t.activities_share_percent / 100),
        }


DEFAULT_ADOBE_KEYS_URL = "https://static.adobeioevents.com"
DEFAULT_ADOBE_IMS_URL = "https://ims-na1.adobelogin.com/ims/token/v3"
DEFAULT_ADOBE_SCOPES = ("AdobeID", "openid", "read_organizations", "additional_info.projectedProductContext")


class AdobeIOSettings(_Strict):
    """Adobe I/O Events (Marketo data streams): the webhook at /hooks/adobe-io and, optionally, the journal."""

    # the project's OAuth Server-to-Server client id (API key): every event's recipient must equal it
    client_id: str | None = None  # default: env ADOBE_CLIENT_ID
    client_secret: str | None = None  # default: env ADOBE_CLIENT_SECRET (journal only)
    verify_signatures: bool = True  # false only for local experiments; logged loudly at start-up
    auto_confirm_validation: bool = False  # open https://csm.adobe.io/ validation URLs by itself
    journal_url: str | None = None  # the registration's Journaling endpoint (Developer Console)
    journal_restart: Literal["latest", "earliest"] = (
        "latest"  # where to start with no (or an expired) position
    )
    journal_limit: Annotated[int, Field(ge=1, le=1000)] = 100
    journal_idle_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0  # 204 without retry-after
    org_id: str | None = None  # optional x-ims-org-id header on journal calls
    ims_url: str | None = None  # default: env ADOBE_IMS_URL, else Adobe's IMS v3 token endpoint
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_ADOBE_SCOPES))


class LinksSettings(_Strict):
    """Hosts whose links are labelled "Open in Marketo", besides *.marketo.com, experience.adobe.com and the instances'."""

    marketo_hosts: list[Annotated[str, AfterValidator(marketo_host_entry)]] = Field(default_factory=list)


_DEFAULT_DESTINATIONS: dict[str, Destination] = {"console": ConsoleDestination(type="console")}


# The `email:` models live here, not in sources/email/: config is layered below the sources and must not import
# upward (the import-linter contract); the readers in sources/email/ take a MailboxSettings as a plain value.
DEFAULT_PROCESSED_FOLDER = "notifbot/processed"
_PORTS = {"tls": 993, "starttls": 143, "plain": 143}


class ImapSettings(_Strict):
    """How to reach one IMAP mailbox, log in, and mark what was read."""

    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # default: 993 for tls, 143 otherwise
    security: Literal["tls", "starttls", "plain"] = "tls"
    username: Annotated[str, Field(min_length=1)]
    password: str | None = None
    # XOAUTH2 (Google Workspace, Exchange Online): an access token from this environment variable, or printed by
    # this command (an argument list, or one string split like a shell would; run at each login, never by a shell)
    xoauth2_token_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    xoauth2_token_command: Annotated[list[str], Field(min_length=1)] | None = None
    folder: Annotated[str, Field(min_length=1)] = "INBOX"
    # read mail is moved here (created when missing; `/` separates levels whatever the server's delimiter is)
    processed_folder: Annotated[str, Field(min_length=1)] = DEFAULT_PROCESSED_FOLDER
    # set: read mail gets this IMAP keyword and stays where it is, instead of being moved
    processed_keyword: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.$+-]{1,64}$")] | None = None
    ca_file: str | None = None  # PEM file of the CA to trust instead of the system's (a self-signed server)
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0  # connect and each command

    @field_validator("xoauth2_token_command", mode="before")
    @classmethod
    def _split_command(cls, value: Any) -> Any:
        return shlex.split(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.security == "plain" and not is_loopback(self.host):
            raise ValueError(
                f"security plain sends the password unencrypted and is allowed only to a loopback host "
                f"(127.0.0.1, ::1, localhost), not {self.host!r}: use security tls (port 993) or starttls (port 143)"
            )
        given = [
            n
            for n in ("password", "xoauth2_token_env", "xoauth2_token_command")
            if getattr(self, n) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "set exactly one of password, xoauth2_token_env (an environment variable holding an OAuth2 "
                f"access token) or xoauth2_token_command (a command printing one); got {', '.join(given) or 'none'}"
            )
        if self.processed_keyword is None and self.processed_folder.strip("/") == self.folder.strip("/"):
            raise ValueError("processed_folder must differ from folder (or set processed_keyword instead)")
        return self

    @property
    def effective_port(self) -> int:
        """The configured port, else the usual one for the security mode."""
        return self.port if self.port is not None else _PORTS[self.security]


class GraphMailSettings(_Strict):
    """One Microsoft 365 mailbox read through Microsoft Graph with the `teams:` sign-in (delta on one folder)."""

    mailbox: Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^\s/?#]+$")]  # UPN or address
    # a well-known name (Inbox, Archive...) or a `/`-path of display names from the top (Inbox/Marketo)
    folder: Annotated[str, Field(min_length=1)] = "Inbox"
    # read mail is moved here (created when missing; `/` separates levels)
    processed_folder: Annotated[str, Field(min_length=1)] = DEFAULT_PROCESSED_FOLDER
    # set: read mail gets this Outlook category and stays where it is, instead of being moved
    processed_category: Annotated[str, Field(min_length=1, max_length=255)] | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.processed_category is None and _same_folder(self.processed_folder, self.folder):
            raise ValueError("processed_folder must differ from folder (or set processed_category instead)")
        return self


def _same_folder(a: str, b: str) -> bool:
    return [p.casefold() for p in a.strip("/").split("/")] == [p.casefold() for p in b.strip("/").split("/")]


class MailboxSettings(_Strict):
    """One mailbox subscribed to Marketo's notification e-mails: read over IMAP or through Microsoft Graph."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
    imap: ImapSettings | None = None
    graph: GraphMailSettings | None = None
    instance: Annotated[str, Field(pattern=r"^\d{3}-[A-Z]{3}-\d{3}$")] | None = None
    poll_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    # empty: anyone who can reach the mailbox; else addresses (alerts@marketo.com) or domains (@marketo.com)
    allowed_senders: list[Annotated[str, Field(pattern=r"^[^@\s]*@[^@\s]+$")]] = Field(default_factory=list)
    # a larger message is not downloaded: its notification carries the subject and a note (attachments never kept)
    max_message_bytes: Annotated[int, Field(ge=1024, le=200 * 1024 * 1024)] = 10 * 1024 * 1024

    @field_validator("allowed_senders")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [v.lower() for v in value]

    @model_validator(mode="after")
    def _one_reader(self) -> Self:
        if (self.imap is None) == (self.graph is None):
            raise ValueError(
                "set exactly one of imap (an IMAP server) or graph (a Microsoft 365 mailbox read through "
                f"Microsoft Graph) for mailbox {self.name!r}; got {'both' if self.imap else 'neither'}"
            )
        return self

    @property
    def folder(self) -> str:
        """The folder read, as configured (the IMAP folder or the Graph folder path)."""
        if self.imap is not None:
            return self.imap.folder
        assert self.graph is not None
        return self.graph.folder


# the fields every e-mail notification carries already: a rule may not overwrite them
_MAIL_FIELDS = frozenset({"subject", "from", "text", "note", "attachments", "mailbox", "message_id"})


def _pattern(value: str | None, what: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    try:
        return re.compile(value, re.I)
    except re.error as exc:
        raise ValueError(f"{what} {value!r} is not a valid regular expression: {exc}") from None


class EmailRuleSettings(_Strict):
    """One rule of your own: an e-mail whose subject and/or body match is of `kind`; `fields` are extracted."""

    kind: str
    subject: Annotated[str, Field(min_length=1)] | None = None  # regex, searched case-insensitively
    body: Annotated[str, Field(min_length=1)] | None = (
        None  # regex, searched case-insensitively (^ $ per line)
    )
    # field name -> regex with exactly one capture group, searched in the body, then the subject
    fields: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        known = sorted(k.value for k in KINDS)
        if self.kind not in known:
            raise ValueError(f"kind {self.kind!r} is not a known kind; use one of: {', '.join(known)}")
        if self.subject is None and self.body is None:
            raise ValueError(
                "give a subject or a body pattern (or both): a rule with neither matches every e-mail"
            )
        _pattern(self.subject, "subject")
        _pattern(self.body, "body")
        names = KINDS[Kind(self.kind)].field_names
        for name, regex in self.fields.items():
            if name in _MAIL_FIELDS:
                raise ValueError(f"field {name!r} is set for every e-mail already; choose another name")
            if names and name not in names:
                raise ValueError(
                    f"field {name!r} is not a field of kind {self.kind}; use one of: {', '.join(sorted(names))}"
                )
            if not names and not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name):
                raise ValueError(
                    f"field name {name!r}: use lower-case letters, digits and _ (a letter first)"
                )
            compiled = _pattern(regex, f"field {name!r}:")
            if compiled is not None and compiled.groups != 1:
                raise ValueError(
                    f"field {name!r}: the regex {regex!r} has {compiled.groups} capture groups; "
                    "it needs exactly one, around the value (use (?:...) for the others)"
                )
        return self

    def rule(self) -> tuple[Kind, EmailRule]:
        """The kind and the compiled rule classify_email tries."""
        return Kind(self.kind), user_rule(self.subject, self.body, self.fields)


class EmailSettings(_Strict):
    """Mailbox readers (sources/email/)."""

    mailboxes: list[MailboxSettings] = Field(default_factory=list)
    # your own classification rules, tried in order before the built-in ones (so they can override them)
    rules: list[EmailRuleSettings] = Field(default_factory=list)

    def compiled_rules(self) -> tuple[tuple[Kind, EmailRule], ...]:
        """The config's rules, compiled, in order."""
        return tuple(r.rule() for r in self.rules)

    @field_validator("mailboxes")
    @classmethod
    def _unique(cls, value: list[MailboxSettings]) -> list[MailboxSettings]:
        names = [m.name for m in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"mailbox names must be unique: {', '.join(twice)} is used more than once")
        return value


class Settings(_Strict):
    storage: StorageSettings = Field(default_factory=StorageSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)
    marketo: MarketoSettings = Field(default_factory=MarketoSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    adobe_io: AdobeIOSettings | None = None
    email: EmailSettings = Field(default_factory=EmailSettings)
    links: LinksSettings = Field(default_factory=LinksSettings)
    destinations: dict[str, Destination] = Field(default_factory=lambda: dict(_DEFAULT_DESTINATIONS))
    routes: list[Route] = Field(default_factory=lambda: [Route(to=["console"])])
    # the language and time zone of messages and replies (a destination may set its own): en, or a catalog's locale
    locale: LocaleName = "en"
    timezone: ZoneName | None = None  # IANA name; None: times in UTC with US Central beside
    # an admin's title, summary and "what to do" per kind, for every locale or one (config/templates.py)
    templates: dict[Kind, KindTemplates] = Field(default_factory=dict)
    source: str = Field(default="embedded default", exclude=True)

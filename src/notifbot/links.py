"""Which event URLs may be opened and which may be called Marketo's: one pure classification for every renderer.

A URL is opened only when it is plain https with a DNS host name and no user name: every character is one
RFC 3986 allows (no backslash, space, control or non-ASCII character a browser would rewrite), and the authority
is exactly `host[:port]`, so what we read as the host is the host a browser opens. It is called Marketo's only
when that host is one of Marketo's own (`*.marketo.com`, `experience.adobe.com`) or one the admin configured
(the instances' REST hosts, `links.marketo_hosts`); any other host gets a neutral label that shows the host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from notifbot.i18n import EN, N_, Texts
from notifbot.text import truncate

if TYPE_CHECKING:
    from notifbot.config import Settings

MAX_URL = 3_000  # Slack's button URL limit
# TRANSLATORS: a button; ≤ 75 chars
MARKETO_LABEL = N_("Open in Marketo")
BUILTIN_HOSTS = ("*.marketo.com", "experience.adobe.com")
ELLIPSIS = "…"

_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_AUTHORITY = re.compile(r"(?P<host>[A-Za-z0-9.\-]+)(?::(?P<port>\d{1,5}))?")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"\d+|0x[0-9a-f]*")


def host_name(text: str) -> str | None:
    """`text` as a lowercase DNS host name, or None (empty labels, a trailing dot, IP-like or non-ASCII hosts)."""
    host = text.lower()
    if not host or len(host) > 253 or not host.isascii():
        return None
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    # a browser reads a host whose last label is a number (decimal or 0x) as an IPv4 address
    return None if _NUMERIC_LABEL.fullmatch(labels[-1]) else host


def host_pattern(text: str) -> str | None:
    """A configured host (`app.example.com`, or `*.example.com` for its subdomains) normalised, or None if invalid."""
    wildcard = text.startswith("*.")
    host = host_name(text[2:] if wildcard else text)
    if host is None or (wildcard and "." not in host):
        return None  # `*.com` would trust a whole top-level domain
    return f"*.{host}" if wildcard else host


def marketo_host_entry(entry: str) -> str:
    """A `links.marketo_hosts` entry normalised; ValueError (shown at its config path) when it is not valid."""
    pattern = host_pattern(entry)
    if pattern is None:
        raise ValueError(
            f"{entry!r} is not a host name or *.domain pattern (e.g. go.example.com; no scheme, port, path or IP)"
        )
    return pattern


@dataclass(frozen=True)
class LinkPolicy:
    """The hosts whose links may be labelled as Marketo's: exact names and `*.` suffixes (a value, not a global)."""

    hosts: frozenset[str] = frozenset()
    suffixes: frozenset[str] = frozenset()

    @classmethod
    def build(cls, marketo_hosts: Iterable[str] = (), *, builtin: bool = True) -> LinkPolicy:
        """The policy trusting `marketo_hosts` (plus Marketo's own hosts); invalid entries raise ValueError."""
        exact: set[str] = set()
        suffixes: set[str] = set()
        for entry in [*(BUILTIN_HOSTS if builtin else ()), *marketo_hosts]:
            pattern = marketo_host_entry(entry)
            if pattern.startswith("*."):
                suffixes.add(pattern[2:])
            else:
                exact.add(pattern)
        return cls(frozenset(exact), frozenset(suffixes))

    def is_marketo(self, host: str) -> bool:
        """True when `host` (a normalised host name) is one of the trusted hosts or a subdomain of a `*.` entry."""
        return host in self.hosts or any(host.endswith("." + suffix) for suffix in self.suffixes)


DEFAULT_LINKS = LinkPolicy.build()
NO_MARKETO_HOSTS = LinkPolicy()


@dataclass(frozen=True)
class Link:
    """A URL that may be opened: the URL as given, its normalised host, and whether that host is Marketo's."""

    url: str
    host: str
    marketo: bool


def classify_link(value: object, policy: LinkPolicy) -> Link | None:
    """`value` as a Link when it is a safe https URL (see the module doc), else None: shown as text, never opened."""
    if not isinstance(value, str) or len(value) > MAX_URL or not _URL_CHARS.fullmatch(value):
        return None
    scheme, sep, rest = value.partition("://")
    if scheme.lower() != "https" or not sep:
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    match = _AUTHORITY.fullmatch(authority)  # no `@` (user info), no `%`, no brackets, at most one port
    if match is None or (match["port"] is not None and not 0 < int(match["port"]) < 65536):
        return None
    host = host_name(match["host"])
    if host is None:
        return None
    return Link(value, host, policy.is_marketo(host))


def safe_url(value: object) -> str | None:
    """`value` if it is a URL `classify_link` lets be opened (whatever its host), else None."""
    link = classify_link(value, NO_MARKETO_HOSTS)
    return link.url if link is not None else None


def neutral_label(host: str, limit: int = 75, t: Texts = EN) -> str:
    """ "Open link (host)", cutting the host from the left so its registered domain always stays visible."""
    # TRANSLATORS: a button or link naming the host it opens; ≤ 50 chars without the host
    label = t.pgettext("button", "Open link ({host})")
    room = limit - len(label.format(host=""))
    shown = host if len(host) <= room else ELLIPSIS + host[len(host) - room + 1 :]
    return label.format(host=shown)


def link_label(link: Link, marketo_label: str = MARKETO_LABEL, limit: int = 75, t: Texts = EN) -> str:
    """The label a button or action for `link` may carry: `marketo_label` (in `t`) for Marketo's hosts, else neutral."""
    return truncate(t._(marketo_label), limit) if link.marketo else neutral_label(link.host, limit, t)


def link_policy(settings: Settings) -> LinkPolicy:
    """The policy of a configuration: Marketo's hosts, each instance's REST host and `links.marketo_hosts`."""
    hosts = list(settings.links.marketo_hosts)
    for instance in settings.marketo.instances:
        hosts.append(f"{instance.munchkin_id.lower()}.mktorest.com")
        if instance.base_url:
            base = classify_link(instance.base_url, NO_MARKETO_HOSTS)
            if base is not None:  # a loopback http test double is configured but never labelled Marketo
                hosts.append(base.host)
    return LinkPolicy.build(hosts)

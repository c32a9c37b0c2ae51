"""PostgreSQL URLs as notifbot shows and checks them: the scheme validated, the password never shown."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

SCHEMES = ("postgresql", "postgres")


def redacted(url: str) -> str:
    """`url` without its password (user, host, port, database and query kept), for messages and logs."""
    if "://" not in url:
        return "(not a URL)"  # `user:password@host` would parse as scheme `user`
    scheme_only = f"{url.split(':', 1)[0]}://…"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a malformed netloc (bad port, unbalanced brackets): show the scheme only
        return scheme_only
    if "@" in parts.path + parts.query + parts.fragment:  # an unencoded / ? or # in the password split it
        return scheme_only
    if ":" in host:
        host = f"[{host}]"
    user = f"{parts.username}@" if parts.username else ""
    netloc = f"{user}{host}{f':{port}' if port else ''}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"], safe="/:,")
    return f"{parts.scheme}://{netloc}{parts.path}{'?' + query if query else ''}"


def password_of(url: str) -> str | None:
    """The password written in `url`, so logs can redact it; None when there is none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    in_query = [v for k, v in parse_qsl(parts.query) if k == "password"]
    return parts.password or (in_query[0] if in_query else None)


def url_problem(url: str) -> str | None:
    """Why `url` cannot name a PostgreSQL database, or None; the message shows the URL without its password."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port raises on a bad one
    except ValueError as exc:
        return f"not a valid PostgreSQL URL ({redacted(url)}): {exc}"
    if parts.scheme not in SCHEMES:
        return (
            f"expected postgresql://user@host[:port]/database (or postgres://…), got {redacted(url)}"
            " (SQLite takes storage.path instead)"
        )
    return None

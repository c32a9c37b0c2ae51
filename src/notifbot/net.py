"""Address checks shared by the configuration checks, the destinations and the ingest endpoint."""

from __future__ import annotations

import functools
import ipaddress
import re

_HTTP_HOST = re.compile(r"http://(\[[^]]+\]|[^/:]+)")


@functools.lru_cache(maxsize=1024)
def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost (cached: ingest asks for every request)."""
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def https_or_loopback(url: str) -> bool:
    """True for an https URL, or a plain http one whose host is loopback (a local test server)."""
    lowered = url.lower()
    if lowered.startswith("https://"):
        return True
    host = _HTTP_HOST.match(lowered)
    return host is not None and is_loopback(host.group(1))

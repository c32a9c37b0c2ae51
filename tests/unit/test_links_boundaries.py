"""classify_link's limits at their boundaries (URL and host length, port range, label room) and safe_url."""

from __future__ import annotations

import pytest

from notifbot.links import (
    DEFAULT_LINKS,
    Link,
    classify_link,
    host_name,
    link_label,
    neutral_label,
    safe_url,
)


def url_of_length(n: int) -> str:
    head = "https://evil.example/"
    return head + "a" * (n - len(head))


@pytest.mark.parametrize(("length", "ok"), [(2999, True), (3000, True), (3001, False)])
def test_a_url_is_at_most_3000_characters(length: int, ok: bool) -> None:
    url = url_of_length(length)
    assert len(url) == length
    assert classify_link(url, DEFAULT_LINKS) == (Link(url, "evil.example", marketo=False) if ok else None)
    assert safe_url(url) == (url if ok else None)


@pytest.mark.parametrize(
    ("port", "ok"), [(0, False), (1, True), (2, True), (443, True), (65535, True), (65536, False)]
)
def test_a_port_is_1_to_65535(port: int, ok: bool) -> None:
    url = f"https://evil.example:{port}/x"
    assert classify_link(url, DEFAULT_LINKS) == (Link(url, "evil.example", marketo=False) if ok else None)


@pytest.mark.parametrize(("length", "ok"), [(252, True), (253, True), (254, False)])
def test_a_host_is_at_most_253_characters(length: int, ok: bool) -> None:
    host = "x" * (length - 248) + "." + ".".join(["a" * 61] * 4)  # labels of at most 63
    assert len(host) == length
    assert host_name(host.upper()) == (host if ok else None)
    url = f"https://{host}/"
    assert classify_link(url, DEFAULT_LINKS) == (Link(url, host, marketo=False) if ok else None)


@pytest.mark.parametrize("host", ["", ".", "ex\u00e4mple.com", "xn--exmple-cua.com.", "a..b"])
def test_empty_non_ascii_and_empty_label_hosts_are_refused(host: str) -> None:
    assert host_name(host) is None


def test_the_neutral_label_shows_a_host_of_63_characters_whole() -> None:
    room = 75 - len("Open link ()")
    fits, longer = "h" * (room - 8) + ".example", "h" * (room - 7) + ".example"
    assert len(fits) == room
    assert neutral_label(fits) == f"Open link ({fits})"
    assert neutral_label(longer) == f"Open link (…{longer[2:]})"
    assert len(neutral_label(longer)) == 75


def test_link_label_passes_its_limit_on() -> None:
    host = "h" * 70 + ".example"
    link = Link(f"https://{host}/", host, marketo=False)
    assert link_label(link) == neutral_label(host, 75) and len(link_label(link)) == 75
    assert (
        link_label(link, limit=40) == f"Open link (…{host[-27:]})" and len(link_label(link, limit=40)) == 40
    )


def test_safe_url_opens_any_safe_host_marketo_or_not() -> None:
    for url in (
        "https://app-ab12.marketo.com/#SC1",
        "https://evil.example/login",
        "HTTPS://Evil.Example:8443/",
    ):
        assert safe_url(url) == url
    for url in ("http://evil.example/", "https://u@evil.example/", 42, None):
        assert safe_url(url) is None

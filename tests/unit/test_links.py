"""classify_link: one rule for which URLs open and which are Marketo's, trick by trick and by property."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifbot.config import parse_settings
from notifbot.errors import ConfigError
from notifbot.links import (
    DEFAULT_LINKS,
    Link,
    LinkPolicy,
    classify_link,
    host_pattern,
    link_label,
    link_policy,
    neutral_label,
    safe_url,
)

MARKETO = "https://app-ab12.marketo.com/#SC1042A1"

REFUSED = {
    "user info before a Marketo host": "https://app.marketo.com@evil.example/login",
    "user and password": "https://user:secret@app-ab12.marketo.com/",
    "empty user info": "https://@app-ab12.marketo.com/",
    "port-looking user info": "https://app.marketo.com:443@evil.example/",
    "percent-encoded @": "https://app.marketo.com%40evil.example/",
    "percent-encoded dot": "https://evil%2eexample.marketo.com/",
    "backslash as a browser path separator": "https://app.marketo.com\\@evil.example/",
    "backslash before the host": "https://evil.example\\.app.marketo.com/",
    "tab a browser strips": "https://app.marketo.com\t.evil.example/",
    "newline a browser strips": "https://app.marketo.com\n@evil.example/",
    "trailing dot": "https://app.marketo.com./",
    "empty label": "https://app..marketo.com/",
    "IDN homoglyph (Cyrillic a)": "https://аpp.marketo.com/",
    "full-width dot a browser maps to .": "https://evil.example．marketo.com/",
    "ideographic full stop": "https://evil。marketo.com/",
    "IPv4 literal": "https://127.0.0.1/",
    "hex IPv4 a browser accepts": "https://0x7f.1/",
    "IPv6 literal": "https://[::1]/",
    "three slashes": "https:///evil.example/",
    "no slashes": "https:evil.example/",
    "plain http": "http://app-ab12.marketo.com/",
    "javascript": "javascript:alert(1)//app.marketo.com",
    "no host": "https://",
    "port out of range": "https://app-ab12.marketo.com:99999/",
    "port zero": "https://app-ab12.marketo.com:0/",
    "two ports": "https://app-ab12.marketo.com:1:2/",
    "space": "https://app-ab12.marketo.com/a b",
    "leading space": " https://app-ab12.marketo.com/",
    "mrkdwn breakout": "https://app-ab12.marketo.com/|click>",
    "quote": 'https://app-ab12.marketo.com/"',
    "not a string": 5,
    "too long": "https://app-ab12.marketo.com/" + "a" * 3_000,
    "label with underscore": "https://a_b.marketo.com/",
    "label starting with hyphen": "https://-a.marketo.com/",
}

ELSEWHERE = {
    "look-alike suffix": ("https://evilmarketo.com/", "evilmarketo.com"),
    "Marketo host as a subdomain": ("https://app.marketo.com.evil.example/", "app.marketo.com.evil.example"),
    "Adobe host as a subdomain": (
        "https://experience.adobe.com.evil.example/",
        "experience.adobe.com.evil.example",
    ),
    "other Adobe host": ("https://evil.adobe.com/", "evil.adobe.com"),
    "Marketo's REST domain of another instance": (
        "https://999-XYZ-999.mktorest.com/",
        "999-xyz-999.mktorest.com",
    ),
    "@ in the path only": ("https://evil.example/@app.marketo.com", "evil.example"),
    "Marketo in the query": ("https://evil.example/?next=https://app.marketo.com/", "evil.example"),
}

MARKETOURLS = {
    "Marketo app host": MARKETO,
    "upper case": "HTTPS://APP-AB12.MARKETO.COM/#SC1A1",
    "explicit port": "https://app-ab12.marketo.com:443/#SC1A1",
    "punycode subdomain of marketo.com": "https://xn--pp-8kc.marketo.com/",
    "Experience Cloud with @ in the fragment": "https://experience.adobe.com/#/@acme/so:acme-prod/marketo/",
    "query and fragment": "https://app-ab12.marketo.com/x?a=1&b=%20#f",
}


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_refused_urls_are_never_opened(url: object) -> None:
    assert classify_link(url, DEFAULT_LINKS) is None
    assert safe_url(url) is None


@pytest.mark.parametrize(("url", "host"), ELSEWHERE.values(), ids=ELSEWHERE.keys())
def test_other_hosts_open_under_a_neutral_label(url: str, host: str) -> None:
    link = classify_link(url, DEFAULT_LINKS)
    assert link == Link(url, host, marketo=False)
    assert link_label(link) == f"Open link ({host})"


@pytest.mark.parametrize("url", MARKETOURLS.values(), ids=MARKETOURLS.keys())
def test_marketo_hosts_keep_the_marketo_label(url: str) -> None:
    link = classify_link(url, DEFAULT_LINKS)
    assert link is not None and link.marketo and link.url == url
    assert link_label(link) == "Open in Marketo"
    assert link_label(link, "See the full list (CSV)") == "See the full list (CSV)"


def test_neutral_label_keeps_the_end_of_a_long_host() -> None:
    host = "app.marketo.com." + "a" * 60 + ".evil.example"
    label = neutral_label(host)
    assert len(label) == 75 and label.endswith("aaa.evil.example)") and "app.marketo.com" not in label
    assert neutral_label("evil.example", 30) == "Open link (evil.example)"


def test_configured_hosts_exact_and_wildcard() -> None:
    policy = LinkPolicy.build(["go.acme.example", "*.acme.org"])
    assert policy.is_marketo("go.acme.example") and policy.is_marketo("x.y.acme.org")
    assert not policy.is_marketo("acme.org") and not policy.is_marketo("x.go.acme.example")
    assert not policy.is_marketo("evilacme.org") and policy.is_marketo("app.marketo.com")
    assert not LinkPolicy.build(builtin=False).is_marketo("app.marketo.com")
    with pytest.raises(ValueError, match="not a host name"):
        LinkPolicy.build(["https://go.acme.example"])


@pytest.mark.parametrize(
    ("entry", "pattern"),
    [
        ("Go.Acme.Example", "go.acme.example"),
        ("*.acme.org", "*.acme.org"),
        ("*.com", None),
        ("*", None),
        ("https://acme.org", None),
        ("acme.org:443", None),
        ("acme.org/path", None),
        ("user@acme.org", None),
        ("1.2.3.4", None),
        ("acme.org.", None),
        ("äcme.org", None),
        ("", None),
    ],
)
def test_host_patterns(entry: str, pattern: str | None) -> None:
    assert host_pattern(entry) == pattern


def test_settings_give_instances_and_configured_hosts() -> None:
    settings = parse_settings(
        {
            "links": {"marketo_hosts": ["Go.Acme.Example", "*.acme.org"]},
            "marketo": {
                "instances": [
                    {"munchkin_id": "123-ABC-456", "client_id": "i", "client_secret": "secret"},
                    {
                        "munchkin_id": "999-XYZ-999",
                        "base_url": "https://eu-rest.acme.net/",
                        "client_id": "i",
                        "client_secret": "secret",
                    },
                ]
            },
        },
        source="test.yaml",
    )
    assert settings.links.marketo_hosts == ["go.acme.example", "*.acme.org"]
    policy = link_policy(settings)
    for host in (
        "123-abc-456.mktorest.com",
        "999-xyz-999.mktorest.com",
        "eu-rest.acme.net",
        "go.acme.example",
    ):
        assert policy.is_marketo(host), host
    assert policy.is_marketo("lp.acme.org") and policy.is_marketo("app-ab12.marketo.com")
    assert not policy.is_marketo("111-aaa-111.mktorest.com")


def test_bad_configured_hosts_are_refused_with_their_path() -> None:
    with pytest.raises(ConfigError, match=r"links\.marketo_hosts.*'https://x\.example'.*'\*\.com'"):
        parse_settings({"links": {"marketo_hosts": ["https://x.example", "*.com"]}}, source="test.yaml")
    with pytest.raises(ConfigError, match=r"links\.bogus"):
        parse_settings({"links": {"bogus": 1}}, source="test.yaml")


# Property: a URL built from pieces attackers combine never gets a Marketo label unless the host a browser
# would open (urlsplit's host after normalisation, and the authority taken the way a browser does) is allowed.
ALLOWED = LinkPolicy.build(["go.acme.example", "*.acme.org"])
_PIECES = st.sampled_from(
    [
        "app.marketo.com", "marketo.com", "app-ab12.marketo.com", "experience.adobe.com", "adobe.com",
        "evil.example", "go.acme.example", "acme.org", "x.acme.org", "evil", "com", "",
        "@", ":", ":443", ".", "..", "\\", "/", "%40", "%2e", "．", "。", "а", "\t", "#", "?", "[", "]",
        "user", "user:pw@", "xn--pp-8kc", "0x7f", "127.0.0.1",
    ]
)  # fmt: skip
_SCHEMES = st.sampled_from(
    ["https://", "HTTPS://", "https:/", "https:", "https:///", "http://", "https:\\\\"]
)
_TAILS = st.sampled_from(
    ["", "/", "/login", "/#SC1A1", "/?u=@evil.example", "/@app.marketo.com", "?a=1&b=<2>"]
)
_TRICKY = st.builds(
    lambda scheme, pieces, tail: scheme + "".join(pieces) + tail,
    _SCHEMES,
    st.lists(_PIECES, max_size=6),
    _TAILS,
)
_LABELS = st.sampled_from(
    [
        "app",
        "app-ab12",
        "marketo",
        "com",
        "evil",
        "example",
        "acme",
        "org",
        "go",
        "adobe",
        "experience",
        "xn--pp-8kc",
        "0x7f",
        "1",
    ]
)
_SUFFIXES = st.sampled_from(
    [
        "marketo.com",
        "acme.org",
        "go.acme.example",
        "experience.adobe.com",
        "evil.example",
        "marketo.com.evil",
        "com",
    ]
)
_HOSTS = st.builds(
    lambda labels, suffix: ".".join([*labels, suffix]), st.lists(_LABELS, max_size=3), _SUFFIXES
)
_PLAUSIBLE = st.builds(  # mostly valid URLs, some with one trick: user info, a trailing dot, a bad port
    lambda user, host, dot, port, tail: f"https://{user}{host}{dot}{port}{tail}",
    st.sampled_from([""] * 6 + ["user@", "app.marketo.com@", "a:b@"]),
    _HOSTS,
    st.sampled_from([""] * 8 + ["."]),
    st.sampled_from([""] * 6 + [":443", ":0", ":x"]),
    _TAILS,
)
URLS = st.one_of(_TRICKY, _PLAUSIBLE, _PLAUSIBLE)


def allowed(host: str) -> bool:
    """An independent statement of the rule, over the host a parser reports."""
    exact = {"experience.adobe.com", "go.acme.example"}
    return host in exact or host.endswith((".marketo.com", ".acme.org"))


def browser_authority(url: str) -> str:
    """The authority as a WHATWG browser cuts it for https: after `//`, up to `/ ? #` or a backslash."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    return re.split(r"[/?#\\]", rest, maxsplit=1)[0]


@given(st.one_of(URLS, st.text(max_size=60).map(lambda s: "https://" + s)))
def test_no_marketo_label_for_a_host_that_is_not_allowed(url: str) -> None:
    link = classify_link(url, ALLOWED)
    if link is None:
        return
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    assert link.host == host
    authority = browser_authority(url)
    assert "@" not in authority and "%" not in authority and "\\" not in url
    assert authority.lower().split(":")[0] == host
    assert link.marketo == allowed(host)
    label = link_label(link)
    assert label == "Open in Marketo" if link.marketo else label.endswith(f"{host[-40:]})")

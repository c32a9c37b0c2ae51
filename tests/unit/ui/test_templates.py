"""The console's templates: escaped, strict, accessible markup (§5.1) and nothing the CSP would block."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.resources import files
from typing import Any

import jinja2
import pytest

from notifbot.store.outbox import DeadRow, PendingRow
from notifbot.ui.auth import Session
from notifbot.ui.console import templates, utc
from notifbot.ui.pages import PAGES
from notifbot.ui.status import OpenGroups

EVIL = "<script>alert(1)</script>\"'&"
ADMIN = Session("admin", "console token", 2_000_000_000, "nonce")
DEAD = DeadRow(
    7,
    f"ops{EVIL}",
    f"C1{EVIL}",
    5,
    f"channel_not_found {EVIL}",
    f"key{EVIL}",
    "audit",
    "2026-12-01T10:00:00Z",
)
PENDING = PendingRow(
    8, "ops", "C1", 1, f"ratelimited {EVIL}", f"key{EVIL}", "audit", "2026-12-01T10:00:00Z", 3, 2e9, False
)


def _base(session: Session | None, **values: Any) -> dict[str, Any]:
    return {
        "base": "/ui",
        "title": "A page",
        "session": session,
        "csrf": "csrf-token" if session else "",
        "nav": [(p.path, p.title) for p in PAGES] if session else [],
        "current": "/outbox" if session else None,
        **values,
    }


OUTBOX = {
    "limit": 100,
    "requeued": 7,
    "missing": 9,
    "older": "/outbox?before=7",
    "newer": None,
    "newest": None,
}
HOME = {
    "groups": OpenGroups({}, []),
    "mutes": 0,
    "pollers": [],
    "panels": [],
}  # test_status_templates: filled
RENDERED = {
    "login form": ("login.html", _base(None, refused=None, error="That is not a console token.")),
    "login refused": ("login.html", _base(None, refused="Terminate TLS in front.", error=None)),
    "error": ("error.html", _base(ADMIN, message=f"Not allowed {EVIL}")),
    "home": ("home.html", _base(ADMIN, rows=[(f"slack{EVIL}", 2, 1)], pending=2, dead=1, **HOME)),
    "home empty": ("home.html", _base(ADMIN, rows=[], pending=0, dead=0, **HOME)),
    "outbox dead": ("outbox.html", _base(ADMIN, status="dead", rows=[DEAD], can_retry=True, **OUTBOX)),
    "outbox pending": (
        "outbox.html",
        _base(ADMIN, status="pending", rows=[PENDING], can_retry=False, **OUTBOX),
    ),
    "outbox empty": ("outbox.html", _base(ADMIN, status="dead", rows=[], can_retry=True, **OUTBOX)),
}


class Markup(HTMLParser):
    """The elements of a page with their attributes, and the text inside each <h1>."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag]


def render(template: str, values: dict[str, Any]) -> tuple[str, Markup]:
    html = templates().get_template(template).render(values)
    parsed = Markup()
    parsed.feed(html)
    return html, parsed


def assert_accessible(html: str, page: Markup, signed_in: bool) -> None:
    """One h1, landmarks, a skip link, labelled inputs, captioned tables, scoped headers; nothing the CSP blocks."""
    assert len(page.named("h1")) == 1
    assert page.named("header") and page.named("main") and page.named("main")[0]["id"] == "main"
    assert any(a.get("href") == "#main" for a in page.named("a")), "a skip link to the main content"
    if signed_in:
        assert page.named("nav")
    labels = {a.get("for") for a in page.named("label")}
    for field in [*page.named("input"), *page.named("select")]:
        assert field.get("type") == "hidden" or field.get("id") in labels, field
    for table in re.findall(r"<table[^>]*>.*?</table>", html, re.S):
        assert "<caption>" in table
    for th in page.named("th"):
        assert th.get("scope") in ("col", "row")
    for _, attrs in page.elements:
        assert "style" not in attrs and not any(name.startswith("on") for name in attrs)
    assert not page.named("script") and not page.named("style")
    assert page.named("html")[0]["lang"] == "en"


@pytest.mark.parametrize("case", RENDERED)
def test_markup_is_accessible_and_csp_clean(case: str) -> None:
    html, page = render(*RENDERED[case])
    assert_accessible(html, page, RENDERED[case][1]["session"] is not None)
    for button in page.named("button"):
        assert button.get("type") == "submit"


@pytest.mark.parametrize("case", RENDERED)
def test_values_are_escaped(case: str) -> None:
    html, _ = render(*RENDERED[case])
    assert "<script>alert" not in html and "\"'&" not in html


def test_a_dead_row_offers_retry_with_the_csrf_field_and_says_its_status_in_words() -> None:
    html, page = render(*RENDERED["outbox dead"])
    (form,) = [f for f in page.named("form") if f.get("action") == "/ui/outbox/7/retry"]
    assert form["method"] == "post"
    assert {"type": "hidden", "name": "csrf", "value": "csrf-token"} in page.named("input")
    assert '<span class="status status-dead">dead</span>' in html
    assert "Row 7 is queued again" in html and "Row 9 is not a dead delivery" in html
    assert "/retry" not in render(*RENDERED["outbox pending"])[0]


def test_an_undefined_value_is_an_error_not_a_blank() -> None:
    values = _base(ADMIN)
    with pytest.raises(jinja2.UndefinedError):
        templates().get_template("outbox.html").render(values)


def test_times_show_in_utc() -> None:
    assert utc(2_000_000_000.0) == "2033-05-18 03:33:20 UTC"
    assert utc("2026-12-01T10:00:00+01:00") == "2026-12-01 09:00:00 UTC"
    assert utc(None) == "" and utc("not a time") == ""


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_colour_pair_of_the_stylesheet_reaches_4_5_to_1() -> None:
    css = files("notifbot.ui").joinpath("static", "console.css").read_text(encoding="utf-8")
    names = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", css))
    resolve = lambda v: names[v[6:-1]] if v.startswith("var(") else v  # noqa: E731
    pairs = [
        (resolve(fg), resolve(bg))
        for rule in re.findall(r"\{([^}]*)\}", css)
        if (fg := _declared(rule, "color")) and (bg := _declared(rule, "background"))
    ]
    # what inherits its background: text, muted text and links on the page and panels, links on the bar
    pairs += [(names[f], names[b]) for f, b in [("text", "page"), ("muted", "page"), ("link", "page")]]
    pairs += [(names[f], names[b]) for f, b in [("muted", "panel"), ("text", "panel"), ("bar-link", "bar")]]
    assert len(pairs) >= 10
    assert [(f, b) for f, b in pairs if contrast(f, b) < 4.5] == []


def _declared(rule: str, prop: str) -> str | None:
    found = re.search(rf"(?:^|[;\s]){prop}:\s*(#[0-9a-f]{{6}}|var\(--[\w-]+\))", rule)
    return found.group(1) if found else None

"""Test 5 of docs/design/first-hour.md §7.2: every message as the sandbox and console draw it, at Slack's column.

Every bundled sample, as posted and at full length, × single, interactive, acknowledged, grouped, resolved and
thread × English and Swedish, through `render_slack_html` (Slack) and `render_card_html` (Teams, which has no
interactive form) with the real chat.css, on one static page 600 px wide: nothing overflows or leaves its message,
every text the bot cut ends with "…" in the JSON and on screen, every button is visible; axe finds no WCAG 2 A/AA
violation. The last tests plant each fault the checks look for, so they are seen to catch it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from markupsafe import Markup, escape

from tests.browser.layout_cases import (
    HEAD,
    SAMPLES,
    SLACK,
    TEAMS,
    Case,
    axe_ids,
    cases,
    cut_texts,
    long_value,
)
from tests.browser.support import CHAT_CSS, axe_violations, document

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

LAYOUT_JS = Path(__file__).with_name("layout.js").read_text(encoding="utf-8")
COLUMN = 600  # px: Slack's message column (chat.css caps .nb-message there too)
VIEWPORT: ViewportSize = {"width": COLUMN + 40, "height": 900}
PAGE_CSS = f"body {{ margin: 0; padding: 0 20px; }} .layout-case {{ width: {COLUMN}px; margin: 0 0 16px; }}"
BUTTONS = "[data-case] .nb-button"  # a closed confirm dialog's choices are not visible, as in Slack


@pytest.fixture(scope="module")
def every_case() -> list[Case]:
    return cases()


def layout_page(kases: list[Case] | list[tuple[str, str]], title: str) -> str:
    """One page with each case's message in a column of its own (`Case`s, or (id, html) pairs for planted faults)."""
    parts = [(c.id, c.lang, c.html) if isinstance(c, Case) else (c[0], "en", Markup(c[1])) for c in kases]
    body = "".join(
        f'<article class="layout-case" data-case="{escape(id_)}" lang="{lang}">{html}</article>'
        for id_, lang, html in parts
    )
    return document(
        Markup(f"<main><h1>{escape(title)}</h1>{body}</main>"), title=title, css=(CHAT_CSS, PAGE_CSS)
    )


def check_layout(page: Page, html: str, ends: dict[str, list[str]]) -> dict[str, Any]:
    """Loads `html` at the column's width and runs layout.js: its problems and the buttons it found per case."""
    page.set_viewport_size(VIEWPORT)
    page.set_content(html)
    result: dict[str, Any] = page.evaluate(LAYOUT_JS, ends)
    return result


def test_every_cut_text_ends_with_an_ellipsis(every_case: list[Case]) -> None:
    assert [(c.id, c.uncut) for c in every_case if c.uncut] == []
    # the check is exercised: every sample's long form is cut somewhere on each platform
    cut = Counter(c.id.split("/long/")[0] for c in every_case if c.cut)
    sampled = {c.id.split("/long/")[0] for c in every_case if "/long/" in c.id}
    assert sampled and [s for s in sorted(sampled) if not cut[s]] == []


def test_every_sample_and_variant_fits_slack_s_column(page: Page, every_case: list[Case]) -> None:
    html = layout_page(every_case, "Every sample and variant, as posted and at full length")
    result = check_layout(page, html, {c.id: list(c.cut) for c in every_case})
    expected = {c.id: c.buttons for c in every_case}
    found = {
        "layout": result["problems"],
        "buttons": {k: (v, expected[k]) for k, v in result["buttons"].items() if v != expected[k]},
        "visible buttons": page.locator(BUTTONS).filter(visible=True).count(),
        "axe": run_axe_on(page, axe_ids()),
    }
    assert found == {"layout": [], "buttons": {}, "visible buttons": sum(expected.values()), "axe": []}
    assert len(every_case) == len(SAMPLES) * (len(SLACK) + len(TEAMS)) * 3  # posted in en and sv, long in sv
    # Acknowledge and Mute (and Open) on every interactive Slack message
    assert all(c.buttons >= 2 for c in every_case if c.id.endswith("/interactive"))


def run_axe_on(page: Page, ids: set[str]) -> list[str]:
    """axe on the cases `ids` alone: the others leave the page first (axe's time grows with the whole page)."""
    kept = page.evaluate(
        """(ids) => {
            for (const kase of document.querySelectorAll("[data-case]")) if (!ids.includes(kase.dataset.case)) kase.remove();
            return [...document.querySelectorAll("[data-case]")].map((kase) => kase.dataset.case);
        }""",
        sorted(ids),
    )
    assert sorted(kept) == sorted(ids)
    assert len({i.split("/")[2] for i in ids}) == len(ids)  # each a different sample
    return axe_violations(page)


BUTTON = '<button type="button" class="nb-button"{}>Acknowledge</button>'
PLANTED = [
    ("fine", f'<div class="nb-message nb-slack"><div class="nb-text">a b c</div>{BUTTON.format("")}</div>'),
    ("wide", '<div class="nb-message nb-slack"><div style="width: 900px">wide</div></div>'),
    (
        "nowrap",
        f'<div class="nb-message"><div class="nb-text" style="white-space: nowrap">{"x " * 400}</div></div>',
    ),
    # what chat.css must never do: hide what does not fit
    (
        "clipped",
        f'<div class="nb-message"><div style="overflow: hidden; white-space: nowrap">{"y " * 400}</div></div>',
    ),
    ("hidden", '<div class="nb-message">' + BUTTON.format(' style="visibility: hidden"') + "</div>"),
    ("offside", '<div class="nb-message">' + BUTTON.format(' style="margin-left: 700px"') + "</div>"),
    (
        "covered",
        f'<div class="nb-message" style="position: relative">{BUTTON.format("")}'
        '<div style="position: absolute; inset: 0; background: #fff"></div></div>',
    ),
    ("no-end", '<div class="nb-message"><p style="display: none">cut here…</p><p>cut</p></div>'),
    # laid out well, but a button without a name and text too faint to read: axe's to find
    (
        "unreadable",
        '<div class="nb-message"><p style="color: #bbb">faint</p><button class="nb-button"></button></div>',
    ),
]
LAYOUT_CLEAN = {"fine", "unreadable"}


def test_the_layout_checks_catch_each_planted_fault(page: Page) -> None:
    html = layout_page(PLANTED, "Planted faults")
    result = check_layout(page, html, {"no-end": ["cut here…"], "fine": ["a b c"]})
    faulty = {p.split(":", 1)[0] for p in result["problems"] if not p.startswith("page:")}
    assert faulty == {name for name, _ in PLANTED} - LAYOUT_CLEAN, result["problems"]
    assert any(p.startswith("page: ") for p in result["problems"])  # the 900 px box widens the page too
    assert result["buttons"]["fine"] == result["buttons"]["covered"] == 1
    # fine, offside, covered and unreadable are visible to Playwright: only the checks above see what is wrong
    assert page.locator(BUTTONS).filter(visible=True).count() == 4
    violations = axe_violations(page)
    assert [v.split(" ", 1)[0] for v in violations] == ["button-name", "color-contrast"], violations
    assert all("unreadable" in v or "faint" in v or "nb-button" in v for v in violations)


def test_the_cut_check_catches_a_cut_without_an_ellipsis() -> None:
    value = long_value("fieldA", 1_000)
    values = {value[:HEAD]: value}

    def section(text: str) -> dict[str, Any]:
        return {"type": "section", "text": {"type": "mrkdwn", "text": text}}

    assert cut_texts({"blocks": [section(f"*A*\n{value}")]}, values, "slack") == ([], [])
    marked = {"text": value[:150] + "…", "blocks": [section(value[:200] + "…")]}
    assert cut_texts(marked, values, "slack") == (
        [value[170:200] + "…"],
        [],
    )  # the notification text is not shown
    silent = {"text": value[:150], "blocks": [section(value[:200])]}
    ends, faults = cut_texts(silent, values, "slack")
    assert ends == [] and len(faults) == 2  # the block's text and the notification text
    fact = {"type": "FactSet", "facts": [{"title": "A", "value": value[:300] + "…"}]}
    assert cut_texts({"type": "AdaptiveCard", "body": [fact]}, values, "teams") == (
        [value[270:300] + "…"],
        [],
    )

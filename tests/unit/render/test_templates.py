"""Admin templates: what they see, per-locale over generic, the locale filters, and the catalog's text on failure."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from notifbot.i18n import EN, texts_for
from notifbot.kinds import describe, sample_for_kind, what_to_do
from notifbot.model import Kind, Notification
from notifbot.render.slack import render_slack
from notifbot.render.teams import render_teams
from notifbot.render.templates import ENV, TEXTS_KEY, Slots, TemplateKey, Templates, context_of
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import T, assert_valid, note, raw_note, strings
from tests.unit.render.teams_helpers import assert_valid_card

SV = texts_for("sv", "Europe/Stockholm")


def sample(kind: str) -> Notification:
    return parse_event(sample_for_kind(kind), now=T)


def apply(sources: dict[TemplateKey, str], n: Notification, t: Any = EN, count: int = 1) -> Slots:
    parts = describe(n, t=t)
    return Templates.build(sources).apply(n, parts, what_to_do(n, t), t, count=count)


def test_without_templates_the_catalog_text_is_kept() -> None:
    n = sample("campaign_failure")
    parts = describe(n)
    assert Templates().apply(n, parts, what_to_do(n)) == Slots(parts.title, n.summary, what_to_do(n))


def test_each_slot_is_overridden() -> None:
    n = sample("campaign_failure")
    out = apply(
        {
            (Kind.CAMPAIGN_FAILURE, None, "title"): "Failed: {{ campaign_name }}",
            (Kind.CAMPAIGN_FAILURE, None, "summary"): "{{ program_name }} — {{ error }}",
            (Kind.CAMPAIGN_FAILURE, None, "what_to_do"): "Call the owner of {{ program_name }}.",
        },
        n,
    )
    assert out == Slots(
        "Failed: Q4 Webinar Invites",
        '2026-Q4 Webinar: Marketing Ops Deep Dive — Send Email: email asset "Webinar Invite 1" is not approved',
        "Call the owner of 2026-Q4 Webinar: Marketing Ops Deep Dive.",
    )


def test_a_locales_own_template_beats_the_one_for_every_locale() -> None:
    n = sample("campaign_failure")
    sources: dict[TemplateKey, str] = {
        (Kind.CAMPAIGN_FAILURE, None, "title"): "Campaign failed: {{ campaign_name }}",
        (Kind.CAMPAIGN_FAILURE, "sv", "title"): "Kampanjen {{ campaign_name }} misslyckades",
    }
    assert apply(sources, n, SV).title == "Kampanjen Q4 Webinar Invites misslyckades"
    assert apply(sources, n, EN).title == "Campaign failed: Q4 Webinar Invites"
    assert apply({(Kind.CAMPAIGN_FAILURE, "sv", "title"): "x"}, n, EN).title == describe(n).title


def test_the_locale_filters_format_for_the_message() -> None:
    n = sample("web_services")
    source = "{{ percent | percent }} · {{ used | count }} of {{ quota | count }} · {{ resets_at | date }}"
    sources: dict[TemplateKey, str] = {(Kind.WEB_SERVICES, None, "summary"): source}
    assert apply(sources, n, EN).summary == "100% · 50,000 of 50,000 · Nov 29, 2026"
    assert apply(sources, n, SV).summary == "100\xa0% · 50\xa0000 of 50\xa0000 · 29 nov. 2026"
    when = {(Kind.WEB_SERVICES, None, "summary"): "{{ resets_at | when }} / {{ occurred_at }}"}
    assert apply(when, n, SV).summary == SV.when(n.fields["resets_at"]) + " / " + SV.when(n.occurred_at)


def test_the_context_is_the_schema_fields_and_the_envelope() -> None:
    n = note("campaign_failure", {"campaign_name": "C", "error": None}, summary="s", instance="1-A")
    values = context_of(n, EN, count=4)
    assert values.pop(TEXTS_KEY) is EN
    assert values == {
        "campaign_name": "C",
        "kind": "campaign_failure",
        "severity": "warning",
        "instance": "1-A",
        "key": n.key,
        "summary": "s",
        "occurred_at": "Nov 28, 2026 10:00 UTC (Nov 28, 4:00 AM CT)",
        "count": 4,
    }
    odd = raw_note("campaign_failure", {"campaign_name": "C", "not_in_schema": 1})
    assert "not_in_schema" not in context_of(odd, EN)
    other = note("com.example.thing", {"queue": "normal", "kind": "field kind"})
    assert context_of(other, EN)["queue"] == "normal"
    assert context_of(other, EN)["kind"] == "com.example.thing"  # the envelope wins


def test_missing_and_null_fields_show_empty_and_take_defaults() -> None:
    n = note("campaign_failure", {"campaign_name": None})
    sources: dict[TemplateKey, str] = {
        (
            Kind.CAMPAIGN_FAILURE,
            None,
            "title",
        ): "[{{ campaign_name }}|{{ error.deep.path }}|{{ url | count }}]"
        "{{ campaign_name | default('unnamed') }}",
    }
    assert apply(sources, n).title == "[||]unnamed"


def test_the_group_size_is_count() -> None:
    n = sample("campaign_failure")
    sources: dict[TemplateKey, str] = {
        (Kind.CAMPAIGN_FAILURE, None, "title"): "{{ count }}× {{ campaign_name }}"
    }
    assert apply(sources, n, count=12).title == "12× Q4 Webinar Invites"


def test_a_blank_result_keeps_the_catalog_text() -> None:
    n = sample("campaign_failure")
    sources: dict[TemplateKey, str] = {
        (Kind.CAMPAIGN_FAILURE, None, "title"): "{{ nothing }}  ",
        (Kind.CAMPAIGN_FAILURE, None, "what_to_do"): "\n",
    }
    out = apply(sources, n)
    assert (out.title, out.what_to_do) == (describe(n).title, what_to_do(n))


def test_a_template_failing_at_run_time_falls_back_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    n = sample("campaign_failure")
    templates = Templates.build(
        {
            (Kind.CAMPAIGN_FAILURE, "sv", "title"): "{{ campaign_name * 100000 }}",
            (Kind.CAMPAIGN_FAILURE, None, "summary"): "{{ campaign_name | int // 0 }}",
            (Kind.CAMPAIGN_FAILURE, None, "what_to_do"): "still {{ campaign_id }}",
        }
    )
    parts = describe(n, t=SV)
    with caplog.at_level(logging.WARNING, logger="notifbot.render"):
        for _ in range(3):
            out = templates.apply(n, parts, "advice", SV)
    assert out == Slots(parts.title, n.summary, "still 4821")
    assert sorted(r.getMessage().split(":")[0] for r in caplog.records) == [
        "templates.campaign_failure.summary",
        "templates.campaign_failure.sv.title",
    ]
    assert "SecurityError" in caplog.text and "ZeroDivisionError" in caplog.text


def test_the_sandbox_refuses_internals_even_unchecked() -> None:
    """check-config refuses these first; the sandbox is the second wall, and the slot falls back."""
    n = sample("campaign_failure")
    for source in (
        "{{ campaign_name.__class__.__mro__ }}",
        "{{ campaign_name['__class__'] }}",
        "{{ self.__dict__ }}",
        "{{ campaign_name.format.__globals__ }}",
        "{{ [campaign_name] | join(attribute='__class__') }}",
    ):
        out = apply({(Kind.CAMPAIGN_FAILURE, None, "title"): source}, n)
        assert out.title == describe(n).title, source
    assert ENV.globals == {}
    assert "attr" not in ENV.filters and "format" not in ENV.filters and "map" not in ENV.filters


def test_output_is_raw_text_never_escaped_or_marked_safe() -> None:
    n = note("campaign_failure", {"campaign_name": "<!channel> & <b>"})
    sources: dict[TemplateKey, str] = {(Kind.CAMPAIGN_FAILURE, None, "title"): "{{ campaign_name }} <@U123>"}
    title = apply(sources, n).title
    assert title == "<!channel> & <b> <@U123>" and type(title) is str


def test_a_runaway_loop_is_cut() -> None:
    n = note("trigger_cleanup", {"campaigns": [{"name": "x" * 900}] * 50})
    sources: dict[TemplateKey, str] = {
        (Kind.TRIGGER_CLEANUP, None, "summary"): "{% for c in campaigns %}{{ c.name }}{% endfor %}"
    }
    summary = apply(sources, n).summary
    assert summary is not None and len(summary) == 4_000


CHANNEL = {
    (Kind.CAMPAIGN_FAILURE, None, "title"): "{{ campaign_name }} failed",
    (Kind.CAMPAIGN_FAILURE, None, "summary"): "Summary: {{ campaign_name }} <!here>",
    (Kind.CAMPAIGN_FAILURE, None, "what_to_do"): "Ask {{ program_name }}",
}


def channel_note() -> Notification:
    return note(
        "campaign_failure",
        {"campaign_name": "<!channel> [x](https://evil.example)", "program_name": "<@U0BOSS> <at>Boss</at>"},
    )


def walk(obj: Any) -> Iterator[dict[str, Any]]:
    """Every object of a card, depth first."""
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from walk(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from walk(value)


def test_event_text_through_a_template_is_escaped_in_slack() -> None:
    message = render_slack(channel_note(), templates=Templates.build(CHANNEL))
    assert_valid(message)
    assert message["blocks"][0]["text"]["text"].endswith("‹!channel› [x](https://evil.example) failed")
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]
    assert any("Summary: &lt;!channel&gt; [x](https://evil.example) &lt;!here&gt;" in t for t in sections)
    assert any("Ask &lt;@U0BOSS&gt; &lt;at&gt;Boss&lt;/at&gt;" in t for t in sections), sections
    assert "&lt;!channel&gt;" in message["text"]
    assert not [t for t in strings(message) if "<!channel>" in t or "<!here>" in t or "<@U0BOSS>" in t]


def test_event_text_through_a_template_stays_inert_in_teams() -> None:
    card = render_teams(channel_note(), templates=Templates.build(CHANNEL))
    assert_valid_card(card)
    shown = [e for e in walk(card["body"]) if "<!channel>" in str(e.get("text", ""))]
    assert {e["type"] for e in shown} == {"TextRun"}, shown  # shown as is, never parsed as markdown
    assert any("Summary: <!channel>" in e["text"] for e in shown)
    assert any(e.get("text", "").startswith("Ask <@U0BOSS>") for e in walk(card["body"]))
    assert "entities" not in json.dumps(card)  # no mention was made


def test_group_messages_see_the_group_size() -> None:
    n = sample("campaign_failure")
    templates = Templates.build({(Kind.CAMPAIGN_FAILURE, None, "title"): "{{ count }} × {{ campaign_name }}"})
    assert "1 × Q4 Webinar Invites" in render_slack(n, templates=templates)["blocks"][0]["text"]["text"]

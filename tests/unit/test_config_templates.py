"""Config: the `templates:` section, its per-locale tables, and what check-config refuses in a template, by path."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from notifbot.cli import main
from notifbot.config import ConfigError, parse_settings
from notifbot.config.templates import LOCALES, SLOTS, KindTemplates, TemplateTexts, compile_templates
from notifbot.i18n import available
from notifbot.kinds import load_samples
from notifbot.model import Kind
from notifbot.render import templates as render_templates
from notifbot.sources.events import parse_event
from tests.unit.senders import send_in_two_languages


def problems_of(templates: dict[str, Any]) -> list[str]:
    """check-config's problems with a config holding only these templates."""
    try:
        parse_settings({"templates": templates}, source="t")
    except ConfigError as exc:
        return exc.problems
    return []


def test_the_per_locale_tables_follow_the_catalogs() -> None:
    assert set(LOCALES) == set(available())
    assert SLOTS == render_templates.SLOTS
    assert set(KindTemplates.model_fields) == set(TemplateTexts.model_fields) | set(available())


def test_a_valid_section_compiles_per_kind_and_locale() -> None:
    s = parse_settings(
        {
            "templates": {
                "campaign_failure": {
                    "title": "Campaign failed: {{ campaign_name | default('unnamed') }}",
                    "sv": {"title": "Kampanjen {{ campaign_name }} misslyckades"},
                },
                "web_services": {
                    "summary": "{{ percent | percent }} ({{ used | count }} of {{ quota | count }})"
                },
                "other": {"title": "{{ kind }}: {{ anything_the_sender_sent }}"},
            }
        },
        source="t",
    )
    templates = compile_templates(s.templates)
    assert set(templates.compiled) == {
        (Kind.CAMPAIGN_FAILURE, None, "title"),
        (Kind.CAMPAIGN_FAILURE, "sv", "title"),
        (Kind.WEB_SERVICES, None, "summary"),
        (Kind.OTHER, None, "title"),
    }
    assert compile_templates({}) is None


def test_no_templates_is_the_default() -> None:
    assert parse_settings({}, source="t").templates == {}


ESCAPES = [
    ("{{ ''.__class__ }}", "reaches Python internals (__class__): not allowed"),
    ("{{ ''.__class__.__mro__ }}", "reaches Python internals (__class__, __mro__): not allowed"),
    ("{{ cycler.__init__.__globals__ }}", "reaches Python internals (__globals__, __init__): not allowed"),
    ("{{ lipsum.__globals__ }}", "reaches Python internals (__globals__): not allowed"),
    ("{{ self.__dict__ }}", "reaches Python internals (__dict__): not allowed"),
    ("{{ campaign_name['__class__'] }}", "reaches Python internals (__class__): not allowed"),
    ("{{ campaign_name|attr('__class__') }}", "reaches Python internals (|attr): not allowed"),
    ("{{ url|join(attribute='x.__class__') }}", "reaches Python internals (__class__): not allowed"),
    ("{% include 'x' %}", "{% include %} is not allowed: a template gives text (fields and filters)"),
    ("{% import 'x' as y %}", "{% import %} is not allowed: a template gives text (fields and filters)"),
    ("{% extends 'x' %}", "{% extends %} is not allowed: a template gives text (fields and filters)"),
    ("{% set x = 1 %}{{ x }}", "{% set %} is not allowed: a template gives text (fields and filters)"),
    ("{% set x %}a{% endset %}", "{% set %} is not allowed: a template gives text (fields and filters)"),
    (
        "{% macro m() %}{% endmacro %}",
        "{% macro %} is not allowed: a template gives text (fields and filters)",
    ),
    ("{{ campaign_name.upper() }}", "calls upper(): not allowed (a template uses fields and filters only)"),
    ("{{ 9 ** 9 ** 9 }}", "the ** operator is not allowed"),
]


@pytest.mark.parametrize(("source", "problem"), ESCAPES, ids=[s for s, _ in ESCAPES])
@pytest.mark.parametrize("slot", ["title", "summary", "what_to_do"])
def test_every_escape_is_refused_with_its_path(source: str, problem: str, slot: str) -> None:
    found = problems_of({"campaign_failure": {"sv": {slot: source}}})
    assert f"templates.campaign_failure.sv.{slot}: {problem}" in found, found


def test_the_names_jinja_gives_templates_are_not_there_either() -> None:
    found = problems_of({"campaign_failure": {"title": "{{ cycler }} {{ lipsum }} {{ range }}"}})
    assert [p.split(" (fields")[0] for p in found] == [
        "templates.campaign_failure.title: unknown field 'cycler'",
        "templates.campaign_failure.title: unknown field 'lipsum'",
        "templates.campaign_failure.title: unknown field 'range'",
    ]


def test_an_unknown_field_names_the_fields() -> None:
    assert problems_of({"campaign_failure": {"sv": {"title": "{{ campain_name }}"}}}) == [
        "templates.campaign_failure.sv.title: unknown field 'campain_name' (fields: campaign_id, campaign_name, "
        "count, error, instance, key, kind, occurred_at, program_name, severity, summary, url)"
    ]


def test_other_takes_any_field_but_not_internals() -> None:
    assert problems_of({"other": {"title": "{{ queue }} {{ lag_minutes | count }}"}}) == []
    assert problems_of({"other": {"title": "{{ __builtins__ }}"}}) == [
        "templates.other.title: reaches Python internals (__builtins__): not allowed"
    ]


def test_a_syntax_error_names_its_line() -> None:
    found = problems_of({"campaign_failure": {"sv": {"title": "ok\n{% if campaign_name %}"}}})
    assert len(found) == 1
    assert found[0].startswith("templates.campaign_failure.sv.title: line 2: Unexpected end of template."), (
        found
    )


def test_an_unknown_filter_is_refused_with_the_whitelist() -> None:
    found = problems_of({"crm_sync": {"what_to_do": "{{ error | tojson }} {{ error | format }}"}})
    assert [p.split(" (filters")[0] for p in found] == [
        "templates.crm_sync.what_to_do: unknown filter 'tojson'",
        "templates.crm_sync.what_to_do: unknown filter 'format'",
    ]
    assert "count, date, default" in found[0]


def test_a_template_that_fails_on_a_sample_is_refused() -> None:
    found = problems_of({"campaign_failure": {"en": {"summary": "{{ campaign_name * 1000 }}"}}})
    assert found == [
        "templates.campaign_failure.en.summary: fails on the sample 'campaign_failure' in en: SecurityError: "
        "`*` would build more than 4000 items"
    ]


def test_unknown_kinds_slots_and_locales_are_refused() -> None:
    found = problems_of({"campain_failure": {"title": "x"}, "audit": {"titel": "x", "fr": {"title": "x"}}})
    assert any(p.startswith("templates.campain_failure.[key]: Input should be") for p in found), found
    assert "templates.audit.titel: Extra inputs are not permitted" in found
    assert "templates.audit.fr: Extra inputs are not permitted" in found


def test_a_template_longer_than_2000_chars_is_refused() -> None:
    found = problems_of({"audit": {"title": "x" * 2001}})
    assert found == ["templates.audit.title: String should have at most 2000 characters"]


def test_render_prints_the_locales_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "notifbot.yaml"
    config.write_text(
        "templates:\n"
        "  campaign_failure:\n"
        '    title: "Campaign failed: {{ campaign_name }}"\n'
        "    sv:\n"
        '      title: "Kampanjen {{ campaign_name }} misslyckades {{ occurred_at }}"\n',
        encoding="utf-8",
    )
    args = ["render", "--kind", "campaign_failure", "--config", str(config)]
    assert main([*args, "--locale", "sv", "--timezone", "Europe/Stockholm"]) == 0
    message = json.loads(capsys.readouterr().out)
    assert "Kampanjen Q4 Webinar Invites misslyckades 28 nov. 2026 11:00 CET (04:00 CT)" in json.dumps(
        message, ensure_ascii=False
    )
    assert main([*args, "--format", "teams"]) == 0
    assert "Campaign failed: Q4 Webinar Invites" in capsys.readouterr().out


def test_render_refuses_an_unknown_locale_or_zone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--kind", "audit", "--locale", "fr"]) == 2
    assert "--locale: no catalog for 'fr' (known: en, sv)" in capsys.readouterr().err
    assert main(["render", "--kind", "audit", "--timezone", "Europe/Stokholm"]) == 2
    assert "--timezone: 'Europe/Stokholm' is not an IANA time zone" in capsys.readouterr().err


def test_render_as_a_subprocess_uses_the_configs_locale(tmp_path: Path) -> None:
    config = tmp_path / "notifbot.yaml"
    config.write_text(
        'locale: sv\ntemplates:\n  campaign_failure:\n    sv:\n      what_to_do: "Ring {{ program_name }}-ägaren."\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "notifbot", "render", "--kind", "campaign_failure", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "Ring 2026-Q4 Webinar: Marketing Ops Deep Dive-ägaren." in json.dumps(
        json.loads(done.stdout), ensure_ascii=False
    )


async def test_deliveries_use_the_templates_in_each_destinations_locale() -> None:
    """Config → compiled templates → SenderContext → each Slack channel and the console, in its own locale."""
    s = parse_settings(
        {
            "destinations": {
                "svenska": {"type": "slack", "channel": "C0SWEDISH", "locale": "sv"},
                "english": {"type": "slack", "channel": "C0ENGLISH"},
                "log": {"type": "console", "locale": "sv"},
            },
            "routes": [{"to": ["svenska", "english", "log"]}],
            "templates": {
                "campaign_failure": {
                    "what_to_do": "Call the owner of {{ program_name }}.",
                    "sv": {"title": "Kampanjen {{ campaign_name }} misslyckades"},
                }
            },
        },
        source="t",
    )
    n = parse_event(load_samples()["campaign_failure"], now=datetime(2026, 11, 28, 10, tzinfo=UTC))
    swedish, english, console = await send_in_two_languages(
        s.destinations, n, locale=s.locale, templates=compile_templates(s.templates)
    )
    owner = "Call the owner of 2026-Q4 Webinar: Marketing Ops Deep Dive."
    assert "Kampanjen Q4 Webinar Invites misslyckades" in swedish and owner in swedish
    assert "Kampanjen" not in english and owner in english and "Q4 Webinar Invites" in english
    assert "Kampanjen Q4 Webinar Invites misslyckades" in console

"""Every Kind has a complete spec: severity, schema, salient fields, describer, advice, samples, and the docs name it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifbot.commands.parse import MUTABLE_KINDS
from notifbot.kinds import KINDS, describe, load_samples, spec_for, what_to_do
from notifbot.kinds.mail import EmailRule
from notifbot.model import Kind, Severity
from notifbot.render.slack import render_slack
from notifbot.render.teams import render_teams
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import T, assert_valid
from tests.unit.render.teams_helpers import assert_valid_card

REPO = Path(__file__).resolve().parents[3]
REGISTERED = [k for k in Kind if k is not Kind.OTHER]


def test_every_kind_has_exactly_its_own_spec() -> None:
    assert list(KINDS) == list(Kind)
    for kind, spec in KINDS.items():
        assert spec.kind is kind and spec_for(kind) is spec
        assert isinstance(spec.severity, Severity)


@pytest.mark.parametrize("kind", REGISTERED)
def test_registered_kind_has_a_schema_whose_fields_include_the_salient_ones(kind: Kind) -> None:
    spec = KINDS[kind]
    assert spec.schema is not None and spec.adapter is not None
    assert spec.salient, "an empty salient list would give every occurrence at one time the same key"
    assert set(spec.salient) <= spec.field_names
    assert spec.adapter.validate_python({}) == {}


def test_other_accepts_anything_and_tells_occurrences_apart_by_all_fields() -> None:
    spec = KINDS[Kind.OTHER]
    assert (spec.schema, spec.adapter, spec.salient) == (None, None, None)


# the kinds Marketo sends notification e-mails for (#12); the others come only from the data stream or webhooks
EMAILED = {Kind.CAMPAIGN_FAILURE, Kind.CRM_SYNC, Kind.ENGAGEMENT, Kind.FACEBOOK, Kind.LINKEDIN}
EMAILED |= {Kind.TRIGGER_CLEANUP, Kind.WEB_SERVICES}


@pytest.mark.parametrize("kind", list(Kind))
def test_the_e_mailed_kinds_have_email_rules(kind: Kind) -> None:
    spec = KINDS[kind]
    assert bool(spec.email_rules) == (kind in EMAILED)
    assert all(isinstance(rule, EmailRule) for rule in spec.email_rules)


def test_every_sample_belongs_to_exactly_one_kind_and_every_kind_has_one() -> None:
    claimed = [name for spec in KINDS.values() for name in spec.samples]
    assert sorted(claimed) == sorted(load_samples()) and len(set(claimed)) == len(claimed)
    assert all(spec.samples for spec in KINDS.values())


@pytest.mark.parametrize("kind", list(Kind))
def test_each_sample_parses_as_its_kind_and_renders_to_slack_and_teams(kind: Kind) -> None:
    spec = KINDS[kind]
    samples = load_samples()
    for name in spec.samples:
        n = parse_event(samples[name], now=T)
        assert n.kind is kind, name
        title = describe(n).title
        assert title and (kind is Kind.OTHER) == title.startswith("Marketo notification:"), title
        assert_valid(render_slack(n))
        assert_valid_card(render_teams(n))
        line = what_to_do(n)
        assert line and "\n" not in line and line == spec.advice(n.fields)


@pytest.mark.parametrize("kind", list(Kind))
def test_advice_and_description_without_any_field(kind: Kind) -> None:
    n = parse_event({"kind": kind.value}, now=T)
    assert n.severity is KINDS[kind].default_severity({})
    assert what_to_do(n) and describe(n).title


def _kinds_table(text: str, header: str) -> set[str]:
    """The kinds named in the first column of the markdown table under `header`."""
    table = text[text.index(header) :].split("\n\n", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))


def test_the_readme_and_the_reference_list_every_registered_kind() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    reference = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    assert _kinds_table(readme, "| kind | fields the message uses |") == {k.value for k in REGISTERED}
    assert _kinds_table(reference, "| kind | default severity | fields |") == {k.value for k in Kind}


def test_the_reference_states_each_default_severity() -> None:
    reference = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    for kind, spec in KINDS.items():
        assert re.search(rf"^\| `{kind.value}` \| `{spec.severity.value}`", reference, re.M), kind


def test_every_kind_can_be_muted_and_listed() -> None:
    assert set(MUTABLE_KINDS) == {k.value for k in Kind} | {"all"}

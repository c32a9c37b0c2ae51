"""An unknown kind's fields: a value (or the list of fields left out) longer than it shows is cut with "…"."""

from __future__ import annotations

from notifbot.kinds import describe
from tests.unit.render.helpers import note


def test_a_long_value_is_cut_visibly() -> None:
    facts = dict(describe(note("com.example.unknown", {"detail": "word " * 1_000})).facts)
    assert len(facts["Detail"]) == 1_000 and facts["Detail"].endswith("…")


def test_a_long_list_of_left_out_fields_is_cut_visibly() -> None:
    fields = {f"field_with_a_long_name_{i:03}": i for i in range(60)}
    more = dict(describe(note("com.example.unknown", fields)).facts)["More fields"]
    assert more.startswith("51 more: field_with_a_long_name_009, ") and more.endswith("…")

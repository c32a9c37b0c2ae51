"""`parse`: every command form, durations, kinds, and bad input turned into help with an error line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifbot.commands.parse import Command, parse, parse_duration
from notifbot.scopes import scope_text


def test_empty_and_help_forms() -> None:
    for text in ("", "   ", "help", "HELP", "?", "--help", "help mute"):
        assert parse(text) == Command("help"), text


def test_quota_and_share_flag_case_insensitive() -> None:
    assert parse("quota") == Command("quota")
    assert parse("  QUOTA   --SHARE ") == Command("quota", share=True)
    assert parse("quota --loud").error == "unknown option '--loud' for quota"


def test_stale_triggers_days() -> None:
    assert parse("stale-triggers") == Command("stale-triggers", number=90)
    assert parse("Stale-Triggers 30 --share") == Command("stale-triggers", number=30, share=True)
    assert parse("stale-triggers 45d").number == 45
    assert parse("stale 200").number == 200
    for bad in ("stale-triggers soon", "stale-triggers 0", "stale-triggers 99999", "stale-triggers 3 4"):
        cmd = parse(bad)
        assert cmd.name == "help" and "stale-triggers takes a number of days" in (cmd.error or ""), bad


def test_recent_kind_and_count_in_any_order() -> None:
    assert parse("recent") == Command("recent", number=10)
    assert parse("recent CRM_SYNC 20") == Command("recent", kind="crm_sync", number=20)
    assert parse("recent 5 audit") == Command("recent", kind="audit", number=5)
    assert parse("recent all 3") == Command("recent", number=3)
    assert parse("recent 500").number == 50 and parse("recent 0").number == 1
    assert "unknown kind 'nonsense'" in (parse("recent nonsense").error or "")
    assert "usage: recent" in (parse("recent 1 2").error or "")
    assert "usage: recent" in (parse("recent audit crm_sync").error or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("90min", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("2H", timedelta(hours=2)),
        ("3days", timedelta(days=3)),
        ("1d12h", timedelta(hours=36)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "0m", "1x", "h", "1.5h", "-1h", "1h-30m", "soon", "٣h3"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_mute_with_duration_and_reason() -> None:
    cmd = parse('mute CRM_SYNC 1h30m --reason "Sync user Rotation"')
    assert cmd == Command(
        "mute", kind="crm_sync", duration=timedelta(minutes=90), reason="Sync user Rotation"
    )
    assert parse("mute all 2h") == Command("mute", kind="all", duration=timedelta(hours=2))
    # a duration written in two words: both parts count; the reason only after --reason (curly quotes too)
    assert parse("mute audit 1h 30m --reason “noisy sender”").duration == timedelta(minutes=90)
    assert parse("mute audit 1h 30m --reason “noisy sender”").reason == "noisy sender"
    assert parse("mute audit 1h --reason noisy again").reason == "noisy again"
    assert parse("mute audit 30d").duration == timedelta(days=30)


def test_scoped_mutes_take_route_style_matchers() -> None:
    cmd = parse('mute kind=crm_sync instance=123-ABC-456 campaign_name="Q4 *" 4h --reason "CRM outage"')
    assert cmd == Command(
        "mute",
        kind="crm_sync",
        duration=timedelta(hours=4),
        reason="CRM outage",
        matchers=(("instance", "123-ABC-456"), ("campaign_name", "Q4 *")),
    )
    assert parse("mute instance=123-ABC-456 1h").kind == "all"  # every kind, that instance only
    assert parse("mute campaign_failure team=emea 1h").matchers == (("team", "emea"),)


def test_words_that_are_neither_are_an_error_never_the_reason() -> None:
    for text in ("mute crm_sync 2h sync user rotation", "mute kind=crm_sync 1h oops"):
        error = parse(text).error or ""
        assert "is neither key=value, a duration nor --reason" in error and "usage: mute" in error
    assert "quote is not closed" in (parse('mute crm_sync 1h --reason "open').error or "")
    assert "unknown kind 'nope'" in (parse("mute kind=nope 1h").error or "")
    assert "say what to mute" in (parse("mute 1h").error or "")
    assert "--reason needs the reason" in (parse("mute audit 1h --reason").error or "")


def test_mute_errors_are_clear() -> None:
    assert parse("mute crm_sync 31d").error == "a mute lasts at most 30 days"
    assert parse("mute crm_sync 4w 3d").error == "a mute lasts at most 30 days"
    assert parse("mute crm_sync soon").error == (
        "'soon' is not a duration; use e.g. 30m, 2h, 1d, 1w or 1h30m"
    )
    assert "add a unit" in (parse("mute crm_sync 30").error or "")
    assert "unknown kind 'nonsense'" in (parse("mute nonsense 1h").error or "")
    assert "usage: mute" in (parse("mute crm_sync").error or "")
    assert "usage: mute" in (parse("mute").error or "")


def test_unmute() -> None:
    assert parse("unmute CRM_SYNC") == Command("unmute", kind="crm_sync")
    # an unknown kind muted from its alert's button can be unmuted by the name its sender used
    assert parse("unmute program_approval") == Command("unmute", kind="program_approval")
    assert "usage: unmute" in (parse("unmute").error or "")
    assert "usage: unmute" in (parse("unmute a b").error or "")
    assert "unknown kind" in (parse("unmute <!channel>").error or "")


def test_simple_commands() -> None:
    for name in ("mutes", "routes", "status"):
        assert parse(name.upper()) == Command(name)
    assert parse("status --share").share


def test_unknown_input_becomes_help_with_error() -> None:
    assert parse("frobnicate now") == Command("help", error="unknown command 'frobnicate'")
    long = parse("x" * 500)
    assert long.name == "help" and len(long.error or "") < 80


@pytest.mark.parametrize(
    "text", ["\x00", "mute \u00a0 crm_sync 1h", "recent ²", "🙂 🙂", "mute all 999999999w"]
)
def test_never_raises(text: str) -> None:
    assert isinstance(parse(text), Command)


def test_a_quoted_value_keeps_its_quotes_backslashes_and_spaces() -> None:
    assert parse(r'mute campaign_failure error="a \"b\" c" 1h').matchers == (("error", 'a "b" c'),)
    assert parse('mute campaign_failure error="a  b" 1h').matchers == (("error", "a  b"),)
    assert parse(r'mute campaign_failure error="C:\temp" 1h').matchers == (("error", "C:\\temp"),)
    assert parse(r"mute campaign_failure error='say \"hi\"' 1h").matchers == (("error", r"say \"hi\""),)
    assert parse('mute campaign_failure error="" 1h').matchers == (("error", ""),)
    assert (
        parse("mute audit 1h --reason we don't know").reason == "we don't know"
    )  # an apostrophe, not a quote
    assert "quote is not closed" in (parse('recent "crm_sync').error or "")


def test_field_and_label_keys_keep_their_case_envelope_keys_do_not() -> None:
    cmd = parse("mute Kind=crm_sync INSTANCE=123-ABC-456 campaignName=Q4 1h")
    assert (cmd.kind, cmd.matchers) == ("crm_sync", (("instance", "123-ABC-456"), ("campaignName", "Q4")))


def test_unmute_takes_the_scope_a_mute_was_given() -> None:
    typed = 'unmute kind=campaign_failure instance=123-ABC-456 campaign_name="Q4 Webinar Invites" error="a \\"b\\""'
    assert parse(typed) == Command(
        "unmute",
        kind="campaign_failure",
        matchers=(("instance", "123-ABC-456"), ("campaign_name", "Q4 Webinar Invites"), ("error", 'a "b"')),
    )
    assert parse("unmute instance=123-ABC-456") == Command(
        "unmute", kind="all", matchers=(("instance", "123-ABC-456"),)
    )
    assert parse("unmute crm_sync team=emea") == Command(
        "unmute", kind="crm_sync", matchers=(("team", "emea"),)
    )
    assert parse('unmute kind="Program Approval!"') == Command("unmute", kind="program approval!")
    for bad in ("unmute crm_sync audit", "unmute kind=a kind=b", "unmute kind=", "unmute team=emea crm_sync"):
        assert "usage: unmute" in (parse(bad).error or ""), bad


_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,20}", fullmatch=True).filter(lambda k: k.lower() != "kind")
_KINDS = st.one_of(st.sampled_from(["all", "crm_sync", "campaign_failure", "crm*"]), st.text(min_size=1))


@given(_KINDS, st.lists(st.tuples(_KEYS, st.text()), max_size=4))
def test_the_suggested_undo_reads_back_as_the_same_scope(kind: str, pairs: list[tuple[str, str]]) -> None:
    """Whatever a mute's scope (typed or from a group's button), `unmute` + its scope text is that scope."""
    kind = kind.lower()
    matchers = tuple((k.lower() if k.lower() in ("severity", "instance") else k, v) for k, v in pairs)
    undo = parse("unmute " + scope_text(kind, matchers))
    assert (undo.name, undo.kind, undo.matchers) == ("unmute", kind, matchers)

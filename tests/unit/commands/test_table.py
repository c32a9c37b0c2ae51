"""The command table drives everything: every declared command parses, has help, is dispatched, and the admin
filter refuses non-admins in the words of the transport they asked on (Slack: `slack.admins`, Teams: `teams.admins`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import pytest

from notifbot.commands.acks import AckReply
from notifbot.commands.args import AlertRef, Command
from notifbot.commands.core import Refusal, handle, invoke
from notifbot.commands.model import Invocation
from notifbot.commands.muting import Muted
from notifbot.commands.parse import parse, parse_alert_reply
from notifbot.commands.table import BY_NAME, COMMANDS, ON_ALERT, TYPED, CommandSpec
from notifbot.replies import Reply
from notifbot.store.mutes import active_mutes
from tests.unit.commands.conftest import Harness

Transport = Literal["slack", "teams"]
# What follows the command word in a working example; the table may not grow without one here.
EXAMPLES = {
    "help": "",
    "quota": "",
    "stale-triggers": "30",
    "recent": "crm_sync 5",
    "mute": 'crm_sync 2h --reason "user rotation"',
    "unmute": "crm_sync",
    "mutes": "",
    "routes": "",
    "status": "",
    "acknowledge": "",
}
TYPED_SPECS = [s for s in COMMANDS if not s.on_alert]
ADMIN_SPECS = [s for s in COMMANDS if s.admin]
ALERT = AlertRef("C1", "1700000000.000100")


def ids(spec: CommandSpec) -> str:
    return spec.name


def command_for(spec: CommandSpec) -> Command:
    """The example of `spec` as the core receives it: parsed from text, or (alert commands) built on an alert."""
    if spec.on_alert:
        cmd = parse_alert_reply(spec.name, ALERT)
        assert cmd is not None
        return cmd
    return parse(f"{spec.name} {EXAMPLES[spec.name]}")


def test_every_command_has_an_example_and_no_word_is_declared_twice() -> None:
    assert set(EXAMPLES) == set(BY_NAME)
    words = [w for s in COMMANDS for w in s.words]
    assert len(words) == len(set(words)), "a name or alias is declared twice"
    assert set(TYPED) | set(ON_ALERT) == set(words) and not set(TYPED) & set(ON_ALERT)


@pytest.mark.parametrize("spec", TYPED_SPECS, ids=ids)
def test_every_typed_command_parses_by_name_and_alias(spec: CommandSpec) -> None:
    for word in spec.words:
        for spelled in (word, word.upper()):
            cmd = parse(f"{spelled} {EXAMPLES[spec.name]}")
            assert cmd.name == spec.name and cmd.error is None, (spelled, cmd)
    assert parse_alert_reply(spec.name, ALERT) is None


@pytest.mark.parametrize("spec", TYPED_SPECS, ids=ids)
def test_share_is_taken_exactly_by_shareable_commands(spec: CommandSpec) -> None:
    cmd = parse(f"{spec.name} {EXAMPLES[spec.name]} --share --bogus")
    if spec.shareable:
        assert cmd.error == f"unknown option '--bogus' for {spec.name}"
        assert parse(f"{spec.name} {EXAMPLES[spec.name]} --share").share
    else:
        assert not cmd.share


def test_alert_commands_are_not_typed_and_answer_only_on_an_alert() -> None:
    for spec in COMMANDS:
        if spec.on_alert:
            for word in spec.words:
                assert parse(word).error == f"unknown command '{word}'"
                assert parse_alert_reply(f"  {word.upper()} ", ALERT) == Command(spec.name, alert=ALERT)
                assert parse_alert_reply(f"{word} now", ALERT) is None


@pytest.mark.parametrize("transport", ["slack", "teams"])
async def test_help_lists_every_typed_command_once_with_its_help(bot: Harness, transport: Transport) -> None:
    reply = await handle(Invocation("help", "U0ADMIN", transport=transport), bot.ctx)
    prefix = "/marketo" if transport == "slack" else "@notifbot"
    lines = [(i.text, i.detail) for i in reply.sections[0].items]
    assert lines == [
        (
            " ".join(filter(None, (prefix, s.name, s.usage))),
            f"admins: {s.help}" if s.admin else s.help,
        )
        for s in TYPED_SPECS
    ]
    assert all(s.help for s in COMMANDS)


async def test_the_help_footer_names_the_admin_setting_of_the_transport(bot: Harness) -> None:
    slack = await handle(Invocation("help", "U1", transport="slack"), bot.ctx)
    teams = await handle(Invocation("help", "U1", transport="teams"), bot.ctx)
    assert slack.footer == (
        "Read-only commands are open to everyone; mute and unmute need a notifbot admin (`slack.admins`)."
    )
    assert teams.footer == (
        "Read-only commands are open to everyone; mute and unmute need a notifbot admin (`teams.admins`)."
    )


async def _acknowledgeable(bot: Harness) -> None:
    """A posted alert at ALERT for `acknowledge` to find."""
    event = await bot.notify("campaign_failure", {"campaign_name": "Q4"}, "ack-1")
    await bot.sql(
        "UPDATE outbox SET target = ?, provider_message_id = ? WHERE event_id = ?",
        (ALERT.target, ALERT.message, event),
    )


@pytest.mark.parametrize("spec", COMMANDS, ids=ids)
async def test_every_command_is_reached_by_dispatch(bot: Harness, spec: CommandSpec) -> None:
    await _acknowledgeable(bot)
    reply = await invoke(Invocation(spec.name, "U0ADMIN", "ana"), command_for(spec), bot.ctx)
    assert reply.ok and not isinstance(reply, Refusal)
    assert (reply.title == "/marketo — Marketo notifications") == (spec.name == "help")
    if not spec.on_alert:  # typed text takes the same path
        typed = await bot.ask(f"{spec.name} {EXAMPLES[spec.name]}")
        assert typed.ok and typed.title.split()[0] == reply.title.split()[0]


@pytest.mark.parametrize("transport", ["slack", "teams"])
@pytest.mark.parametrize("spec", ADMIN_SPECS, ids=ids)
async def test_admin_commands_refuse_non_admins_in_the_words_of_their_transport(
    bot: Harness, spec: CommandSpec, transport: Transport
) -> None:
    bot.ctx.settings.slack.admins = ["U0ADMIN", "S0OPS"]
    bot.ctx.settings.teams.admins = ["aaaaaaaa-0000-0000-0000-000000000001"]
    await _acknowledgeable(bot)
    refused = await invoke(Invocation(spec.name, "U0OTHER", transport=transport), command_for(spec), bot.ctx)
    assert isinstance(refused, Refusal) and not refused.ok and refused.title == "Not allowed"
    setting, admins = (
        ("slack.admins", "U0ADMIN, S0OPS")
        if transport == "slack"
        else ("teams.admins", "aaaaaaaa-0000-0000-0000-000000000001")
    )
    other = "teams.admins" if transport == "slack" else "slack.admins"
    assert refused.sections[0].text == (
        f"Only notifbot admins (`{setting}`) can {spec.admin}; ask an admin. Admins: {admins}. "
        "Read-only commands are open to everyone."
    )
    assert other not in str(refused)
    # nothing happened: no mute, no change signalled, the alert still unacknowledged
    assert await bot.db.call(active_mutes, bot.now) == [] and bot.mute_changes == 0
    done = await invoke(Invocation(spec.name, "U0ADMIN", transport=transport), command_for(spec), bot.ctx)
    assert not isinstance(done, Refusal)
    if isinstance(done, AckReply):
        assert done.result is not None and done.result.first and done.result.acked_by == "U0ADMIN"


@pytest.mark.parametrize("spec", [s for s in COMMANDS if not s.admin], ids=ids)
async def test_open_commands_answer_everyone(bot: Harness, spec: CommandSpec) -> None:
    bot.ctx.settings.slack.admins = ["U0ADMIN"]
    reply = await invoke(Invocation(spec.name, "U0OTHER"), command_for(spec), bot.ctx)
    assert reply.ok and not isinstance(reply, Refusal)


async def test_a_typed_teams_mute_by_a_non_admin_names_teams_admins(bot: Harness) -> None:
    """The defect: Teams users were told `slack.admins` governs them (and shown the Slack admins)."""
    bot.ctx.settings.slack.admins = ["U0ADMIN"]
    bot.ctx.settings.teams.admins = ["aaaaaaaa-0000-0000-0000-000000000001"]
    reply = await handle(Invocation("mute crm_sync 1h", "bbbb", "Bob", transport="teams"), bot.ctx)
    text = reply.sections[0].text or ""
    assert "(`teams.admins`)" in text and "aaaaaaaa-0000-0000-0000-000000000001" in text
    assert "slack.admins" not in text and "U0ADMIN" not in text


@pytest.mark.parametrize("user", ["U0ADMIN", "U0OTHER"])
async def test_the_mute_button_command_is_decided_and_stored_like_the_typed_mute(
    bot: Harness, user: str
) -> None:
    """What a Mute button sends the core (kind, 24 h, reason) meets the same filter and store call as `mute`."""
    typed = await bot.ask('mute engagement 24h --reason "muted from an alert in Slack"', user=user, name=None)
    typed_mutes = await bot.db.call(active_mutes, bot.now)
    await bot.sql("DELETE FROM mutes")
    button = Command(
        "mute", kind="engagement", duration=timedelta(hours=24), reason="muted from an alert in Slack"
    )
    pressed = await invoke(Invocation("", user), button, bot.ctx)
    pressed_mutes = await bot.db.call(active_mutes, bot.now)
    assert isinstance(typed, Refusal) == isinstance(pressed, Refusal) == (user != "U0ADMIN")
    assert [(m.kind, m.until, m.author, m.reason) for m in typed_mutes] == [
        (m.kind, m.until, m.author, m.reason) for m in pressed_mutes
    ]
    if user == "U0ADMIN":
        assert isinstance(pressed, Muted) and pressed.mute == pressed_mutes[0]


def _titles(replies: list[Reply]) -> list[str]:
    return [r.title for r in replies]


async def test_acknowledge_answers_first_then_who_was_first(bot: Harness) -> None:
    await _acknowledgeable(bot)
    cmd = Command("acknowledge", alert=ALERT)
    first = await invoke(Invocation("ack", "U0ADMIN", "Ana"), cmd, bot.ctx)
    again = await invoke(Invocation("ack", "U0ADMIN", "Bo"), cmd, bot.ctx)
    unknown = await invoke(
        Invocation("ack", "U0ADMIN"), Command("acknowledge", alert=AlertRef("C1", "9")), bot.ctx
    )
    assert _titles([first, again, unknown]) == [
        "Acknowledged",
        "Already acknowledged",
        "Nothing to acknowledge",
    ]
    assert "Ana acknowledged this alert" in str(first) and "By Ana ·" in str(again) and not unknown.ok

"""`acknowledge`: records who acknowledged a posted alert (from its Acknowledge button or an `ack` in its thread)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from notifbot.commands.args import Command
from notifbot.commands.model import CommandContext, Invocation
from notifbot.replies import Reply, Section
from notifbot.store.acks import AckResult, acknowledge
from notifbot.store.conn import Conn
from notifbot.store.notify import notify_group


@dataclass(frozen=True)
class AckReply(Reply):
    """The answer to `acknowledge`, carrying the stored acknowledgement (None: not a notifbot alert)."""

    result: AckResult | None = None


def _acknowledge(
    conn: Conn, channel: str, ts: str, user: str, now: float, via: str | None
) -> AckResult | None:
    """Records the ack; a group's re-armed row is announced to the replica draining its channel."""
    result = acknowledge(conn, channel, ts, user, now, via)
    if result is not None and result.first and result.group_id is not None:
        notify_group(conn, result.group_id)  # committed already: announced at once, in its own statement
    return result


async def acknowledge_alert(inv: Invocation, cmd: Command, ctx: CommandContext) -> Reply:
    """Acknowledges `cmd.alert` once; a later ack (or a retry under another `via`) is told who was first.

    The acknowledger is recorded by name where the transport gives one (Teams), else by user id (Slack).
    """
    assert cmd.alert is not None
    t = inv.texts
    who = inv.user_name or inv.user_id
    alert = cmd.alert
    now = ctx.clock().timestamp()
    result = await ctx.db.call(_acknowledge, alert.target, alert.message, who, now, alert.via)
    if result is None:
        return AckReply(
            t.pgettext("heading", "Nothing to acknowledge"),
            (Section(text=t._("This thread is not a notifbot alert.")),),
            ok=False,
        )
    when = t.when(datetime.fromtimestamp(result.acked_at, UTC))
    if not result.first:
        return AckReply(
            t.pgettext("heading", "Already acknowledged"),
            (Section(text=t._("By {user} · {when}.").format(user=result.acked_by, when=when)),),
            result=result,
        )
    return AckReply(
        t.pgettext("heading", "Acknowledged"),
        (
            Section(
                text=t._("{user} acknowledged this alert · {when}.").format(user=result.acked_by, when=when)
            ),
        ),
        result=result,
    )

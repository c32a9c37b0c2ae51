"""The Teams command worker: reads each queued notification's message, answers `@notifbot …` in its thread.

The answer comes from the same command core as Slack (`commands.core`), rendered as an Adaptive Card.
`ack` replied in an alert's thread is the core's `acknowledge` command on that alert; the alert card is then edited
in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from notifbot.commands.acks import AckReply
from notifbot.commands.args import AlertRef, Command
from notifbot.commands.core import Refusal, handle, invoke, texts_of
from notifbot.commands.model import CommandContext, Invocation
from notifbot.commands.parse import parse_alert_reply
from notifbot.delivery.policy import backoff
from notifbot.destinations.teams import TeamsGraphDelivery
from notifbot.errors import DeliveryError, PermanentDeliveryError, RateLimitedError
from notifbot.model import Acked
from notifbot.render.teams_reply import render_teams_reply
from notifbot.replies import Reply, Section
from notifbot.store import teams as store
from notifbot.store.runner import Database
from notifbot.tasks import stop_task
from notifbot.teams.graph import GraphApi, GraphMessage

log = logging.getLogger("notifbot.teams")
LEASE = "teams:inbox"  # the poller lease (replicas.py) of the command worker

RESOURCE = re.compile(
    r"^/?teams\('([^']+)'\)/channels\('([^']+)'\)/messages\('([^']+)'\)(?:/replies\('([^']+)'\))?$"
)
_MENTION = re.compile(r"<at\b[^>]*>(.*?)</at>", re.I | re.S)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.I)
_TAG = re.compile(r"<[^>]+>")
_NAMESPACE = uuid.UUID("0b6f1d7e-2c1a-4e0e-b3f3-7265706c7931")


def plain_text(message: GraphMessage) -> str:
    """The message as one line of text; mentions become `@Name`."""
    text = message.text
    if message.content_type.lower() == "html":
        text = _MENTION.sub(lambda m: "@" + _TAG.sub("", m.group(1)), text)
        text = html.unescape(_TAG.sub(" ", _BREAK.sub(" ", text)))
    return " ".join(text.split())


def command_text(text: str, names: Sequence[str]) -> str | None:
    """What follows `@notifbot` (or `notifbot`) at the start of `text`; None when the bot is not addressed."""
    lowered = text.lower()
    for name in sorted({n.strip().lower() for n in names if n.strip()}, key=len, reverse=True):
        for prefix in (f"@{name}", name):
            if lowered.startswith(prefix) and (len(text) == len(prefix) or not text[len(prefix)].isalnum()):
                return text[len(prefix) :].lstrip(" ,:")
    return None


@dataclass(frozen=True)
class _Answer:
    """A composed reply and the thread it goes to."""

    team: str
    channel: str
    root: str
    reply: Reply


class TeamsInbox:
    """Drains the teams_inbox table: one message at a time, retried with backoff, 429s waited out."""

    def __init__(
        self,
        api: GraphApi,
        db: Database,
        ctx: CommandContext,
        *,
        bot_name: str,
        admins: Sequence[str] = (),
        alerts: TeamsGraphDelivery | None = None,
        poll_seconds: float = 1.0,
        max_attempts: int = 5,
        clock: Callable[[], float] = time.time,
        gate: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.api = api
        self._db = db
        self._gate = (
            gate  # several replicas: only the one holding LEASE answers, so no command is answered twice
        )
        self._admins = frozenset(admins)
        self.ctx = replace(ctx, is_admin=self._is_admin)
        self._names = [bot_name]
        self._alerts = alerts
        self._poll = poll_seconds
        self._stopping = False
        self._max_attempts = max_attempts
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.bot_id: str | None = None

    async def _is_admin(self, user_id: str) -> bool:
        return not self._admins or user_id in self._admins

    async def enqueue(self, items: list[tuple[str, str]]) -> int:
        """Commits received notifications and wakes the worker (called by the HTTP endpoint)."""
        added: int = await self._db.call(store.enqueue, items, self._clock())
        if added:
            self._wake.set()
        return added

    async def _identify(self) -> None:
        if self.bot_id is None:
            self.bot_id, display = await self.api.me()
            self._names = [n for n in (self._names[0], display) if n]

    async def _on_alert(self, team: str, channel: str, root: str, msg: GraphMessage, cmd: Command) -> Reply:
        """Runs an alert command (`ack`) and, when it acknowledged, edits the alert's card; a retry of the same
        `ack` message (after a Graph 429 or error) redoes the edit and answers as the first ack did."""
        user = msg.user_name or msg.user_id or "someone"
        inv = Invocation(cmd.name, msg.user_id or "", user, channel, "teams")
        reply = await invoke(inv, cmd, self.ctx)
        if isinstance(reply, Refusal):
            t = texts_of(inv, self.ctx)  # Teams gives no user locale: the channel's destination, else global
            return Reply(
                t.pgettext("heading", "Not allowed"),
                (Section(text=t._("Only notifbot admins (teams.admins) can acknowledge alerts.")),),
                ok=False,
            )
        result = reply.result if isinstance(reply, AckReply) else None
        if result is not None and result.first and self._alerts is not None and result.group_id is None:
            target = f"{team}/{channel}"
            outbox_id = await self._db.read(store.outbox_id_for, target, root)
            if outbox_id is not None:
                when = datetime.fromtimestamp(result.acked_at, UTC)
                await self._alerts.update(
                    target, root, outbox_id, result.notification, Acked(result.acked_by, when)
                )
        return reply

    async def _compose(self, row: store.InboxRow) -> _Answer | None:
        """The reply a queued message gets (running its command once), or None when it is not for us."""
        match = RESOURCE.match(row.resource)
        if match is None:
            return None
        team, channel, root, reply_id = match.groups()
        if await self._db.read(store.is_own_post, f"{team}/{channel}", root, reply_id):
            return None  # known without asking Graph: saves a read per alert and per answer
        await self._identify()
        msg = await self.api.get_message(team, channel, root, reply_id)
        if msg.user_id is None or msg.user_id == self.bot_id:
            return None  # our own alert or answer (Graph notifies those too), or an app's post
        text = command_text(plain_text(msg), self._names)
        if text is None:
            return None
        alert = AlertRef(f"{team}/{channel}", root, f"teams:{team}/{channel}/{msg.id}")
        on_alert = parse_alert_reply(text, alert) if reply_id else None
        if on_alert is not None:
            reply = await self._on_alert(team, channel, root, msg, on_alert)
        else:
            inv = Invocation(text, msg.user_id or "", msg.user_name, channel, transport="teams")
            reply = await handle(inv, self.ctx)
        return _Answer(team, channel, root, reply)

    async def _post(self, row: store.InboxRow, answer: _Answer) -> str:
        """Posts the reply in the thread, unless an earlier try already did; returns its message id."""
        marker = uuid.uuid5(_NAMESPACE, row.resource).hex
        if row.attempts:  # an earlier try may have posted although Graph answered with an error
            earlier = await self.api.find_by_attachment(
                answer.team, answer.channel, marker, reply_to=answer.root
            )
            if earlier is not None:
                return earlier
        # the thread is read by the channel: its destination's language, like the command's answer itself
        texts = texts_of(
            Invocation("", "", channel_id=answer.channel, transport="teams"), self.ctx, shared=True
        )
        card = render_teams_reply(answer.reply, self.ctx.links, texts)
        return await self.api.post_card(answer.team, answer.channel, card, marker, reply_to=answer.root)

    async def _process(self, row: store.InboxRow) -> None:
        # A 429 is waited out here. Once the reply is composed only its post is retried, so a command runs once;
        # a 429 while composing (e.g. on an ack's card edit) composes again, and the same `ack` is the same ack.
        answer: _Answer | None = None
        composed = False
        for _ in range(10):
            try:
                if not composed:
                    answer, composed = await self._compose(row), True
                reply_id = await self._post(row, answer) if answer is not None else None
            except RateLimitedError as exc:
                await asyncio.sleep(min(exc.retry_after or 1.0, 60.0))
                continue
            except DeliveryError as exc:
                attempts = row.attempts + 1
                if isinstance(exc, PermanentDeliveryError) or attempts >= self._max_attempts:
                    await self._db.call(store.finish, row.id, "dead", None, str(exc))
                    log.error("teams command not answered", extra={"inbox_id": row.id, "error": str(exc)})
                else:
                    delay = backoff(attempts, base=2.0, cap=120.0)
                    await self._db.call(store.retry, row.id, str(exc), self._clock() + delay)
                return
            status = "answered" if answer is not None else "ignored"
            await self._db.call(store.finish, row.id, status, reply_id)
            if status == "answered":
                log.info("teams command answered", extra={"inbox_id": row.id, "reply_id": reply_id})
            return

    async def run_once(self) -> int:
        """Processes every due row once (on the replica holding the inbox lease); returns how many."""
        if self._gate is not None and not await self._gate(LEASE):
            return 0
        rows = await self._db.call(store.due, self._clock())
        for row in rows:
            try:
                await self._process(row)
            except Exception:
                log.exception("teams command failed", extra={"inbox_id": row.id})
                await self._db.call(store.finish, row.id, "dead", None, "unexpected error; see the log")
        return len(rows)

    async def _run(self) -> None:
        # A flag, not only cancel(): on Python 3.11 wait_for() can swallow a cancel that races its timeout.
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("teams inbox poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    def start(self) -> None:
        """Runs the worker in the background."""
        self._task = asyncio.create_task(self._run(), name="teams-inbox")

    async def stop(self) -> None:
        """Stops the worker; unanswered rows stay queued for the next start."""
        self._stopping = True
        self._wake.set()
        await stop_task(self._task)

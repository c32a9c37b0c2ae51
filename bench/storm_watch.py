"""What a storm looked like in the fake Slack: when each item became visible, messages, API calls, 429s, counts."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.fakes.slack import FakeSlack

ITEM = re.compile(r"storm-(\d{5})")
POLL_S = 0.05


def item_name(i: int) -> str:
    """The campaign of storm item `i`: what a reader must be able to see in Slack (`storm-00042`)."""
    return f"storm-{i:05d}"


def visible_items(text: str, blocks: Any, attachments: Any) -> set[int]:
    """The storm items a message shows a reader (its text, blocks and attachments; not its hidden metadata)."""
    content = text + json.dumps(blocks) + json.dumps(attachments)
    return {int(m) for m in ITEM.findall(content)}


def shows_count(text: str, blocks: Any, attachments: Any, items: int) -> bool:
    """Whether a message naming `items` storm items also states that number (e.g. Alertmanager's `[FIRING:100]`)."""
    content = ITEM.sub("", text + json.dumps(blocks) + json.dumps(attachments))
    # a number standing alone: not part of a longer number, an id or a hash (`nb-…1000e…`)
    return any(re.search(rf"(?<![\w,.]){n}(?![\w,])", content) for n in {str(items), f"{items:,}"})


@dataclass
class Outcome:
    """One storm through one system, as the fake Slack saw it."""

    system: str
    how_sent: str
    size: int
    send_s: float = 0.0  # from the first request to the last answer
    messages: int = 0  # accepted posts in the channel itself (chat.postMessage or incoming webhook)
    thread_replies: int = 0  # accepted posts in a message's thread (they do not add to the channel's scroll)
    updates: int = 0  # accepted chat.update calls
    api_calls: dict[str, int] = field(default_factory=dict)  # every call received by method, refused ones too
    count_429: int = 0
    visible: int = 0  # distinct storm items shown in some message by the end of the watch
    all_visible_s: float | None = None  # first request → the last item shown; None when not all were
    counted_s: float | None = None  # first request → a channel message states the whole storm's count
    watched_s: float = 0.0
    largest_message_items: int = 0  # the most items one message shows
    count_shown: bool = False  # that message also states how many
    skipped: str = ""  # why this system did not run

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def watch(
    fake: FakeSlack,
    out: Outcome,
    *,
    t0: float,
    calls_before: int,
    max_wait: float,
    settle: float,
) -> Outcome:
    """Polls the fake until every item is visible (then `settle` s more for stragglers) or `max_wait` s after t0."""
    seen: dict[int, float] = {}
    posts_done = updates_done = 0
    done_at: float | None = None
    counted_at: float | None = None
    while True:
        posted, updates = fake.posted, fake.updates
        for m in posted[posts_done:]:
            for item in visible_items(m.text, m.blocks, m.attachments):
                seen.setdefault(item, m.arrived)
            if (
                counted_at is None
                and m.thread_ts is None
                and shows_count(m.text, m.blocks, m.attachments, out.size)
            ):
                counted_at = m.arrived
        for u in updates[updates_done:]:
            for item in visible_items(u.text, u.blocks, None):
                seen.setdefault(item, u.arrived)
            if counted_at is None and shows_count(u.text, u.blocks, None, out.size):
                counted_at = u.arrived
        posts_done, updates_done = len(posted), len(updates)
        now = time.time()
        if done_at is None and len(seen) >= out.size:
            done_at = now
        if (done_at is not None and now - done_at >= settle) or now - t0 >= max_wait:
            break
        time.sleep(POLL_S)
    out.watched_s = round(time.time() - t0, 2)
    out.visible = len(seen)
    if len(seen) >= out.size:
        out.all_visible_s = round(max(seen.values()) - t0, 2)
    out.messages = sum(1 for m in posted if m.thread_ts is None)
    out.thread_replies, out.updates = len(posted) - out.messages, len(updates)
    if counted_at is not None:
        out.counted_s = round(counted_at - t0, 2)
    out.api_calls = dict(Counter(method for method, _ in fake.calls[calls_before:]))
    out.count_429 = fake.count_429
    biggest = max(
        fake.messages, key=lambda m: len(visible_items(m.text, m.blocks, m.attachments)), default=None
    )
    if biggest is not None:
        items = len(visible_items(biggest.text, biggest.blocks, biggest.attachments))
        out.largest_message_items = items
        out.count_shown = items > 1 and shows_count(biggest.text, biggest.blocks, biggest.attachments, items)
    return out

"""Reading activity pages and exports: the newest activity per campaign, and which errors keep a paging token."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from notifbot.store.trigger_state import iso_utc

PAGE_SIZE = 300
STATUS_WAIT = 600.0  # between status checks of a running export
# errors after which the same paging token is still good (a transient failure, or our own budget)
RETRY_SAME_TOKEN = frozenset({"budget", "607", "606", "615", "502", "604", "608", "611", "713", "network"})


def newest_per_campaign(rows: Iterable[tuple[int, str]]) -> dict[int, str]:
    """{campaignId: newest activity time (ISO UTC)} from (campaignId, activityDate) pairs."""
    latest: dict[int, str] = {}
    for cid, when in rows:
        stamp = iso_utc(when)
        if stamp is not None and stamp > latest.get(cid, ""):
            latest[cid] = stamp
    return latest


def page_pairs(result: list[Any]) -> tuple[list[tuple[int, str]], str | None]:
    """(campaignId, activityDate) of a page's activities that name a campaign, and the page's newest date."""
    pairs: list[tuple[int, str]] = []
    newest: str | None = None
    for a in result:
        if not isinstance(a, dict):
            continue
        stamp = iso_utc(a.get("activityDate"))
        if stamp is None:
            continue
        newest = max(newest or stamp, stamp)
        cid = a.get("campaignId")
        if isinstance(cid, int) and not isinstance(cid, bool):
            pairs.append((cid, stamp))
    return pairs, newest

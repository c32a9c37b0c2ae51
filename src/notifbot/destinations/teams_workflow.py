"""The `teams_workflow` destination: posts the card to a Power Automate Workflows webhook; the URL never leaks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from notifbot.destinations.spec import NO_TEXTS, DestinationModel, DestinationSpec, SenderContext, TargetTexts
from notifbot.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from notifbot.links import DEFAULT_LINKS, LinkPolicy
from notifbot.net import https_or_loopback
from notifbot.render.card import CARD_CONTENT_TYPE
from notifbot.render.teams import render_teams
from notifbot.retry_after import retry_wait

if TYPE_CHECKING:  # httpx loads only when a workflow destination is configured
    import httpx

    from notifbot.groups import GroupView, ThreadItems
    from notifbot.i18n import Texts
    from notifbot.model import Notification
    from notifbot.store.outbox import OutboxRow

_SIG = re.compile(r"(?i)\b(sig|code)=[^&\s\"']+")
_URL = re.compile(r"https?://\S+")
_URL_SIG = re.compile(r"[?&]sig=([^&]+)")
_FIX = "check that the flow is on and that TEAMS_WORKFLOW_URL (destinations.{name}.url) is its current trigger URL"


class TeamsWorkflowDestination(DestinationModel):
    """`type: teams_workflow`: a Power Automate Workflows trigger URL (a secret: it carries its signature)."""

    type: Literal["teams_workflow"]
    url: str


def workflow_payload(card: dict[str, Any]) -> dict[str, Any]:
    """The body a Workflows 'When a Teams webhook request is received' trigger expects (card as an object)."""
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def scrub(text: str, secrets: list[str]) -> str:
    """Removes workflow URLs and signatures from a message."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[workflow URL]")
    return _URL.sub("[URL]", _SIG.sub(r"\1=***", text))


def classify(response: httpx.Response, name: str) -> DeliveryError | None:
    """None for an accepted post; else Transient (429, 5xx) or Permanent (the flow refused it)."""
    status = response.status_code
    if status < 300:
        return None
    if status == 429:
        wait = retry_wait(response.headers)
        return TransientDeliveryError(
            f"Teams workflow {name} is throttled (HTTP 429): retry after {wait:g} s", retry_after=wait
        )
    if status >= 500 or status == 408:
        return TransientDeliveryError(f"Teams workflow {name} answered HTTP {status}; will retry")
    if status in (401, 403, 404):
        return PermanentDeliveryError(
            f"Teams workflow {name} refused the post (HTTP {status}): " + _FIX.format(name=name)
        )
    if status == 413:
        return PermanentDeliveryError(
            f"Teams workflow {name}: the card is too large (HTTP 413): this is a notifbot rendering bug, please report it"
        )
    return PermanentDeliveryError(
        f"Teams workflow {name} rejected the card (HTTP {status}): {_FIX.format(name=name)}"
    )


class TeamsWorkflowDelivery:
    """Posts Adaptive Cards to Workflows webhooks; one httpx client, never follows redirects, never retries itself."""

    dest_type = "teams_workflow"

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        timeout: float = 10.0,
        links: LinkPolicy = DEFAULT_LINKS,
        texts: TargetTexts = NO_TEXTS,
    ) -> None:
        import httpx

        self._urls = dict(urls)
        self._links = links
        self._texts = texts
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"TeamsWorkflowDelivery(destinations={sorted(self._urls)!r})"

    async def post(self, name: str, card: dict[str, Any]) -> None:
        """Posts one card to the workflow of destination `name`; raises a DeliveryError without the URL."""
        import httpx

        url = self._urls.get(name)
        if url is None:
            raise PermanentDeliveryError(f"destination {name} has no workflow URL configured")
        try:
            response = await self._client.post(url, json=workflow_payload(card))
        except httpx.TimeoutException:
            raise TransientDeliveryError(
                f"Teams workflow {name} did not answer in time; will retry"
            ) from None
        except httpx.TransportError as exc:
            detail = scrub(f"{type(exc).__name__}: {exc}", [url])
            raise TransientDeliveryError(
                f"cannot reach Teams workflow {name} ({detail}); will retry"
            ) from None
        except httpx.HTTPError as exc:
            detail = scrub(f"{type(exc).__name__}: {exc}", [url])
            raise PermanentDeliveryError(f"cannot post to Teams workflow {name}: {detail}") from None
        error = classify(response, name)
        if error is not None:
            raise error

    def texts(self, target: str) -> Texts:
        """The language and time zone of the workflow `target` (the stand-in of its URL)."""
        return self._texts(target)

    async def send(self, row: OutboxRow, n: Notification) -> str | None:
        await self.post(
            row.destination,
            render_teams(n, links=self._links, texts=self.texts(row.target), templates=self._texts.templates),
        )
        return None  # Workflows answer 202 with no message id: there is nothing to update later

    can_edit = False  # a workflow cannot edit or reply: a group gets one summary post per interval

    async def post_group(self, row: OutboxRow, view: GroupView) -> str | None:
        """Posts the group's summary card (its count so far, time span and first items)."""
        texts = self.texts(row.target)
        card = render_teams(
            view.shown,
            links=self._links,
            group=view,
            acked=view.acked,
            texts=texts,
            templates=self._texts.templates,
        )
        await self.post(row.destination, card)
        return None

    async def edit_group(self, row: OutboxRow, message_id: str, view: GroupView) -> None:
        raise PermanentDeliveryError(
            "a Teams workflow cannot edit a message"
        )  # never asked: can_edit is False

    async def reply_group(self, row: OutboxRow, message_id: str, reply: ThreadItems) -> None:
        raise PermanentDeliveryError(
            "a Teams workflow cannot reply in a thread"
        )  # never asked: can_edit is False

    async def close(self) -> None:
        await self._client.aclose()


def _build(dests: Mapping[str, TeamsWorkflowDestination], ctx: SenderContext) -> TeamsWorkflowDelivery | None:
    if not dests:
        return None
    urls = {name: d.url for name, d in dests.items()}
    texts = ctx.target_texts(dests, _target)
    return TeamsWorkflowDelivery(urls, timeout=ctx.workflow_timeout, links=ctx.links, texts=texts)


def _target(dest: TeamsWorkflowDestination) -> str:
    """A stable stand-in for the URL, which is a secret."""
    return "workflow-" + hashlib.sha256(dest.url.encode()).hexdigest()[:16]


def _problems(name: str, dest: TeamsWorkflowDestination) -> list[str]:
    at = f"destinations.{name}"
    if not dest.url.lower().startswith("https://") and not https_or_loopback(dest.url):
        return [f"{at}.url: the Workflows trigger URL must be https (e.g. url: ${{TEAMS_WORKFLOW_URL}})"]
    if ".logic.azure.com" in dest.url.lower():
        return [
            f"{at}.url: *.logic.azure.com trigger URLs stopped working on 2025-11-30; copy the new URL "
            "from the flow's trigger in Power Automate"
        ]
    return []


def _secrets(dest: TeamsWorkflowDestination) -> list[str]:
    """The trigger URL and its `sig` signature."""
    if not dest.url:
        return []
    return [dest.url] + [m.group(1) for m in _URL_SIG.finditer(dest.url) if len(m.group(1)) >= 4]


SPEC = DestinationSpec(
    edits=False,
    type="teams_workflow",
    model=TeamsWorkflowDestination,
    target=_target,
    interval=lambda delivery: delivery.teams_workflow_interval_seconds,
    build=_build,
    describe=lambda dest, t: t._("Teams workflow webhook"),  # the URL is a secret
    problems=_problems,
    secrets=_secrets,
)

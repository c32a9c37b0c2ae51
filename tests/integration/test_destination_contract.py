"""One contract for every registered destination type: its real sender against its protocol-faithful fake.

Parametrized over `notifbot.destinations.SPECS`, so a new type is covered as soon as it is registered, and fails
here until it has a harness below. A 2xx is success; a 5xx, a timeout or a refused connection is transient; any
other refusal is permanent; a 429 is transient and carries its Retry-After (seconds or HTTP-date) as `retry_after`;
and the token, secret or signed URL never appears in the exception or in the logs.
"""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, ClassVar

import pytest

from notifbot.destinations import SPECS, DestinationSpec, SenderContext, target_of
from notifbot.destinations.console import ConsoleDestination
from notifbot.destinations.slack import SlackDestination
from notifbot.destinations.spec import DestinationModel
from notifbot.destinations.teams import TeamsDestination
from notifbot.destinations.teams_workflow import TeamsWorkflowDestination
from notifbot.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from notifbot.kinds import load_samples
from notifbot.sources.events import parse_event
from notifbot.store.outbox import OutboxRow
from tests.fakes.graph import Failure, FakeGraph
from tests.fakes.slack import FakeSlack
from tests.fakes.workflow import FakeWorkflow

TIMEOUT = 0.5  # the sender's timeout; a "timeout" scenario holds the answer four times as long
SLOW = TIMEOUT * 4
THROTTLE_SECONDS = 7
THROTTLE_DATE_SECONDS = 30
SCENARIOS = (
    "accepted",
    "server_error",
    "timeout",
    "refused",
    "rejected",
    "throttled_seconds",
    "throttled_date",
)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released), for the connection-refused case."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def http_date(seconds_from_now: float) -> str:
    """An IMF-fixdate `seconds_from_now` ahead, as a server writes it in Retry-After."""
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_from_now), usegmt=True)


class Harness:
    """One destination type's fake: starts it, configures the destination and context, injects each scenario."""

    scenarios: ClassVar[tuple[str, ...]] = SCENARIOS
    secrets: tuple[str, ...] = ()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def config(self, refused: bool) -> DestinationModel:
        """The destination's config, pointing at the fake (or at a closed port when `refused`)."""
        raise NotImplementedError

    def context(self, refused: bool) -> SenderContext:
        """The plain values the sender factory takes."""
        return SenderContext()

    def inject(self, scenario: str) -> None:
        """Makes the fake answer the next post as `scenario` says ("accepted", "refused": nothing to do)."""

    def delivered(self) -> int:
        """How many posts the fake accepted."""
        raise NotImplementedError


class SlackHarness(Harness):
    """The fake Slack Web API; Slack refuses with `{"ok": false, "error": …}` (HTTP 200), not with a 4xx."""

    TOKEN = "xoxb-1234567890-0987654321-ContractSecretToken"
    secrets = (TOKEN, "ContractSecretToken")

    def __enter__(self) -> Harness:
        self.fake = FakeSlack(token=self.TOKEN, min_interval=0.0).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.fake.stop()

    def config(self, refused: bool) -> DestinationModel:
        return SlackDestination(type="slack", channel="C0CONTRACT1")

    def context(self, refused: bool) -> SenderContext:
        url = f"http://127.0.0.1:{closed_port()}/api/" if refused else self.fake.api_url
        return SenderContext(slack_token=self.TOKEN, slack_api_url=url, slack_timeout=TIMEOUT)

    def inject(self, scenario: str) -> None:
        post = "chat.postMessage"
        if scenario == "server_error":
            self.fake.fail_next_calls(post, 1, status=503)
        elif scenario == "timeout":
            self.fake.set_latency(SLOW)
        elif scenario == "rejected":
            self.fake.fail_next_with_error(1, "channel_not_found")
        elif scenario == "throttled_seconds":
            self.fake.throttle_next(post, 1, retry_after=THROTTLE_SECONDS)
        elif scenario == "throttled_date":
            self.fake.throttle_next(post, 1, retry_after=http_date(THROTTLE_DATE_SECONDS))

    def delivered(self) -> int:
        return len(self.fake.messages)


class TeamsHarness(Harness):
    """The fake Microsoft Graph, with a static access token."""

    TOKEN = "graph-contract-secret-access-token"
    TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
    CHANNEL = "19:contract0123456789@thread.tacv2"
    secrets = (TOKEN,)

    def __enter__(self) -> Harness:
        self.fake = FakeGraph(token=self.TOKEN, min_interval=0.0).start()
        self.fake.channels.add((self.TEAM, self.CHANNEL))
        return self

    def __exit__(self, *exc: object) -> None:
        self.fake.stop()

    def config(self, refused: bool) -> DestinationModel:
        return TeamsDestination(type="teams", team_id=self.TEAM, channel_id=self.CHANNEL)

    def context(self, refused: bool) -> SenderContext:
        from notifbot.teams.auth import StaticTokenCredential
        from notifbot.teams.graph import GraphApi

        url = f"http://127.0.0.1:{closed_port()}/v1.0" if refused else self.fake.graph_url
        return SenderContext(graph=GraphApi(StaticTokenCredential(self.TOKEN), url, timeout=TIMEOUT))

    def inject(self, scenario: str) -> None:
        if scenario == "server_error":
            self.fake.fail_next.append(Failure(503))
        elif scenario == "timeout":
            self.fake.fail_next.append(Failure(201, delay=SLOW))
        elif scenario == "rejected":
            self.fake.channels.clear()  # the channel is gone: 404 NotFound
        elif scenario == "throttled_seconds":
            self.fake.fail_next.append(Failure(429, retry_after=str(THROTTLE_SECONDS)))
        elif scenario == "throttled_date":
            self.fake.fail_next.append(Failure(429, retry_after=http_date(THROTTLE_DATE_SECONDS)))

    def delivered(self) -> int:
        return len(self.fake.top_level(self.TEAM, self.CHANNEL))


class WorkflowHarness(Harness):
    """The fake Power Automate Workflows trigger; its URL (and `sig` in it) is the secret."""

    SIG = "contract-secret-workflow-signature"

    def __enter__(self) -> Harness:
        self.fake = FakeWorkflow(sig=self.SIG, max_rate=1000.0).start()
        self.secrets = (self.fake.url, self.SIG)
        return self

    def __exit__(self, *exc: object) -> None:
        self.fake.stop()

    def config(self, refused: bool) -> DestinationModel:
        url = self.fake.url.replace(f":{self.fake.port}/", f":{closed_port()}/") if refused else self.fake.url
        return TeamsWorkflowDestination(type="teams_workflow", url=url)

    def context(self, refused: bool) -> SenderContext:
        return SenderContext(workflow_timeout=TIMEOUT)

    def inject(self, scenario: str) -> None:
        if scenario == "server_error":
            self.fake.fail_next.append(503)
        elif scenario == "timeout":
            self.fake.latency = SLOW
        elif scenario == "rejected":
            self.fake.fail_next.append(404)  # the flow was deleted or turned off
        elif scenario == "throttled_seconds":
            self.fake.fail_next.append((429, {"Retry-After": str(THROTTLE_SECONDS)}))
        elif scenario == "throttled_date":
            self.fake.fail_next.append((429, {"Retry-After": http_date(THROTTLE_DATE_SECONDS)}))

    def delivered(self) -> int:
        return len(self.fake.posts)


class ConsoleHarness(Harness):
    """A text stream: the console talks to no server, so only success (and no secret) applies."""

    scenarios = ("accepted",)

    def __enter__(self) -> Harness:
        self.stream = io.StringIO()
        return self

    def config(self, refused: bool) -> DestinationModel:
        return ConsoleDestination(type="console")

    def context(self, refused: bool) -> SenderContext:
        return SenderContext(stdout=self.stream)

    def delivered(self) -> int:
        return self.stream.getvalue().count("── notifbot → contract ──")


HARNESSES: dict[str, type[Harness]] = {
    "slack": SlackHarness,
    "teams": TeamsHarness,
    "teams_workflow": WorkflowHarness,
    "console": ConsoleHarness,
}


def _cases() -> Iterator[Any]:
    for dest_type in SPECS:
        harness = HARNESSES.get(dest_type)
        for scenario in harness.scenarios if harness else ("accepted",):
            yield pytest.param(dest_type, scenario, id=f"{dest_type}-{scenario}")


@pytest.fixture
def app_log_levels(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Captures logs at the levels the app runs with (INFO; httpx, which logs request URLs, at WARNING)."""
    httpx_logger = logging.getLogger("httpx")
    saved = httpx_logger.level
    caplog.set_level(logging.INFO)
    httpx_logger.setLevel(logging.WARNING)
    yield caplog
    httpx_logger.setLevel(saved)


def _row(dest_type: str, config: DestinationModel) -> OutboxRow:
    return OutboxRow(
        id=1,
        event_id=1,
        destination="contract",
        dest_type=dest_type,
        target=target_of(config),
        attempts=0,
        provider_message_id=None,
        created_at=time.time(),
    )


def _expect(scenario: str, exc: DeliveryError) -> None:
    if scenario == "rejected":
        assert isinstance(exc, PermanentDeliveryError), repr(exc)
        return
    assert isinstance(exc, TransientDeliveryError), repr(exc)
    if scenario == "throttled_seconds":
        assert exc.retry_after == THROTTLE_SECONDS
    elif scenario == "throttled_date":  # an HTTP-date has whole seconds, and the request took some time
        assert exc.retry_after is not None
        assert THROTTLE_DATE_SECONDS - 3 <= exc.retry_after <= THROTTLE_DATE_SECONDS


@pytest.mark.parametrize(("dest_type", "scenario"), list(_cases()))
async def test_every_sender_keeps_the_delivery_contract(
    dest_type: str, scenario: str, app_log_levels: pytest.LogCaptureFixture
) -> None:
    harness_class = HARNESSES.get(dest_type)
    assert harness_class is not None, (
        f"destination type {dest_type!r} has no fake in the contract test: add a Harness for it to HARNESSES"
    )
    spec: DestinationSpec[Any] = SPECS[dest_type]
    notification = parse_event(load_samples()["crm_sync"], now=datetime.now(UTC))
    with harness_class() as harness:
        refused = scenario == "refused"
        config = harness.config(refused)
        assert isinstance(config, spec.model)
        sender = spec.build({"contract": config}, harness.context(refused))
        assert sender is not None and sender.dest_type == dest_type
        harness.inject(scenario)
        error: DeliveryError | None = None
        try:
            await sender.send(_row(dest_type, config), notification)
        except DeliveryError as exc:
            error = exc
        finally:
            await sender.close()
        if scenario == "accepted":
            assert error is None and harness.delivered() == 1
        else:
            assert error is not None, f"{scenario}: the send succeeded"
            _expect(scenario, error)
        seen = f"{error}\n{error!r}\n{app_log_levels.text}"
        for secret in harness.secrets:
            assert secret not in seen

"""How Graph and Workflows failures are classified, and that no secret survives in a message."""

from __future__ import annotations

import httpx
import pytest
from kiota_abstractions.api_error import APIError

from notifbot.destinations.teams_workflow import classify as workflow_classify
from notifbot.destinations.teams_workflow import scrub, workflow_payload
from notifbot.errors import PermanentDeliveryError, RateLimitedError, TransientDeliveryError
from notifbot.teams.graph import classify


def api_error(status: int, **headers: str) -> APIError:
    return APIError(message="x", response_status_code=status, response_headers=headers)


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (429, RateLimitedError, "retry after 7 s"),
        (503, TransientDeliveryError, "will retry"),
        (401, PermanentDeliveryError, "teams login"),
        (403, PermanentDeliveryError, "ChannelMessage.Send"),
        (404, PermanentDeliveryError, "channel_id"),
        (400, PermanentDeliveryError, "HTTP 400"),
    ],
)
def test_graph_statuses(status: int, kind: type, words: str) -> None:
    err = classify(api_error(status, **{"Retry-After": "7"}), "posting")
    assert type(err) is kind and words in str(err)


def test_graph_transport_and_sign_in_failures() -> None:
    assert isinstance(classify(httpx.ConnectError("refused"), "x"), TransientDeliveryError)
    assert isinstance(classify(httpx.ReadTimeout("slow"), "x"), TransientDeliveryError)

    class ClientAuthenticationError(Exception):
        pass

    assert isinstance(
        classify(ClientAuthenticationError("AADSTS70043: expired"), "x"), PermanentDeliveryError
    )
    offline = classify(ClientAuthenticationError("Failed to resolve 'login.microsoftonline.com'"), "x")
    assert type(offline) is TransientDeliveryError


def test_workflow_statuses_and_payload() -> None:
    request = httpx.Request("POST", "https://flow.example/x?sig=abc")
    assert workflow_classify(httpx.Response(202, request=request), "f") is None
    limited = workflow_classify(httpx.Response(429, headers={"Retry-After": "3"}, request=request), "f")
    assert isinstance(limited, TransientDeliveryError) and limited.retry_after == 3
    assert isinstance(workflow_classify(httpx.Response(502, request=request), "f"), TransientDeliveryError)
    gone = workflow_classify(httpx.Response(404, request=request), "f")
    assert isinstance(gone, PermanentDeliveryError) and "sig" not in str(gone)
    body = workflow_payload({"type": "AdaptiveCard"})
    assert body["attachments"][0]["content"] == {"type": "AdaptiveCard"}


def test_scrub_removes_urls_and_signatures() -> None:
    url = "https://x.example/workflows/1/invoke?api-version=1&sig=TOPSECRET"
    assert "TOPSECRET" not in scrub(f"failed for {url}", [url])
    assert scrub("sig=TOPSECRET&x", []) == "sig=***&x"


@pytest.mark.parametrize("value", ["7", "7.0"])
def test_graph_429_honours_retry_after_in_the_headers_kiota_really_passes(value: str) -> None:
    # kiota's httpx adapter sets APIError.response_headers to the response's httpx.Headers, not a dict
    exc = APIError(
        message="x", response_status_code=429, response_headers=httpx.Headers({"Retry-After": value})
    )
    err = classify(exc, "posting")
    assert isinstance(err, RateLimitedError) and err.retry_after == 7.0 and "retry after 7 s" in str(err)

"""`notifbot sandbox` at the HTTP level: the real command in a child process (chat server and bot on one loop).

Started once for the module (`sandbox_process.SandboxProcess`), with the fake Marketo (`--marketo`), on a
configuration with no chat destination, as the embedded default (so the sandbox adds one channel, `#sandbox`, with
its Teams twin), but without the per-channel pacing; each test drives the page as a browser without JavaScript
would (forms with the page's Origin, then the page again) and reads the SSE feed as EventSource would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from notifbot.cli import main
from notifbot.render.slack import ACK_ACTION, MUTE_ACTION
from notifbot.sandbox.emails import MAIL_DIR, MAILBOX, MAX_EMAIL_BYTES
from notifbot.sandbox.marketo_story import MUNCHKIN
from notifbot.sandbox.run import SANDBOX_CHANNEL
from notifbot.sources.email.message import MailMeta, handle
from notifbot.ui.auth import COOKIE, LIFETIME_SECONDS
from tests.integration.process import wait_until
from tests.integration.sandbox_process import CONFIG, SandboxProcess
from tests.unit.render.html_tree import Node, parse

pytestmark = pytest.mark.slow  # a subprocess: scheduled first (tests/conftest.py)

CHANNEL = SANDBOX_CHANNEL
# one e-mail rule of the configuration's own, which an uploaded e-mail is classified by
RULE_SUBJECT = "Sandbox rule:"
EMAIL_RULES = "email: {rules: [{kind: linkedin, subject: '^Sandbox rule:', fields: {audience_name: 'Audience: (.+)'}}]}\n"


class Sandbox(SandboxProcess):
    """The child process and HTTP clients for its page, sending the page's own Origin (one reading as a viewer)."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp, config=CONFIG + EMAIL_RULES)
        self.client = httpx.Client(base_url=self.url, headers={"origin": self.url}, timeout=10)
        self.viewer = httpx.Client(
            base_url=self.url, headers={"origin": self.url}, cookies={"sandbox_as": "viewer"}, timeout=10
        )

    def page(self, as_viewer: bool = False) -> Node:
        response = (self.viewer if as_viewer else self.client).get("/")
        assert response.status_code == 200
        return parse(response.text)

    def post(self, path: str, form: dict[str, str], as_viewer: bool = False) -> httpx.Response:
        return (self.viewer if as_viewer else self.client).post(path, data=form)

    def stop(self) -> int:
        self.client.close()
        self.viewer.close()
        return super().stop()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("sandbox"))
    try:
        wait_until(box.started, timeout=30)
        yield box
    finally:
        code = box.stop()
    assert code == 0, box.stderr()


def _articles(root: Node, source: str, ephemeral: bool = False) -> list[Node]:
    section = next(n for n in root.find_all("section", "sb-channel") if n.attr("data-channel") == CHANNEL)
    return [
        a
        for a in section.find_all("article")
        if a.attr("data-source") == source and ("sb-ephemeral" in a.classes()) is ephemeral
    ]


def _fields(form: Node) -> dict[str, str]:
    return {i.attr("name") or "": i.attr("value") or "" for i in form.find_all("input")}


def _button_form(article: Node, action_id: str) -> Node:
    return next(f for f in article.find_all("form") if _fields(f).get("action_id") == action_id)


def _send_sample(sandbox: Sandbox, name: str) -> Node:
    """Sends sample `name`; its Slack article (its context line names the event's key, `sandbox-<name>-…`)."""
    assert sandbox.post("/sample", {"sample": name}).status_code == 303

    def posted() -> Node | None:
        return next((a for a in _articles(sandbox.page(), "slack") if f"sandbox-{name}-" in a.text()), None)

    wait_until(posted, timeout=10)
    found = posted()
    assert found is not None
    return found


def test_a_sample_shows_with_its_buttons_and_as_a_teams_card(sandbox: Sandbox) -> None:
    options = {o.attr("value"): o.text() for o in sandbox.page().find_all("option")}
    assert options["crm_sync"] == "Salesforce sync failing: expired credentials"  # its title, not its id
    article = _send_sample(sandbox, "crm_sync")
    header = article.find_all("h3", "nb-header")[0].text()
    forms = {_fields(f)["action_id"]: f for f in article.find_all("form", "sb-act")}
    assert set(forms) == {ACK_ACTION, MUTE_ACTION}
    assert all(f.attr("action") == "/act" and f.attr("method") == "post" for f in forms.values())
    assert forms[MUTE_ACTION].find_all("dialog")  # Mute asks first
    [open_link] = [a for a in article.find_all("a", "nb-button") if a.attr("data-action-id")]
    assert (open_link.attr("href") or "").startswith("https://")
    wait_until(lambda: any(header in a.text() for a in _articles(sandbox.page(), "teams")), timeout=10)


def test_acknowledge_edits_the_message_in_place(sandbox: Sandbox) -> None:
    article = _send_sample(sandbox, "campaign_failure")
    form = _fields(_button_form(article, ACK_ACTION))
    answer = sandbox.post("/act", form)
    assert answer.status_code == 303 and answer.headers["location"] == f"/#{article.attr('id')}"

    def edited() -> Node | None:
        return next(
            (a for a in _articles(sandbox.page(), "slack") if a.attr("id") == article.attr("id")), None
        )

    wait_until(lambda: "Acknowledged by" in (edited() or article).text(), timeout=10)
    now = edited()
    assert now is not None and now.find_all("span", "sb-edited")
    assert ACK_ACTION not in [_fields(f).get("action_id") for f in now.find_all("form", "sb-act")]


def test_mute_confirms_first_and_a_viewer_is_told_only_admins_may(sandbox: Sandbox) -> None:
    article = _send_sample(sandbox, "engagement")
    form = _fields(_button_form(article, MUTE_ACTION))
    asked = sandbox.post("/act", form)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/confirm?")
    confirm = parse(sandbox.client.get(asked.headers["location"]).text)
    [again] = [f for f in confirm.find_all("form") if f.attr("action") == "/act"]
    assert _fields(again) == {**form, "confirmed": "1"}
    assert sandbox.post("/act", _fields(again), as_viewer=True).status_code == 303

    def denial(as_viewer: bool) -> list[Node]:
        page = sandbox.page(as_viewer)
        return [a for a in _articles(page, "slack", ephemeral=True) if "Only notifbot admins" in a.text()]

    wait_until(lambda: denial(as_viewer=True), timeout=10)
    assert "Only visible to you" in denial(as_viewer=True)[0].text()
    assert denial(as_viewer=False) == []  # the admin's page does not show the viewer's answer


def test_quota_answers_from_the_fake_marketo_with_its_sparkline(sandbox: Sandbox) -> None:
    sandbox.wait_for_quota_sample()
    assert sandbox.post("/command", {"channel": CHANNEL, "text": "quota"}).status_code == 303
    replies = [a.text() for a in _articles(sandbox.page(), "slack", ephemeral=True)]
    [quota] = [r for r in replies if "Marketo API quota" in r]
    assert (
        MUNCHKIN in quota and "of 50,000" in quota and re.search("[▁▂▃▄▅▆▇█]", quota)
    )  # an hour a bar: one just after 00:00 CT


def test_a_command_shows_its_reply_only_to_whoever_typed_it(sandbox: Sandbox) -> None:
    answer = sandbox.post("/command", {"channel": CHANNEL, "text": "/marketo help"})
    assert answer.status_code == 303 and answer.headers["location"] == f"/#ch-{CHANNEL}"
    [reply] = [a for a in _articles(sandbox.page(), "slack", ephemeral=True) if "/marketo" in a.text()]
    assert "Only visible to you" in reply.text() and reply.find_all("form", "sb-dismiss")
    assert (
        sandbox.post("/dismiss", {"channel": CHANNEL, "ts": reply.attr("data-ts") or ""}).status_code == 303
    )
    assert reply.attr("id") not in [a.attr("id") for a in _articles(sandbox.page(), "slack", ephemeral=True)]


def _events(sandbox: Sandbox, last_event_id: str, until: str) -> str:
    """The feed's text from `last_event_id` on, read until `until` appears."""
    text = ""
    headers = {"last-event-id": last_event_id, "accept": "text/event-stream"}
    with sandbox.client.stream("GET", "/events", headers=headers, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.iter_text():
            text += chunk
            if until in text:
                return text
    raise AssertionError(f"the feed ended without {until!r}: {text[:500]}")


def test_the_feed_replays_after_last_event_id_and_resets_an_unknown_one(sandbox: Sandbox) -> None:
    seen = sandbox.page().find_all("body")[0].attr("data-last-event") or ""
    epoch, _, seq = seen.partition("-")
    sandbox.post("/command", {"channel": CHANNEL, "text": "help"})
    replay = _events(sandbox, seen, "event: ephemeral")
    ids = [int(i.split("-")[1]) for i in re.findall(r"^id: (\S+)$", replay, re.MULTILINE)]
    assert ids and min(ids) == int(seq) + 1
    assert '"html":"<article' in replay and "Only visible to you" in replay
    reset = _events(sandbox, f"{epoch}x-1", "event: reset")
    assert "event: upsert" not in reset


def test_the_page_refuses_other_origins_and_hosts(sandbox: Sandbox) -> None:
    foreign = sandbox.client.post(
        "/sample", data={"sample": "audit"}, headers={"origin": "http://evil.example"}
    )
    bare = httpx.post(f"{sandbox.url}/sample", data={"sample": "audit"})  # no Origin, no Sec-Fetch-Site
    rebound = sandbox.client.get("/", headers={"host": f"evil.example:{sandbox.port}"})
    assert (foreign.status_code, bare.status_code, rebound.status_code) == (403, 403, 421)
    assert "sandbox-audit-" not in sandbox.client.get("/").text


def test_the_page_is_served_under_a_csp_without_inline_code(sandbox: Sandbox) -> None:
    response = sandbox.client.get("/")
    csp = response.headers["content-security-policy"]
    assert (
        response.headers["referrer-policy"] == "same-origin"
    )  # no-referrer would make form posts send Origin: null
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    root = parse(response.text)
    assert len(root.find_all("h1")) == 1
    assert all(s.attr("src") and not s.text().strip() for s in root.find_all("script"))
    assert not [n for n in root.walk() if any(k.startswith("on") or k == "style" for k, _ in n.attrs)]
    for name, kind in (("sandbox.js", "javascript"), ("sandbox.css", "css"), ("chat.css", "css")):
        asset = sandbox.client.get(f"/static/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"]


def test_open_console_signs_in_to_the_bot_s_console(sandbox: Sandbox) -> None:
    button = [f for f in sandbox.page().find_all("form") if f.attr("action") == "/console"]
    assert [(f.attr("method"), f.find_all("button")[0].text()) for f in button] == [("post", "Open console")]
    # the form's answer redirects to the bot: the page's CSP lets a form go there (form-action covers redirects)
    csp = sandbox.client.get("/").headers["content-security-policy"]
    assert f"form-action 'self' {sandbox.bot_url}/ui/;" in csp
    answer = sandbox.post("/console", {})
    assert answer.status_code == 303 and answer.headers["location"] == f"{sandbox.bot_url}/ui/"
    name, _, rest = answer.headers["set-cookie"].partition("=")
    value, *attributes = rest.split(";")
    # the console's own sign-in sets exactly these (tests/integration/test_console_auth.py); no Secure on plain HTTP
    assert name == COOKIE and {a.strip().lower() for a in attributes} == {
        "httponly",
        "path=/ui",
        "samesite=strict",
        f"max-age={LIFETIME_SECONDS}",
    }
    with httpx.Client(base_url=sandbox.bot_url, timeout=10) as bot:
        signed_in = bot.get("/ui/", headers={"cookie": f"{COOKIE}={value}"})
        anonymous = bot.get("/ui/")
    assert signed_in.status_code == 200 and "Signed in as admin" in signed_in.text
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/ui/login"
    # a reader acting as a viewer gets a viewer's session: the console's read-only role
    as_viewer = sandbox.post("/console", {}, as_viewer=True)
    viewer_cookie = as_viewer.headers["set-cookie"].partition(";")[0]
    with httpx.Client(base_url=sandbox.bot_url, timeout=10) as bot:
        assert "Signed in as viewer" in bot.get("/ui/", headers={"cookie": viewer_cookie}).text
    # the page's own host: localhost stays localhost, so the cookie (per host, not port) reaches the bot
    port = sandbox.bot_url.rsplit(":", 1)[1]
    local = f"http://localhost:{sandbox.port}"
    there = sandbox.client.post("/console", headers={"host": f"localhost:{sandbox.port}", "origin": local})
    assert there.status_code == 303 and there.headers["location"] == f"http://localhost:{port}/ui/"


def test_open_console_is_a_post_from_the_page_only(sandbox: Sandbox) -> None:
    foreign = sandbox.client.post("/console", headers={"origin": "http://evil.example"})
    fetched = sandbox.client.get("/console")
    assert (foreign.status_code, fetched.status_code) == (403, 405)
    assert "set-cookie" not in foreign.headers and "set-cookie" not in fetched.headers


def test_a_host_off_loopback_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:  # a usage error, not a configuration problem
        main(["sandbox", "--host", "0.0.0.0"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --host: '0.0.0.0' is not a loopback address" in err and "check-config" not in err


def test_a_typed_ampersand_reaches_the_bot_as_slack_sends_it_and_round_trips(sandbox: Sandbox) -> None:
    # Slack sends a typed &, < and > as entities and the bot reads them back: a value typed with a literal
    # "&amp;" in it is listed as typed (were the sandbox to send it raw, the bot would read it as "&")
    typed = 'program="R&D &amp; <EMEA>"'
    sandbox.post("/command", {"channel": CHANNEL, "text": f"mute campaign_failure {typed} 1h"})
    sandbox.post("/command", {"channel": CHANNEL, "text": "mutes"})
    replies = [a.text() for a in _articles(sandbox.page(), "slack", ephemeral=True)]
    assert any(typed in r for r in replies), replies
    sandbox.post("/command", {"channel": CHANNEL, "text": f"unmute campaign_failure {typed}"})


def _posted(sandbox: Sandbox, raw: bytes) -> Node | None:
    """The Slack article of the e-mail `raw` (its context line names the key, the intake's with a suffix)."""
    key = handle(raw, MailMeta(mailbox=MAILBOX)).key + "-sandbox-"
    return next((a for a in _articles(sandbox.page(), "slack") if key in a.text()), None)


def _upload(sandbox: Sandbox, raw: bytes, origin: str | None = None) -> httpx.Response:
    headers = {"origin": origin} if origin else {}
    files = {"eml": ("mine.eml", raw, "message/rfc822")}
    return sandbox.client.post("/email", files=files, headers=headers)


def _mail(subject: str, body: str, message_id: str) -> bytes:
    return (
        f"From: Marketo <noreply@marketo.com>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def test_a_bundled_email_is_sent_from_the_menu_as_its_kind_s_message(sandbox: Sandbox) -> None:
    [group] = [g for g in sandbox.page().find_all("optgroup") if g.attr("label") == "E-mails"]
    options = {o.attr("value"): o.text() for o in group.find_all("option")}
    assert options["email:facebook"] == "Facebook: leads could not be sent"  # by its subject
    assert sandbox.post("/sample", {"sample": "email:facebook"}).status_code == 303
    raw = (MAIL_DIR / "facebook.eml").read_bytes()
    wait_until(lambda: _posted(sandbox, raw), timeout=10)
    article = _posted(sandbox, raw)
    assert article is not None
    header = article.find_all("h3", "nb-header")[0].text()
    assert (
        "Facebook" in header and "Webinar attendees" in article.text()
    )  # the kind's title, its audience field


def test_an_uploaded_eml_is_classified_by_the_configuration_s_rules(sandbox: Sandbox) -> None:
    [form] = [f for f in sandbox.page().find_all("form") if f.attr("action") == "/email"]
    assert form.attr("enctype") == "multipart/form-data"
    [file_input] = form.find_all("input")
    assert (file_input.attr("type"), file_input.attr("name")) == ("file", "eml")
    raw = _mail(f"{RULE_SUBJECT} audience trouble", "Audience: Sandbox upload audience", "rule@sandbox.test")
    answer = _upload(sandbox, raw)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    wait_until(lambda: _posted(sandbox, raw), timeout=10)
    article = _posted(sandbox, raw)
    assert article is not None and "LinkedIn" in article.find_all("h3", "nb-header")[0].text()
    assert "Sandbox upload audience" in article.text()


def test_an_eml_that_is_not_an_email_still_arrives_as_other(sandbox: Sandbox) -> None:
    raw = b"\xff\xfe this is no e-mail \x00 at all\r\n" * 3
    assert _upload(sandbox, raw).status_code == 303
    wait_until(lambda: _posted(sandbox, raw), timeout=10)


def test_an_oversized_upload_gets_a_notice_and_nothing_is_posted(sandbox: Sandbox) -> None:
    raw = _mail("Too big", "x" * MAX_EMAIL_BYTES, "big@sandbox.test")
    assert _upload(sandbox, raw).status_code == 303
    notices = [n.text() for n in sandbox.page().find_all("p", "sb-notice")]
    assert any("too large" in n and f"{MAX_EMAIL_BYTES:,} bytes" in n for n in notices), notices
    assert _posted(sandbox, raw) is None


def test_an_upload_from_another_origin_is_refused(sandbox: Sandbox) -> None:
    raw = _mail("Foreign", "from elsewhere", "foreign@sandbox.test")
    assert _upload(sandbox, raw, origin="http://evil.example").status_code == 403
    assert _posted(sandbox, raw) is None

"""Story: operations wants breaker, health and trade alerts in their chat tool.
mt5guard POSTs signed JSON to a real HTTP server on loopback; when that server
fails, answers slowly or is not there at all, the sender retries on the
clock, opens its own breaker, drops what does not fit its queue (counted in
/metrics), and never holds up a trading call."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from storykit import PASSWORD

from mt5guard.config import WebhookConfig
from mt5guard.observability import Metrics
from mt5guard.observability.messages import (
    WebhookBreakerChanged,
    WebhookDelivered,
    WebhookDropped,
    WebhookFailed,
)
from mt5guard.observability.webhooks import SIGNATURE_HEADER
from mt5guard.secret import Secret

SECRET = "hook-signing-key-42"


class HookServer:
    """A real HTTP server in a thread: answers ``statuses`` in turn (then 200), or
    holds requests while ``hold`` is clear (until it is set, at the latest on close)."""

    def __init__(self) -> None:
        self.requests: list[tuple[Any, bytes]] = []
        self.statuses: list[int] = []
        self.location = ""  # sent as Location (with a 3xx status: a redirect)
        self.hold = threading.Event()
        self.hold.set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.requests.append((self.headers, body))
                server.hold.wait(10)
                status = server.statuses.pop(0) if server.statuses else 200
                self.send_response(status)
                if server.location:
                    self.send_header("Location", server.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/mt5"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                       daemon=True)  # shutdown() waits up to one poll
        self.thread.start()

    def close(self) -> None:
        self.hold.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hook():
    server = HookServer()
    yield server
    server.close()


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.005)


def retry_scheduled(story) -> bool:
    """The sender heard the failure and set its retry timer on the clock."""
    return story.guard.webhooks.endpoints[0].timer is not None


def with_hook(story_factory, url: str, **options):
    options = {"timeout": 0.3, **options}
    config = WebhookConfig(url=url, secret=Secret(SECRET), retry_backoff=1.0, **options)
    return story_factory(webhooks=(config,))


def test_events_arrive_signed_and_without_secrets(story_factory, hook) -> None:
    story = with_hook(story_factory, hook.url, events=("breaker",))
    story.session.force_open("maintenance")
    opened = lambda: [r for r in hook.requests if json.loads(r[1])["data"]["new"] == "open"]  # noqa: E731
    wait_until(opened)
    headers, body = opened()[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected)
    payload = json.loads(body)
    assert (payload["kind"], payload["event"], payload["account"]) == ("breaker", "BreakerStateChanged", "demo")
    assert payload["data"]["new"] == "open" and headers["X-Mt5guard-Event"] == "BreakerStateChanged"
    assert PASSWORD not in body.decode() and SECRET not in body.decode()
    assert all(PASSWORD not in v and SECRET not in v for v in headers.values())


def test_a_failing_server_is_retried_with_backoff_on_the_clock(story_factory, hook) -> None:
    story = with_hook(story_factory, hook.url, events=("breaker",), max_attempts=3)
    hook.statuses = [500, 503]
    story.session.force_open("maintenance")
    wait_until(lambda: retry_scheduled(story))
    story.clock.advance(0.9)  # fires what is due and lets the actors settle
    assert retry_scheduled(story) and len(hook.requests) == 1  # the first retry is due 1 s after the failure
    story.clock.advance(0.1)
    wait_until(lambda: len(hook.requests) == 2 and retry_scheduled(story))
    story.clock.advance(2.0)  # then 2 s
    wait_until(lambda: story.events(WebhookDelivered))
    assert story.events(WebhookDelivered)[0].attempts == 3
    assert len({h["X-Mt5guard-Delivery"] for h, _ in hook.requests}) == 1  # one delivery, retried


def test_a_slow_server_times_out_and_the_event_is_given_up(story_factory, hook) -> None:
    story = with_hook(story_factory, hook.url, events=("breaker",), max_attempts=2)
    hook.hold.clear()  # answers only once the test is over: longer than the 0.3 s timeout
    story.session.force_open("maintenance")
    wait_until(lambda: retry_scheduled(story))
    story.clock.advance(1.0)
    wait_until(lambda: story.events(WebhookFailed))
    failed = story.events(WebhookFailed)[0]
    assert failed.attempts == 2 and "timed out" in failed.reason.lower()


def test_no_server_opens_the_urls_breaker_and_a_full_queue_drops_and_counts(story_factory, bus) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    metrics = Metrics()
    bus.subscribe(metrics)
    story = with_hook(story_factory, dead, events=("breaker",), failure_threshold=2, queue_size=3,
                      open_for=30.0)
    story.session.force_open("one")
    wait_until(lambda: retry_scheduled(story))
    story.clock.advance(1.0)  # the retry fails too: two in a row open the breaker
    wait_until(lambda: story.events(WebhookBreakerChanged))
    assert story.events(WebhookBreakerChanged)[0].open
    for _ in range(4):
        story.session.reset_breaker()
        story.session.force_open("again")
    wait_until(lambda: story.events(WebhookDropped))
    assert story.webhooks_pending() == 3
    text = metrics.render().decode()
    assert 'mt5guard_webhook_dropped_total{url="http://127.0.0.1:' in text


def test_a_hung_webhook_never_holds_up_trading(story_factory, hook) -> None:
    story = with_hook(story_factory, hook.url, events=("breaker", "trade"), timeout=10.0)
    hook.hold.clear()  # the server takes requests and answers nothing for now
    story.session.force_open("hold")
    wait_until(lambda: len(hook.requests) == 1)
    story.session.reset_breaker()
    story.clock.settle()
    outcome = story.session.place_order("EURUSD", "buy", 0.1)
    assert outcome.retcode == 10009 and len(hook.requests) == 1  # the POST is still in flight
    hook.hold.set()
    wait_until(lambda: story.events(WebhookDelivered))


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_a_failed_delivery_and_is_never_followed(story_factory, hook,
                                                                status) -> None:
    elsewhere = HookServer()
    try:
        story = with_hook(story_factory, hook.url, events=("breaker",), max_attempts=3)
        hook.statuses = [status] * 3
        hook.location = elsewhere.url
        story.session.force_open("maintenance")
        wait_until(lambda: story.events(WebhookFailed))
        (failed,) = story.events(WebhookFailed)
        assert str(status) in failed.reason and "redirect" in failed.reason
        assert len(hook.requests) == 1  # given up at once: a redirect is no server fault
        assert elsewhere.requests == [] and story.events(WebhookDelivered) == []
    finally:
        elsewhere.close()

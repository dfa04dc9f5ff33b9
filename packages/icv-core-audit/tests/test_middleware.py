"""AuditRequestMiddleware, the request context, client IP and request id."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from capture_helpers import *  # noqa: F403
from capture_helpers import close_thread_connections, entries
from django.core.exceptions import ImproperlyConfigured
from django.test import AsyncClient, RequestFactory

from icv_core.audit import _request
from icv_core.audit._text import safe_text
from icv_core.audit.middleware import AuditRequestMiddleware, get_audit_context

URLS = "audit_testapp.capture_urls"


# ---------------------------------------------------------------------------
# XFF spoofing table
# ---------------------------------------------------------------------------

# (trusted proxies, proxy count, REMOTE_ADDR, X-Forwarded-For, expected IP)
XFF_CASES = [
    # No trusted proxy: forwarding headers are ignored, whatever they say.
    ([], 0, "203.0.113.7", "6.6.6.6", "203.0.113.7"),
    ([], 0, "203.0.113.7", "6.6.6.6, 10.0.0.1", "203.0.113.7"),
    ([], 0, "10.0.0.1", "198.51.100.1", "10.0.0.1"),
    # Trusted proxy list: right-most untrusted hop; spoofed left-most ignored.
    (["10.0.0.1"], 0, "10.0.0.1", "198.51.100.1", "198.51.100.1"),
    (["10.0.0.1"], 0, "10.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),
    (["10.0.0.1"], 0, "10.0.0.1", " 6.6.6.6 ,198.51.100.1 ", "198.51.100.1"),
    # The peer is not a trusted proxy: the header is the client's invention.
    (["10.0.0.1"], 0, "203.0.113.9", "6.6.6.6", "203.0.113.9"),
    # Chains of trusted proxies (CIDR): skip them all from the right.
    (["10.0.0.0/8"], 0, "10.0.0.2", "6.6.6.6, 198.51.100.1, 10.1.1.1", "198.51.100.1"),
    (["10.0.0.0/8", "172.16.0.0/12"], 0, "172.16.0.5", "1.1.1.1, 10.9.9.9", "1.1.1.1"),
    # Every hop trusted: the left-most hop is where the request started.
    (["10.0.0.0/8"], 0, "10.0.0.2", "10.0.0.3, 10.0.0.4", "10.0.0.3"),
    # Trusted peer but no header: the peer itself.
    (["10.0.0.0/8"], 0, "10.0.0.2", None, "10.0.0.2"),
    # IPv6 proxies and clients.
    (
        ["2001:db8::/32"],
        0,
        "2001:db8::1",
        "2001:db8:ffff::9, 2a00:1450::1",
        "2a00:1450::1",
    ),
    (["2001:db8::/32"], 0, "2001:db8::1", "[2a00:1450::1]:443", "2a00:1450::1"),
    (["10.0.0.1"], 0, "10.0.0.1", "::ffff:198.51.100.4", "198.51.100.4"),
    # Ports appended by some proxies are dropped.
    (["10.0.0.1"], 0, "10.0.0.1", "198.51.100.1:8080", "198.51.100.1"),
    # Garbage where the client should be: nothing stored, nothing skipped.
    (["10.0.0.1"], 0, "10.0.0.1", "garbage", None),
    (["10.0.0.1"], 0, "10.0.0.1", "198.51.100.1, unknown", None),
    (["10.0.0.1"], 0, "10.0.0.1", "198.51.100.1, _hidden", None),
    (["10.0.0.1"], 0, "10.0.0.1", "999.1.1.1", None),
    (["10.0.0.1"], 0, "10.0.0.1", "fe80::1%eth0", None),
    (["10.0.0.1"], 0, "10.0.0.1", "1.2.3.4, ", None),
    (["10.0.0.1"], 0, "10.0.0.1", "example.com", None),
    (["10.0.0.1"], 0, "10.0.0.1", "<script>", None),
    # Garbage left of the client is never looked at.
    (["10.0.0.1"], 0, "10.0.0.1", "garbage, 198.51.100.1", "198.51.100.1"),
    # Invalid REMOTE_ADDR: None, never a crash.
    ([], 0, "not-an-ip", "1.2.3.4", None),
    ([], 0, None, None, None),
    (["10.0.0.1"], 0, "garbage", "1.2.3.4", None),
    # Proxy count: the N-th entry from the right.
    ([], 1, "10.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),
    ([], 2, "10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.1", "198.51.100.1"),
    ([], 2, "10.0.0.2", "198.51.100.1, 10.0.0.1", "198.51.100.1"),
    # Fewer hops than proxies: not through the proxies, REMOTE_ADDR.
    ([], 2, "203.0.113.7", "6.6.6.6", "203.0.113.7"),
    ([], 1, "10.0.0.1", "bogus", None),
]


@pytest.fixture(scope="module")
def xff_tally(battery_tally):
    return battery_tally(
        "B2 XFF resolution: {passed}/{tried} cases resolved as expected over "
        "no proxies, CIDR lists and proxy counts; 0 spoofed IPs accepted; "
        "0 exceptions"
    )


@pytest.mark.parametrize(("proxies", "count", "remote", "xff", "expected"), XFF_CASES)
def test_client_ip_table(settings, xff_tally, proxies, count, remote, xff, expected):
    settings.ICV_CORE_AUDIT_TRUSTED_PROXIES = proxies
    settings.ICV_CORE_AUDIT_TRUSTED_PROXY_COUNT = count
    meta: dict[str, Any] = {}
    if remote is not None:
        meta["REMOTE_ADDR"] = remote
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    with xff_tally.case():
        assert _request.client_ip(meta) == expected


def test_too_many_hops_look_only_at_the_right_most(settings):
    settings.ICV_CORE_AUDIT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    hops = ", ".join(["6.6.6.6"] * 10_000 + ["198.51.100.1"] + ["10.0.0.3"] * 5)
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": hops}
    assert _request.client_ip(meta) == "198.51.100.1"
    # More trusted hops than are ever looked at: no client found within bound.
    many = ", ".join(["198.51.100.1"] + ["10.0.0.3"] * 40)
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": many}
    assert _request.client_ip(meta) == "10.0.0.3"


def test_other_forwarding_headers_are_ignored_by_default():
    meta = {
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_X_REAL_IP": "6.6.6.6",
        "HTTP_FORWARDED": "for=6.6.6.6",
        "HTTP_CF_CONNECTING_IP": "6.6.6.6",
        "HTTP_X_FORWARDED_FOR": "6.6.6.6",
    }
    assert _request.client_ip(meta) == "203.0.113.7"


def test_ip_header_setting(settings):
    settings.ICV_CORE_AUDIT_TRUSTED_PROXIES = ["10.0.0.1"]
    settings.ICV_CORE_AUDIT_IP_HEADER = "HTTP_X_REAL_IP"
    meta = {
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_X_REAL_IP": "198.51.100.1",
        "HTTP_X_FORWARDED_FOR": "6.6.6.6",
    }
    assert _request.client_ip(meta) == "198.51.100.1"


def test_bad_proxy_settings_raise_improperly_configured(settings):
    settings.ICV_CORE_AUDIT_TRUSTED_PROXIES = ["not a network"]
    with pytest.raises(ImproperlyConfigured, match="not an IP address or network"):
        _request.client_ip({"REMOTE_ADDR": "10.0.0.1"})
    settings.ICV_CORE_AUDIT_TRUSTED_PROXIES = []
    settings.ICV_CORE_AUDIT_TRUSTED_PROXY_COUNT = -1
    with pytest.raises(ImproperlyConfigured, match="non-negative integer"):
        _request.client_ip({"REMOTE_ADDR": "10.0.0.1"})


# ---------------------------------------------------------------------------
# user agent, request id, text bounding
# ---------------------------------------------------------------------------


def test_user_agent_is_bounded_and_control_safe(settings):
    settings.ICV_CORE_AUDIT_MAX_USER_AGENT_LENGTH = 20
    assert _request.user_agent({"HTTP_USER_AGENT": "Mozilla/5.0"}) == "Mozilla/5.0"
    assert _request.user_agent({}) == ""
    long = _request.user_agent({"HTTP_USER_AGENT": "x" * 70_000})
    assert long == "x" * 19 + "\u2026"
    forged = _request.user_agent({"HTTP_USER_AGENT": "ok\r\nINFO fake\x1b[31m"})
    assert forged == "ok\\r\\nINFO fake\\x1b\u2026"
    assert len(forged) == 20


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("a\nb", "a\\nb"),
        ("nul\x00", "nul\\x00"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("sep\u2028x", "sep\\u2028x"),
        ("c1\x85", "c1\\x85"),
        ("lone\ud800", "lone\\ud800"),
        ("emoji \U0001f600 ok", "emoji \U0001f600 ok"),
    ],
)
def test_safe_text_escapes_controls(raw, expected):
    assert safe_text(raw, None) == expected


def test_safe_text_never_cuts_an_escape_in_half():
    assert safe_text("abc\x1bdef", 6) == "abc\u2026"
    assert safe_text("abc\x1bdef", 8) == "abc\\x1b\u2026"
    assert safe_text("abcdef", 0) == ""


def test_request_id_from_header_or_generated(settings):
    assert _request.request_id({"HTTP_X_REQUEST_ID": "abc-123"}) == "abc-123"
    generated = _request.request_id({"HTTP_X_REQUEST_ID": "bad id\n"})
    assert len(generated) == 32 and generated != "bad id\n"
    assert len(_request.request_id({"HTTP_X_REQUEST_ID": "a" * 65})) == 32
    assert _request.request_id({"HTTP_X_REQUEST_ID": "a" * 64}) == "a" * 64
    settings.ICV_CORE_AUDIT_REQUEST_ID_HEADER = "HTTP_X_CORRELATION_ID"
    assert _request.request_id({"HTTP_X_CORRELATION_ID": "corr.1"}) == "corr.1"


# ---------------------------------------------------------------------------
# The middleware
# ---------------------------------------------------------------------------


def test_context_is_empty_outside_a_request():
    assert get_audit_context() == {}


def test_sync_middleware_sets_and_resets_context(settings):
    settings.ICV_CORE_AUDIT_TRUSTED_PROXIES = ["10.0.0.1"]
    seen: dict[str, Any] = {}

    def view(request):
        seen.update(get_audit_context())
        return "response"

    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1",
        HTTP_USER_AGENT="UA\n1",
        HTTP_X_REQUEST_ID="req-1",
    )
    assert AuditRequestMiddleware(view)(request) == "response"
    assert seen == {
        "ip_address": "198.51.100.1",
        "user_agent": "UA\\n1",
        "request_id": "req-1",
        "user": None,
    }
    assert get_audit_context() == {}


def test_context_reset_when_the_view_raises():
    def view(request):
        assert get_audit_context()["request_id"]
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        AuditRequestMiddleware(view)(RequestFactory().get("/"))
    assert get_audit_context() == {}


def test_async_middleware_sets_and_resets_context():
    seen: dict[str, Any] = {}

    async def view(request):
        seen.update(get_audit_context())
        return "async response"

    middleware = AuditRequestMiddleware(view)
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.2")
    assert asyncio.run(middleware(request)) == "async response"
    assert seen["ip_address"] == "198.51.100.2"
    assert get_audit_context() == {}


def test_user_is_read_lazily_and_anonymous_is_none(alice):
    from django.contrib.auth.models import AnonymousUser

    users: list[Any] = []

    def view(request):
        users.append(get_audit_context()["user"])
        request.user = alice  # e.g. token auth in the view
        users.append(get_audit_context()["user"])
        return "ok"

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    AuditRequestMiddleware(view)(request)
    assert users == [None, alice]


@pytest.mark.urls(URLS)
def test_middleware_through_the_client(client, audit_middleware, alice, settings):
    client.force_login(alice)
    response = client.get(
        "/context/",
        REMOTE_ADDR="198.51.100.3",
        HTTP_USER_AGENT="agent/1.0",
        HTTP_X_REQUEST_ID="rid-77",
    )
    assert response.json() == {
        "ip_address": "198.51.100.3",
        "user_agent": "agent/1.0",
        "request_id": "rid-77",
        "user": "alice",
    }
    assert get_audit_context() == {}


@pytest.mark.urls(URLS)
def test_capture_flags_are_read_at_use(
    client, db, audit_middleware, audit_on, settings
):
    settings.ICV_CORE_AUDIT_CAPTURE_IP = False
    client.get("/log/", REMOTE_ADDR="198.51.100.3", HTTP_USER_AGENT="agent/1.0")
    settings.ICV_CORE_AUDIT_CAPTURE_IP = True
    settings.ICV_CORE_AUDIT_CAPTURE_USER_AGENT = False
    client.get("/log/", REMOTE_ADDR="198.51.100.3", HTTP_USER_AGENT="agent/1.0")
    rows = entries(action="CUSTOM")
    assert [(e.ip_address, e.user_agent) for e in rows] == [
        (None, "agent/1.0"),
        ("198.51.100.3", ""),
    ]
    assert all(len(e.request_id) == 32 for e in rows)
    assert rows[0].request_id != rows[1].request_id


@pytest.mark.urls(URLS)
def test_streaming_response_keeps_the_context_until_closed(
    db, client, audit_on, audit_middleware
):
    response = client.get(
        "/stream/", REMOTE_ADDR="198.51.100.60", headers={"X-Request-ID": "req-s"}
    )
    assert get_audit_context()["request_id"] == "req-s"  # still streaming
    # The test client closes the response once its content is consumed (as
    # a WSGI server does), with Django's connection cleanup held back.
    assert b"".join(response.streaming_content) == b"start|req-s"
    assert get_audit_context() == {}
    (entry,) = entries(description="while streaming")
    assert (entry.ip_address, entry.request_id) == ("198.51.100.60", "req-s")


@pytest.mark.urls(URLS)
@pytest.mark.django_db(transaction=True)
def test_asgi_streaming_response_keeps_the_context_until_closed(
    audit_on, audit_middleware
):
    from django.core.asgi import get_asgi_application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/async-stream/",
        "raw_path": b"/async-stream/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"x-request-id", b"req-as")],
        "client": ("198.51.100.61", 1000),
        "server": ("testserver", 80),
    }
    sent = []

    async def main():
        forever = asyncio.Event()
        first = True

        async def receive():
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": b"", "more_body": False}
            await forever.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await get_asgi_application()(scope, receive, send)

    asyncio.run(main())
    close_thread_connections()
    body = b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )
    assert body == b"start|req-as"
    (entry,) = entries(description="while streaming (async)")
    assert (entry.ip_address, entry.request_id) == ("198.51.100.61", "req-as")
    assert get_audit_context() == {}


@pytest.mark.urls(URLS)
@pytest.mark.django_db(transaction=True)
def test_asgi_isolation_of_two_overlapping_requests(
    audit_middleware, alice, bob, settings
):
    from django.test import Client

    # The ASGI test client connects from 127.0.0.1: make it a trusted proxy
    # so each request carries its own client address.
    settings.ICV_CORE_AUDIT_TRUSTED_PROXIES = ["127.0.0.1"]
    clients = {}
    for user in (alice, bob):
        sync_client = Client()
        sync_client.force_login(user)
        async_client = AsyncClient()
        async_client.cookies = sync_client.cookies
        clients[user.username] = async_client

    async def both():
        return await asyncio.gather(
            clients["alice"].get(
                "/overlap/",
                {"me": "a", "other": "b"},
                headers={
                    "X-Request-ID": "req-alice",
                    "X-Forwarded-For": "198.51.100.10",
                },
            ),
            clients["bob"].get(
                "/overlap/",
                {"me": "b", "other": "a"},
                headers={"X-Request-ID": "req-bob", "X-Forwarded-For": "198.51.100.20"},
            ),
        )

    from audit_testapp import capture_views

    capture_views.BARRIER.clear()
    response_a, response_b = asyncio.run(both())
    close_thread_connections()
    assert json.loads(response_a.content) == {
        "ip_address": "198.51.100.10",
        "user_agent": "",
        "request_id": "req-alice",
        "user": "alice",
    }
    assert json.loads(response_b.content) == {
        "ip_address": "198.51.100.20",
        "user_agent": "",
        "request_id": "req-bob",
        "user": "bob",
    }
    assert get_audit_context() == {}

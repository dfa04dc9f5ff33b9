from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.sync import iscoroutinefunction
from django.contrib.auth.models import AnonymousUser
from django.core.asgi import get_asgi_application
from django.http import HttpResponse
from django.test import RequestFactory
from models_testapp import views
from models_testapp.views import HeaderUser

from icv_core.middleware import (
    CurrentUserMiddleware,
    acting_as,
    get_current_request,
    get_current_user,
)


class FakeUser:
    is_authenticated = True

    def __init__(self, name):
        self.username = name


def test_spec_currentusermiddleware_example_verbatim(user_middleware):
    from icv_core.middleware import get_current_user

    user = get_current_user()  # returns None outside of a request context
    assert user is None
    assert "icv_core.middleware.CurrentUserMiddleware" in user_middleware
    assert user_middleware.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware"
    ) < user_middleware.index("icv_core.middleware.CurrentUserMiddleware")


def test_capabilities():
    assert CurrentUserMiddleware.sync_capable is True
    assert CurrentUserMiddleware.async_capable is True

    async def async_view(request):
        return HttpResponse()

    assert iscoroutinefunction(CurrentUserMiddleware(async_view))
    assert not iscoroutinefunction(CurrentUserMiddleware(lambda r: HttpResponse()))


def test_sync_request_sets_and_resets():
    request = RequestFactory().get("/")
    request.user = FakeUser("alice")
    seen = {}

    def view(req):
        seen["user"] = get_current_user()
        seen["request"] = get_current_request()
        return HttpResponse()

    CurrentUserMiddleware(view)(request)
    assert seen == {"user": request.user, "request": request}
    assert get_current_request() is None and get_current_user() is None


def test_reset_when_view_raises():
    request = RequestFactory().get("/")

    def view(req):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        CurrentUserMiddleware(view)(request)
    assert get_current_request() is None


def test_anonymous_and_missing_user_are_none():
    request = RequestFactory().get("/")
    seen = []

    def view(req):
        seen.append(get_current_user())
        req.user = AnonymousUser()
        seen.append(get_current_user())
        return HttpResponse()

    CurrentUserMiddleware(view)(request)
    assert seen == [None, None]


def test_user_authenticated_later_is_seen():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    seen = []

    def view(req):
        seen.append(get_current_user())
        req.user = FakeUser("token-user")  # what DRF's authentication does
        seen.append(get_current_user())
        return HttpResponse()

    CurrentUserMiddleware(view)(request)
    assert seen[0] is None and seen[1].username == "token-user"


def test_acting_as_nests_and_restores():
    alice, bob = FakeUser("alice"), FakeUser("bob")
    assert get_current_user() is None
    with acting_as(alice):
        assert get_current_user() is alice
        with acting_as(bob):
            assert get_current_user() is bob
            with acting_as(None):
                assert get_current_user() is None
            assert get_current_user() is bob
        assert get_current_user() is alice
    assert get_current_user() is None
    with pytest.raises(ValueError), acting_as(alice):
        raise ValueError
    assert get_current_user() is None


def test_acting_as_overrides_request_user():
    request = RequestFactory().get("/")
    request.user = FakeUser("alice")
    seen = []

    def view(req):
        with acting_as(FakeUser("system")):
            seen.append(get_current_user().username)
        seen.append(get_current_user().username)
        return HttpResponse()

    CurrentUserMiddleware(view)(request)
    assert seen == ["system", "alice"]


@pytest.fixture
def header_middleware(settings):
    settings.MIDDLEWARE = [
        "django.middleware.common.CommonMiddleware",
        "models_testapp.views.HeaderUserMiddleware",
        "icv_core.middleware.CurrentUserMiddleware",
    ]
    return settings.MIDDLEWARE


@pytest.mark.django_db  # response.close() sends request_finished
def test_streaming_response_keeps_request_until_closed(header_middleware, client):
    response = client.get("/stream/", headers={"X-User": "alice"})
    assert get_current_request() is not None  # still streaming
    body = b"".join(response.streaming_content)
    assert body == b"alice|alice"
    response.close()
    assert get_current_request() is None


def test_wsgi_error_resets(header_middleware, client):
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        client.get("/boom/", headers={"X-User": "alice"})
    assert get_current_request() is None


def test_threads_never_see_each_other():
    barrier = threading.Barrier(8)
    results = {}

    def run(name):
        request = RequestFactory().get("/")
        request.user = FakeUser(name)

        def view(req):
            barrier.wait()
            results[name] = get_current_user().username
            return HttpResponse()

        CurrentUserMiddleware(view)(request)

    threads = [threading.Thread(target=run, args=(f"u{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {f"u{i}": f"u{i}" for i in range(8)}


async def _asgi_get(app, path, user):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"x-user", user.encode())],
        "client": ("127.0.0.1", 1000),
        "server": ("testserver", 80),
    }
    sent = []
    first = True
    forever = asyncio.Event()

    async def receive():
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await forever.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    status = sent[0]["status"]
    body = b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )
    return status, body


def test_asgi_overlapping_requests_never_see_each_others_user(header_middleware):
    async def main():
        views.GATES.clear()
        views.GATES["alice"] = asyncio.Event()
        views.GATES["bob"] = asyncio.Event()
        app = get_asgi_application()
        return await asyncio.gather(
            _asgi_get(app, "/overlap/", "alice"),
            _asgi_get(app, "/overlap/", "bob"),
            _asgi_get(app, "/whoami/", "carol"),
        )

    (s1, alice), (s2, bob), (s3, carol) = asyncio.run(main())
    assert (s1, s2, s3) == (200, 200, 200)
    assert json.loads(alice) == {"before": "alice", "after": "alice"}
    assert json.loads(bob) == {"before": "bob", "after": "bob"}
    assert json.loads(carol) == {"user": "carol", "same_request": True}
    assert get_current_request() is None


@pytest.fixture(params=["sync-chain", "async-chain"])
def asgi_middleware(request, settings):
    """A chain where CurrentUserMiddleware runs sync (after a sync-only
    middleware) or async (every middleware async capable)."""
    header = {
        "sync-chain": "models_testapp.views.HeaderUserMiddleware",
        "async-chain": "models_testapp.views.AsyncHeaderUserMiddleware",
    }[request.param]
    settings.MIDDLEWARE = [
        "django.middleware.common.CommonMiddleware",
        header,
        "icv_core.middleware.CurrentUserMiddleware",
    ]
    return request.param


@pytest.mark.django_db(transaction=True)  # closing the response ends the request
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume")
def test_asgi_streaming_response_keeps_the_user_until_closed(asgi_middleware):
    # The chunks are produced after the view (and the middleware) returned,
    # while Django's ASGI handler sends them; two streams overlap.
    async def main():
        views.GATES.clear()
        views.GATES["alice"] = asyncio.Event()
        views.GATES["bob"] = asyncio.Event()
        app = get_asgi_application()
        return await asyncio.gather(
            _asgi_get(app, "/astream/", "alice"),
            _asgi_get(app, "/astream/", "bob"),
            # A sync iterator, consumed by Django in a worker thread.
            _asgi_get(app, "/stream/", "carol"),
        )

    (s1, alice), (s2, bob), (s3, carol) = asyncio.run(main())
    assert (s1, s2, s3) == (200, 200, 200)
    assert alice == b"alice|alice"
    assert bob == b"bob|bob"
    assert carol == b"carol|carol"
    assert get_current_request() is None


def test_header_user_helper():
    assert HeaderUser("x").is_authenticated

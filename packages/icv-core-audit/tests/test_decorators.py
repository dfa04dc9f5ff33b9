"""@audited on sync/async functions, methods, function and class-based views."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from capture_helpers import *  # noqa: F403
from capture_helpers import close_thread_connections, entries
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from icv_core.audit.decorators import audited
from icv_core.audit.models import AuditEntry

pytestmark = pytest.mark.django_db
URLS = "audit_testapp.capture_urls"


@audited(event_type="DATA", action="CUSTOM", description="archive", metadata={"k": 1})
def archive(x, y=2):
    """Archive things."""
    return {"sum": x + y}


@audited(event_type="DATA", action="DELETE")
def explode():
    raise KeyError("secret detail")


@audited(event_type="DATA", action="CUSTOM")
async def async_work(value):
    await asyncio.sleep(0)
    return value * 2


@audited(event_type="DATA", action="CUSTOM")
async def async_explode():
    await asyncio.sleep(0)
    raise ValueError("no")


class Service:
    @audited(event_type="DATA", action="UPDATE")
    def run(self, request, value):
        return value


def test_success_is_recorded_after_the_call_with_the_return_value_untouched(audit_on):
    seen_during_call = []

    @audited(event_type="DATA", action="CUSTOM")
    def work():
        seen_during_call.append(AuditEntry.objects.count())
        return "result"

    assert work() == "result"
    assert seen_during_call == [0]
    (entry,) = entries()
    assert entry.metadata == {
        "function": f"{__name__}.test_success_is_recorded_after_the_call_with_the_"
        "return_value_untouched.<locals>.work",
        "outcome": "success",
    }


def test_metadata_description_and_wraps(audit_on):
    assert archive(1) == {"sum": 3}
    (entry,) = entries()
    assert (entry.event_type, entry.action, entry.description) == (
        "DATA",
        "CUSTOM",
        "archive",
    )
    assert entry.metadata == {
        "k": 1,
        "function": f"{__name__}.archive",
        "outcome": "success",
    }
    assert archive.__name__ == "archive"
    assert archive.__doc__ == "Archive things."
    assert str(inspect.signature(archive)) == "(x, y=2)"


def test_failure_is_recorded_and_the_exception_passes_through(audit_on):
    with pytest.raises(KeyError, match="secret detail") as info:
        explode()
    assert info.type is KeyError
    (entry,) = entries()
    assert entry.action == "DELETE"
    assert entry.metadata == {
        "function": f"{__name__}.explode",
        "outcome": "failure",
        "exception": "builtins.KeyError",
    }
    assert "secret detail" not in str(entry.metadata) + entry.description


@pytest.mark.django_db(transaction=True)
def test_async_function(audit_on):
    assert inspect.iscoroutinefunction(async_work)
    assert asyncio.run(async_work(21)) == 42
    with pytest.raises(ValueError, match="no"):
        asyncio.run(async_explode())
    close_thread_connections()
    assert [e.metadata["outcome"] for e in entries()] == ["success", "failure"]
    assert entries()[1].metadata["exception"] == "builtins.ValueError"


def test_method_with_request_gives_user_and_ip(audit_on, alice):
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.8")
    request.user = alice
    assert Service().run(request, 5) == 5
    (entry,) = entries()
    assert (entry.user_id, entry.ip_address) == (alice.pk, "198.51.100.8")


def test_request_keyword(audit_on, alice):
    @audited(event_type="DATA", action="CUSTOM")
    def handler(*, request):
        return "ok"

    request = RequestFactory().get("/")
    request.user = alice
    handler(request=request)
    assert entries()[0].user_id == alice.pk


def test_disabled_writes_nothing_and_still_returns(settings):
    settings.ICV_CORE_AUDIT_ENABLED = False
    assert archive(2, 3) == {"sum": 5}
    with pytest.raises(KeyError):
        explode()
    assert AuditEntry.objects.count() == 0


def test_generators_are_refused():
    with pytest.raises(TypeError, match="cannot wrap generator functions"):

        @audited(event_type="DATA", action="CUSTOM")
        def gen():
            yield 1


def test_bad_metadata_fails_at_decoration_time():
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        audited(event_type="DATA", action="CUSTOM", metadata={"s": {1}})


@pytest.mark.urls(URLS)
def test_function_view(client, audit_on, alice):
    client.force_login(alice)
    assert client.get("/audited/", REMOTE_ADDR="198.51.100.9").content == b"ok"
    assert client.get("/audited/", {"fail": "1"}).status_code == 403
    rows = entries(action="CUSTOM")
    assert [(e.description, e.metadata["outcome"], e.user_id) for e in rows] == [
        ("function view", "success", alice.pk),
        ("function view", "failure", alice.pk),
    ]
    assert rows[0].ip_address == "198.51.100.9"
    assert rows[1].metadata["exception"] == (
        f"{PermissionDenied.__module__}.PermissionDenied"
    )


@pytest.mark.urls(URLS)
def test_class_based_view(client, audit_on, alice):
    client.force_login(alice)
    assert client.get("/audited-class/").content == b"class ok"
    (entry,) = entries(action="CUSTOM")
    assert (entry.description, entry.user_id) == ("class view", alice.pk)
    assert entry.metadata["function"] == "django.views.generic.base.View.dispatch"


@pytest.mark.urls(URLS)
def test_anonymous_request_is_not_an_error(client, audit_on):
    assert client.get("/audited/").content == b"ok"
    assert entries()[0].user_id is None


@pytest.mark.urls(URLS)
@pytest.mark.django_db(transaction=True)
def test_async_view(async_client, audit_on):
    response = asyncio.run(async_client.get("/audited-async/"))
    close_thread_connections()
    assert response.content == b"async ok"
    (entry,) = entries()
    assert (entry.description, entry.metadata["outcome"]) == ("async view", "success")

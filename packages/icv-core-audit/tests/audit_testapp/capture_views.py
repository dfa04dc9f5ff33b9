"""Views and an admin site used by the capture tests (urlconf ``capture_urls``)."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.contrib import admin
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.decorators import method_decorator
from django.views import View

from audit_testapp.models import Contract, Customer
from icv_core.audit.decorators import audited
from icv_core.audit.middleware import get_audit_context
from icv_core.audit.services import log_event


def _context_json() -> dict:
    context = get_audit_context()
    user = context.get("user")
    return {
        "ip_address": context.get("ip_address"),
        "user_agent": context.get("user_agent"),
        "request_id": context.get("request_id"),
        "user": None if user is None else user.get_username(),
    }


def context_view(request):
    return JsonResponse(_context_json())


def log_view(request):
    entry = log_event("SYSTEM", "CUSTOM", description="from a view")
    return JsonResponse({"pk": str(entry.pk) if entry else None})


def create_contract_view(request):
    contract = Contract.objects.create(title="from a request", value="2.00")
    return JsonResponse({"pk": str(contract.pk)})


def denied_view(request):
    """Logs PERMISSION_DENIED, then raises: the view's transaction rolls back."""
    Customer.objects.create(name="rolled back")
    log_event("SECURITY", "PERMISSION_DENIED", description="denied")
    raise PermissionDenied


def security_ok_view(request):
    """Logs a security event in a transaction that commits."""
    Customer.objects.create(name="kept")
    log_event("SECURITY", "PERMISSION_DENIED", description="kept")
    return HttpResponse("ok")


def failed_login_view(request):
    """A login that fails and a view that then raises (ATOMIC_REQUESTS rollback)."""
    user = authenticate(request, username=request.POST.get("username"), password="x")
    assert user is None
    Customer.objects.create(name="rolled back")
    raise PermissionDenied


def data_then_fail_view(request):
    """A tracked change and then an error: both roll back together."""
    Contract.objects.create(title="doomed", value="1.00")
    raise PermissionDenied


# ASGI isolation: each request waits until the other one has started, so the
# two are in flight at the same time when they read their context.
BARRIER: dict[str, asyncio.Event] = {}


async def overlapping_view(request):
    me, other = request.GET["me"], request.GET["other"]
    BARRIER.setdefault(me, asyncio.Event()).set()
    await asyncio.wait_for(BARRIER.setdefault(other, asyncio.Event()).wait(), 5)
    await asyncio.sleep(0)
    # The user is read lazily through the session: a sync (DB) operation.
    return JsonResponse(await sync_to_async(_context_json)())


@audited(event_type="DATA", action="CUSTOM", description="function view")
def audited_function_view(request):
    if request.GET.get("fail"):
        raise PermissionDenied
    return HttpResponse("ok")


@method_decorator(
    audited(event_type="DATA", action="CUSTOM", description="class view"),
    name="dispatch",
)
class AuditedClassView(View):
    def get(self, request):
        return HttpResponse("class ok")


@audited(event_type="DATA", action="CUSTOM", description="async view")
async def audited_async_view(request):
    await asyncio.sleep(0)
    return HttpResponse("async ok")


site = admin.AdminSite(name="capture_admin")
site.register(Customer)
site.register(get_user_model())


def stream_view(request):
    """Logs an event while the response streams (after the view returned)."""

    def chunks():
        yield b"start|"
        entry = log_event("SYSTEM", "CUSTOM", description="while streaming")
        yield entry.request_id.encode()

    return StreamingHttpResponse(chunks())


async def async_stream_view(request):
    async def chunks():
        yield b"start|"
        entry = await sync_to_async(log_event)(
            "SYSTEM", "CUSTOM", description="while streaming (async)"
        )
        yield entry.request_id.encode()

    return StreamingHttpResponse(chunks())

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse

from icv_core.middleware import get_current_request, get_current_user

#: Events the ASGI isolation test installs so two requests overlap.
GATES: dict[str, Any] = {}


class HeaderUser:
    """A stand-in authenticated user named by the X-User header."""

    is_authenticated = True

    def __init__(self, username: str) -> None:
        self.username = username


class HeaderUserMiddleware:
    """Test-only authentication: request.user from the X-User header."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        name = request.headers.get("X-User")
        if name:
            request.user = HeaderUser(name)
        return self.get_response(request)


class AsyncHeaderUserMiddleware:
    """HeaderUserMiddleware that is also async capable (an all-async chain)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        name = request.headers.get("X-User")
        if name:
            request.user = HeaderUser(name)
        return self.get_response(request)


def _name() -> str | None:
    user = get_current_user()
    return getattr(user, "username", None)


async def overlapping(request: HttpRequest) -> JsonResponse:
    me = request.headers["X-User"]
    other = "bob" if me == "alice" else "alice"
    before = _name()
    GATES[me].set()
    await GATES[other].wait()
    await asyncio.sleep(0)
    return JsonResponse({"before": before, "after": _name()})


def sync_whoami(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"user": _name(), "same_request": get_current_request() is request}
    )


def streaming(request: HttpRequest) -> StreamingHttpResponse:
    def chunks() -> Any:
        yield (_name() or "-").encode()
        yield b"|"
        yield (_name() or "-").encode()

    return StreamingHttpResponse(chunks())


async def async_streaming(request: HttpRequest) -> StreamingHttpResponse:
    """Two overlapping streams: each chunk after the view returned names its user."""
    me = request.headers["X-User"]
    other = "bob" if me == "alice" else "alice"

    async def chunks() -> Any:
        yield (_name() or "-").encode()
        GATES[me].set()
        await GATES[other].wait()
        await asyncio.sleep(0)
        yield b"|"
        yield (_name() or "-").encode()

    return StreamingHttpResponse(chunks())


def boom(request: HttpRequest) -> JsonResponse:
    raise RuntimeError("boom")


def create_document(request: HttpRequest) -> JsonResponse:
    from models_testapp.models import Document

    document = Document.objects.create(name="from a view")
    return JsonResponse({"created_by": document.created_by_id})

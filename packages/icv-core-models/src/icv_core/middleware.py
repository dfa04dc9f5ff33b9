"""The current request and user, for code that has no request at hand.

The request lives in a :class:`contextvars.ContextVar`, so every request
(thread, asyncio task) sees its own, under WSGI and ASGI alike.

``MIDDLEWARE`` must list :class:`CurrentUserMiddleware` after
``django.contrib.auth.middleware.AuthenticationMiddleware`` (system check
``icv_core.E005``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

__all__ = [
    "CurrentUserMiddleware",
    "acting_as",
    "get_current_request",
    "get_current_user",
]

_current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "icv_core_current_request", default=None
)
_UNSET: Any = object()
_acting_user: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "icv_core_acting_user", default=_UNSET
)


def _authenticated(user: Any) -> Any:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def get_current_request() -> HttpRequest | None:
    """The request being handled in this context, or None."""
    return _current_request.get()


def get_current_user() -> Any:
    """The authenticated user of this context, or None.

    Inside :func:`acting_as` that user; otherwise ``request.user`` of the
    current request, read now (so a user authenticated later, for example
    by DRF in the view, is seen). None outside a request and for anonymous
    users.
    """
    acting = _acting_user.get()
    if acting is not _UNSET:
        return _authenticated(acting)
    request = _current_request.get()
    if request is None:
        return None
    return _authenticated(getattr(request, "user", None))


@contextmanager
def acting_as(user: Any) -> Iterator[Any]:
    """Make ``user`` the current user inside the block (commands, workers).

    Nests; the previous user is restored on exit, also on exceptions.
    ``acting_as(None)`` means "no user" inside the block, even in a request.
    """
    token = _acting_user.set(user)
    try:
        yield user
    finally:
        _acting_user.reset(token)


class CurrentUserMiddleware:
    """Keep the request in a context variable while it is handled.

    Sync and async capable. The previous value is put back in ``finally``,
    also when the view raises; for streaming responses, once the response
    is closed (after the last chunk was sent).
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        previous = _current_request.get()
        _current_request.set(request)
        deferred = False
        try:
            response = self.get_response(request)
            deferred = self._defer_reset(response, previous)
            return response
        finally:
            if not deferred:
                _current_request.set(previous)

    async def __acall__(self, request: HttpRequest) -> Any:
        previous = _current_request.get()
        _current_request.set(request)
        deferred = False
        try:
            response = await self.get_response(request)
            deferred = self._defer_reset(response, previous)
            return response
        finally:
            if not deferred:
                _current_request.set(previous)

    @staticmethod
    def _defer_reset(response: Any, previous: HttpRequest | None) -> bool:
        """For a streaming response, reset when it is closed instead of now."""
        if not isinstance(response, HttpResponseBase) or not getattr(
            response, "streaming", False
        ):
            return False

        def reset() -> None:
            _current_request.set(previous)

        # Django calls these closers from HttpResponseBase.close(), which the
        # WSGI server and the ASGI handler call after the last chunk.
        response._resource_closers.append(reset)  # type: ignore[attr-defined]
        return True

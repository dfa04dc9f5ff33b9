"""Per-request audit context: client IP, user agent, request id, request user.

The context lives in a :class:`contextvars.ContextVar`, so concurrent requests
under ASGI (and sync views run in a thread by ``sync_to_async``) each see their
own; it is reset in ``finally`` even when the view raises.

Add the middleware after ``AuthenticationMiddleware``::

    MIDDLEWARE = [
        ...,
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "icv_core.audit.middleware.AuditRequestMiddleware",
    ]

It also makes security events survive the rollback of the request's
transaction (``ATOMIC_REQUESTS``): see :mod:`icv_core.audit.services`.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase

from icv_core.audit import _request

logger = logging.getLogger("icv_core.audit")


@dataclass(eq=False)
class AuditContext:
    """What the middleware captured for the current request."""

    request: Any
    ip_address: str | None
    user_agent: str
    request_id: str
    #: Security entries written inside a transaction during this request; the
    #: middleware writes them again if that transaction rolled back.
    pending: list[Any] = field(default_factory=list)

    @property
    def user(self) -> Any:
        """The request's user, read lazily (authentication may happen in the
        view, e.g. DRF token auth); None when anonymous or unknown."""
        user = getattr(self.request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return user


_audit_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "icv_core_audit_context", default=None
)


def current_context() -> AuditContext | None:
    """The context object of the current request, or None outside one."""
    return _audit_context.get()


def get_audit_context() -> dict[str, Any]:
    """The current request's audit context as a dict, ``{}`` outside a request.

    Keys: ``ip_address``, ``user_agent``, ``request_id``, ``user`` (None when
    anonymous). The capture settings are applied when an entry is written,
    not here.
    """
    context = _audit_context.get()
    if context is None:
        return {}
    return {
        "ip_address": context.ip_address,
        "user_agent": context.user_agent,
        "request_id": context.request_id,
        "user": context.user,
    }


def _begin(request: HttpRequest) -> contextvars.Token[AuditContext | None]:
    values = _request.request_values(request)
    context = AuditContext(
        request=request,
        ip_address=values["ip_address"],
        user_agent=values["user_agent"],
        request_id=values["request_id"],
    )
    return _audit_context.set(context)


def _finish(context: AuditContext | None) -> None:
    """Write back security entries whose transaction rolled back."""
    if context is None or not context.pending:
        return
    pending, context.pending = context.pending, []
    from icv_core.audit.services import _flush_pending

    try:
        _flush_pending(pending)
    except Exception:
        # Never replace the response (or the view's exception) with ours.
        logger.exception("icv_core.audit: could not write deferred security entries")


def _defer_until_closed(response: Any, previous: AuditContext | None) -> bool:
    """For a streaming response, keep the context until it is closed."""
    if not isinstance(response, HttpResponseBase) or not getattr(
        response, "streaming", False
    ):
        return False
    deferred = _audit_context.get()

    def close() -> None:
        # Entries written while streaming carry the request's IP, user agent
        # and request id. ``set`` rather than a token reset: under ASGI the
        # closer runs in a copy of the request's context. The context closed
        # is this request's, whatever the variable holds by now.
        try:
            _finish(deferred)
        finally:
            _audit_context.set(previous)

    # Django calls these from HttpResponseBase.close(), which the WSGI server
    # and the ASGI handler call after the last chunk.
    response._resource_closers.append(close)  # type: ignore[attr-defined]
    return True


class AuditRequestMiddleware:
    """Capture the audit context of each request (sync and async).

    The context is reset when the view returns or raises; for a streaming
    response, when the response is closed after its last chunk.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self.__acall__(request)
        previous = _audit_context.get()
        token = _begin(request)
        deferred = False
        try:
            response = self.get_response(request)
            deferred = _defer_until_closed(response, previous)
            return response
        finally:
            context = _audit_context.get()
            try:
                _finish(context)
            finally:
                if not deferred:
                    _audit_context.reset(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        previous = _audit_context.get()
        token = _begin(request)
        deferred = False
        try:
            response = await self.get_response(request)  # type: ignore[misc]
            deferred = _defer_until_closed(response, previous)
            return response
        finally:
            context = _audit_context.get()
            try:
                if context is not None and context.pending:
                    await sync_to_async(_finish, thread_sensitive=True)(context)
            finally:
                if not deferred:
                    _audit_context.reset(token)

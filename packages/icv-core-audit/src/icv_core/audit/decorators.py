"""``@audited``: record each call of a function or view and its outcome."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.http import HttpRequest

__all__ = ["audited"]

logger = logging.getLogger("icv_core.audit")

F = TypeVar("F", bound=Callable[..., Any])


def _find_request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> HttpRequest | None:
    request = kwargs.get("request")
    if isinstance(request, HttpRequest):
        return request
    # Function views get the request first; methods (and views decorated with
    # method_decorator, which binds self) get it second.
    for candidate in args[:2]:
        if isinstance(candidate, HttpRequest):
            return candidate
    return None


def _record_failure(
    record: Callable[..., None], request: Any, error: Exception
) -> None:
    # The caller's exception is what matters: an audit write that fails now
    # (e.g. in a transaction that exception aborted) is logged, not raised.
    try:
        record(request, error)
    except Exception:
        logger.exception(
            "icv_core.audit: could not record the failure of an @audited call"
        )


def audited(
    event_type: str,
    action: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """Record an audit entry after each call of the decorated function.

    Works on sync and ``async def`` functions, methods, function views and
    class-based views (``@method_decorator(audited(...), name="dispatch")``).
    The entry is written after the call returns or raises: its metadata has
    ``outcome`` (``"success"``/``"failure"``), ``function`` (qualified name)
    and, on failure, ``exception`` (the exception class, never its message,
    which may hold personal data). The return value and the exception pass
    through unchanged. Arguments and return values are not recorded. The
    request (positional or ``request=``) supplies the user, IP and user agent.
    Nothing is written while ``ICV_CORE_AUDIT_ENABLED`` is off.
    """
    from icv_core.audit._serialize import metadata as check_metadata

    if metadata is not None:
        # Fail at decoration time, not on the first call.
        check_metadata(metadata)

    def decorator(func: F) -> F:
        name = f"{func.__module__}.{func.__qualname__}"
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                "@audited cannot wrap generator functions: the outcome is only "
                "known when the generator is exhausted."
            )

        def record(request: HttpRequest | None, error: BaseException | None) -> None:
            from icv_core.audit.services import log_event

            data = dict(metadata or {})
            data["function"] = name
            data["outcome"] = "failure" if error is not None else "success"
            if error is not None:
                data["exception"] = (
                    f"{type(error).__module__}.{type(error).__qualname__}"
                )
            log_event(
                event_type=event_type,
                action=action,
                description=description or name,
                metadata=data,
                request=request,
            )

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                request = _find_request(args, kwargs)
                try:
                    result = await func(*args, **kwargs)
                except Exception as exc:
                    await sync_to_async(_record_failure)(record, request, exc)
                    raise
                await sync_to_async(record)(request, None)
                return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = _find_request(args, kwargs)
            try:
                result = func(*args, **kwargs)
            except Exception as exc:
                _record_failure(record, request, exc)
                raise
            record(request, None)
            return result

        return wrapper  # type: ignore[return-value]

    return decorator

"""Receivers connected when the audit app is ready.

Auth signals (``user_logged_in``, ``user_logged_out``, ``user_login_failed``)
are always connected; each receiver checks ``ICV_CORE_AUDIT_ENABLED`` when it
runs, so switching audit on or off takes effect without a restart. A failure
to write the entry never breaks login or logout, whatever
``ICV_CORE_AUDIT_ON_FAILURE`` says: it is logged and recorded as a SystemAlert
("Audit entry could not be written").

Entries:

* login: AUTHENTICATION/LOGIN, the user, ``"User <username> logged in."``;
* logout: AUTHENTICATION/LOGOUT, also when Django sends ``user=None``
  (logging out an anonymous session: no user, ``"Anonymous session logged
  out."``);
* failed login: SECURITY/LOGIN_FAILED, no user, the attempted identifier read
  under the user model's ``USERNAME_FIELD`` in metadata
  (``{"username_field": ..., "attempted_username": ...}``), bounded to 150
  characters with control characters escaped. The password is never read.
  Security entries survive a rolled-back request when
  :class:`~icv_core.audit.middleware.AuditRequestMiddleware` is installed.

Model tracking receivers (:mod:`icv_core.audit._tracking`) and the admin
activity bridge (:mod:`icv_core.audit._admin_activity`) are connected here too.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)

from icv_core.audit import _admin_activity, _tracking
from icv_core.audit._text import safe_text
from icv_core.audit.conf import settings

logger = logging.getLogger("icv_core.audit")

_IDENTIFIER_MAX = 150


def _safely(what: str, func: Any, *args: Any, **kwargs: Any) -> None:
    try:
        func(*args, **kwargs)
    except Exception:
        logger.exception("icv_core.audit: could not record %s", what)


def _username(user: Any) -> str:
    try:
        return safe_text(user.get_username(), _IDENTIFIER_MAX)
    except Exception:
        return ""


def _write(
    event_type: str,
    action: str,
    user: Any,
    description: str,
    metadata: dict[str, Any],
    request: Any,
) -> None:
    from django.db import router, transaction

    from icv_core.audit import services
    from icv_core.audit.models import AuditEntry

    # The user is exactly the one Django names (never request.user: after a
    # logout that is already anonymous, before a login not yet the user).
    entry = services.build_entry(
        event_type,
        action,
        user=services._real_user(user),
        description=description,
        metadata=metadata,
        request_values=services.request_fields(request),
    )
    using = router.db_for_write(AuditEntry) or "default"
    # A savepoint: whatever happens to this write, the login/logout request's
    # own transaction stays usable.
    try:
        with transaction.atomic(using=using):
            services.write_entry(entry, using)
    except Exception as exc:
        # Login and logout never fail for the audit trail, under either
        # policy; the lost entry is logged and recorded as a SystemAlert.
        services._record_lost([entry], exc, using)


def log_login(
    sender: Any, request: Any = None, user: Any = None, **kwargs: Any
) -> None:
    """AUTHENTICATION/LOGIN for ``user_logged_in``."""
    if not settings.AUDIT_ENABLED:
        return
    _safely(
        "a login",
        _write,
        "AUTHENTICATION",
        "LOGIN",
        user,
        f"User {_username(user)} logged in.",
        {},
        request,
    )


def log_logout(
    sender: Any, request: Any = None, user: Any = None, **kwargs: Any
) -> None:
    """AUTHENTICATION/LOGOUT for ``user_logged_out`` (``user`` may be None)."""
    if not settings.AUDIT_ENABLED:
        return
    if user is not None and getattr(user, "is_authenticated", False):
        description = f"User {_username(user)} logged out."
    else:
        user = None
        description = "Anonymous session logged out."
    _safely(
        "a logout", _write, "AUTHENTICATION", "LOGOUT", user, description, {}, request
    )


def attempted_identifier(credentials: Any) -> tuple[str, str]:
    """``(USERNAME_FIELD, bounded attempted value)`` from login credentials.

    Only the user model's ``USERNAME_FIELD`` (falling back to ``"username"``)
    is read; the password and every other credential are ignored.
    """
    field = getattr(get_user_model(), "USERNAME_FIELD", "username") or "username"
    value: Any = None
    if isinstance(credentials, dict):
        value = credentials.get(field)
        if value is None and field != "username":
            value = credentials.get("username")
    return field, safe_text("" if value is None else value, _IDENTIFIER_MAX)


def log_login_failure(
    sender: Any, credentials: Any = None, request: Any = None, **kwargs: Any
) -> None:
    """SECURITY/LOGIN_FAILED for ``user_login_failed`` (no password stored)."""
    if not settings.AUDIT_ENABLED:
        return
    field, attempted = attempted_identifier(credentials)
    description = (
        f"Failed login attempt for {field} '{attempted}'."
        if attempted
        else "Failed login attempt (no identifier)."
    )
    _safely(
        "a failed login",
        _write,
        "SECURITY",
        "LOGIN_FAILED",
        None,
        description,
        {"username_field": field, "attempted_username": attempted},
        request,
    )


def connect() -> None:
    """Connect the auth, model-tracking and admin-activity receivers.

    Idempotent: every receiver has a ``dispatch_uid``. Called from the app's
    ``ready()``.
    """
    user_logged_in.connect(log_login, dispatch_uid="icv_core_audit.log_login")
    user_logged_out.connect(log_logout, dispatch_uid="icv_core_audit.log_logout")
    user_login_failed.connect(
        log_login_failure, dispatch_uid="icv_core_audit.log_login_failure"
    )
    _tracking.connect_global()
    _admin_activity.connect()


connect()

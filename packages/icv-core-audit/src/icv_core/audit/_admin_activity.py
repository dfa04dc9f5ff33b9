"""Bridge from Django admin's ``LogEntry`` to :class:`AdminActivityLog`.

Every add, change and delete made through the admin creates ``LogEntry`` rows
(``ModelAdmin.log_addition/log_change/log_deletion(s)``). Single entries are
saved with ``save()`` and seen here through ``post_save``; Django 5.1+ writes
the entries of a bulk action (``delete_selected`` of N objects) with one
``bulk_create``, which sends no signal, so ``LogEntryManager.log_actions`` is
wrapped to record those (one bulk INSERT of N activity rows).

Each row has the admin user (and a username snapshot that survives the user's
deletion), the target object, ``action_type`` ``"add"``/``"change"``/``"delete"``,
the change message, and the IP address and user agent of the request
(:class:`~icv_core.audit.middleware.AuditRequestMiddleware`, or
``icv_core.middleware.CurrentUserMiddleware``'s current request). Written while
``ICV_CORE_AUDIT_ENABLED`` is on, by the ``ICV_CORE_AUDIT_ON_FAILURE`` policy.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from icv_core.audit._text import safe_text
from icv_core.audit.conf import settings

logger = logging.getLogger("icv_core.audit")

_ACTIONS = {1: "add", 2: "change", 3: "delete"}
_VERBS = {1: "Added", 2: "Changed", 3: "Deleted"}


def _request_values() -> dict[str, Any]:
    from icv_core.audit import services
    from icv_core.audit.middleware import current_context

    if current_context() is not None:
        return services.request_fields()
    try:
        from icv_core.middleware import get_current_request
    except ImportError:  # pragma: no cover
        return services.request_fields()
    return services.request_fields(get_current_request())


def _admin_user(user_id: Any) -> Any:
    from icv_core.audit import services

    user = services.resolve_user()
    if user is not None and user.pk == user_id:
        return user
    return None


def build(log_entry: Any, values: dict[str, Any], user: Any) -> Any:
    """An unsaved AdminActivityLog for one ``LogEntry``."""
    from django.contrib.contenttypes.models import ContentType

    from icv_core.audit.models import AdminActivityLog

    flag = log_entry.action_flag
    raw_message = log_entry.change_message or ""
    try:
        parsed = json.loads(raw_message) if raw_message.startswith("[") else raw_message
    except ValueError:
        parsed = raw_message
    label = ""
    if log_entry.content_type_id is not None:
        try:
            label = ContentType.objects.get_for_id(log_entry.content_type_id).model
        except ContentType.DoesNotExist:  # pragma: no cover
            label = ""
    verb = _VERBS.get(flag, "Changed")
    message = str(log_entry.get_change_message() or "")
    description = f"{verb} {label} \u201c{log_entry.object_repr}\u201d."
    if message and flag == 2:
        description = f"{description} {message}"
    row = AdminActivityLog(
        admin_user_id=log_entry.user_id,
        action_type=_ACTIONS.get(flag, "change"),
        description=safe_text(description, settings.AUDIT_MAX_DESCRIPTION_LENGTH),
        target_content_type_id=log_entry.content_type_id,
        target_object_id=log_entry.object_id,
        ip_address=values["ip_address"],
        user_agent=values["user_agent"],
        metadata={
            "object_repr": log_entry.object_repr,
            "change_message": parsed,
            "log_entry_id": log_entry.pk,
            "request_id": values["request_id"],
        },
    )
    if user is not None:
        row.admin_user = user
        row.admin_username = safe_text(user.get_username(), 150)
    return row


def record(log_entries: Sequence[Any], using: str) -> None:
    """Write one AdminActivityLog per LogEntry (one INSERT for several)."""
    if not log_entries or not settings.AUDIT_ENABLED:
        return
    from icv_core.audit import services
    from icv_core.audit.models import AdminActivityLog

    values = _request_values()
    user = _admin_user(log_entries[0].user_id)
    rows = [build(entry, values, user) for entry in log_entries]

    def insert() -> None:
        if len(rows) == 1:
            rows[0].save(using=using)
        else:
            AdminActivityLog.objects.using(using).bulk_create(rows)

    if services._failure_policy() == "alert":
        try:
            with transaction.atomic(using=using):
                insert()
        except Exception as exc:
            logger.error(
                "icv_core.audit: %d admin activity row(s) lost: %s",
                len(rows),
                type(exc).__name__,
                exc_info=exc,
            )
            try:
                with transaction.atomic(using=using):
                    services.raise_alert(
                        alert_type="system",
                        severity="error",
                        title="Admin activity could not be written",
                        message=(
                            f"{len(rows)} admin activity row(s) lost: "
                            f"{type(exc).__name__}."
                        ),
                        metadata={"error": type(exc).__name__, "count": len(rows)},
                        using=using,
                    )
            except Exception:
                logger.exception(
                    "icv_core.audit: could not raise the lost-activity alert"
                )
    else:
        insert()


def on_log_entry_saved(
    sender: Any,
    instance: Any,
    created: bool,
    raw: bool = False,
    using: str = "default",
    **kwargs: Any,
) -> None:
    if created and not raw:
        record([instance], using)


_WRAPPED = "_icv_audit_wrapped"


def _wrap_log_actions() -> None:
    from django.contrib.admin.models import LogEntryManager

    original = getattr(LogEntryManager, "log_actions", None)
    if original is None or getattr(original, _WRAPPED, False):
        return  # Django < 5.1 has no bulk path: post_save sees every entry.

    def log_actions(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        # One entry is saved with save() (post_save recorded it); several are
        # written with bulk_create, which sends no signal.
        if isinstance(result, list) and len(result) > 1:
            record(result, self.db)
        return result

    setattr(log_actions, _WRAPPED, True)
    log_actions.__doc__ = original.__doc__
    log_actions.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(LogEntryManager, "log_actions", log_actions)  # noqa: B010


def connect() -> None:
    """Connect the bridge if ``django.contrib.admin`` is installed."""
    from django.apps import apps

    if not apps.is_installed("django.contrib.admin"):
        return
    from django.contrib.admin.models import LogEntry

    post_save.connect(
        on_log_entry_saved,
        sender=LogEntry,
        dispatch_uid="icv_core_audit.admin_activity",
    )
    _wrap_log_actions()

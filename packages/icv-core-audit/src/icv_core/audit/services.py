"""Write audit entries and raise/resolve system alerts.

Transactions
------------
An entry is written on the same database alias as the change it records and
inside the caller's transaction, so both commit or roll back together. When
the write fails, ``ICV_CORE_AUDIT_ON_FAILURE`` decides:

* ``"raise"`` (default): the exception propagates, so the tracked change fails
  loudly (``AuditMixin`` saves run the change and its entry in one atomic
  block, so the change is rolled back with it).
* ``"alert"``: the entry is written inside a savepoint; on failure only the
  savepoint is rolled back, the caller's transaction stays usable, the change
  goes through and a :class:`~icv_core.audit.models.SystemAlert` (type
  ``system``, severity ``error``) records the lost entry.

Security events (event type ``SECURITY``, e.g. a failed login or a denied
permission) must outlive a rolled-back request (``ATOMIC_REQUESTS = True``):
when one is written inside a transaction during a request handled by
:class:`~icv_core.audit.middleware.AuditRequestMiddleware`, the middleware,
which runs outside the view's transaction, writes it again (same id and
timestamp) if that transaction did not commit. Without the middleware such an
entry follows the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from icv_core.audit import _request, _serialize
from icv_core.audit._text import safe_text
from icv_core.audit.conf import settings
from icv_core.audit.middleware import current_context

logger = logging.getLogger("icv_core.audit")

__all__ = ["log_event", "raise_alert", "resolve_alert"]

_USERNAME_MAX = 150
#: Bound of the event type / action quoted in a lost-entry log line and alert.
_LOST_TEXT_MAX = 100


# ---------------------------------------------------------------------------
# Building entries
# ---------------------------------------------------------------------------


def _failure_policy() -> str:
    policy = settings.AUDIT_ON_FAILURE
    if policy not in ("raise", "alert"):
        raise ImproperlyConfigured(
            f'ICV_CORE_AUDIT_ON_FAILURE must be "raise" or "alert", not {policy!r}.'
        )
    return policy


def _real_user(user: Any) -> Any:
    """The user if it is an authenticated, saved user; None otherwise."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "pk", None) is None:
        return None
    return user


def resolve_user(user: Any = None, request: Any = None) -> Any:
    """The acting user: explicit, else the request's, else the current user
    (:func:`icv_core.middleware.get_current_user`), else the audit context's.
    Anonymous users give None."""
    if user is not None:
        return _real_user(user)
    if request is not None:
        return _real_user(getattr(request, "user", None))
    from icv_core.middleware import get_current_user

    current = _real_user(get_current_user())
    if current is not None:
        return current
    context = current_context()
    return None if context is None else context.user


def request_fields(request: Any = None) -> dict[str, Any]:
    """``ip_address``, ``user_agent`` and ``request_id`` for an entry, from
    ``request`` or the current audit context, with the capture settings
    (read now) applied."""
    context = current_context()
    if request is not None and (context is None or context.request is not request):
        values = _request.request_values(request)
    elif context is not None:
        values = {
            "ip_address": context.ip_address,
            "user_agent": context.user_agent,
            "request_id": context.request_id,
        }
    else:
        return {"ip_address": None, "user_agent": "", "request_id": ""}
    return {
        "ip_address": values["ip_address"] if settings.AUDIT_CAPTURE_IP else None,
        "user_agent": values["user_agent"] if settings.AUDIT_CAPTURE_USER_AGENT else "",
        "request_id": values["request_id"],
    }


def content_type_for(
    model: type[Model] | Model, using: str | None = None
) -> ContentType:
    """The (cached) content type of a model, looked up on ``using``."""
    manager = ContentType.objects.db_manager(using) if using else ContentType.objects
    return manager.get_for_model(model)


def _check_target(target: Any, name: str = "target") -> None:
    if target is None:
        return
    if not isinstance(target, Model):
        raise TypeError(
            f"{name} must be a model instance, not {type(target).__name__}."
        )
    if target.pk is None:
        raise ValueError(f"{name} must be saved (it has no primary key).")


def _target_fields(target: Any, using: str | None) -> dict[str, Any]:
    if target is None:
        return {"target_content_type": None, "target_object_id": None}
    _check_target(target)
    return {
        "target_content_type": content_type_for(target, using),
        "target_object_id": str(target.pk),
    }


def build_entry(
    event_type: str,
    action: str,
    *,
    user: Any,
    target_content_type: ContentType | None = None,
    target_object_id: str | None = None,
    description: str | Promise = "",
    metadata: dict[str, Any] | None = None,
    request_values: dict[str, Any] | None = None,
) -> Any:
    """An unsaved :class:`AuditEntry` (user already resolved, metadata native)."""
    from icv_core.audit.models import AuditEntry

    values = request_values if request_values is not None else request_fields()
    entry = AuditEntry(
        event_type=str(event_type),
        action=str(action),
        user=user,
        username=safe_text(user.get_username(), _USERNAME_MAX)
        if user is not None
        else "",
        ip_address=values["ip_address"],
        user_agent=values["user_agent"],
        request_id=values["request_id"] or "",
        target_content_type=target_content_type,
        target_object_id=target_object_id,
        description=safe_text(description, settings.AUDIT_MAX_DESCRIPTION_LENGTH),
        metadata=metadata if metadata is not None else {},
    )
    return entry


# ---------------------------------------------------------------------------
# Writing entries
# ---------------------------------------------------------------------------


def write_entry(entry: Any, using: str) -> Any:
    """Insert one entry on ``using`` by the failure policy; None if it was lost."""
    if _failure_policy() == "alert":
        try:
            with transaction.atomic(using=using):
                entry.save(using=using)
        except Exception as exc:
            _record_lost([entry], exc, using)
            return None
    else:
        entry.save(using=using)
    _keep_if_rolled_back([entry], using)
    return entry


def write_entries(entries: Sequence[Any], using: str) -> list[Any]:
    """Insert entries with one bulk INSERT by the failure policy.

    Sends ``audit_entry_created`` once per entry with ``bulk=True``.
    """
    from icv_core.audit.models import AuditEntry

    if not entries:
        return []
    if _failure_policy() == "alert":
        try:
            with transaction.atomic(using=using):
                created = AuditEntry.objects.using(using).bulk_create(entries)
        except Exception as exc:
            _record_lost(entries, exc, using)
            return []
    else:
        created = AuditEntry.objects.using(using).bulk_create(entries)
    # bulk_create() sent audit_entry_created once per entry, with bulk=True.
    _keep_if_rolled_back(created, using)
    return created


def _record_lost(entries: Sequence[Any], exc: BaseException, using: str) -> None:
    """Fail-open path: log and raise an alert for entries that were not written."""
    first = entries[0]
    # The event type and action may be anything the caller passed (that is
    # often why the write failed): escape and bound them for the log line and
    # the alert, which must not fail on a NUL, a lone surrogate or a huge value.
    event_type = safe_text(first.event_type, _LOST_TEXT_MAX)
    action = safe_text(first.action, _LOST_TEXT_MAX)
    logger.error(
        "icv_core.audit: %d audit entr%s lost (%s/%s): %s",
        len(entries),
        "y" if len(entries) == 1 else "ies",
        event_type,
        action,
        type(exc).__name__,
        exc_info=exc,
    )
    try:
        with transaction.atomic(using=using):
            raise_alert(
                alert_type="system",
                severity="error",
                title="Audit entry could not be written",
                message=(
                    f"{len(entries)} audit entr{'y' if len(entries) == 1 else 'ies'} "
                    f"({event_type}/{action}) could not be written: "
                    f"{type(exc).__name__}."
                ),
                metadata={
                    "event_type": event_type,
                    "action": action,
                    "count": len(entries),
                    "error": type(exc).__name__,
                    "target_object_ids": [e.target_object_id for e in entries[:100]],
                },
                using=using,
            )
    except Exception:
        logger.exception("icv_core.audit: could not raise the lost-audit alert")


def _keep_if_rolled_back(entries: Iterable[Any], using: str) -> None:
    """Queue security entries written in a transaction during a request, so
    the middleware can write them again if that transaction rolls back."""
    context = current_context()
    if context is None:
        return
    connection = connections[using]
    if not connection.in_atomic_block:
        return
    for entry in entries:
        if entry.event_type != "SECURITY":
            continue
        state = {"committed": False}

        def committed(state: dict[str, bool] = state) -> None:
            state["committed"] = True

        transaction.on_commit(committed, using=using)
        context.pending.append((entry, using, committed, state))


def _flush_pending(pending: list[Any]) -> None:
    """Re-write security entries whose transaction did not commit."""
    from icv_core.audit.models import AuditEntry, _announce
    from icv_core.audit.signals import audit_entry_created

    for entry, using, callback, state in pending:
        if state["committed"]:
            continue
        connection = connections[using]
        if any(item[1] is callback for item in connection.run_on_commit):
            # Still part of an open outer transaction: not rolled back (yet).
            continue
        entry._state.adding = True
        entry._state.db = None
        try:
            with transaction.atomic(using=using):
                # The parent's save: the row only, announced below once it is
                # committed, so a raising receiver cannot undo it.
                super(AuditEntry, entry).save(using=using)
        except IntegrityError:
            # Already there (e.g. the transaction committed after all).
            continue
        except Exception as exc:
            # One entry that cannot be written must not cost the others.
            _record_lost([entry], exc, using)
            continue
        _announce(
            audit_entry_created,
            "audit_entry_created",
            AuditEntry,
            [entry],
            rewritten=True,
        )


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def log_event(
    event_type: str,
    action: str,
    user: Any = None,
    target: Any = None,
    description: str | Promise = "",
    metadata: dict[str, Any] | None = None,
    request: Any = None,
) -> Any:
    """Record an audit entry; returns it, or None when audit is disabled.

    ``user`` defaults to the request's user, else the current user; anonymous
    users are recorded as None. ``target`` is any saved model instance (int or
    UUID pk). ``metadata`` must be JSON-serialisable with ``DjangoJSONEncoder``
    (dates become ISO 8601, Decimals and UUIDs strings); otherwise
    ``TypeError``/``ValueError`` is raised before anything is written, and
    sensitive keys (password, token, secret, api key, and
    ``ICV_CORE_AUDIT_SENSITIVE_FIELDS``) are masked. ``description`` and the
    user agent are bounded and their control characters escaped. The client
    IP follows the trusted-proxy rules of ``ICV_CORE_AUDIT_TRUSTED_PROXIES``.
    """
    if not settings.AUDIT_ENABLED:
        return None
    from icv_core.audit.models import AuditEntry

    _check_target(target)
    native = _serialize.metadata(metadata)
    using = router.db_for_write(AuditEntry, instance=target) or "default"
    target_values = _target_fields(target, using)
    entry = build_entry(
        event_type,
        action,
        user=resolve_user(user, request),
        description=description,
        metadata=native,
        request_values=request_fields(request),
        **target_values,
    )
    return write_entry(entry, using)


def raise_alert(
    alert_type: str,
    severity: str,
    title: str,
    message: str,
    metadata: dict[str, Any] | None = None,
    related_object: Any = None,
    *,
    using: str | None = None,
) -> Any:
    """Raise a :class:`SystemAlert`, or count a repeat of an identical open one.

    ``alert_type`` must be a :class:`SystemAlert.AlertType` value and
    ``severity`` one of ``ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS``
    (``ValueError`` otherwise). An open alert with the same type, severity,
    title and related object gets ``occurrences`` incremented (an atomic
    ``F()`` update) and ``last_seen_at`` set, and is returned instead of a new
    row. ``system_alert_raised`` is sent on both paths (``created=False`` on
    the repeat path). Not gated by ``ICV_CORE_AUDIT_ENABLED``. The title is
    bounded with its control characters escaped; in ``message``, NUL and lone
    surrogates are replaced with U+FFFD (the same on every backend).
    """
    from icv_core.audit.models import SystemAlert
    from icv_core.audit.signals import system_alert_raised

    if alert_type not in SystemAlert.AlertType.values:
        raise ValueError(
            f"Invalid alert_type {alert_type!r}; expected one of: "
            f"{', '.join(SystemAlert.AlertType.values)}."
        )
    levels = [str(level) for level in settings.AUDIT_ALERT_SEVERITY_LEVELS]
    if severity not in levels:
        raise ValueError(
            f"Invalid severity {severity!r}; expected one of: {', '.join(levels)} "
            "(ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS)."
        )
    if not title:
        raise ValueError("title is required.")
    title = safe_text(title, SystemAlert._meta.get_field("title").max_length)
    _check_target(related_object, "related_object")
    native = _serialize.metadata(metadata)
    using = using or router.db_for_write(SystemAlert) or "default"
    related = _target_fields(related_object, using)
    related_ct = related["target_content_type"]
    related_id = related["target_object_id"]
    fingerprint = SystemAlert.make_fingerprint(
        alert_type, severity, title, related_ct.pk if related_ct else None, related_id
    )
    manager = SystemAlert._default_manager.db_manager(using)
    for _attempt in range(3):
        now = timezone.now()
        open_alerts = manager.filter(fingerprint=fingerprint, is_resolved=False)
        if open_alerts.update(
            occurrences=F("occurrences") + 1, last_seen_at=now, updated_at=now
        ):
            alert = open_alerts.first()
            if alert is None:  # resolved between the two statements: raise anew
                continue
            system_alert_raised.send(sender=SystemAlert, instance=alert, created=False)
            return alert
        alert = SystemAlert(
            alert_type=alert_type,
            severity=severity,
            title=title,
            # NUL and lone surrogates become U+FFFD, as in metadata: PostgreSQL
            # refuses NUL in text, and both backends must store the same.
            message=_serialize._clean_string(str(message)),
            metadata=native,
            related_content_type=related_ct,
            related_object_id=related_id,
            fingerprint=fingerprint,
            last_seen_at=now,
        )
        try:
            # A concurrent identical raise may win the open-fingerprint unique
            # constraint; the savepoint keeps the caller's transaction usable.
            with transaction.atomic(using=using):
                alert.save(using=using)  # sends system_alert_raised
        except IntegrityError:
            continue
        return alert
    raise RuntimeError("Could not raise or count the alert after 3 attempts.")


def resolve_alert(alert: Any, resolved_by: Any, notes: str = "") -> Any:
    """Resolve an open alert and return it.

    Raises :class:`~icv_core.audit.models.AlertAlreadyResolvedError` (a
    ``ValueError``) when it is already resolved, including when another
    process resolved it first. Sends ``system_alert_resolved``.
    """
    from icv_core.audit.models import AlertAlreadyResolvedError, SystemAlert

    if not isinstance(alert, SystemAlert):
        raise TypeError(f"alert must be a SystemAlert, not {type(alert).__name__}.")
    if alert.is_resolved:
        raise AlertAlreadyResolvedError(
            _("Alert %(pk)s is already resolved.") % {"pk": alert.pk}
        )
    alert.resolve(resolved_by=_real_user(resolved_by), notes=notes)
    return alert

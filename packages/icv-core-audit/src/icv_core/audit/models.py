"""The audit models: AuditEntry, AdminActivityLog, SystemAlert, AuditArchive.

Tables and 0.2 compatibility
----------------------------
``AuditEntry``, ``AdminActivityLog`` and ``SystemAlert`` keep the table names,
columns and index names of django-icv-core 0.2/0.3 (where they lived in the
``icv_core`` app). Migration ``0001_initial`` creates exactly that layout and
the later migrations add the new columns and tables, so a database created by
0.2/0.3 is adopted with::

    python manage.py migrate icv_core_audit 0001 --fake-initial
    python manage.py migrate icv_core_audit

(a plain ``migrate --fake-initial`` does the same in one go). See
:mod:`icv_core.audit.migrations` for the full upgrade notes.

Immutability
------------
``AuditEntry`` and ``AdminActivityLog`` are append-only at every ORM door:

* ``instance.save()`` after the insert (also ``Model.save_base()`` and a base
  class ``save()``): :class:`icv_core.exceptions.ImmutableRecordError`;
* ``instance.delete()``, ``QuerySet.delete()``, collector deletes:
  :class:`django.db.models.ProtectedError`;
* ``QuerySet.update()``, ``bulk_update()``, ``update_or_create()`` on an
  existing row and ``bulk_create(update_conflicts=True)``:
  ``ImmutableRecordError``.

The base manager is the guarded manager (``Meta.base_manager_name``). The one
allowed change is the user reference becoming NULL when that user is deleted
(``on_delete=SET_NULL``); the username snapshot keeps the attribution. On
PostgreSQL a trigger installed by migration ``0003`` enforces the same rules
against raw SQL. The only sanctioned remover is :func:`_bypass_immutability`,
used by the archive command.

Signals
-------
``AuditEntry.save()`` sends ``audit_entry_created`` after the insert (as 0.2
did), ``SystemAlert.save()`` sends ``system_alert_raised`` after the insert and
``SystemAlert.resolve()`` sends ``system_alert_resolved``. Services that create
rows through ``save()``/``create()`` must not send them again.
``AuditEntry.objects.bulk_create()`` and ``SystemAlert.objects.bulk_create()``
send theirs once per row with ``bulk=True`` (a raising receiver is logged);
entries re-imported from an archive are not announced again.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings as django_settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, models, transaction
from django.db.models import Q
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from icv_core.audit._serialize import _clean_string
from icv_core.audit.conf import settings
from icv_core.exceptions import ImmutableRecordError
from icv_core.uuid import make_uuid

__all__ = [
    "AdminActivityLog",
    "AlertAlreadyResolvedError",
    "AuditArchive",
    "AuditEntry",
    "SystemAlert",
]

#: Name of the PostgreSQL setting that lets the trigger accept a DELETE. It is
#: only ever set with ``SET LOCAL`` (transaction-scoped) by
#: :func:`_bypass_immutability`.
BYPASS_GUC = "icv_core.audit_bypass"

# Aliases for which the ORM guards are lifted in the current context (thread /
# asyncio task). Set only by _bypass_immutability().
_bypass_aliases: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "icv_core_audit_bypass", default=frozenset()
)


def _bypass_active(using: str | None) -> bool:
    return (using or "default") in _bypass_aliases.get()


@contextlib.contextmanager
def _bypass_immutability(using: str = "default") -> Iterator[None]:
    """Allow deleting audit rows inside the current transaction (private).

    Only the archive command uses it, after the rows have been written to an
    archive and verified. It must run inside ``transaction.atomic(using=...)``:
    on PostgreSQL it issues ``SET LOCAL icv_core.audit_bypass = 'on'``, which
    the trigger honours for DELETE only and which ends with the transaction
    (and is switched off again when the block exits), so it never leaks into
    another transaction or session. The ORM guards are lifted for the same
    alias in the current context only.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "_bypass_immutability() must be used inside transaction.atomic()."
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {BYPASS_GUC} = 'on'")
    token = _bypass_aliases.set(_bypass_aliases.get() | {using})
    try:
        yield
    finally:
        _bypass_aliases.reset(token)
        if connection.vendor == "postgresql":
            # In an aborted transaction this fails; the rollback then discards
            # the SET LOCAL anyway.
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL {BYPASS_GUC} = 'off'")


# ---------------------------------------------------------------------------
# Guarded queryset / manager for the append-only models
# ---------------------------------------------------------------------------


class AppendOnlyQuerySet(models.QuerySet):
    """A queryset that refuses to change or remove rows.

    ``update()`` accepts exactly one change: setting the model's nullable user
    reference to ``None`` (what ``on_delete=SET_NULL`` does when the user is
    deleted).
    """

    def _nullable_user_field(self) -> str:
        return str(getattr(self.model, "_audit_user_field", "user"))

    def update(self, **kwargs: Any) -> int:
        if set(kwargs) == {self._nullable_user_field()} and all(
            value is None for value in kwargs.values()
        ):
            return super().update(**kwargs)
        raise ImmutableRecordError(
            f"{self.model.__name__} records are immutable and cannot be updated."
        )

    def _update(self, values: Any, *args: Any, **kwargs: Any) -> Any:
        # Reached by Model.save_base() for an existing row and by tricks that
        # skip update(); only the SET_NULL of the user is allowed.
        fields = {field.name for field, _model, _value in values}
        if fields == {self._nullable_user_field()} and all(
            value is None for _field, _model, value in values
        ):
            return super()._update(values, *args, **kwargs)  # type: ignore[misc]
        raise ImmutableRecordError(
            f"{self.model.__name__} records are immutable and cannot be updated."
        )

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> int:
        raise ImmutableRecordError(
            f"{self.model.__name__} records are immutable and cannot be updated."
        )

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if kwargs.get("update_conflicts"):
            raise ImmutableRecordError(
                f"{self.model.__name__} records are immutable: "
                "bulk_create(update_conflicts=True) is not allowed."
            )
        objs = list(objs)
        for obj in objs:
            obj._prepare_insert()
        return super().bulk_create(objs, *args, **kwargs)

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableRecordError(
            f"{self.model.__name__} records are immutable: "
            "update_or_create() is not allowed."
        )

    def delete(self) -> tuple[int, dict[str, int]]:
        if _bypass_active(self.db):
            return super().delete()
        raise models.ProtectedError(
            f"{self.model.__name__} records are immutable and cannot be deleted.",
            set(),
        )

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def _raw_delete(self, using: str | None) -> int:
        if _bypass_active(using):
            return super()._raw_delete(using)
        raise models.ProtectedError(
            f"{self.model.__name__} records are immutable and cannot be deleted.",
            set(),
        )


class AppendOnlyManager(models.Manager.from_queryset(AppendOnlyQuerySet)):  # type: ignore[misc]
    """Default and base manager of the append-only audit models."""


logger = logging.getLogger("icv_core.audit")


def _announce(
    signal: Any, name: str, sender: type[models.Model], objs: Any, **extra: Any
) -> None:
    """Send ``signal`` once per row (with ``extra``, e.g. ``bulk=True``); a
    receiver that raises is logged and undoes nothing."""
    for obj in objs:
        for receiver_, response in signal.send_robust(
            sender=sender, instance=obj, **extra
        ):
            if isinstance(response, Exception):
                logger.error(
                    "icv_core.audit: %s receiver %r raised %s",
                    name,
                    receiver_,
                    type(response).__name__,
                    exc_info=response,
                )


class AuditEntryQuerySet(AppendOnlyQuerySet):
    """Queryset of :class:`AuditEntry`.

    ``bulk_create()`` validates every entry and sends ``audit_entry_created``
    once per entry, with ``bulk=True``.
    """

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        created = super().bulk_create(objs, *args, **kwargs)
        from icv_core.audit.signals import audit_entry_created

        _announce(
            audit_entry_created, "audit_entry_created", self.model, created, bulk=True
        )
        return created

    def _insert_archived(self, objs: list[Any]) -> list[Any]:
        """Re-import archived entries: validated, not announced again."""
        return super().bulk_create(objs)

    def sealed(self) -> AuditEntryQuerySet:
        """Entries that are part of the hash chain."""
        return self.filter(sequence__isnull=False)

    def unsealed(self) -> AuditEntryQuerySet:
        """Entries written but not yet sealed into the chain."""
        return self.filter(sequence__isnull=True)


class AuditEntryManager(models.Manager.from_queryset(AuditEntryQuerySet)):  # type: ignore[misc]
    """Default and base manager of :class:`AuditEntry`."""


class _AppendOnlyModel(models.Model):
    """Shared behaviour of the append-only audit models (abstract, private)."""

    #: Name of the nullable user FK that may be set to NULL by SET_NULL.
    _audit_user_field = "user"

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError(
                f"{type(self).__name__} records are immutable and cannot be updated."
            )
        if kwargs.get("update_fields") is not None:
            raise ImmutableRecordError(
                f"{type(self).__name__} records are immutable and cannot be updated."
            )
        self._prepare_insert()
        # An explicit pk plus a default would make Django try an UPDATE first
        # for raw saves; inserting is the only thing an audit row may do.
        kwargs.setdefault("force_insert", True)
        super().save(*args, **kwargs)

    save.alters_data = True  # type: ignore[attr-defined]

    def _prepare_insert(self) -> None:
        """Validate and fill snapshots before an INSERT (also in bulk_create)."""

    def _do_update(  # type: ignore[override]
        self, base_qs: Any, using: Any, pk_val: Any, *args: Any, **kwargs: Any
    ) -> bool:
        # Model.save_base() and loaddata (raw saves) end up here for rows that
        # may already exist. Refuse to touch an existing row; report "nothing
        # updated" for a new pk so Django inserts it.
        if base_qs.filter(pk=pk_val).exists():
            raise ImmutableRecordError(
                f"{type(self).__name__} records are immutable and cannot be updated."
            )
        return False

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if _bypass_active(kwargs.get("using") or self._state.db):
            return super().delete(*args, **kwargs)
        raise models.ProtectedError(
            f"{type(self).__name__} records are immutable and cannot be deleted.",
            {self},
        )

    delete.alters_data = True  # type: ignore[attr-defined]


def _validate_choice(
    value: Any, choices: type[models.TextChoices], field: str, model: str
) -> None:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ValidationError(
            {
                field: (
                    f"{value!r} is not a valid {model}.{field}; "
                    f"expected one of: {allowed}."
                )
            },
            code="invalid_choice",
        )


# ---------------------------------------------------------------------------
# AuditEntry
# ---------------------------------------------------------------------------


class AuditEntry(_AppendOnlyModel):
    """An immutable, hash-chained record of a system event.

    Fields kept from 0.2: ``id``, ``created_at``, ``updated_at``,
    ``event_type``, ``action``, ``user``, ``ip_address``, ``user_agent``,
    ``target_content_type``/``target_object_id`` (``target``),
    ``description``, ``metadata``. Added: ``username`` (snapshot of the actor,
    kept when the user is deleted), ``request_id`` and the chain fields
    ``sequence``, ``prev_hash``, ``entry_hash`` (NULL until the entry is sealed
    by :func:`icv_core.audit.chain.seal_pending`).

    ``created_at`` defaults to ``timezone.now`` and accepts an explicit value
    on insert (the sanctioned way to backdate entries in tests).
    """

    class EventType(models.TextChoices):
        SECURITY = "SECURITY", _("Security")
        DATA = "DATA", _("Data")
        SYSTEM = "SYSTEM", _("System")
        AUTHENTICATION = "AUTHENTICATION", _("Authentication")

    class Action(models.TextChoices):
        CREATE = "CREATE", _("Create")
        UPDATE = "UPDATE", _("Update")
        DELETE = "DELETE", _("Delete")
        SOFT_DELETE = "SOFT_DELETE", _("Soft delete")
        RESTORE = "RESTORE", _("Restore")
        LOGIN = "LOGIN", _("Login")
        LOGOUT = "LOGOUT", _("Logout")
        LOGIN_FAILED = "LOGIN_FAILED", _("Login failed")
        PASSWORD_CHANGED = "PASSWORD_CHANGED", _("Password changed")
        PERMISSION_DENIED = "PERMISSION_DENIED", _("Permission denied")
        CUSTOM = "CUSTOM", _("Custom")

    id = models.UUIDField(
        primary_key=True, default=make_uuid, editable=False, verbose_name="ID"
    )
    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, db_index=True, editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, editable=False)
    event_type = models.CharField(
        _("event type"), max_length=20, choices=EventType.choices, db_index=True
    )
    action = models.CharField(
        _("action"), max_length=30, choices=Action.choices, db_index=True
    )
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("user"),
    )
    username = models.CharField(
        _("username"),
        max_length=150,
        blank=True,
        default="",
        help_text=_("Snapshot of the user's username when the entry was written."),
    )
    user_ref = models.CharField(
        _("user reference"),
        max_length=255,
        blank=True,
        default="",
        editable=False,
        help_text=_(
            "The user's primary key when the entry was written (hashed into the "
            "chain; the user reference may only become empty afterwards)."
        ),
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True, default="")
    request_id = models.CharField(
        _("request id"), max_length=64, blank=True, default="", db_index=True
    )
    target_content_type = models.ForeignKey(
        "contenttypes.ContentType",
        # PROTECT: removing a content type must not silently detach the trail.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("target type"),
    )
    target_object_id = models.CharField(  # noqa: DJ001 (0.2 layout / NULL = unsealed)
        _("target id"), max_length=255, null=True, blank=True
    )
    target = GenericForeignKey("target_content_type", "target_object_id")
    description = models.TextField(_("description"), blank=True, default="")
    metadata = models.JSONField(
        _("metadata"),
        default=dict,
        blank=True,
        help_text=_("Arbitrary additional context for this audit entry."),
    )
    sequence = models.BigIntegerField(
        _("chain sequence"), null=True, blank=True, unique=True, editable=False
    )
    prev_hash = models.CharField(  # noqa: DJ001 (0.2 layout / NULL = unsealed)
        _("previous hash"), max_length=64, null=True, blank=True, editable=False
    )
    entry_hash = models.CharField(  # noqa: DJ001 (0.2 layout / NULL = unsealed)
        _("entry hash"), max_length=64, null=True, blank=True, editable=False
    )

    objects = AuditEntryManager()

    class Meta:
        db_table = "icv_core_auditentry"
        base_manager_name = "objects"
        default_manager_name = "objects"
        ordering = ["-created_at"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(
                fields=["event_type", "action"], name="icv_core_au_event_t_9ac8b5_idx"
            ),
            models.Index(
                fields=["user", "created_at"], name="icv_core_au_user_id_c3e697_idx"
            ),
            models.Index(
                fields=["target_content_type", "target_object_id"],
                name="icv_core_au_target_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type}/{self.action} at {self.created_at}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            from icv_core.audit.signals import audit_entry_created

            audit_entry_created.send(sender=type(self), instance=self)

    save.alters_data = True  # type: ignore[attr-defined]

    def _prepare_insert(self) -> None:
        _validate_choice(self.event_type, self.EventType, "event_type", "AuditEntry")
        _validate_choice(self.action, self.Action, "action", "AuditEntry")
        # Rows arrive unsealed; only re-imported archive rows carry chain
        # values, and then all of them.
        if (self.sequence is not None or self.entry_hash is not None) and not (
            self.sequence is not None and self.entry_hash
        ):
            raise ValidationError(
                {"sequence": "sequence and entry_hash must be set together."}
            )
        if self.user_id is not None and not self.user_ref:
            self.user_ref = str(self.user_id)
        user = self.user if self.user_id is not None else None
        if not self.username and user is not None:
            self.username = user.get_username()[:150]

    @property
    def is_sealed(self) -> bool:
        """Whether the entry is part of the hash chain yet."""
        return self.sequence is not None


# ---------------------------------------------------------------------------
# AdminActivityLog
# ---------------------------------------------------------------------------


class AdminActivityLog(_AppendOnlyModel):
    """An append-only record of something an administrator did.

    ``admin_user`` became ``SET_NULL`` (0.2 deleted the log with its admin);
    ``admin_username`` keeps the attribution.
    """

    _audit_user_field = "admin_user"

    id = models.UUIDField(
        primary_key=True, default=make_uuid, editable=False, verbose_name="ID"
    )
    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, db_index=True, editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, editable=False)
    admin_user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="admin_activity_logs",
        verbose_name=_("admin user"),
    )
    admin_username = models.CharField(
        _("admin username"),
        max_length=150,
        blank=True,
        default="",
        help_text=_("Snapshot of the admin's username when the row was written."),
    )
    action_type = models.CharField(
        _("action type"),
        max_length=100,
        db_index=True,
        help_text=_('What was done, e.g. "add", "change", "delete", "approve_claim".'),
    )
    description = models.TextField(_("description"))
    target_content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("target type"),
    )
    target_object_id = models.CharField(  # noqa: DJ001 (0.2 layout / NULL = unsealed)
        _("target id"), max_length=255, null=True, blank=True
    )
    target = GenericForeignKey("target_content_type", "target_object_id")
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True, default="")
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)

    objects = AppendOnlyManager()

    class Meta:
        db_table = "icv_core_adminactivitylog"
        base_manager_name = "objects"
        default_manager_name = "objects"
        ordering = ["-created_at"]
        verbose_name = _("admin activity log")
        verbose_name_plural = _("admin activity logs")
        indexes = [
            models.Index(
                fields=["target_content_type", "target_object_id"],
                name="icv_core_aal_target_idx",
            ),
        ]

    def __str__(self) -> str:
        who = self.admin_username or self.admin_user_id or "?"
        return f"{who} — {self.action_type} at {self.created_at}"

    def _prepare_insert(self) -> None:
        if not self.action_type:
            raise ValidationError({"action_type": "action_type is required."})
        admin = self.admin_user if self.admin_user_id is not None else None
        if not self.admin_username and admin is not None:
            self.admin_username = admin.get_username()[:150]


@receiver(pre_delete, sender=AuditEntry, dispatch_uid="icv_core_audit_guard_entry")
@receiver(pre_delete, sender=AdminActivityLog, dispatch_uid="icv_core_audit_guard_aal")
def _refuse_collector_delete(
    sender: Any, instance: Any, using: str, **kwargs: Any
) -> None:
    """Refuse deletes that reach the collector without the model's delete().

    Connecting this receiver also stops Django from "fast deleting" these rows
    with a raw DELETE.
    """
    if not _bypass_active(using):
        raise models.ProtectedError(
            f"{sender.__name__} records are immutable and cannot be deleted.",
            {instance},
        )


# ---------------------------------------------------------------------------
# SystemAlert
# ---------------------------------------------------------------------------


class AlertAlreadyResolvedError(ValueError):
    """Raised when resolving an alert that is already resolved."""


def _validate_severity(value: Any) -> None:
    levels = list(settings.AUDIT_ALERT_SEVERITY_LEVELS)
    if value not in levels:
        raise ValidationError(
            {
                "severity": (
                    f"{value!r} is not a valid SystemAlert.severity; "
                    f"expected one of: {', '.join(map(str, levels))} "
                    "(ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS)."
                )
            },
            code="invalid_choice",
        )


class SystemAlertQuerySet(models.QuerySet):
    """Queryset of :class:`SystemAlert`: its bulk paths validate too."""

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        """Validate every alert, insert them, and send ``system_alert_raised``
        once per alert with ``bulk=True``."""
        objs = list(objs)
        for obj in objs:
            obj.validate_values()
        created = super().bulk_create(objs, *args, **kwargs)
        from icv_core.audit.signals import system_alert_raised

        _announce(
            system_alert_raised, "system_alert_raised", self.model, created, bulk=True
        )
        return created

    def update(self, **kwargs: Any) -> int:
        """Django's update(); a literal ``alert_type`` or ``severity`` is validated."""
        if isinstance(kwargs.get("alert_type"), str):
            _validate_choice(
                kwargs["alert_type"], SystemAlert.AlertType, "alert_type", "SystemAlert"
            )
        if isinstance(kwargs.get("severity"), str):
            _validate_severity(kwargs["severity"])
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]


class SystemAlert(models.Model):
    """An operational alert, raised by code and resolved by a person.

    ``severity`` is validated on write against
    ``ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS`` and ``alert_type`` against
    :class:`SystemAlert.AlertType`. Identical open alerts share a
    ``fingerprint`` (unique among open alerts); raising one again increments
    ``occurrences`` and ``last_seen_at`` instead of adding a row.
    """

    class AlertType(models.TextChoices):
        SECURITY = "security", _("Security")
        PAYMENT = "payment", _("Payment")
        CONTENT = "content", _("Content")
        SUPPORT = "support", _("Support")
        SYSTEM = "system", _("System")

    class Severity(models.TextChoices):
        """The default severity levels (the setting may define others)."""

        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        ERROR = "error", _("Error")
        CRITICAL = "critical", _("Critical")

    id = models.UUIDField(
        primary_key=True, default=make_uuid, editable=False, verbose_name="ID"
    )
    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, db_index=True, editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, editable=False)
    alert_type = models.CharField(
        _("alert type"), max_length=20, choices=AlertType.choices, db_index=True
    )
    severity = models.CharField(
        _("severity"),
        max_length=20,
        db_index=True,
        help_text=_(
            "One of ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS "
            "(info, warning, error, critical)."
        ),
    )
    title = models.CharField(_("title"), max_length=255)
    message = models.TextField(_("message"))
    related_content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("related type"),
    )
    related_object_id = models.CharField(  # noqa: DJ001 (0.2 layout / NULL = unsealed)
        _("related id"), max_length=255, null=True, blank=True
    )
    related_object = GenericForeignKey("related_content_type", "related_object_id")
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    is_resolved = models.BooleanField(_("resolved"), default=False, db_index=True)
    resolved_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resolved_alerts",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_notes = models.TextField(_("resolution notes"), blank=True, default="")
    fingerprint = models.CharField(
        _("fingerprint"),
        max_length=64,
        blank=True,
        default="",
        db_index=True,
        help_text=_("Identifies identical alerts; unique among open alerts."),
    )
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)

    objects = SystemAlertQuerySet.as_manager()

    class Meta:
        db_table = "icv_core_systemalert"
        ordering = ["-created_at"]
        verbose_name = _("system alert")
        verbose_name_plural = _("system alerts")
        indexes = [
            models.Index(
                fields=["is_resolved", "severity"], name="icv_core_sa_open_sev_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=Q(is_resolved=False) & ~Q(fingerprint=""),
                name="icv_core_sa_open_fingerprint_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"[{(self.severity or '').upper()}] {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        adding = self._state.adding
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"severity", "alert_type"} & set(update_fields):
            self.validate_values()
        super().save(*args, **kwargs)
        if adding:
            from icv_core.audit.signals import system_alert_raised

            system_alert_raised.send(sender=type(self), instance=self)

    save.alters_data = True  # type: ignore[attr-defined]

    @staticmethod
    def make_fingerprint(
        alert_type: str,
        severity: str,
        title: str,
        related_content_type_id: int | None = None,
        related_object_id: Any = None,
    ) -> str:
        """A stable SHA-256 over what makes two open alerts "the same"."""
        parts = [
            str(alert_type),
            str(severity),
            str(title),
            "" if related_content_type_id is None else str(related_content_type_id),
            "" if related_object_id is None else str(related_object_id),
        ]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()

    def validate_values(self) -> None:
        """Raise ``ValidationError`` for an unknown alert type or severity."""
        _validate_choice(self.alert_type, self.AlertType, "alert_type", "SystemAlert")
        _validate_severity(self.severity)

    def clean(self) -> None:
        super().clean()
        self.validate_values()

    def resolve(self, resolved_by: Any = None, notes: str = "") -> None:
        """Mark the alert resolved and send ``system_alert_resolved``.

        Raises :class:`AlertAlreadyResolvedError` when it already is, also when
        another process resolved it since this instance was loaded (the update
        is conditional on ``is_resolved = False``).
        """
        if self.is_resolved:
            raise AlertAlreadyResolvedError(f"Alert {self.pk} is already resolved.")
        # NUL and lone surrogates stored the same way on every backend.
        notes = _clean_string(str(notes))
        now = timezone.now()
        updated = (
            type(self)
            ._base_manager.using(self._state.db or "default")
            .filter(pk=self.pk, is_resolved=False)
            .update(
                is_resolved=True,
                resolved_by=resolved_by,
                resolved_at=now,
                resolution_notes=notes,
                updated_at=now,
            )
        )
        if not updated:
            raise AlertAlreadyResolvedError(f"Alert {self.pk} is already resolved.")
        self.is_resolved = True
        self.resolved_by = resolved_by
        self.resolved_at = now
        self.resolution_notes = notes
        self.updated_at = now
        from icv_core.audit.signals import system_alert_resolved

        system_alert_resolved.send(
            sender=type(self), instance=self, resolved_by=resolved_by
        )

    resolve.alters_data = True  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# AuditArchive
# ---------------------------------------------------------------------------


class AuditArchive(models.Model):
    """One archive file written by ``icv_core_audit_archive``.

    Carries the chain boundary (``first_sequence``/``first_prev_hash`` and
    ``last_sequence``/``last_entry_hash``) so that
    :func:`icv_core.audit.chain.verify` can start after the archived range, and
    the file's SHA-256 so the file itself can be checked.
    ``completed_at`` is set once the archived rows have been deleted.
    """

    id = models.UUIDField(
        primary_key=True, default=make_uuid, editable=False, verbose_name="ID"
    )
    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, db_index=True
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    storage_alias = models.CharField(_("storage alias"), max_length=100)
    path = models.CharField(_("path"), max_length=1024)
    row_count = models.PositiveBigIntegerField(_("row count"), default=0)
    first_created_at = models.DateTimeField(
        _("first created at"), null=True, blank=True
    )
    last_created_at = models.DateTimeField(_("last created at"), null=True, blank=True)
    first_entry_id = models.UUIDField(_("first entry id"), null=True, blank=True)
    last_entry_id = models.UUIDField(_("last entry id"), null=True, blank=True)
    first_sequence = models.BigIntegerField(_("first sequence"), null=True, blank=True)
    last_sequence = models.BigIntegerField(
        _("last sequence"), null=True, blank=True, db_index=True
    )
    first_prev_hash = models.CharField(
        _("previous hash of the first entry"), max_length=64, blank=True, default=""
    )
    last_entry_hash = models.CharField(
        _("hash of the last entry"), max_length=64, blank=True, default=""
    )
    sha256 = models.CharField(_("file SHA-256"), max_length=64)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)

    class Meta:
        db_table = "icv_core_auditarchive"
        ordering = ["-created_at"]
        verbose_name = _("audit archive")
        verbose_name_plural = _("audit archives")

    def __str__(self) -> str:
        return f"{self.storage_alias}:{self.path} ({self.row_count} rows)"

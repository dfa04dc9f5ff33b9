"""Model change tracking shared by ``AuditMixin`` and auto model tracking.

Entries are written by signal receivers connected per model class:

* ``post_save``: CREATE (Django's ``created`` flag, right for UUID pks whose
  value exists before the first save) or UPDATE with the fields that really
  changed. Old values come from :func:`icv_core.models.loaded_values`, the
  snapshot taken when the instance was loaded or last saved; the row is
  never re-read.
* ``post_delete``: DELETE, after the row is gone (a failed delete writes
  nothing). ``hard_delete()`` goes through the same path.
* ``post_soft_delete`` / ``post_restore`` (instance) and
  ``post_bulk_soft_delete`` / ``post_bulk_restore`` (querysets, cascades):
  SOFT_DELETE / RESTORE, the bulk ones with a single bulk INSERT.

Receivers for ``AuditMixin`` subclasses are connected while
``ICV_CORE_AUDIT_ENABLED`` is on; receivers for the other ``BaseModel``
subclasses only while ``ICV_CORE_AUDIT_AUTO_MODEL_TRACKING`` is on too
(connecting a ``post_delete`` receiver turns off Django's fast delete for that
model, and a bulk receiver costs a SELECT of pks, so nothing is connected that
is not needed); see :func:`sync_tracking`. Every receiver checks the settings
again when it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.db.models import signals as model_signals

from icv_core.audit import _serialize
from icv_core.audit.conf import settings

if TYPE_CHECKING:
    from icv_core.models import BaseModel

_SOFT_SAVE_MARK = "_icv_update_guard"  # icv_core.models._soft_delete._GUARD
_SOFT_OLD = "_icv_audit_soft_old"
_FIELDS_CACHE: dict[type, tuple[Any, ...]] = {}


def _mixin_class() -> type:
    from icv_core.audit.mixins import AuditMixin

    return AuditMixin


def _excluded(model: type[Model]) -> bool:
    excluded = settings.AUDIT_EXCLUDE_MODELS or ()
    if not excluded:
        return False
    labels = {str(item).lower() for item in excluded}
    opts = model._meta
    concrete = opts.concrete_model or model
    return (
        opts.label_lower in labels
        or concrete._meta.label_lower in labels
        or opts.app_label.lower() in labels
    )


def is_tracked(model: type[Model]) -> bool:
    """Whether saves/deletes of ``model`` are audited right now."""
    if not settings.AUDIT_ENABLED:
        return False
    if model._meta.app_label == "icv_core_audit":
        return False
    if not issubclass(model, _mixin_class()):
        if not settings.AUDIT_AUTO_MODEL_TRACKING:
            return False
        from icv_core.models import BaseModel

        if not issubclass(model, BaseModel):
            return False
    return not _excluded(model)


def tracked_fields(model: type[Model]) -> tuple[Any, ...]:
    """Concrete fields whose values are recorded: not the pk, not auto_now(_add)."""
    fields = _FIELDS_CACHE.get(model)
    if fields is None:
        fields = tuple(
            field
            for field in model._meta.concrete_fields
            if not field.primary_key
            and not getattr(field, "auto_now", False)
            and not getattr(field, "auto_now_add", False)
        )
        _FIELDS_CACHE[model] = fields
    return fields


def _value(field: Any, value: Any) -> Any:
    if _serialize.is_sensitive(field.name) or _serialize.is_sensitive(field.attname):
        return _serialize.MASK
    return _serialize.field_value(value)


def current_values(instance: Any) -> dict[str, Any]:
    """JSON-native values of the tracked, loaded fields (no query: deferred
    fields are skipped)."""
    data = instance.__dict__
    return {
        field.name: _value(field, data[field.attname])
        for field in tracked_fields(type(instance))
        if field.attname in data
    }


def _same(field: Any, old: Any, new: Any) -> bool:
    if old == new:
        return True
    try:
        return field.to_python(new) == old
    except Exception:
        return False


def changed_fields(
    instance: Any, old: dict[str, Any], update_fields: Any = None
) -> dict[str, dict[str, Any]]:
    """``{name: {"old": ..., "new": ...}}`` for fields whose value changed."""
    data = instance.__dict__
    limit = None if update_fields is None else set(update_fields)
    diff: dict[str, dict[str, Any]] = {}
    for field in tracked_fields(type(instance)):
        attname = field.attname
        if limit is not None and field.name not in limit and attname not in limit:
            continue
        if attname not in data or attname not in old:
            continue
        before, after = old[attname], data[attname]
        if _same(field, before, after):
            continue
        if _serialize.is_sensitive(field.name) or _serialize.is_sensitive(attname):
            diff[field.name] = {"old": _serialize.MASK, "new": _serialize.MASK}
        else:
            diff[field.name] = {
                "old": _serialize.field_value(before),
                "new": _serialize.field_value(after),
            }
    return diff


def _flag_field(model: type[Model]) -> str:
    try:
        from icv_core.managers import flag_field_of

        return flag_field_of(model)
    except Exception:
        return "is_active"


def _soft_fields(model: type[Model]) -> set[str]:
    return {_flag_field(model), "deleted_at"}


def _verb(action: str) -> str:
    return action.lower().replace("_", " ")


def _write(instance: Any, action: str, using: str, metadata: dict[str, Any]) -> None:
    from icv_core.audit import services

    model = type(instance)
    entry = services.build_entry(
        "DATA",
        action,
        user=services.resolve_user(),
        target_content_type=services.content_type_for(model, using),
        target_object_id=str(instance.pk),
        description=f"{model._meta.label} {instance.pk}: {_verb(action)}",
        metadata=metadata,
    )
    services.write_entry(entry, using)


# ---------------------------------------------------------------------------
# Receivers
# ---------------------------------------------------------------------------


def on_post_save(
    sender: type[Model],
    instance: Any,
    created: bool,
    raw: bool = False,
    using: str = "default",
    update_fields: Any = None,
    **kwargs: Any,
) -> None:
    if raw or not is_tracked(sender):
        return
    from icv_core.models import loaded_values

    track_values = settings.AUDIT_TRACK_FIELD_CHANGES
    metadata: dict[str, Any]
    if created:
        metadata = {"fields": current_values(instance)} if track_values else {}
        _write(instance, "CREATE", using, metadata)
        return
    # The models part marks the save inside soft_delete()/restore() (its
    # conditional UPDATE) for exactly as long as that save runs.
    soft_op = _SOFT_SAVE_MARK in instance.__dict__
    if (
        soft_op
        and update_fields is not None
        and set(update_fields) <= _soft_fields(sender) | {"updated_at", "updated_by"}
    ):
        # The save inside soft_delete()/restore(): that operation gets its own
        # SOFT_DELETE/RESTORE entry.
        return
    if not track_values:
        _write(instance, "UPDATE", using, {})
        return
    old = loaded_values(instance)
    if old:
        metadata = {"changed_fields": changed_fields(instance, old, update_fields)}
    else:
        # Not loaded from the DB (e.g. Model(pk=...).save()): old values unknown.
        metadata = {
            "changed_fields": {},
            "fields": current_values(instance),
            "old_values_known": False,
        }
    _write(instance, "UPDATE", using, metadata)


def on_post_delete(
    sender: type[Model], instance: Any, using: str = "default", **kwargs: Any
) -> None:
    if not is_tracked(sender):
        return
    metadata = (
        {"fields": current_values(instance)}
        if settings.AUDIT_TRACK_FIELD_CHANGES
        else {}
    )
    _write(instance, "DELETE", using, metadata)


def on_pre_soft_op(sender: type[Model], instance: Any, **kwargs: Any) -> None:
    # The flag and deleted_at before the operation, for the entry's diff (the
    # instance holds them; nothing is read from the database).
    data = instance.__dict__
    instance.__dict__[_SOFT_OLD] = {
        name: data[name] for name in sorted(_soft_fields(sender)) if name in data
    }


def _soft_diff(instance: Any, old: dict[str, Any]) -> dict[str, dict[str, Any]]:
    data = instance.__dict__
    return {
        name: {
            "old": _serialize.field_value(before),
            "new": _serialize.field_value(data[name]),
        }
        for name, before in old.items()
        if name in data and data[name] != before
    }


def _soft_op_done(sender: type[Model], instance: Any, using: str, action: str) -> None:
    old = instance.__dict__.pop(_SOFT_OLD, None) or {}
    if not is_tracked(sender):
        return
    metadata: dict[str, Any] = {}
    deleted_at = instance.__dict__.get("deleted_at")
    if deleted_at is not None:
        metadata["deleted_at"] = _serialize.field_value(deleted_at)
    if settings.AUDIT_TRACK_FIELD_CHANGES:
        diff = _soft_diff(instance, old)
        if diff:
            metadata["changed_fields"] = diff
    _write(instance, action, using or "default", metadata)


def on_post_soft_delete(
    sender: type[Model], instance: Any, using: str = "default", **kwargs: Any
) -> None:
    _soft_op_done(sender, instance, using, "SOFT_DELETE")


def on_post_restore(
    sender: type[Model], instance: Any, using: str = "default", **kwargs: Any
) -> None:
    _soft_op_done(sender, instance, using, "RESTORE")


def _bulk(
    sender: type[Model], pks: Any, using: str, action: str, metadata: dict[str, Any]
) -> None:
    if not pks or not is_tracked(sender):
        return
    from icv_core.audit import services

    using = using or "default"
    content_type = services.content_type_for(sender, using)
    user = services.resolve_user()
    values = services.request_fields()
    label = sender._meta.label
    verb = action.lower().replace("_", " ")
    entries = [
        services.build_entry(
            "DATA",
            action,
            user=user,
            target_content_type=content_type,
            target_object_id=str(pk),
            description=f"{label} {pk}: {verb}",
            metadata=dict(metadata, bulk=True),
            request_values=values,
        )
        for pk in pks
    ]
    services.write_entries(entries, using)


def on_post_bulk_soft_delete(
    sender: type[Model],
    pks: Any,
    using: str = "default",
    deleted_at: Any = None,
    **kwargs: Any,
) -> None:
    metadata: dict[str, Any] = {}
    changes: dict[str, Any] = {_flag_field(sender): {"old": True, "new": False}}
    if deleted_at is not None:
        metadata["deleted_at"] = _serialize.field_value(deleted_at)
        # Only live rows are soft-deleted, and live rows have no deleted_at.
        changes["deleted_at"] = {"old": None, "new": metadata["deleted_at"]}
    if settings.AUDIT_TRACK_FIELD_CHANGES:
        metadata["changed_fields"] = changes
    _bulk(sender, pks, using, "SOFT_DELETE", metadata)


def on_post_bulk_restore(
    sender: type[Model], pks: Any, using: str = "default", **kwargs: Any
) -> None:
    # Each row's old deleted_at is not known without a query: the diff shows
    # the flag only.
    metadata: dict[str, Any] = (
        {"changed_fields": {_flag_field(sender): {"old": False, "new": True}}}
        if settings.AUDIT_TRACK_FIELD_CHANGES
        else {}
    )
    _bulk(sender, pks, using, "RESTORE", metadata)


# ---------------------------------------------------------------------------
# Connecting
# ---------------------------------------------------------------------------


def _per_model_signals() -> list[tuple[Any, Any, str]]:
    from icv_core import signals as core_signals

    return [
        (model_signals.post_save, on_post_save, "save"),
        (model_signals.post_delete, on_post_delete, "delete"),
        (
            core_signals.post_bulk_soft_delete,
            on_post_bulk_soft_delete,
            "bulk_soft_delete",
        ),
        (core_signals.post_bulk_restore, on_post_bulk_restore, "bulk_restore"),
    ]


def connect_model(model: type[Model], kind: str) -> None:
    """Connect the per-model receivers (``kind`` is "mixin" or "auto")."""
    for signal, receiver, name in _per_model_signals():
        signal.connect(
            receiver,
            sender=model,
            weak=False,
            dispatch_uid=f"icv_core_audit.{kind}.{name}.{id(model)}",
        )


def disconnect_model(model: type[Model], kind: str) -> None:
    for signal, receiver, name in _per_model_signals():
        signal.disconnect(
            receiver,
            sender=model,
            dispatch_uid=f"icv_core_audit.{kind}.{name}.{id(model)}",
        )


_auto_connected: set[type[BaseModel]] = set()
_mixin_models: list[type[Model]] = []
_mixin_connected: set[type[Model]] = set()


def register_mixin_model(model: type[Model]) -> None:
    """Remember an ``AuditMixin`` subclass; its receivers follow the switch."""
    _mixin_models.append(model)
    from django.apps import apps

    if apps.ready:
        # Defined after start-up (rare: dynamic models): connect it now.
        sync_tracking()


def sync_tracking() -> None:
    """Connect the per-model receivers exactly while they can write entries.

    ``AuditMixin`` subclasses while ``ICV_CORE_AUDIT_ENABLED`` is on; every
    other ``BaseModel`` subclass while auto tracking is on too. Disconnected
    receivers cost nothing: Django's fast delete stays, and a queryset soft
    delete or restore does not select the pks for a receiver. Run at start-up
    and whenever either setting changes (``override_settings``, pytest-django's
    ``settings``); every receiver also checks the settings when it runs.
    """
    from django.apps import apps

    from icv_core.models import BaseModel

    enabled = settings.AUDIT_ENABLED
    mixin = _mixin_class()
    wanted_mixin = set(_mixin_models) if enabled else set()
    for model in _mixin_connected - wanted_mixin:
        disconnect_model(model, "mixin")
    for model in wanted_mixin - _mixin_connected:
        connect_model(model, "mixin")
    _mixin_connected.clear()
    _mixin_connected.update(wanted_mixin)

    wanted: set[type[BaseModel]] = set()
    # models_ready, not ready: at start-up this runs inside AppConfig.ready().
    if enabled and settings.AUDIT_AUTO_MODEL_TRACKING and apps.models_ready:
        for model in apps.get_models(include_auto_created=False):
            if (
                issubclass(model, BaseModel)
                and not issubclass(model, mixin)
                and model._meta.app_label != "icv_core_audit"
            ):
                wanted.add(model)
    for model in _auto_connected - wanted:
        disconnect_model(model, "auto")
        model._icv_save_atomically = False
    for model in wanted - _auto_connected:
        connect_model(model, "auto")
        # The change and its entry (written by post_save) commit together.
        model._icv_save_atomically = True
    _auto_connected.clear()
    _auto_connected.update(wanted)


def _on_setting_changed(setting: str, **kwargs: Any) -> None:
    if setting in (
        settings.setting_name("AUDIT_ENABLED"),
        settings.setting_name("AUDIT_AUTO_MODEL_TRACKING"),
    ):
        sync_tracking()


def connect_global() -> None:
    """Receivers that cost nothing when unused (called from ``apps.ready``)."""
    from django.core.signals import setting_changed

    from icv_core import signals as core_signals

    core_signals.pre_soft_delete.connect(
        on_pre_soft_op, dispatch_uid="icv_core_audit.pre_soft_delete"
    )
    core_signals.pre_restore.connect(
        on_pre_soft_op, dispatch_uid="icv_core_audit.pre_restore"
    )
    core_signals.post_soft_delete.connect(
        on_post_soft_delete, dispatch_uid="icv_core_audit.post_soft_delete"
    )
    core_signals.post_restore.connect(
        on_post_restore, dispatch_uid="icv_core_audit.post_restore"
    )
    setting_changed.connect(
        _on_setting_changed, dispatch_uid="icv_core_audit.setting_changed"
    )
    sync_tracking()

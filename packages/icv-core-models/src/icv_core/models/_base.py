"""UUIDModel, TimestampedModel, BaseModel and the loaded-values snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from django.db import models, router, transaction
from django.db.models.signals import class_prepared
from django.utils.translation import gettext_lazy as _

from icv_core.uuid import make_uuid

__all__ = [
    "BaseModel",
    "TimestampedModel",
    "UUIDModel",
    "loaded_values",
    "set_loaded_values",
]

# Instance attribute holding the values as loaded from (or last written to)
# the database: either a (names, values) pair straight from from_db, turned
# into a dict only when somebody asks, or that dict.
_LOADED = "_icv_loaded_values"


def loaded_values(instance: models.Model) -> dict[str, Any]:
    """The field values of ``instance`` as last loaded from or saved to the DB.

    Keys are attnames (``author_id``, not ``author``). The dict is empty for
    an instance that was never loaded or saved. It reflects the database
    after ``save()``, ``soft_delete()``, ``restore()`` and
    ``refresh_from_db()``, so code can diff an instance against its stored
    row without re-reading it. The returned dict is a copy.
    """
    state = instance.__dict__.get(_LOADED)
    if state is None:
        return {}
    if isinstance(state, tuple):
        state = dict(zip(*state, strict=True))
        instance.__dict__[_LOADED] = state
    return dict(state)  # a copy: callers may change it freely


def set_loaded_values(instance: models.Model, values: Mapping[str, Any]) -> None:
    """Replace the loaded-values snapshot of ``instance`` (after a write)."""
    instance.__dict__[_LOADED] = dict(values)


def _update_loaded_values(
    instance: models.Model, attnames: Iterable[str] | None = None
) -> None:
    """Record the current values of ``attnames`` (default: all loaded fields)."""
    data = instance.__dict__
    if attnames is None:
        current = {
            f.attname: data[f.attname]
            for f in instance._meta.concrete_fields
            if f.attname in data
        }
        data[_LOADED] = current
        return
    state = data.get(_LOADED)
    if isinstance(state, tuple):
        state = dict(zip(*state, strict=True))
    elif state is None:
        state = {}
    for name in attnames:
        if name in data:
            state[name] = data[name]
    data[_LOADED] = state


def _update_loaded_fields(
    instance: models.Model, fields: Iterable[str] | None = None
) -> None:
    """:func:`_update_loaded_values` for field names or attnames (None: all)."""
    if fields is None:
        _update_loaded_values(instance)
        return
    attnames = []
    for name in fields:
        try:
            attnames.append(instance._meta.get_field(name).attname)  # type: ignore[union-attr]
        except Exception:
            attnames.append(name)
    _update_loaded_values(instance, attnames)


def _save_kwargs_with(
    args: tuple[Any, ...], kwargs: dict[str, Any], *names: str
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Add ``names`` to the ``update_fields`` of a save() call, if it has any."""
    if len(args) >= 4:  # save(force_insert, force_update, using, update_fields)
        positional = list(args)
        update_fields = positional[3]
        if update_fields:
            missing = [n for n in names if n not in update_fields]
            positional[3] = [*update_fields, *missing]
        return tuple(positional), kwargs
    update_fields = kwargs.get("update_fields")
    if update_fields:
        missing = [n for n in names if n not in update_fields]
        if missing:
            kwargs["update_fields"] = [*update_fields, *missing]
    return args, kwargs


def _update_fields_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return args[3] if len(args) >= 4 else kwargs.get("update_fields")


class UUIDModel(models.Model):
    """Abstract model with a UUID primary key ``id``.

    The version (4, or time-sorted 7) comes from ``ICV_CORE_UUID_VERSION``,
    read each time an id is made; the field default is always
    :func:`icv_core.uuid.make_uuid`, so the setting never changes migrations.
    """

    id = models.UUIDField(_("ID"), primary_key=True, default=make_uuid, editable=False)

    class Meta:
        abstract = True


class TimestampedModel(models.Model):
    """Abstract model with ``created_at`` (set on insert) and ``updated_at``.

    ``updated_at`` is bumped by every ``save()``, including
    ``save(update_fields=[...])``: it is added to the update fields.
    """

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        args, kwargs = _save_kwargs_with(args, kwargs, "updated_at")
        super().save(*args, **kwargs)


class BaseModel(UUIDModel, TimestampedModel):
    """Abstract model with a UUID primary key and timestamps.

    Ordering: a concrete subclass whose own ``Meta`` does not set
    ``ordering`` gets ``ICV_CORE_DEFAULT_ORDERING`` (default
    ``"-created_at"``; a string or a list of strings; empty or ``None`` for
    no ordering). The setting is read when the model class is defined and is
    part of the model's migration state: changing it makes
    ``makemigrations`` write an ``AlterModelOptions`` for those models.

    Instances loaded from the database remember their loaded values (see
    :func:`loaded_values`) without any extra query.
    """

    #: When True, ``save()`` and its ``post_save`` receivers run in one
    #: transaction, so what the receivers write (an audit entry) commits or
    #: rolls back with the change even in autocommit mode. The audit part
    #: sets it on the models it tracks.
    _icv_save_atomically: ClassVar[bool] = False

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        args, kwargs = _save_kwargs_with(args, kwargs, "updated_at")
        if getattr(type(self), "_icv_save_atomically", False):
            using = kwargs.get("using") or (args[2] if len(args) > 2 else None)
            using = using or router.db_for_write(type(self), instance=self)
            with transaction.atomic(using=using, savepoint=False):
                super().save(*args, **kwargs)
        else:
            super().save(*args, **kwargs)
        update_fields = _update_fields_of(args, kwargs)
        if update_fields is None:
            _update_loaded_values(self)
        else:
            opts = self._meta
            _update_loaded_values(
                self,
                [opts.get_field(name).attname for name in update_fields],  # type: ignore[union-attr]
            )

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Any, values: Any, **kwargs: Any
    ) -> BaseModel:
        # **kwargs: Django 6.1 passes fetch_mode; older versions pass nothing.
        instance = super().from_db(db, field_names, values, **kwargs)
        # Keep Django's own sequences (no copy: field_names is shared by every
        # row of a queryset, values is a fresh slice per row);
        # loaded_values() builds the dict only when asked.
        instance.__dict__[_LOADED] = (field_names, values)
        return instance

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        _update_loaded_fields(self, args[1] if len(args) >= 2 else kwargs.get("fields"))


def _normalise_ordering(value: Any) -> list[str] | None:
    if value is None or value == "" or value == () or value == []:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    return None  # invalid: reported by check icv_core.E003


def _apply_default_ordering(sender: type[models.Model], **kwargs: Any) -> None:
    """Give concrete BaseModel subclasses ``ICV_CORE_DEFAULT_ORDERING``."""
    if not isinstance(sender, type) or not issubclass(sender, BaseModel):
        return
    opts = sender._meta
    if opts.abstract or opts.proxy or opts.order_with_respect_to:
        return
    if "ordering" in opts.original_attrs or opts.ordering:
        return
    from icv_core.conf import settings

    ordering = _normalise_ordering(settings.DEFAULT_ORDERING)
    if not ordering:
        return
    opts.ordering = ordering
    # original_attrs is what the migration autodetector reads.
    opts.original_attrs["ordering"] = list(ordering)


class_prepared.connect(
    _apply_default_ordering, dispatch_uid="icv_core.default_ordering"
)

"""Assertions for soft-deletable models.

    from icv_core.testing.helpers import assert_restored, assert_soft_deleted

    invoice.soft_delete()
    assert_soft_deleted(invoice)
    invoice.restore()
    assert_restored(invoice)

Both re-read the row from the database with the model's base manager (which
sees soft-deleted rows), so they check what was stored, not the in-memory
instance. They return the freshly read instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist

if TYPE_CHECKING:
    from django.db import models

__all__ = ["assert_restored", "assert_soft_deleted"]

_DEFAULT_FLAG_FIELD = "is_active"


def _flag_field(model: type[models.Model]) -> str:
    """The boolean "active" field of a soft-deletable model."""
    # SoftDeleteModel names it in ``soft_delete_field``
    # (ICV_CORE_SOFT_DELETE_FIELD, fixed when the class is defined).
    name = getattr(model, "soft_delete_field", None)
    return name if isinstance(name, str) else _DEFAULT_FLAG_FIELD


def _reread(instance: models.Model, verb: str) -> models.Model:
    model = type(instance)
    if instance.pk is None:
        raise AssertionError(
            f"Cannot check that this {model.__name__} is {verb}: it has no primary "
            f"key (it was never saved)."
        )
    using = instance._state.db or "default"
    queryset: Any = model._base_manager.db_manager(using).all()
    # A project may point base_manager_name at a filtering soft-delete
    # manager; with_deleted() lifts that filter again.
    if hasattr(queryset, "with_deleted"):
        queryset = queryset.with_deleted()
    try:
        return queryset.get(pk=instance.pk)
    except ObjectDoesNotExist:
        raise AssertionError(
            f"Expected {model.__name__} pk={instance.pk!r} to be {verb}, but there "
            f"is no such row in database {using!r} (was it hard-deleted?)."
        ) from None


def _state(obj: models.Model, flag: str) -> str:
    active = getattr(obj, flag, "<missing>")
    deleted_at = getattr(obj, "deleted_at", "<missing>")
    return f"{flag}={active!r}, deleted_at={deleted_at!r}"


def assert_soft_deleted(instance: models.Model) -> models.Model:
    """Assert the row of ``instance`` is soft-deleted in the database.

    Soft-deleted means the active flag is False and ``deleted_at`` is set.
    Returns the row as re-read from the database.
    """
    fresh = _reread(instance, "soft-deleted")
    flag = _flag_field(type(instance))
    if (
        getattr(fresh, flag, None) is not False
        or getattr(fresh, "deleted_at", None) is None
    ):
        raise AssertionError(
            f"Expected {type(instance).__name__} pk={instance.pk!r} to be "
            f"soft-deleted ({flag}=False and deleted_at set), but the database "
            f"has {_state(fresh, flag)}."
        )
    return fresh


def assert_restored(instance: models.Model) -> models.Model:
    """Assert the row of ``instance`` is active (restored) in the database.

    Active means the active flag is True and ``deleted_at`` is empty.
    Returns the row as re-read from the database.
    """
    fresh = _reread(instance, "restored")
    flag = _flag_field(type(instance))
    if (
        getattr(fresh, flag, None) is not True
        or getattr(fresh, "deleted_at", None) is not None
    ):
        raise AssertionError(
            f"Expected {type(instance).__name__} pk={instance.pk!r} to be "
            f"restored ({flag}=True and deleted_at empty), but the database "
            f"has {_state(fresh, flag)}."
        )
    return fresh

"""Set-based soft delete, restore and their cascades.

Rows of one cascade are recognised by timestamps, never by lists of pks:
a soft-delete cascade stamps every row with the same ``deleted_at``, and a
level's children are the live rows whose parent carries that stamp. A
restore cascade follows children whose ``deleted_at`` equals their
parent's, so rows deleted earlier on their own stay deleted.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.db import models, router, transaction
from django.db.models import F, Q
from django.db.models.deletion import CASCADE, PROTECT, RESTRICT, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from icv_core.managers import flag_field_of
from icv_core.signals import post_bulk_restore, post_bulk_soft_delete

if TYPE_CHECKING:
    from datetime import datetime


# Model classes are handled generically here (the stubs type _meta lookups
# as optional).
ModelType = Any

_PROTECTING = (PROTECT, RESTRICT)
_PROTECTED_SAMPLE = 20


def _is_soft_delete_model(model: ModelType) -> bool:
    from icv_core.models._soft_delete import SoftDeleteModel

    return issubclass(model, SoftDeleteModel) and not model._meta.abstract


@functools.cache
def cascade_children(
    model: ModelType,
) -> tuple[tuple[ModelType, tuple[models.Field, ...]], ...]:
    """Soft-delete models pointing at ``model`` with on_delete=CASCADE."""
    found: dict[ModelType, list[models.Field]] = {}
    for rel in model._meta.concrete_model._meta.related_objects:
        if rel.many_to_many or not rel.field.concrete:
            continue
        if rel.on_delete is CASCADE and _is_soft_delete_model(rel.related_model):
            found.setdefault(rel.related_model, []).append(rel.field)
    return tuple((child, tuple(fields)) for child, fields in found.items())


@functools.cache
def protecting_relations(model: ModelType) -> tuple[Any, ...]:
    """Reverse relations that block deleting rows of ``model``."""
    return tuple(
        rel
        for rel in model._meta.concrete_model._meta.related_objects
        if not rel.many_to_many and rel.field.concrete and rel.on_delete in _PROTECTING
    )


@functools.cache
def cascade_has_protection(model: ModelType) -> bool:
    """Whether any model reached by a cascade from ``model`` can be protected."""
    seen: set[ModelType] = set()
    todo = [model._meta.concrete_model]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if protecting_relations(current):
            return True
        todo.extend(child for child, _fields in cascade_children(current))
    return False


def set_based_extra_values(model: ModelType, now: datetime) -> dict[str, Any]:
    """Columns a set-based write bumps besides the flag and ``deleted_at``."""
    values: dict[str, Any] = {"updated_at": now}
    from icv_core.models._compliance import current_user_for

    user = current_user_for(model)
    if user is not None:
        values["updated_by"] = user
    return values


def _raise_protected(protected: list[models.Model], model: ModelType) -> None:
    raise ProtectedError(
        _(
            "Cannot soft-delete these %(model)s rows: live rows reference them "
            "through a protected relation."
        )
        % {"model": model._meta.verbose_name},
        set(protected),
    )


def check_protected(
    model: ModelType,
    using: str,
    condition: dict[str, Any],
    *,
    deleted_with: datetime | None = None,
) -> None:
    """Raise ProtectedError if live rows protect the matching rows of ``model``.

    ``condition`` is written from the point of view of ``model`` (for
    example ``{"pk": 1}`` or ``{"deleted_at": stamp, "is_active": False}``).
    After a cascade stamped ``deleted_with``, rows that cascade soft-deleted
    still protect through ``PROTECT``, as in Django's delete, where
    ``PROTECT`` blocks even if the protecting row is deleted by the same
    operation; through ``RESTRICT`` they do not (Django allows that when the
    restricting row goes with the same cascade).
    """
    for rel in protecting_relations(model):
        lookups = {
            f"{rel.field.name}__{key}": value for key, value in condition.items()
        }
        related = rel.related_model
        qs = related._base_manager.using(using).filter(**lookups)
        if _is_soft_delete_model(related):
            protecting = Q(**{flag_field_of(related): True})
            if deleted_with is not None and rel.on_delete is PROTECT:
                protecting |= Q(
                    **{flag_field_of(related): False, "deleted_at": deleted_with}
                )
            qs = qs.filter(protecting)
        sample = list(qs[:_PROTECTED_SAMPLE])
        if sample:
            _raise_protected(sample, model)


def _send_bulk(
    signal: Any,
    model: ModelType,
    using: str,
    queryset: models.QuerySet,
    exclude_pk: Any = None,
    **extra: Any,
) -> None:
    if not signal.has_listeners(model):
        return
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    pks = list(queryset.values_list("pk", flat=True))
    if pks:
        signal.send(sender=model, pks=pks, using=using, **extra)


def cascade_soft_delete(root: ModelType, stamp: datetime, using: str) -> set[ModelType]:
    """Soft-delete, level by level, the CASCADE children of rows stamped ``stamp``.

    Returns the models whose rows changed. One UPDATE per (parent model,
    child model) and level; a level whose UPDATE changes nothing ends that
    branch.
    """
    values_at = set_based_extra_values
    touched: set[ModelType] = set()
    frontier = [root._meta.concrete_model]
    while frontier:
        next_frontier: list[ModelType] = []
        for parent in frontier:
            parent_flag = flag_field_of(parent)
            for child, fields in cascade_children(parent):
                flag = flag_field_of(child)
                condition = Q()
                for field in fields:
                    condition |= Q(
                        **{
                            f"{field.name}__deleted_at": stamp,
                            f"{field.name}__{parent_flag}": False,
                        }
                    )
                changed = (
                    child._base_manager.using(using)
                    .filter(condition, **{flag: True})
                    .update(
                        **{flag: False, "deleted_at": stamp, **values_at(child, stamp)}
                    )
                )
                if changed:
                    touched.add(child)
                    if child not in next_frontier:
                        next_frontier.append(child)
        frontier = next_frontier
    return touched


def cascade_restore(
    root: ModelType,
    restored_at: datetime,
    using: str,
    *,
    stamp: datetime | None,
) -> set[ModelType]:
    """Restore what a soft-delete cascade deleted below rows restored now.

    With ``stamp`` (one root instance) children must carry that
    ``deleted_at`` and are fully restored in one UPDATE per level. Without
    it (a queryset of roots with different stamps) the restored parents
    keep their ``deleted_at`` until :func:`finish_restore` clears it, so a
    child matches its own parent's stamp.
    """
    touched: set[ModelType] = set()
    frontier = [root._meta.concrete_model]
    while frontier:
        next_frontier: list[ModelType] = []
        for parent in frontier:
            parent_flag = flag_field_of(parent)
            for child, fields in cascade_children(parent):
                flag = flag_field_of(child)
                condition = Q()
                for field in fields:
                    match = {
                        f"{field.name}__{parent_flag}": True,
                        f"{field.name}__updated_at": restored_at,
                    }
                    if stamp is None:
                        match["deleted_at"] = F(f"{field.name}__deleted_at")
                    condition |= Q(**match)
                qs = child._base_manager.using(using).filter(condition, **{flag: False})
                if stamp is not None:
                    qs = qs.filter(deleted_at=stamp)
                    new_values = {flag: True, "deleted_at": None}
                else:
                    new_values = {flag: True}
                changed = qs.update(
                    **new_values, **set_based_extra_values(child, restored_at)
                )
                if changed:
                    touched.add(child)
                    if child not in next_frontier:
                        next_frontier.append(child)
        frontier = next_frontier
    return touched


def finish_restore(models_: set[ModelType], restored_at: datetime, using: str) -> None:
    """Clear ``deleted_at`` of rows restored at ``restored_at`` (two-phase restore)."""
    for model in sorted(models_, key=lambda m: m._meta.label):
        model._base_manager.using(using).filter(
            **{flag_field_of(model): True, "updated_at": restored_at},
            deleted_at__isnull=False,
        ).update(deleted_at=None)


def _check_cascade_protection(
    models_: set[ModelType], stamp: datetime, using: str
) -> None:
    for model in models_:
        check_protected(
            model,
            using,
            {"deleted_at": stamp, flag_field_of(model): False},
            deleted_with=stamp,
        )


def _signal_targets(model: ModelType, touched: set[ModelType]) -> list[ModelType]:
    others = touched - {model, model._meta.concrete_model}
    return [model, *sorted(others, key=lambda m: m._meta.label)]


def soft_delete_queryset(queryset: Any, *, cascade: bool) -> int:
    model = queryset.model
    flag = flag_field_of(model)
    using = queryset._db or router.db_for_write(model, **queryset._hints)
    stamp = timezone.now()
    roots = queryset.filter(**{flag: True})
    protected = (
        cascade_has_protection(model) if cascade else bool(protecting_relations(model))
    )
    if protected and not cascade:
        # Checked before writing: nothing to roll back.
        check_protected(model, using, {"pk__in": roots.values("pk")})
    # The UPDATEs and the bulk signals (whose receivers may write, e.g. audit
    # entries) commit or roll back together. A cascade that may hit PROTECT
    # runs in a savepoint, so ProtectedError leaves a surrounding transaction
    # usable.
    with transaction.atomic(using=using, savepoint=protected and cascade):
        count = roots.update(
            **{flag: False, "deleted_at": stamp, **set_based_extra_values(model, stamp)}
        )
        touched: set[ModelType] = set()
        if cascade and count:
            touched = cascade_soft_delete(model, stamp, using)
            if protected:
                _check_cascade_protection(
                    {model._meta.concrete_model, *touched}, stamp, using
                )
        for target in _signal_targets(model, touched):
            base = target._base_manager.using(using)
            _send_bulk(
                post_bulk_soft_delete,
                target,
                using,
                base.filter(**{flag_field_of(target): False, "deleted_at": stamp}),
                deleted_at=stamp,
            )
    return count


def _single_stamp(roots: models.QuerySet) -> tuple[bool, datetime | None]:
    """(True, stamp) if every row of ``roots`` has the same ``deleted_at``."""
    stamps = list(roots.order_by().values_list("deleted_at", flat=True).distinct()[:2])
    if len(stamps) == 1:
        return True, stamps[0]
    return False, None


def restore_queryset(queryset: Any, *, cascade: bool) -> int:
    model = queryset.model
    flag = flag_field_of(model)
    using = queryset._db or router.db_for_write(model, **queryset._hints)
    restored_at = timezone.now()
    if queryset.visibility == "active":
        # restore() is about deleted rows: objects.filter(...).restore()
        # means the deleted rows matching the filters.
        queryset = queryset.with_deleted()
    roots = queryset.filter(**{flag: False})
    touched: set[ModelType] = set()
    # The UPDATEs and the bulk signals commit or roll back together.
    with transaction.atomic(using=using, savepoint=False):
        single, stamp = _single_stamp(roots) if cascade else (False, None)
        if not cascade or (single and stamp is None):
            count = roots.update(
                **{flag: True, "deleted_at": None},
                **set_based_extra_values(model, restored_at),
            )
        elif single:
            # The roots share one stamp (deleted together, the usual case):
            # children are matched on it, so every level is restored in full
            # by one UPDATE.
            count = roots.update(
                **{flag: True, "deleted_at": None},
                **set_based_extra_values(model, restored_at),
            )
            if count:
                touched = cascade_restore(model, restored_at, using, stamp=stamp)
        else:
            # Roots deleted at different times: deleted_at stays until
            # finish_restore(), so each child matches its own parent's stamp.
            count = roots.update(
                **{flag: True, "deleted_at": F("deleted_at")},
                **set_based_extra_values(model, restored_at),
            )
            if count:
                touched = cascade_restore(model, restored_at, using, stamp=None)
                finish_restore(
                    {model._meta.concrete_model, *touched}, restored_at, using
                )
        for target in _signal_targets(model, touched):
            base = target._base_manager.using(using)
            _send_bulk(
                post_bulk_restore,
                target,
                using,
                base.filter(**{flag_field_of(target): True, "updated_at": restored_at}),
            )
    return count

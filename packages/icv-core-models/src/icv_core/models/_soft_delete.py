"""SoftDeleteModel."""

from __future__ import annotations

import keyword
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import models, router, transaction
from django.db.models.deletion import ProtectedError
from django.db.models.signals import class_prepared, pre_delete
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from icv_core.managers import SoftDeleteManager
from icv_core.models._base import BaseModel, _update_loaded_values
from icv_core.signals import (
    post_restore,
    post_soft_delete,
    pre_restore,
    pre_soft_delete,
)

__all__ = ["FLAG_FIELD", "SoftDeleteModel", "flag_field_problem", "hard_deleting"]

DEFAULT_FLAG_FIELD = "is_active"
_RESERVED = frozenset(
    {
        "id",
        "pk",
        "created_at",
        "updated_at",
        "deleted_at",
        "created_by",
        "updated_by",
        "objects",
        "all_objects",
        "soft_delete",
        "restore",
        "delete",
        "hard_delete",
        "save",
        "soft_delete_field",
        "is_deleted",
    }
)


def _flag_problem(value: Any) -> tuple[str, dict[str, Any]] | None:
    # Untranslated (message, parameters): also used while the models are
    # defined, before translations can be loaded.
    if not isinstance(value, str):
        return (
            gettext_noop("it must be a string, not %(type)s"),
            {"type": type(value).__name__},
        )
    if not value.isidentifier() or keyword.iskeyword(value):
        return gettext_noop("%(value)r is not a valid Python identifier"), {
            "value": value
        }
    if value.startswith("_") or "__" in value:
        return gettext_noop("%(value)r must not start with '_' or contain '__'"), {
            "value": value
        }
    if value in _RESERVED:
        return gettext_noop("%(value)r is already used by SoftDeleteModel"), {
            "value": value
        }
    return None


def flag_field_problem(value: Any) -> str | None:
    """Why ``value`` cannot name the soft-delete flag field, or None if it can."""
    problem = _flag_problem(value)
    if problem is None:
        return None
    message, params = problem
    return gettext(message) % params


def _flag_field_from_settings() -> str:
    # Read once, when this module defines SoftDeleteModel: the field name is
    # part of the schema. An unusable value falls back to the default and
    # check icv_core.E002 reports it as an error.
    from django.conf import settings

    value = getattr(settings, "ICV_CORE_SOFT_DELETE_FIELD", DEFAULT_FLAG_FIELD)
    return DEFAULT_FLAG_FIELD if _flag_problem(value) else value


#: The name of the flag field of every SoftDeleteModel in this process.
FLAG_FIELD: str = _flag_field_from_settings()


# Instance attribute naming the condition of soft_delete()/restore()'s UPDATE.
_GUARD = "_icv_update_guard"


class _RowChangedError(Exception):
    """The conditional UPDATE of soft_delete()/restore() matched no row."""


# True while hard_delete() (instance or queryset) runs: Django's Collector may
# then delete soft-delete rows for real, including those reached by CASCADE.
_hard_deleting: ContextVar[bool] = ContextVar("icv_core_hard_deleting", default=False)


@contextmanager
def hard_deleting() -> Iterator[None]:
    """Let deletes in this block remove soft-delete rows for real."""
    token = _hard_deleting.set(True)
    try:
        yield
    finally:
        _hard_deleting.reset(token)


class SoftDeleteModel(BaseModel):
    """Abstract BaseModel whose rows are hidden instead of deleted.

    Fields: a boolean flag (``is_active`` by default, indexed; its name is
    ``ICV_CORE_SOFT_DELETE_FIELD``, read when this class is defined, so
    changing it is a schema change with a migration) and ``deleted_at``.

    Managers: ``objects`` hides soft-deleted rows, ``all_objects`` shows
    every row; both have ``active()``, ``deleted()``, ``with_deleted()``.
    The base manager (used by forward relations and ``refresh_from_db``)
    sees every row.
    """

    #: Name of the boolean "active" field (``ICV_CORE_SOFT_DELETE_FIELD``).
    soft_delete_field: str = FLAG_FIELD

    deleted_at = models.DateTimeField(
        _("deleted at"), null=True, blank=True, editable=False
    )

    objects = SoftDeleteManager()
    all_objects = SoftDeleteManager(visibility="all")

    if TYPE_CHECKING:
        is_active: bool

    class Meta(BaseModel.Meta):
        abstract = True

    @property
    def is_deleted(self) -> bool:
        """True when the row is soft-deleted."""
        return not getattr(self, self.soft_delete_field)

    def _write_db(self, using: str | None) -> str:
        return using or router.db_for_write(type(self), instance=self)

    def _do_update(self, base_qs: Any, *args: Any, **kwargs: Any) -> Any:
        # soft_delete()/restore() make their UPDATE conditional on the row's
        # current state (WHERE flag = expected), on the table holding the flag.
        guard = self.__dict__.get(_GUARD)
        if guard is None:
            return super()._do_update(base_qs, *args, **kwargs)
        local = {f.name for f in base_qs.model._meta.local_concrete_fields}
        if not guard.keys() <= local:
            return super()._do_update(base_qs, *args, **kwargs)
        updated = super()._do_update(base_qs.filter(**guard), *args, **kwargs)
        if not updated:
            # Stops save() before its post_save and its "did not affect any
            # rows" error; _save_if() turns it into False.
            raise _RowChangedError
        return updated

    def _save_if(self, using: str, flag: str, expected: bool) -> bool:
        """save() the flag and ``deleted_at`` if the row's flag is ``expected``.

        One UPDATE either way; returns whether it matched the row.
        """
        needs_rollback = transaction.get_rollback(using=using)
        self.__dict__[_GUARD] = {flag: expected}
        try:
            self.save(using=using, update_fields=[flag, "deleted_at"])
        except _RowChangedError:
            # Nothing was written; save() marked the transaction for rollback
            # on the way out, which would break the caller's atomic block.
            if not needs_rollback:
                transaction.set_rollback(False, using=using)
            return False
        finally:
            self.__dict__.pop(_GUARD, None)
        return True

    def _sync_from_db(
        self, using: str, flag: str, previous: tuple[bool, Any, Any]
    ) -> None:
        """After an UPDATE that matched nothing: take the row's state from the DB.

        Costs one SELECT, only on this path. Raises ``DoesNotExist`` (with
        the instance as it was) if the row is gone.
        """
        fields = [flag, "deleted_at", "updated_at"]
        if any(f.name == "updated_by" for f in self._meta.concrete_fields):
            fields.append("updated_by")
        try:
            self.refresh_from_db(using=using, fields=fields)
        except ObjectDoesNotExist:
            setattr(self, flag, previous[0])
            self.deleted_at = previous[1]
            self.updated_at = previous[2]
            raise

    def soft_delete(self, *, cascade: bool = False, using: str | None = None) -> bool:
        """Hide this row: the flag becomes False and ``deleted_at`` is stamped.

        Sends ``pre_soft_delete`` and ``post_soft_delete`` (sender, instance,
        using) and writes only the changed fields (one UPDATE). A row that is
        already deleted is left alone (no write, no signals); returns whether
        anything changed. The UPDATE only matches a row that is still live:
        on a stale instance whose row was deleted meanwhile it changes
        nothing, ``post_soft_delete`` is not sent, the row keeps its
        ``deleted_at``, the instance takes the row's flag, ``deleted_at``
        and ``updated_at`` from the database (one SELECT, only then) and
        False is returned. With ``cascade=True`` rows of soft-delete models
        referencing this one through ``on_delete=CASCADE`` are soft-deleted
        too (set-based, any depth, one UPDATE per model and level, same
        ``deleted_at``; see ``post_bulk_soft_delete``). Live rows referencing
        it through ``PROTECT`` raise :class:`ProtectedError`.

        The signals' receivers run in the write's transaction.
        """
        from icv_core.models import _cascade

        flag = self.soft_delete_field
        if not getattr(self, flag):
            return False
        using = self._write_db(using)
        model: Any = type(self)
        protected = (
            _cascade.cascade_has_protection(model)
            if cascade
            else bool(_cascade.protecting_relations(model))
        )
        if protected and not cascade:
            _cascade.check_protected(model, using, {"pk": self.pk})
        previous = (getattr(self, flag), self.deleted_at, self.updated_at)
        # pre_soft_delete runs in the write's transaction. Inside the caller's
        # atomic block that transaction is already open: send it before the
        # inner block, so a receiver that raises to refuse the soft delete
        # leaves the caller's transaction usable.
        in_caller_atomic = transaction.get_connection(using).in_atomic_block
        if in_caller_atomic:
            pre_soft_delete.send(sender=model, instance=self, using=using)
        touched: set[type[models.Model]] = set()
        matched = False
        try:
            # The write and the post signals (whose receivers may write, e.g.
            # audit entries) commit or roll back together. A cascade that may
            # hit PROTECT runs in a savepoint, so ProtectedError leaves a
            # surrounding transaction usable.
            with transaction.atomic(using=using, savepoint=cascade and protected):
                if not in_caller_atomic:
                    pre_soft_delete.send(sender=model, instance=self, using=using)
                setattr(self, flag, False)
                self.deleted_at = timezone.now()
                matched = self._save_if(using, flag, True)
                if matched:
                    if cascade:
                        touched = _cascade.cascade_soft_delete(
                            model, self.deleted_at, using
                        )
                        if protected:
                            _cascade._check_cascade_protection(
                                {model._meta.concrete_model, *touched},
                                self.deleted_at,
                                using,
                            )
                    for target in sorted(touched, key=lambda m: m._meta.label):
                        _cascade._send_bulk(
                            _cascade.post_bulk_soft_delete,
                            target,
                            using,
                            target._base_manager.using(using).filter(
                                **{_cascade.flag_field_of(target): False},
                                deleted_at=self.deleted_at,
                            ),
                            exclude_pk=self.pk if target is model else None,
                            deleted_at=self.deleted_at,
                        )
                    post_soft_delete.send(sender=model, instance=self, using=using)
        except BaseException:
            setattr(self, flag, previous[0])
            self.deleted_at = previous[1]
            # The write was rolled back (or never happened): so is the snapshot.
            _update_loaded_values(self, [flag, "deleted_at"])
            raise
        if not matched:
            self._sync_from_db(using, flag, previous)
        return matched

    soft_delete.alters_data = True  # type: ignore[attr-defined]

    def restore(self, *, cascade: bool = False, using: str | None = None) -> bool:
        """Show this row again: the flag becomes True and ``deleted_at`` None.

        Sends ``pre_restore`` and ``post_restore`` (sender, instance, using)
        and writes only the changed fields. Restoring an active row does
        nothing; returns whether anything changed. As for
        :meth:`soft_delete`, the UPDATE only matches a row that is still
        deleted; on a stale instance whose row is live again nothing is
        written, ``post_restore`` is not sent, the instance is synced from
        the database (one SELECT, only then) and False is returned. With
        ``cascade=True`` the rows that ``soft_delete(cascade=True)`` deleted
        along with this one (same ``deleted_at``, reached through CASCADE
        relations) are restored too, one UPDATE per model and level; rows
        deleted at another time stay deleted.

        The signals' receivers run in the write's transaction.
        """
        from icv_core.models import _cascade

        flag = self.soft_delete_field
        if getattr(self, flag):
            return False
        using = self._write_db(using)
        model: Any = type(self)
        stamp = self.deleted_at
        previous = (getattr(self, flag), stamp, self.updated_at)
        # As in soft_delete(): pre_restore runs in the write's transaction.
        in_caller_atomic = transaction.get_connection(using).in_atomic_block
        if in_caller_atomic:
            pre_restore.send(sender=model, instance=self, using=using)
        touched: set[type[models.Model]] = set()
        matched = False
        try:
            # The write and the post signals commit or roll back together.
            with transaction.atomic(using=using, savepoint=False):
                if not in_caller_atomic:
                    pre_restore.send(sender=model, instance=self, using=using)
                setattr(self, flag, True)
                self.deleted_at = None
                matched = self._save_if(using, flag, False)
                if matched:
                    if cascade and stamp is not None:
                        touched = _cascade.cascade_restore(
                            model, self.updated_at, using, stamp=stamp
                        )
                    for target in sorted(touched, key=lambda m: m._meta.label):
                        _cascade._send_bulk(
                            _cascade.post_bulk_restore,
                            target,
                            using,
                            target._base_manager.using(using).filter(
                                **{_cascade.flag_field_of(target): True},
                                updated_at=self.updated_at,
                            ),
                            exclude_pk=self.pk if target is model else None,
                        )
                    post_restore.send(sender=model, instance=self, using=using)
        except BaseException:
            setattr(self, flag, False)
            self.deleted_at = stamp
            _update_loaded_values(self, [flag, "deleted_at"])
            raise
        if not matched:
            self._sync_from_db(using, flag, previous)
        return matched

    restore.alters_data = True  # type: ignore[attr-defined]

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Hard-delete only if ``ICV_CORE_ALLOW_HARD_DELETE`` is true.

        Otherwise raise :class:`~django.db.models.ProtectedError`; use
        :meth:`soft_delete`, or :meth:`hard_delete` to delete for real.
        """
        from icv_core.conf import settings

        if not settings.ALLOW_HARD_DELETE:
            raise ProtectedError(
                gettext(
                    "Hard delete is not allowed on %(model)s. Use soft_delete(), "
                    "hard_delete(), or set ICV_CORE_ALLOW_HARD_DELETE = True."
                )
                % {"model": self._meta.verbose_name},
                {self},
            )
        return self.hard_delete(using=using, keep_parents=keep_parents)

    delete.alters_data = True  # type: ignore[attr-defined]

    def hard_delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Delete the row for real, whatever the settings.

        Django's cascade deletes soft-delete rows below it for real too.
        """
        with hard_deleting():
            return super().delete(using=using, keep_parents=keep_parents)

    hard_delete.alters_data = True  # type: ignore[attr-defined]


# The flag field is added under its configured name.
SoftDeleteModel.add_to_class(
    FLAG_FIELD,
    models.BooleanField(
        _("active"),
        default=True,
        db_index=True,
        help_text=_("Unselect to soft-delete this record."),
    ),
)


def _refuse_hard_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    """pre_delete of soft-delete models: no hard delete unless asked for.

    Deleting a row of another model (a user, say) makes Django's Collector
    delete the soft-delete rows referencing it with ``on_delete=CASCADE``
    through the base manager, bypassing ``delete()``. Signals are sent
    inside the Collector's transaction, so raising here rolls the whole
    delete back.
    """
    if _hard_deleting.get():
        return
    from icv_core.conf import settings

    if settings.ALLOW_HARD_DELETE:
        return
    raise ProtectedError(
        gettext(
            "Cannot delete %(model)s rows as part of another delete: hard delete "
            "is not allowed on %(model)s. Soft-delete or hard_delete() them "
            "first, or set ICV_CORE_ALLOW_HARD_DELETE = True."
        )
        % {"model": instance._meta.verbose_name},
        {instance},
    )


def _connect_hard_delete_guard(sender: Any, **kwargs: Any) -> None:
    # Connected per concrete soft-delete model (proxies included), never for
    # every model: a pre_delete receiver turns off Django's fast delete for
    # its sender.
    if issubclass(sender, SoftDeleteModel) and not sender._meta.abstract:
        pre_delete.connect(
            _refuse_hard_delete,
            sender=sender,
            dispatch_uid="icv_core.soft_delete.refuse_hard_delete",
        )


# Every concrete subclass is defined after this module runs (it imports
# SoftDeleteModel from here), so class_prepared sees each of them.
class_prepared.connect(
    _connect_hard_delete_guard, dispatch_uid="icv_core.soft_delete.connect_guard"
)

"""SoftDeleteModel."""

from __future__ import annotations

import keyword
from typing import TYPE_CHECKING, Any

from django.db import models, router, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from icv_core.managers import SoftDeleteManager
from icv_core.models._base import BaseModel, _update_loaded_values
from icv_core.signals import (
    post_restore,
    post_soft_delete,
    pre_restore,
    pre_soft_delete,
)

__all__ = ["FLAG_FIELD", "SoftDeleteModel", "flag_field_problem"]

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


def flag_field_problem(value: Any) -> str | None:
    """Why ``value`` cannot name the soft-delete flag field, or None if it can."""
    if not isinstance(value, str):
        return f"it must be a string, not {type(value).__name__}"
    if not value.isidentifier() or keyword.iskeyword(value):
        return f"{value!r} is not a valid Python identifier"
    if value.startswith("_") or "__" in value:
        return f"{value!r} must not start with '_' or contain '__'"
    if value in _RESERVED:
        return f"{value!r} is already used by SoftDeleteModel"
    return None


def _flag_field_from_settings() -> str:
    # Read once, when this module defines SoftDeleteModel: the field name is
    # part of the schema. An unusable value falls back to the default and
    # check icv_core.E002 reports it as an error.
    from django.conf import settings

    value = getattr(settings, "ICV_CORE_SOFT_DELETE_FIELD", DEFAULT_FLAG_FIELD)
    return DEFAULT_FLAG_FIELD if flag_field_problem(value) else value


#: The name of the flag field of every SoftDeleteModel in this process.
FLAG_FIELD: str = _flag_field_from_settings()


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

    def soft_delete(self, *, cascade: bool = False, using: str | None = None) -> bool:
        """Hide this row: the flag becomes False and ``deleted_at`` is stamped.

        Sends ``pre_soft_delete`` and ``post_soft_delete`` (sender, instance,
        using) and writes only the changed fields (one UPDATE). A row that is
        already deleted is left alone (no write, no signals); returns whether
        anything changed. With ``cascade=True`` rows of soft-delete models
        referencing this one through ``on_delete=CASCADE`` are soft-deleted
        too (set-based, any depth, one UPDATE per model and level, same
        ``deleted_at``; see ``post_bulk_soft_delete``). Live rows referencing
        it through ``PROTECT`` raise :class:`ProtectedError`.
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
        pre_soft_delete.send(sender=model, instance=self, using=using)
        previous = (getattr(self, flag), self.deleted_at)
        setattr(self, flag, False)
        self.deleted_at = timezone.now()
        touched: set[type[models.Model]] = set()
        try:
            # The write and the post signals (whose receivers may write, e.g.
            # audit entries) commit or roll back together. A cascade that may
            # hit PROTECT runs in a savepoint, so ProtectedError leaves a
            # surrounding transaction usable.
            with transaction.atomic(using=using, savepoint=cascade and protected):
                self.save(using=using, update_fields=[flag, "deleted_at"])
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
        return True

    soft_delete.alters_data = True  # type: ignore[attr-defined]

    def restore(self, *, cascade: bool = False, using: str | None = None) -> bool:
        """Show this row again: the flag becomes True and ``deleted_at`` None.

        Sends ``pre_restore`` and ``post_restore`` (sender, instance, using)
        and writes only the changed fields. Restoring an active row does
        nothing; returns whether anything changed. With ``cascade=True`` the
        rows that ``soft_delete(cascade=True)`` deleted along with this one
        (same ``deleted_at``, reached through CASCADE relations) are restored
        too, one UPDATE per model and level; rows deleted at another time
        stay deleted.
        """
        from icv_core.models import _cascade

        flag = self.soft_delete_field
        if getattr(self, flag):
            return False
        using = self._write_db(using)
        model: Any = type(self)
        stamp = self.deleted_at
        pre_restore.send(sender=model, instance=self, using=using)
        setattr(self, flag, True)
        self.deleted_at = None
        touched: set[type[models.Model]] = set()
        try:
            # The write and the post signals commit or roll back together.
            with transaction.atomic(using=using, savepoint=False):
                self.save(using=using, update_fields=[flag, "deleted_at"])
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
        return True

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
        """Delete the row for real, whatever the settings."""
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

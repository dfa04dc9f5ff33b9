"""Managers and querysets of soft-deletable models.

Visibility (which rows a queryset sees: ``"active"``, ``"deleted"`` or
``"all"``) is kept as a mark on the query and turned into a ``WHERE`` on
the flag field only when the SQL is compiled. So :meth:`~SoftDeleteQuerySet.active`,
:meth:`~SoftDeleteQuerySet.deleted` and :meth:`~SoftDeleteQuerySet.with_deleted`
work anywhere in a chain: ``Model.objects.filter(name="x").deleted()`` is the
deleted rows named "x". The last of the three called wins.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db import models
from django.db.models import sql
from django.db.models.deletion import ProtectedError
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

__all__ = ["SoftDeleteManager", "SoftDeleteQuerySet"]

Visibility = Literal["active", "deleted", "all"]
_VISIBILITIES = ("active", "deleted", "all")


def _unknown_visibility(value: Any) -> Any:
    # Lazy: managers are built while models are defined, before translations
    # can be loaded.
    return format_lazy(_("Unknown visibility {value!r}."), value=value)


def flag_field_of(model: type[models.Model]) -> str:
    """The name of the boolean "active" field of a soft-delete model."""
    name = getattr(model, "soft_delete_field", None)
    if name is None:
        from icv_core.models._soft_delete import FLAG_FIELD

        return FLAG_FIELD
    return name


class _SoftDeleteQuery(sql.Query):
    """A Query that applies the visibility filter when it is compiled."""

    icv_visibility: Visibility = "all"
    icv_flag: str | None = None
    # True once a visibility filter was written into the WHERE (by | or &).
    icv_baked: bool = False

    def _icv_filtered(self) -> _SoftDeleteQuery:
        if self.icv_visibility == "all" or self.combinator:
            return self
        query: Any = self.clone()
        query.icv_visibility = "all"
        flag = self.icv_flag or flag_field_of(self.model)  # type: ignore[arg-type]
        query.add_q(models.Q(**{flag: self.icv_visibility == "active"}))
        return query

    def get_compiler(self, *args: Any, **kwargs: Any) -> Any:
        query = self._icv_filtered()
        if query is not self:
            return query.get_compiler(*args, **kwargs)
        return super().get_compiler(*args, **kwargs)

    def chain(self, klass: Any = None) -> Any:
        # UpdateQuery / DeleteQuery lose get_compiler() above: write the
        # filter into the WHERE before changing class.
        if klass is not None and not issubclass(klass, _SoftDeleteQuery):
            query = self._icv_filtered()
            return sql.Query.chain(query, klass)
        return super().chain(klass)

    def combine(self, rhs: sql.Query, connector: str) -> None:
        baked = self.icv_visibility != "all"
        if baked:
            flag = self.icv_flag or flag_field_of(self.model)  # type: ignore[arg-type]
            self.add_q(models.Q(**{flag: self.icv_visibility == "active"}))
            self.icv_visibility = "all"
        if isinstance(rhs, _SoftDeleteQuery) and rhs.icv_visibility != "all":
            baked = True
            rhs = rhs._icv_filtered()
        super().combine(rhs, connector)
        self.icv_baked = self.icv_baked or baked


class SoftDeleteQuerySet(models.QuerySet):
    """QuerySet of a soft-delete model.

    Set-based :meth:`soft_delete` and :meth:`restore` run one UPDATE (plus
    one per model level with ``cascade=True``) whatever the number of rows.
    :meth:`delete` raises :class:`~django.db.models.ProtectedError` unless
    ``ICV_CORE_ALLOW_HARD_DELETE`` is true; :meth:`hard_delete` always
    deletes.
    """

    def __init__(
        self,
        model: type[models.Model] | None = None,
        query: sql.Query | None = None,
        using: str | None = None,
        hints: dict[str, Any] | None = None,
    ) -> None:
        if query is None and model is not None:
            query = _SoftDeleteQuery(model)
        super().__init__(model=model, query=query, using=using, hints=hints)

    # -- visibility ---------------------------------------------------------

    @property
    def visibility(self) -> Visibility:
        """Which rows this queryset sees: "active", "deleted" or "all"."""
        return getattr(self.query, "icv_visibility", "all")

    def _with_visibility(self, visibility: Visibility) -> SoftDeleteQuerySet:
        if visibility not in _VISIBILITIES:
            raise ValueError(_unknown_visibility(visibility))
        clone: Any = self._chain()  # type: ignore[attr-defined]
        query = clone.query
        if not isinstance(query, _SoftDeleteQuery):
            query = query.chain(_SoftDeleteQuery)
            clone.query = query
        if query.icv_baked:
            raise TypeError(
                gettext(
                    "active(), deleted() and with_deleted() cannot change the rows "
                    "of querysets combined with | or &; call them before combining."
                )
            )
        query.icv_visibility = visibility
        return clone

    def active(self) -> SoftDeleteQuerySet:
        """Only rows that are not soft-deleted."""
        return self._with_visibility("active")

    def deleted(self) -> SoftDeleteQuerySet:
        """Only soft-deleted rows."""
        return self._with_visibility("deleted")

    def with_deleted(self) -> SoftDeleteQuerySet:
        """Active and soft-deleted rows."""
        return self._with_visibility("all")

    # -- set-based soft delete / restore -------------------------------------

    def soft_delete(self, *, cascade: bool = False) -> int:
        """Soft-delete the active rows of this queryset; return how many.

        One UPDATE sets the flag to False, ``deleted_at`` and ``updated_at``
        to one shared timestamp (and ``updated_by`` when the model tracks
        it). With ``cascade=True``, rows of soft-delete models that reference
        these rows through ``on_delete=CASCADE`` are soft-deleted too, one
        UPDATE per model and level, stamped with the same ``deleted_at``.
        Live rows referencing them through ``PROTECT`` (or ``RESTRICT``)
        raise :class:`~django.db.models.ProtectedError` and nothing changes.

        Signals: ``post_bulk_soft_delete(sender, pks, using, deleted_at)``
        once per model after the UPDATE; the pks SELECT runs only when a
        receiver is connected for that model. Instance signals are not sent.
        Returns the number of rows of this queryset's model soft-deleted
        directly (not counting cascaded rows). The UPDATEs and the signals
        run in one transaction: a receiver that raises rolls them back.
        """
        from icv_core.models._cascade import soft_delete_queryset

        return soft_delete_queryset(self, cascade=cascade)

    soft_delete.queryset_only = True  # type: ignore[attr-defined]

    def restore(self, *, cascade: bool = False) -> int:
        """Restore the soft-deleted rows of this queryset; return how many.

        Rows are chosen by this queryset's filters among deleted rows, also
        when it comes from ``objects`` (whose default hides them). One
        UPDATE sets the flag to True and clears ``deleted_at``. With
        ``cascade=True`` the rows that the same cascade soft-deleted (same
        ``deleted_at`` as their parent, through ``CASCADE`` relations) are
        restored too; rows deleted on their own at another time stay
        deleted. A cascaded restore first reads whether the rows share one
        ``deleted_at`` (one SELECT); if they do, as rows soft-deleted together
        do, it runs one UPDATE per model level; if not, one more UPDATE per
        model clears ``deleted_at`` once every level is matched.

        The UPDATEs and the bulk signals run in one transaction.

        Signals: ``post_bulk_restore(sender, pks, using)`` once per model
        after the UPDATE; the pks SELECT runs only when a receiver is
        connected for that model.
        """
        from icv_core.models._cascade import restore_queryset

        return restore_queryset(self, cascade=cascade)

    restore.queryset_only = True  # type: ignore[attr-defined]

    def update(self, **kwargs: Any) -> int:
        """Django's update(); setting the flag also keeps ``deleted_at`` right.

        ``update(is_active=False)`` stamps ``deleted_at`` on rows that have
        none; ``update(is_active=True)`` clears it, unless ``deleted_at`` is
        given too. No soft-delete signals are sent: use :meth:`soft_delete`
        and :meth:`restore` for that.
        """
        flag = flag_field_of(self.model)
        if flag in kwargs and "deleted_at" not in kwargs:
            value = kwargs[flag]
            if value is False:
                from django.db.models.functions import Coalesce
                from django.utils import timezone

                kwargs["deleted_at"] = Coalesce(
                    models.F("deleted_at"), models.Value(timezone.now())
                )
            elif value is True:
                kwargs["deleted_at"] = None
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    # -- deletion --------------------------------------------------------------

    def delete(self) -> tuple[int, dict[str, int]]:
        """Hard-delete, only if ``ICV_CORE_ALLOW_HARD_DELETE`` is true.

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
                % {"model": self.model._meta.verbose_name},
                self,  # type: ignore[arg-type]
            )
        return self.hard_delete()

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def hard_delete(self) -> tuple[int, dict[str, int]]:
        """Delete the rows for real (with Django's cascades), whatever the settings."""
        from icv_core.models._soft_delete import hard_deleting

        with hard_deleting():
            return super().delete()

    hard_delete.alters_data = True  # type: ignore[attr-defined]
    hard_delete.queryset_only = True  # type: ignore[attr-defined]

    def _raw_delete(self, using: Any) -> int:
        # Django swaps the query class here; write the visibility filter first.
        clone: Any = self._chain()  # type: ignore[attr-defined]
        if isinstance(clone.query, _SoftDeleteQuery):
            clone.query = clone.query._icv_filtered()
        return super(SoftDeleteQuerySet, clone)._raw_delete(using)

    _raw_delete.alters_data = True  # type: ignore[attr-defined]


class SoftDeleteManager(models.Manager.from_queryset(SoftDeleteQuerySet)):  # type: ignore[misc]
    """Manager of a soft-delete model.

    ``SoftDeleteManager()`` (the default ``objects``) hides soft-deleted
    rows; ``SoftDeleteManager(visibility="all")`` (``all_objects``) shows
    every row. Both offer ``active()``, ``deleted()`` and ``with_deleted()``;
    like ``delete()``, ``soft_delete()`` and ``restore()`` exist on querysets
    only (``Model.objects.all().soft_delete()``), so a whole table is never
    changed by accident.
    """

    def __init__(self, visibility: Visibility = "active") -> None:
        if visibility not in _VISIBILITIES:
            raise ValueError(_unknown_visibility(visibility))
        super().__init__()
        self.visibility = visibility

    def get_queryset(self) -> SoftDeleteQuerySet:
        query = _SoftDeleteQuery(self.model)
        query.icv_visibility = self.visibility
        return self._queryset_class(
            model=self.model, query=query, using=self._db, hints=self._hints
        )

"""``AuditMixin``: audit every create, update and delete of a model.

::

    class Contract(AuditMixin, BaseModel):
        title = models.CharField(max_length=255)
        value = models.DecimalField(max_digits=10, decimal_places=2)

While ``ICV_CORE_AUDIT_ENABLED`` is on (and the model is not in
``ICV_CORE_AUDIT_EXCLUDE_MODELS``), each ``save()`` writes a DATA/CREATE or
DATA/UPDATE entry, each successful delete (also ``hard_delete()``) a
DATA/DELETE entry, and soft-delete models get SOFT_DELETE/RESTORE entries
(querysets included, one bulk INSERT per operation). UPDATE metadata is
``{"changed_fields": {name: {"old": ..., "new": ...}}}`` with only the fields
that changed (``ICV_CORE_AUDIT_TRACK_FIELD_CHANGES``), as JSON-native values;
sensitive fields are masked completely. The change and its entry are written
in one transaction on the same database. See :mod:`icv_core.audit._tracking`.
"""

from __future__ import annotations

from typing import Any

from django.db import models, router, transaction

from icv_core.audit import _tracking

__all__ = ["AuditMixin"]


class AuditMixin(models.Model):
    """Abstract mixin that writes an audit entry for each change of the model.

    Put it before the base model: ``class Contract(AuditMixin, BaseModel)``.
    """

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Per-class receivers, so models without the mixin keep Django's fast
        # delete and their bulk soft delete stays one UPDATE; connected while
        # audit is on (_tracking.sync_tracking).
        _tracking.register_mixin_model(cls)

    def save(self, *args: Any, **kwargs: Any) -> None:
        model = type(self)
        if not _tracking.is_tracked(model):
            super().save(*args, **kwargs)
            self._icv_remember_saved(args, kwargs)
            return
        if model not in _tracking._mixin_connected:
            # Switched on without a setting_changed signal (settings assigned
            # by hand): connect the receivers now.
            _tracking.sync_tracking()
        using = kwargs.get("using") or (args[2] if len(args) >= 3 else None)
        using = using or router.db_for_write(model, instance=self)
        # The change and its entry (written by the post_save receiver) commit
        # or roll back together. savepoint=False: inside an outer transaction
        # this costs no statement; a failure propagates and marks it for
        # rollback, so it cannot be ignored.
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)
        self._icv_remember_saved(args, kwargs)

    def _icv_remember_saved(self, args: Any, kwargs: Any) -> None:
        """Keep the loaded-values snapshot of a plain model up to date.

        ``BaseModel`` does this itself; for other models the mixin does, also
        while audit is off, so a later audited UPDATE diffs against what is
        really stored.
        """
        from icv_core.models import BaseModel
        from icv_core.models._base import _update_loaded_fields

        if isinstance(self, BaseModel):
            return
        _update_loaded_fields(
            self, kwargs.get("update_fields") or (args[3] if len(args) >= 4 else None)
        )

    save.alters_data = True  # type: ignore[attr-defined]

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Any, values: Any, **kwargs: Any
    ) -> Any:
        # **kwargs: Django 6.1 passes fetch_mode; older versions pass nothing.
        instance = super().from_db(db, field_names, values, **kwargs)
        # Plain models.Model subclasses: keep a snapshot like BaseModel does,
        # as Django's own sequences (the dict is built only when asked).
        instance.__dict__.setdefault("_icv_loaded_values", (field_names, values))
        return instance

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        from icv_core.models import BaseModel

        if not isinstance(self, BaseModel):
            fields = args[1] if len(args) >= 2 else kwargs.get("fields")
            self._icv_remember_saved((), {"update_fields": fields})

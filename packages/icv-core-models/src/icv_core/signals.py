"""Soft-delete lifecycle signals.

Instance operations (:meth:`SoftDeleteModel.soft_delete` /
:meth:`~SoftDeleteModel.restore`) send, with ``sender`` the model class:

- ``pre_soft_delete(sender, instance, using)`` before the row changes,
- ``post_soft_delete(sender, instance, using)`` after it changed,
- ``pre_restore(sender, instance, using)`` / ``post_restore(sender, instance, using)``.

They are not sent when nothing changes (soft-deleting a deleted row, restoring
an active one).

Set-based operations (``QuerySet.soft_delete()`` / ``QuerySet.restore()`` and
the rows reached by a cascade) send one signal per model after the UPDATE:

- ``post_bulk_soft_delete(sender, pks, using, deleted_at)``
- ``post_bulk_restore(sender, pks, using)``

``pks`` is the list of primary keys that changed. Collecting it costs one
SELECT, which is run only when a receiver is connected for that sender;
without receivers the operation is exactly its UPDATE statements. No
``pre_`` bulk signals exist: the affected rows are known only after the
UPDATE.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = [
    "post_bulk_restore",
    "post_bulk_soft_delete",
    "post_restore",
    "post_soft_delete",
    "pre_restore",
    "pre_soft_delete",
]

pre_soft_delete = Signal()
post_soft_delete = Signal()
pre_restore = Signal()
post_restore = Signal()
post_bulk_soft_delete = Signal()
post_bulk_restore = Signal()

"""Signals of the audit part.

All three are plain :class:`django.dispatch.Signal` objects, sent with the
model class as ``sender``; receivers should accept ``**kwargs``.

``audit_entry_created(sender=AuditEntry, instance=entry)``
    After an audit entry is inserted, inside the same transaction (use
    ``transaction.on_commit`` in a receiver for side effects that must wait
    for the commit). Sent by ``AuditEntry.save()`` for single writes
    (``log_event``, ``AuditMixin``, ``@audited``, auth handlers). Bulk paths
    (``AuditEntry.objects.bulk_create()``, and so a queryset
    ``soft_delete()``/``restore()`` of N tracked rows) send it once per entry,
    in order, with the extra keyword ``bulk=True``; entries re-imported from
    an archive are not announced again. A security entry that the request
    middleware writes again after its transaction rolled back (see
    :mod:`icv_core.audit.services`) is announced a second time, with the same
    ``instance.pk`` and the extra keyword ``rewritten=True``. Receivers that
    raise on the bulk and rewrite paths are logged and do not undo the
    entries.

``system_alert_raised(sender=SystemAlert, instance=alert)``
    After a new alert row is inserted (``raise_alert()``, ``SystemAlert.save()``
    of a new alert, ``objects.create()``; ``objects.bulk_create()`` once per
    alert with ``bulk=True``). When ``raise_alert()`` finds an
    identical open alert it increments ``occurrences`` instead and sends the
    signal with ``created=False`` (``instance`` is the refreshed open alert);
    on the insert path ``created`` is absent or True, so receivers read
    ``kwargs.get("created", True)``.

``system_alert_resolved(sender=SystemAlert, instance=alert, resolved_by=user)``
    After an alert is resolved (``resolve_alert()``, ``SystemAlert.resolve()``,
    the admin and API actions, which all go through ``resolve()``).
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["audit_entry_created", "system_alert_raised", "system_alert_resolved"]

audit_entry_created = Signal()
system_alert_raised = Signal()
system_alert_resolved = Signal()

"""Helpers shared by the audit-ops tests (archive, stats, admin, API)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from icv_core.audit.models import AuditEntry
from icv_core.testing.factories import AuditEntryFactory

EVENT_CYCLE = [
    ("DATA", "CREATE"),
    ("DATA", "UPDATE"),
    ("SECURITY", "LOGIN_FAILED"),
    ("AUTHENTICATION", "LOGIN"),
]


def make_entries(
    n: int,
    *,
    age_days: float = 100,
    step: dt.timedelta = dt.timedelta(seconds=1),
    batch: int = 5000,
    **fields: Any,
) -> None:
    """Bulk insert ``n`` entries, oldest ``age_days`` ago, ``step`` apart.

    The entries are built by the test kit's ``AuditEntryFactory`` (no IP
    address or user agent, as the model defaults) and inserted with
    ``bulk_create``. Not ``backdated_entries()``: that dates every entry
    alike and inserts one at a time, and these tests need spread dates and
    up to 250,000 rows.
    """
    start = timezone.now() - dt.timedelta(days=age_days)
    for offset in range(0, n, batch):
        objs = []
        for i in range(offset, min(n, offset + batch)):
            event_type, action = EVENT_CYCLE[i % len(EVENT_CYCLE)]
            values = {
                "ip_address": None,
                "user_agent": "",
                "event_type": event_type,
                "action": action,
                "description": f"entry {i}",
                "metadata": {"i": i},
                "created_at": start + step * i,
                **fields,
            }
            objs.append(AuditEntryFactory.build(**values))
        AuditEntry.objects.bulk_create(objs)

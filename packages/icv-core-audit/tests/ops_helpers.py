"""Helpers shared by the audit-ops tests (archive, stats, admin, API)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from icv_core.audit.models import AuditEntry

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
    """Bulk insert ``n`` entries, oldest ``age_days`` ago, ``step`` apart."""
    start = timezone.now() - dt.timedelta(days=age_days)
    for offset in range(0, n, batch):
        objs = []
        for i in range(offset, min(n, offset + batch)):
            event_type, action = EVENT_CYCLE[i % len(EVENT_CYCLE)]
            values = {
                "event_type": event_type,
                "action": action,
                "description": f"entry {i}",
                "metadata": {"i": i},
                "created_at": start + step * i,
                **fields,
            }
            objs.append(AuditEntry(**values))
        AuditEntry.objects.bulk_create(objs)

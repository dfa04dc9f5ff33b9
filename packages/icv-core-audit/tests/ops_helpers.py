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


def install_chain_stub() -> None:
    """TEMPORARY: a stand-in for ``icv_core.audit.chain`` until it lands."""
    import hashlib
    import importlib
    import sys
    import types

    from django.db import connection

    try:
        importlib.import_module("icv_core.audit.chain")
        return
    except ImportError:
        pass

    def seal_pending(using: str = "default") -> int:
        table = AuditEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COALESCE(MAX(sequence), 0), MAX(entry_hash) FROM {table}"
            )
            seq, _ = cursor.fetchone()
            cursor.execute(f"SELECT entry_hash FROM {table} WHERE sequence = %s", [seq])
            row = cursor.fetchone()
            prev = row[0] if row else "0" * 64
            from icv_core.audit.models import AuditArchive

            last = AuditArchive.objects.order_by("-last_sequence").first()
            if last is not None and last.last_sequence > seq:
                seq, prev = last.last_sequence, last.last_entry_hash
            cursor.execute(
                f"SELECT id FROM {table} WHERE sequence IS NULL ORDER BY created_at, id"
            )
            ids = [r[0] for r in cursor.fetchall()]
            for pk in ids:
                seq += 1
                h = hashlib.sha256(f"{prev}{pk}".encode()).hexdigest()
                cursor.execute(
                    f"UPDATE {table} SET sequence=%s, prev_hash=%s, "
                    "entry_hash=%s WHERE id=%s",
                    [seq, prev, h, pk],
                )
                prev = h
        return len(ids)

    module = types.ModuleType("icv_core.audit.chain")
    module.seal_pending = seal_pending  # type: ignore[attr-defined]
    sys.modules["icv_core.audit.chain"] = module
    import icv_core.audit

    icv_core.audit.chain = module  # type: ignore[attr-defined]

"""Helpers shared by the integrity tests (models, immutability, trigger, chain)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from icv_core.audit.models import AuditEntry
from icv_core.testing.factories import AuditEntryFactory

BASE_TIME = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def make_entries(count: int, **extra: Any) -> list[AuditEntry]:
    """``count`` entries one second apart (explicit, increasing created_at).

    Made by the test kit's ``AuditEntryFactory`` (one ``objects.create``
    each); no IP address or user agent, as the model defaults.
    """
    start = extra.pop("start", BASE_TIME)
    values = {
        "event_type": AuditEntry.EventType.DATA,
        "action": AuditEntry.Action.UPDATE,
        "ip_address": None,
        "user_agent": "",
        **extra,
    }
    return [
        AuditEntryFactory(
            description=f"entry {index}",
            metadata={"n": index},
            created_at=start + datetime.timedelta(seconds=index),
            **values,
        )
        for index in range(count)
    ]


def row(model: Any, pk: Any) -> dict[str, Any]:
    """The stored values of one row, straight from the database."""
    return model._base_manager.filter(pk=pk).values().get()


def pk_param(model: Any, pk: Any) -> Any:
    return model._meta.pk.get_db_prep_value(pk, connection)


def tamper(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> int:
    """Run raw SQL past every guard (on PostgreSQL with triggers disabled).

    Must run inside a transaction (the ``db`` fixture provides one); the
    PostgreSQL setting is transaction-local.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        count = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    return count


def now() -> datetime.datetime:
    return timezone.now()

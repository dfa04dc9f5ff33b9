"""Upgrading a database created by django-icv-core 0.2/0.3.

0.2/0.3 shipped the audit tables from the ``icv_core`` app (one distribution).
The upgrade path, tested here on SQLite and PostgreSQL:

1. install the new distributions and add ``"icv_core.audit"`` to
   ``INSTALLED_APPS`` (after ``"icv_core"``);
2. ``python manage.py migrate icv_core_audit --fake-initial``: Django finds the
   three 0.2 tables, records ``icv_core_audit.0001_initial`` as applied without
   running it, then runs 0002 (new columns, ``AuditArchive``, username
   backfill) and 0003 (PostgreSQL trigger);
3. ``python manage.py icv_core_audit_seal`` to bring the existing rows into
   the hash chain.

The old ``("icv_core", "0001_initial")`` row in ``django_migrations`` is left
alone and is harmless.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.apps.registry import Apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, models
from django.db.migrations.recorder import MigrationRecorder

from icv_core.audit import chain
from icv_core.audit.models import AdminActivityLog, AuditEntry, SystemAlert

pytestmark = pytest.mark.django_db(transaction=True)


def legacy_models():
    """The 0.2 audit models, defined independently of our migrations."""
    registry = Apps()
    user_model = get_user_model()

    def meta(table, **extra):
        return type(
            "Meta",
            (),
            {"apps": registry, "app_label": "icv_core", "db_table": table, **extra},
        )

    def base_fields():
        return {
            "id": models.UUIDField(primary_key=True, default=uuid.uuid4),
            "created_at": models.DateTimeField(auto_now_add=True, db_index=True),
            "updated_at": models.DateTimeField(auto_now=True),
            "__module__": __name__,
        }

    def target(prefix):
        return {
            f"{prefix}_content_type": models.ForeignKey(
                ContentType,
                null=True,
                blank=True,
                on_delete=models.SET_NULL,
                related_name="+",
            ),
            f"{prefix}_object_id": models.CharField(
                max_length=255, null=True, blank=True
            ),
        }

    entry = type(
        "LegacyAuditEntry",
        (models.Model,),
        {
            **base_fields(),
            "event_type": models.CharField(max_length=20, db_index=True),
            "action": models.CharField(max_length=30, db_index=True),
            "user": models.ForeignKey(
                user_model,
                null=True,
                blank=True,
                on_delete=models.SET_NULL,
                related_name="+",
            ),
            "ip_address": models.GenericIPAddressField(null=True, blank=True),
            "user_agent": models.TextField(blank=True, default=""),
            **target("target"),
            "description": models.TextField(blank=True, default=""),
            "metadata": models.JSONField(default=dict),
            "Meta": meta(
                "icv_core_auditentry",
                indexes=[
                    models.Index(
                        fields=["event_type", "action"],
                        name="icv_core_au_event_t_9ac8b5_idx",
                    ),
                    models.Index(
                        fields=["user", "created_at"],
                        name="icv_core_au_user_id_c3e697_idx",
                    ),
                ],
            ),
        },
    )
    log = type(
        "LegacyAdminActivityLog",
        (models.Model,),
        {
            **base_fields(),
            "admin_user": models.ForeignKey(
                user_model, on_delete=models.CASCADE, related_name="+"
            ),
            "action_type": models.CharField(max_length=100, db_index=True),
            "description": models.TextField(),
            **target("target"),
            "ip_address": models.GenericIPAddressField(null=True, blank=True),
            "user_agent": models.TextField(blank=True, default=""),
            "metadata": models.JSONField(default=dict),
            "Meta": meta("icv_core_adminactivitylog"),
        },
    )
    alert = type(
        "LegacySystemAlert",
        (models.Model,),
        {
            **base_fields(),
            "alert_type": models.CharField(max_length=20, db_index=True),
            "severity": models.CharField(max_length=20, db_index=True),
            "title": models.CharField(max_length=255),
            "message": models.TextField(),
            **target("related"),
            "metadata": models.JSONField(default=dict),
            "is_resolved": models.BooleanField(default=False, db_index=True),
            "resolved_by": models.ForeignKey(
                user_model,
                null=True,
                blank=True,
                on_delete=models.SET_NULL,
                related_name="+",
            ),
            "resolved_at": models.DateTimeField(null=True, blank=True),
            "resolution_notes": models.TextField(blank=True, default=""),
            "Meta": meta("icv_core_systemalert"),
        },
    )
    return entry, log, alert


def applied(app_label):
    return sorted(
        name
        for app, name in MigrationRecorder(connection).applied_migrations()
        if app == app_label
    )


@pytest.fixture
def legacy_database():
    """Replace our audit tables by the 0.2 layout; restore everything after."""
    call_command("migrate", "icv_core_audit", "zero", verbosity=0)
    created = legacy_models()
    with connection.schema_editor() as editor:
        for model in created:
            editor.create_model(model)
    MigrationRecorder(connection).record_applied("icv_core", "0001_initial")
    try:
        yield created
    finally:
        MigrationRecorder(connection).migration_qs.filter(app="icv_core").delete()
        if "0001_initial" not in applied("icv_core_audit"):
            with connection.schema_editor() as editor:
                for model in created:
                    editor.delete_model(model)
        call_command("migrate", verbosity=0)


def test_fake_initial_adopts_a_02_database(legacy_database):
    legacy_entry, legacy_log, legacy_alert = legacy_database
    user = get_user_model().objects.create(username="legacy-admin")
    created = datetime.datetime(2025, 6, 1, 8, 30, tzinfo=datetime.UTC)
    old_entry = legacy_entry.objects.create(
        event_type="DATA",
        action="UPDATE",
        user_id=user.pk,
        ip_address="192.0.2.1",
        description="written by 0.2",
        metadata={"changes": {"name": {"old": "a", "new": "b"}}},
    )
    legacy_entry.objects.filter(pk=old_entry.pk).update(created_at=created)
    old_log = legacy_log.objects.create(
        admin_user_id=user.pk, action_type="approve_claim", description="ok"
    )
    old_alert = legacy_alert.objects.create(
        alert_type="payment", severity="critical", title="Webhook failing", message="m"
    )
    assert applied("icv_core_audit") == []

    call_command("migrate", "icv_core_audit", fake_initial=True, verbosity=0)

    assert applied("icv_core_audit") == [
        "0001_initial",
        "0002_audit_columns_chain_archive",
        "0003_postgresql_immutability_trigger",
        "0004_audit_entry_user_ref",
    ]
    entry = AuditEntry.objects.get(pk=old_entry.pk)
    assert (entry.event_type, entry.action, entry.description) == (
        "DATA",
        "UPDATE",
        "written by 0.2",
    )
    assert entry.created_at == created
    assert entry.ip_address == "192.0.2.1"
    assert entry.metadata == {"changes": {"name": {"old": "a", "new": "b"}}}
    # New columns exist; the username snapshot was backfilled from the user.
    assert (entry.username, entry.request_id, entry.sequence) == (
        "legacy-admin",
        "",
        None,
    )
    # ... and the user reference that the chain hashes.
    assert entry.user_ref == str(user.pk)
    log = AdminActivityLog.objects.get(pk=old_log.pk)
    assert log.admin_username == "legacy-admin"
    alert = SystemAlert.objects.get(pk=old_alert.pk)
    assert (alert.occurrences, alert.fingerprint, alert.last_seen_at) == (1, "", None)

    # The adopted rows join the chain and verify.
    assert chain.seal_pending() == 1
    assert chain.verify().ok

    # 0.2 deleted the admin's log with the admin; now the log survives.
    user.delete()
    log = AdminActivityLog.objects.get(pk=old_log.pk)
    assert (log.admin_user_id, log.admin_username) == (None, "legacy-admin")
    assert AuditEntry.objects.get(pk=old_entry.pk).username == "legacy-admin"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_trigger_guards_adopted_rows(legacy_database):
    from django.db import IntegrityError, transaction

    legacy_entry, _log, _alert = legacy_database
    old = legacy_entry.objects.create(event_type="DATA", action="CREATE")
    call_command("migrate", "icv_core_audit", fake_initial=True, verbosity=0)
    refused = pytest.raises(IntegrityError)
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM icv_core_auditentry WHERE id = %s", [old.pk])


@pytest.mark.slow
def test_migrations_reverse_and_reapply_cleanly():
    call_command("migrate", "icv_core_audit", "0001", verbosity=0)
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(
                cursor, "icv_core_auditentry"
            )
        }
        tables = set(connection.introspection.table_names(cursor))
    assert "sequence" not in columns
    assert "icv_core_auditarchive" not in tables
    call_command("migrate", verbosity=0)
    assert applied("icv_core_audit")[-1] == "0004_audit_entry_user_ref"

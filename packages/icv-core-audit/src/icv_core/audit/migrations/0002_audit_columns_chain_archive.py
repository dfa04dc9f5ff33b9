"""Columns and tables added after 0.2/0.3.

AuditEntry: ``username`` snapshot, ``request_id``, chain fields ``sequence``,
``prev_hash``, ``entry_hash``; AdminActivityLog: ``admin_user`` becomes
nullable (SET_NULL) plus ``admin_username``; SystemAlert: ``fingerprint``,
``occurrences``, ``last_seen_at``; the new ``AuditArchive`` table; lookup
indexes.
"""

from __future__ import annotations

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr

import icv_core.uuid


def backfill_username_snapshots(apps, schema_editor):
    """Give rows written by 0.2/0.3 the username snapshot they lacked.

    Runs before the trigger of 0003 exists; on a fresh database it touches
    nothing.
    """
    alias = schema_editor.connection.alias
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    username_field = get_user_model().USERNAME_FIELD
    for model_name, fk, snapshot in (
        ("AuditEntry", "user", "username"),
        ("AdminActivityLog", "admin_user", "admin_username"),
    ):
        model = apps.get_model("icv_core_audit", model_name)
        name = Subquery(
            user_model._default_manager.using(alias)
            .filter(pk=OuterRef(f"{fk}_id"))
            .values(username_field)[:1]
        )
        model._base_manager.using(alias).filter(
            **{snapshot: "", f"{fk}__isnull": False}
        ).update(**{snapshot: Substr(name, 1, 150)})


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("icv_core_audit", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditArchive",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=icv_core.uuid.make_uuid,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True,
                        default=django.utils.timezone.now,
                        verbose_name="created at",
                    ),
                ),
                (
                    "completed_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="completed at"
                    ),
                ),
                (
                    "storage_alias",
                    models.CharField(max_length=100, verbose_name="storage alias"),
                ),
                ("path", models.CharField(max_length=1024, verbose_name="path")),
                (
                    "row_count",
                    models.PositiveBigIntegerField(default=0, verbose_name="row count"),
                ),
                (
                    "first_created_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="first created at"
                    ),
                ),
                (
                    "last_created_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="last created at"
                    ),
                ),
                (
                    "first_entry_id",
                    models.UUIDField(
                        blank=True, null=True, verbose_name="first entry id"
                    ),
                ),
                (
                    "last_entry_id",
                    models.UUIDField(
                        blank=True, null=True, verbose_name="last entry id"
                    ),
                ),
                (
                    "first_sequence",
                    models.BigIntegerField(
                        blank=True, null=True, verbose_name="first sequence"
                    ),
                ),
                (
                    "last_sequence",
                    models.BigIntegerField(
                        blank=True,
                        db_index=True,
                        null=True,
                        verbose_name="last sequence",
                    ),
                ),
                (
                    "first_prev_hash",
                    models.CharField(
                        blank=True,
                        default="",
                        max_length=64,
                        verbose_name="previous hash of the first entry",
                    ),
                ),
                (
                    "last_entry_hash",
                    models.CharField(
                        blank=True,
                        default="",
                        max_length=64,
                        verbose_name="hash of the last entry",
                    ),
                ),
                (
                    "sha256",
                    models.CharField(max_length=64, verbose_name="file SHA-256"),
                ),
                (
                    "metadata",
                    models.JSONField(blank=True, default=dict, verbose_name="metadata"),
                ),
            ],
            options={
                "verbose_name": "audit archive",
                "verbose_name_plural": "audit archives",
                "db_table": "icv_core_auditarchive",
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddField(
            model_name="adminactivitylog",
            name="admin_username",
            field=models.CharField(
                blank=True,
                default="",
                help_text="Snapshot of the admin's username when the row was written.",
                max_length=150,
                verbose_name="admin username",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="entry_hash",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=64,
                null=True,
                verbose_name="entry hash",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=64,
                null=True,
                verbose_name="previous hash",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="request_id",
            field=models.CharField(
                blank=True,
                db_index=True,
                default="",
                max_length=64,
                verbose_name="request id",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="sequence",
            field=models.BigIntegerField(
                blank=True,
                editable=False,
                null=True,
                unique=True,
                verbose_name="chain sequence",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="username",
            field=models.CharField(
                blank=True,
                default="",
                help_text="Snapshot of the user's username when the entry was written.",
                max_length=150,
                verbose_name="username",
            ),
        ),
        migrations.AddField(
            model_name="systemalert",
            name="fingerprint",
            field=models.CharField(
                blank=True,
                db_index=True,
                default="",
                help_text="Identifies identical alerts; unique among open alerts.",
                max_length=64,
                verbose_name="fingerprint",
            ),
        ),
        migrations.AddField(
            model_name="systemalert",
            name="last_seen_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="last seen at"
            ),
        ),
        migrations.AddField(
            model_name="systemalert",
            name="occurrences",
            field=models.PositiveIntegerField(default=1, verbose_name="occurrences"),
        ),
        migrations.AlterField(
            model_name="adminactivitylog",
            name="admin_user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="admin_activity_logs",
                to=settings.AUTH_USER_MODEL,
                verbose_name="admin user",
            ),
        ),
        migrations.AddIndex(
            model_name="adminactivitylog",
            index=models.Index(
                fields=["target_content_type", "target_object_id"],
                name="icv_core_aal_target_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                fields=["target_content_type", "target_object_id"],
                name="icv_core_au_target_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="systemalert",
            index=models.Index(
                fields=["is_resolved", "severity"], name="icv_core_sa_open_sev_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="systemalert",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("is_resolved", False), models.Q(("fingerprint", ""), _negated=True)
                ),
                fields=("fingerprint",),
                name="icv_core_sa_open_fingerprint_uniq",
            ),
        ),
        migrations.RunPython(
            backfill_username_snapshots, migrations.RunPython.noop, elidable=False
        ),
    ]

"""The django-icv-core 0.2/0.3 audit tables, exactly.

0.2/0.3 created these three tables from the ``icv_core`` app. This migration
creates the same tables, columns and named indexes, so a database that already
has them is adopted with ``migrate icv_core_audit --fake-initial`` (Django sees
the tables and records this migration as applied without running it); the
following migrations then add the new columns and tables. Options that do not
change the schema (defaults, choices, ``on_delete``, labels) already carry
their current values.
"""

from __future__ import annotations

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import icv_core.uuid


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
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
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        auto_now=True, editable=False, verbose_name="updated at"
                    ),
                ),
                (
                    "event_type",
                    models.CharField(
                        choices=[
                            ("SECURITY", "Security"),
                            ("DATA", "Data"),
                            ("SYSTEM", "System"),
                            ("AUTHENTICATION", "Authentication"),
                        ],
                        db_index=True,
                        max_length=20,
                        verbose_name="event type",
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("CREATE", "Create"),
                            ("UPDATE", "Update"),
                            ("DELETE", "Delete"),
                            ("SOFT_DELETE", "Soft delete"),
                            ("RESTORE", "Restore"),
                            ("LOGIN", "Login"),
                            ("LOGOUT", "Logout"),
                            ("LOGIN_FAILED", "Login failed"),
                            ("PASSWORD_CHANGED", "Password changed"),
                            ("PERMISSION_DENIED", "Permission denied"),
                            ("CUSTOM", "Custom"),
                        ],
                        db_index=True,
                        max_length=30,
                        verbose_name="action",
                    ),
                ),
                (
                    "ip_address",
                    models.GenericIPAddressField(
                        blank=True, null=True, verbose_name="IP address"
                    ),
                ),
                (
                    "user_agent",
                    models.TextField(blank=True, default="", verbose_name="user agent"),
                ),
                (
                    "target_object_id",
                    models.CharField(
                        blank=True, max_length=255, null=True, verbose_name="target id"
                    ),
                ),
                (
                    "description",
                    models.TextField(
                        blank=True, default="", verbose_name="description"
                    ),
                ),
                (
                    "metadata",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="Arbitrary additional context for this audit entry.",
                        verbose_name="metadata",
                    ),
                ),
                (
                    "target_content_type",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="target type",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="audit_entries",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit entry",
                "base_manager_name": "objects",
                "default_manager_name": "objects",
                "verbose_name_plural": "audit entries",
                "db_table": "icv_core_auditentry",
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(
                        fields=["event_type", "action"],
                        name="icv_core_au_event_t_9ac8b5_idx",
                    ),
                    models.Index(
                        fields=["user", "created_at"],
                        name="icv_core_au_user_id_c3e697_idx",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="AdminActivityLog",
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
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        auto_now=True, editable=False, verbose_name="updated at"
                    ),
                ),
                (
                    "action_type",
                    models.CharField(
                        db_index=True,
                        help_text='What was done, e.g. "add", "change", "delete", "approve_claim".',
                        max_length=100,
                        verbose_name="action type",
                    ),
                ),
                ("description", models.TextField(verbose_name="description")),
                (
                    "target_object_id",
                    models.CharField(
                        blank=True, max_length=255, null=True, verbose_name="target id"
                    ),
                ),
                (
                    "ip_address",
                    models.GenericIPAddressField(
                        blank=True, null=True, verbose_name="IP address"
                    ),
                ),
                (
                    "user_agent",
                    models.TextField(blank=True, default="", verbose_name="user agent"),
                ),
                (
                    "metadata",
                    models.JSONField(blank=True, default=dict, verbose_name="metadata"),
                ),
                (
                    # 0.2 layout: required and CASCADE (0002 makes it SET_NULL).
                    "admin_user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="admin_activity_logs",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="admin user",
                    ),
                ),
                (
                    "target_content_type",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="target type",
                    ),
                ),
            ],
            options={
                "verbose_name": "admin activity log",
                "base_manager_name": "objects",
                "default_manager_name": "objects",
                "verbose_name_plural": "admin activity logs",
                "db_table": "icv_core_adminactivitylog",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="SystemAlert",
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
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        auto_now=True, editable=False, verbose_name="updated at"
                    ),
                ),
                (
                    "alert_type",
                    models.CharField(
                        choices=[
                            ("security", "Security"),
                            ("payment", "Payment"),
                            ("content", "Content"),
                            ("support", "Support"),
                            ("system", "System"),
                        ],
                        db_index=True,
                        max_length=20,
                        verbose_name="alert type",
                    ),
                ),
                (
                    "severity",
                    models.CharField(
                        db_index=True,
                        help_text="One of ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS (info, warning, error, critical).",
                        max_length=20,
                        verbose_name="severity",
                    ),
                ),
                ("title", models.CharField(max_length=255, verbose_name="title")),
                ("message", models.TextField(verbose_name="message")),
                (
                    "related_object_id",
                    models.CharField(
                        blank=True, max_length=255, null=True, verbose_name="related id"
                    ),
                ),
                (
                    "metadata",
                    models.JSONField(blank=True, default=dict, verbose_name="metadata"),
                ),
                (
                    "is_resolved",
                    models.BooleanField(
                        db_index=True, default=False, verbose_name="resolved"
                    ),
                ),
                (
                    "resolved_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="resolved at"
                    ),
                ),
                (
                    "resolution_notes",
                    models.TextField(
                        blank=True, default="", verbose_name="resolution notes"
                    ),
                ),
                (
                    "related_content_type",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="related type",
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="resolved_alerts",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="resolved by",
                    ),
                ),
            ],
            options={
                "verbose_name": "system alert",
                "verbose_name_plural": "system alerts",
                "db_table": "icv_core_systemalert",
                "ordering": ["-created_at"],
            },
        ),
    ]

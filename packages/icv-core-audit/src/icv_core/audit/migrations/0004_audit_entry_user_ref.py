"""AuditEntry.user_ref: the actor's primary key at write time, hashed into the chain.

Entries that are not sealed yet (all of them when a 0.2/0.3 database is
adopted) get it from their user reference. Sealed entries keep it empty: their
hash does not cover it.
"""

from __future__ import annotations

from django.db import migrations, models


def backfill_user_refs(apps, schema_editor):
    """One UPDATE per distinct user of the unsealed entries that lack it."""
    alias = schema_editor.connection.alias
    model = apps.get_model("icv_core_audit", "AuditEntry")
    rows = model._base_manager.using(alias).filter(
        user__isnull=False, user_ref="", sequence__isnull=True
    )
    user_ids = list(rows.values_list("user_id", flat=True).distinct())
    if not user_ids:
        return
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        # The trigger of 0003 allows no such UPDATE; this migration's own
        # transaction is the only one that runs without it.
        schema_editor.execute(
            "ALTER TABLE icv_core_auditentry DISABLE TRIGGER icv_core_audit_guard"
        )
    for user_id in user_ids:
        rows.filter(user_id=user_id).update(user_ref=str(user_id))
    if postgres:
        schema_editor.execute(
            "ALTER TABLE icv_core_auditentry ENABLE TRIGGER icv_core_audit_guard"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("icv_core_audit", "0003_postgresql_immutability_trigger"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="user_ref",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                help_text="The user's primary key when the entry was written (hashed into the chain; the user reference may only become empty afterwards).",
                max_length=255,
                verbose_name="user reference",
            ),
        ),
        migrations.RunPython(
            backfill_user_refs, migrations.RunPython.noop, elidable=False
        ),
    ]

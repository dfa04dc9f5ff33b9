"""Append-only trigger on PostgreSQL (a no-op on every other database).

The trigger function ``icv_core_audit_guard()`` runs BEFORE UPDATE OR DELETE
on ``icv_core_auditentry`` and ``icv_core_adminactivitylog``:

* UPDATE is refused except (a) the user reference (``user_id`` /
  ``admin_user_id``) becoming NULL with nothing else changed (what Django's
  ``on_delete=SET_NULL`` does when the user is deleted) and (b) on
  ``icv_core_auditentry`` only, sealing: ``sequence``, ``prev_hash`` and
  ``entry_hash`` going from NULL to values with nothing else changed.
* DELETE is refused unless the transaction-local setting
  ``icv_core.audit_bypass`` is ``'on'`` (``SET LOCAL``, issued only by
  ``icv_core.audit.models._bypass_immutability`` for the archive command).

TRUNCATE is not guarded (test runners flush tables with it); revoke the
TRUNCATE privilege from the application's database role in production.
The operation is the same on every database, so the migration graph is
identical everywhere; it only executes SQL when the vendor is PostgreSQL.
"""

from __future__ import annotations

from django.db import migrations

GUARDED = (
    # table, nullable user column, whether the table carries the hash chain
    ("icv_core_auditentry", "user_id", "chain"),
    ("icv_core_adminactivitylog", "admin_user_id", "nochain"),
)

FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION icv_core_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    user_col text := TG_ARGV[0];
    new_row jsonb;
    old_row jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF coalesce(current_setting('icv_core.audit_bypass', true), '') = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'icv_core: rows of % are append-only; DELETE refused', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Only the icv_core_audit_archive command removes audit rows.';
    END IF;
    new_row := to_jsonb(NEW);
    old_row := to_jsonb(OLD);
    -- (a) the user reference becomes NULL, nothing else changes
    IF (new_row ->> user_col) IS NULL
       AND (new_row - user_col) = (old_row - user_col) THEN
        RETURN NEW;
    END IF;
    -- (b) sealing: chain fields go from NULL to values, nothing else changes
    -- (nested IF: PL/pgSQL does not promise short-circuit evaluation)
    IF TG_ARGV[1] = 'chain' THEN
        IF (old_row ->> 'sequence') IS NULL
           AND (old_row ->> 'prev_hash') IS NULL
           AND (old_row ->> 'entry_hash') IS NULL
           AND (new_row ->> 'sequence') IS NOT NULL
           AND (new_row ->> 'prev_hash') IS NOT NULL
           AND (new_row ->> 'entry_hash') IS NOT NULL
           AND (new_row - 'sequence' - 'prev_hash' - 'entry_hash')
               = (old_row - 'sequence' - 'prev_hash' - 'entry_hash') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'icv_core: rows of % are append-only; UPDATE refused', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION_SQL, params=None)
    for table, user_column, chain in GUARDED:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS icv_core_audit_guard ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER icv_core_audit_guard BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION icv_core_audit_guard('{user_column}', '{chain}')"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _user_column, _chain in GUARDED:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS icv_core_audit_guard ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS icv_core_audit_guard()")


class Migration(migrations.Migration):
    dependencies = [
        ("icv_core_audit", "0002_audit_columns_chain_archive"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]

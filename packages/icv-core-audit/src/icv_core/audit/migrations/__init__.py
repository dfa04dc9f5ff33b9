"""Migrations of the audit app (label ``icv_core_audit``).

``0001_initial``
    Exactly the tables, columns and named indexes that django-icv-core
    0.2/0.3 created from the ``icv_core`` app: ``icv_core_auditentry``,
    ``icv_core_adminactivitylog``, ``icv_core_systemalert``.
``0002_audit_columns_chain_archive``
    The new columns (username snapshots, request id, chain fields, alert
    dedupe fields), ``AdminActivityLog.admin_user`` nullable, the
    ``icv_core_auditarchive`` table, lookup indexes, and a backfill of the
    username snapshots of existing rows.
``0003_postgresql_immutability_trigger``
    The append-only trigger on PostgreSQL (no-op elsewhere).

Upgrading a 0.2/0.3 database: add ``"icv_core.audit"`` to ``INSTALLED_APPS``
and run ``python manage.py migrate icv_core_audit --fake-initial`` (Django sees
that the 0001 tables exist, records 0001 as applied, and runs 0002 and 0003),
then ``python manage.py icv_core_audit_seal`` to chain the existing rows.
The old ``icv_core.0001_initial`` row in ``django_migrations`` is harmless.

The migrations are the same on every Django series and under every setting
(no setting-dependent defaults; ids default to ``icv_core.uuid.make_uuid``,
which reads ``ICV_CORE_UUID_VERSION`` when called).
"""

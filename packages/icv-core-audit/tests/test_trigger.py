"""The PostgreSQL append-only trigger, exercised with raw SQL."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, connections, transaction
from integrity_helpers import pk_param, row

from icv_core.audit.models import AdminActivityLog, AuditEntry, _bypass_immutability

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the trigger exists on PostgreSQL only",
    ),
]

ENTRY = "icv_core_auditentry"
ADMIN_LOG = "icv_core_adminactivitylog"


def raw(sql: str, params: list | tuple = ()) -> int:
    """Run raw SQL in a savepoint; return the row count."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


_raw_routes: list = []


@pytest.fixture(scope="module", autouse=True)
def raw_tally(battery_tally):
    tally = battery_tally(
        "B3 immutability ({vendor}): {passed}/{tried} raw SQL writes refused by "
        "the trigger, 0 rows changed"
    )
    _raw_routes.append(tally)
    yield tally
    _raw_routes.remove(tally)


def refused(sql: str, params: list | tuple = ()) -> str:
    with _raw_routes[0].case(), pytest.raises(IntegrityError) as excinfo:
        raw(sql, params)
    return str(excinfo.value)


@pytest.fixture
def user():
    return get_user_model().objects.create(username="actor")


@pytest.fixture
def entry(user):
    return AuditEntry.objects.create(
        event_type="DATA", action="CREATE", user=user, description="original"
    )


@pytest.fixture
def admin_log(user):
    return AdminActivityLog.objects.create(
        admin_user=user, action_type="change", description="original"
    )


def test_trigger_is_installed_on_both_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger "
            "WHERE tgname = 'icv_core_audit_guard' ORDER BY 1"
        )
        assert [r[0] for r in cursor.fetchall()] == [ADMIN_LOG, ENTRY]


def test_raw_update_is_refused(entry):
    before = row(AuditEntry, entry.pk)
    message = refused(f"UPDATE {ENTRY} SET description = 'x' WHERE id = %s", [entry.pk])
    assert "icv_core: rows of icv_core_auditentry are append-only; UPDATE refused" in (
        message
    )
    assert row(AuditEntry, entry.pk) == before


def test_raw_delete_is_refused(entry):
    message = refused(f"DELETE FROM {ENTRY} WHERE id = %s", [entry.pk])
    assert "append-only; DELETE refused" in message
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_raw_user_to_null_is_allowed(entry):
    before = row(AuditEntry, entry.pk)
    assert raw(f"UPDATE {ENTRY} SET user_id = NULL WHERE id = %s", [entry.pk]) == 1
    after = row(AuditEntry, entry.pk)
    assert after["user_id"] is None
    assert {**after, "user_id": before["user_id"]} == before


def test_raw_user_to_null_with_another_change_is_refused(entry):
    before = row(AuditEntry, entry.pk)
    refused(
        f"UPDATE {ENTRY} SET user_id = NULL, username = 'x' WHERE id = %s", [entry.pk]
    )
    assert row(AuditEntry, entry.pk) == before


def test_raw_user_to_another_user_is_refused(entry):
    other = get_user_model().objects.create(username="other")
    refused(f"UPDATE {ENTRY} SET user_id = %s WHERE id = %s", [other.pk, entry.pk])
    assert row(AuditEntry, entry.pk)["user_id"] == entry.user_id


def test_sealing_is_allowed_once(entry):
    sql = (
        f"UPDATE {ENTRY} SET sequence = %s, prev_hash = %s, entry_hash = %s "
        "WHERE id = %s"
    )
    assert raw(sql, [1, "0" * 64, "a" * 64, entry.pk]) == 1
    # Re-sealing (changing chain values) is refused.
    refused(sql, [2, "0" * 64, "b" * 64, entry.pk])
    refused(f"UPDATE {ENTRY} SET sequence = NULL WHERE id = %s", [entry.pk])
    stored = row(AuditEntry, entry.pk)
    assert (stored["sequence"], stored["entry_hash"]) == (1, "a" * 64)


def test_sealing_with_a_content_change_is_refused(entry):
    refused(
        f"UPDATE {ENTRY} SET sequence = 1, prev_hash = %s, entry_hash = %s, "
        f"description = 'x' WHERE id = %s",
        ["0" * 64, "a" * 64, entry.pk],
    )
    refused(
        f"UPDATE {ENTRY} SET sequence = 1 WHERE id = %s",
        [entry.pk],
    )
    assert row(AuditEntry, entry.pk)["sequence"] is None


def test_admin_log_rules(admin_log):
    before = row(AdminActivityLog, admin_log.pk)
    refused(f"UPDATE {ADMIN_LOG} SET description = 'x' WHERE id = %s", [admin_log.pk])
    refused(f"DELETE FROM {ADMIN_LOG} WHERE id = %s", [admin_log.pk])
    # The chain exception does not exist for this table.
    refused(f"UPDATE {ADMIN_LOG} SET action_type = 'y' WHERE id = %s", [admin_log.pk])
    assert row(AdminActivityLog, admin_log.pk) == before
    to_null = f"UPDATE {ADMIN_LOG} SET admin_user_id = NULL WHERE id = %s"
    assert raw(to_null, [admin_log.pk]) == 1


def test_user_deletion_passes_the_trigger(entry, admin_log, user):
    user.delete()
    assert row(AuditEntry, entry.pk)["user_id"] is None
    assert row(AdminActivityLog, admin_log.pk)["admin_user_id"] is None


def test_bypass_allows_raw_delete_and_is_switched_off_after_the_block(entry):
    second = AuditEntry.objects.create(event_type="DATA", action="CREATE")
    with transaction.atomic():
        with _bypass_immutability():
            assert raw(f"DELETE FROM {ENTRY} WHERE id = %s", [entry.pk]) == 1
        # Same transaction, after the block: refused again.
        refused(f"DELETE FROM {ENTRY} WHERE id = %s", [second.pk])
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [second.pk]


def test_bypass_does_not_allow_updates(entry):
    with transaction.atomic(), _bypass_immutability():
        refused(f"UPDATE {ENTRY} SET description = 'x' WHERE id = %s", [entry.pk])


def _setting() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('icv_core.audit_bypass', true)")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_bypass_does_not_leak_into_the_next_transaction():
    first = AuditEntry.objects.create(event_type="DATA", action="CREATE")
    second = AuditEntry.objects.create(event_type="DATA", action="CREATE")
    with transaction.atomic(), _bypass_immutability():
        assert _setting() == "on"
        raw(f"DELETE FROM {ENTRY} WHERE id = %s", [first.pk])
    assert _setting() in (None, "", "off")
    with pytest.raises(IntegrityError):
        raw(f"DELETE FROM {ENTRY} WHERE id = %s", [second.pk])
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_bypass_is_invisible_to_other_sessions():
    entry = AuditEntry.objects.create(event_type="DATA", action="CREATE")
    outcome: list[str] = []

    def other_session() -> None:
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT current_setting('icv_core.audit_bypass', true)")
                outcome.append(repr(cursor.fetchone()[0]))
                try:
                    cursor.execute(
                        f"DELETE FROM {ENTRY} WHERE id = %s",
                        [pk_param(AuditEntry, entry.pk)],
                    )
                except IntegrityError:
                    outcome.append("refused")
                else:  # pragma: no cover
                    outcome.append("deleted")
        finally:
            other.close()

    with transaction.atomic(), _bypass_immutability():
        assert _setting() == "on"
        thread = threading.Thread(target=other_session)
        thread.start()
        thread.join()
    assert outcome[0] in ("None", "''")
    assert outcome[1] == "refused"
    assert AuditEntry.objects.filter(pk=entry.pk).exists()

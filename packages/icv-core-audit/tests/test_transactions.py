"""Audit writes and transactions: same transaction, failure policy, security
events that survive a rolled-back request (ATOMIC_REQUESTS)."""

from __future__ import annotations

from unittest import mock

import pytest
from audit_testapp.models import Contract, Customer, Document
from capture_helpers import *  # noqa: F403
from capture_helpers import entries
from django.db import DatabaseError, connection, transaction

from icv_core.audit.models import AuditEntry, SystemAlert
from icv_core.audit.services import log_event
from icv_core.audit.signals import audit_entry_created

URLS = "audit_testapp.capture_urls"


@pytest.fixture(scope="module")
def scenario_tally(battery_tally):
    return battery_tally(
        "B8 transaction semantics ({vendor}): observed == expected in "
        "{passed}/{tried} scenarios (same transaction, savepoint rollback, "
        "autocommit atomicity, audit INSERT failure under both policies, "
        "ATOMIC_REQUESTS failed login and permission denied, WSGI and ASGI); "
        "0 silent failures"
    )


@pytest.fixture(autouse=True)
def scenario(request, scenario_tally):
    yield from scenario_tally.follow(request)


def failing_save(self, *args, **kwargs):
    """A real database error (aborts the transaction on PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM icv_no_such_table")


@pytest.fixture
def atomic_requests(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)


@pytest.fixture(params=["db", "transactional_db"])
def any_db(request):
    """Run under a test transaction (savepoints) and with real commits."""
    request.getfixturevalue(request.param)
    return request.param


# ---------------------------------------------------------------------------
# Same transaction
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_entry_uses_the_changes_transaction(audit_on):
    with pytest.raises(RuntimeError), transaction.atomic():
        Contract.objects.create(title="a", value="1.00")
        log_event("DATA", "CUSTOM")
        raise RuntimeError
    assert (Contract.objects.count(), AuditEntry.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_inner_savepoint_rollback_keeps_outer_entries(audit_on):
    with transaction.atomic():
        outer = Contract.objects.create(title="outer", value="1.00")
        try:
            with transaction.atomic():
                Contract.objects.create(title="inner", value="1.00")
                raise RuntimeError
        except RuntimeError:
            pass
    assert list(Contract.objects.values_list("title", flat=True)) == ["outer"]
    assert [e.target_object_id for e in entries()] == [str(outer.pk)]


@pytest.mark.django_db(transaction=True)
def test_autocommit_change_and_entry_commit_together(audit_on):
    with (
        mock.patch.object(AuditEntry, "save", failing_save),
        pytest.raises(DatabaseError),
    ):
        Contract.objects.create(title="a", value="1.00")
    # The INSERT of the contract was rolled back with the failed entry.
    assert Contract.objects.count() == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_autocommit_auto_tracked_change_and_entry_commit_together(audit_on, settings):
    # A BaseModel tracked without the mixin: its save() and the post_save
    # receiver that writes the entry share one transaction.
    settings.ICV_CORE_AUDIT_AUTO_MODEL_TRACKING = True
    with (
        mock.patch.object(AuditEntry, "save", failing_save),
        pytest.raises(DatabaseError),
    ):
        Customer.objects.create(name="a")
    assert Customer.objects.count() == 0
    assert AuditEntry.objects.count() == 0
    Customer.objects.create(name="b")
    assert AuditEntry.objects.filter(action="CREATE").count() == 1


@pytest.mark.django_db(transaction=True)
def test_autocommit_soft_delete_and_restore_commit_with_their_entries(audit_on):
    document = Document.objects.create(title="a")
    with (
        mock.patch.object(AuditEntry, "save", failing_save),
        pytest.raises(DatabaseError),
    ):
        document.soft_delete()
    # The UPDATE was rolled back with the failed SOFT_DELETE entry, and the
    # instance says what the row says.
    assert Document.objects.filter(pk=document.pk).exists()
    assert document.is_active is True
    assert document.deleted_at is None
    assert document.soft_delete() is True
    assert AuditEntry.objects.filter(action="SOFT_DELETE").count() == 1
    with (
        mock.patch.object(AuditEntry, "save", failing_save),
        pytest.raises(DatabaseError),
    ):
        document.restore()
    assert not Document.objects.filter(pk=document.pk).exists()
    assert document.is_active is False
    assert AuditEntry.objects.filter(action="RESTORE").count() == 0


# ---------------------------------------------------------------------------
# Failure policy
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_default_policy_raises_and_the_change_fails(audit_on):
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        mock.patch.object(AuditEntry, "save", failing_save),
    ):
        Contract.objects.create(title="a", value="1.00")
    assert Contract.objects.count() == 0
    assert SystemAlert.objects.count() == 0


@pytest.mark.django_db
def test_default_policy_marks_the_transaction_for_rollback_visibly(audit_on):
    with transaction.atomic():
        with (
            mock.patch.object(AuditEntry, "save", failing_save),
            pytest.raises(DatabaseError),
        ):
            Contract.objects.create(title="a", value="1.00")
        # Not broken behind the caller's back: Django refuses to go on.
        assert connection.needs_rollback
        with pytest.raises(transaction.TransactionManagementError):
            Contract.objects.count()


def test_policy_must_be_known(settings, db, audit_on):
    from django.core.exceptions import ImproperlyConfigured

    settings.ICV_CORE_AUDIT_ON_FAILURE = "ignore"
    with pytest.raises(ImproperlyConfigured, match='"raise" or "alert"'):
        log_event("SYSTEM", "CUSTOM")


def test_alert_policy_keeps_the_change_and_raises_an_alert(any_db, audit_on, settings):
    settings.ICV_CORE_AUDIT_ON_FAILURE = "alert"
    with transaction.atomic():
        with mock.patch.object(AuditEntry, "save", failing_save):
            contract = Contract.objects.create(title="a", value="1.00")
            assert log_event("SYSTEM", "CUSTOM") is None
        # The caller's transaction is still usable.
        contract.title = "b"
        contract.save()
    assert Contract.objects.get().title == "b"
    alerts = list(SystemAlert.objects.all())
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.alert_type, alert.severity, alert.title) == (
        "system",
        "error",
        "Audit entry could not be written",
    )
    assert alert.occurrences == 2
    assert alert.metadata["event_type"] == "DATA"
    assert alert.metadata["action"] == "CREATE"
    assert alert.metadata["error"] in {"OperationalError", "ProgrammingError"}
    # The UPDATE after the patch was lifted was audited normally.
    assert [e.action for e in entries()] == ["UPDATE"]


def test_alert_policy_bulk_path(any_db, audit_on, settings):
    from audit_testapp.models import Document

    settings.ICV_CORE_AUDIT_ON_FAILURE = "alert"
    Document.objects.create(title="d1")
    Document.objects.create(title="d2")

    def failing_bulk(self, objs, *args, **kwargs):
        failing_save(None)

    from icv_core.audit.models import AuditEntryQuerySet

    with mock.patch.object(AuditEntryQuerySet, "bulk_create", failing_bulk):
        assert Document.objects.all().soft_delete() == 2
    assert Document.all_objects.filter(is_active=False).count() == 2
    alert = SystemAlert.objects.get()
    assert (alert.metadata["count"], alert.metadata["action"]) == (2, "SOFT_DELETE")


# ---------------------------------------------------------------------------
# Security events survive the rollback of the request's transaction
# ---------------------------------------------------------------------------


@pytest.mark.urls(URLS)
def test_permission_denied_survives_atomic_requests_rollback(
    any_db, client, audit_on, audit_middleware, atomic_requests
):
    announced = []
    audit_entry_created.connect(
        lambda sender, instance, **kw: announced.append(instance.pk),
        weak=False,
        dispatch_uid="test-survive",
    )
    try:
        response = client.get("/denied/", REMOTE_ADDR="198.51.100.50")
    finally:
        audit_entry_created.disconnect(dispatch_uid="test-survive")
    assert response.status_code == 403
    assert Customer.objects.count() == 0  # the view's own write rolled back
    (entry,) = entries()
    assert (entry.event_type, entry.action, entry.ip_address) == (
        "SECURITY",
        "PERMISSION_DENIED",
        "198.51.100.50",
    )
    # Written again with the same id after the rollback.
    assert announced == [entry.pk, entry.pk]


@pytest.mark.urls(URLS)
def test_rewritten_entry_survives_a_raising_receiver(
    any_db, client, audit_on, audit_middleware, atomic_requests, caplog
):
    calls = []

    def receiver(sender, instance, **kwargs):
        calls.append(kwargs.get("rewritten", False))
        if kwargs.get("rewritten"):
            raise RuntimeError("log forwarder down")

    audit_entry_created.connect(receiver, weak=False, dispatch_uid="test-raise")
    try:
        response = client.get("/denied/", REMOTE_ADDR="198.51.100.51")
    finally:
        audit_entry_created.disconnect(dispatch_uid="test-raise")
    assert response.status_code == 403
    # First announced inside the request's transaction, then again, marked
    # rewritten, after the rollback; the raising receiver undoes nothing.
    assert calls == [False, True]
    (entry,) = entries()
    assert (entry.action, entry.ip_address) == ("PERMISSION_DENIED", "198.51.100.51")
    assert any(
        "audit_entry_created receiver" in r.getMessage()
        and r.exc_info
        and r.exc_info[0] is RuntimeError
        for r in caplog.records
    )


@pytest.mark.urls(URLS)
def test_failed_login_survives_atomic_requests_rollback(
    any_db, client, audit_on, audit_middleware, atomic_requests
):
    response = client.post("/failed-login/", {"username": "mallory"})
    assert response.status_code == 403
    assert Customer.objects.count() == 0
    (entry,) = entries()
    assert (entry.action, entry.metadata["attempted_username"]) == (
        "LOGIN_FAILED",
        "mallory",
    )


@pytest.mark.urls(URLS)
def test_committed_security_event_is_not_duplicated(
    any_db, client, audit_on, audit_middleware, atomic_requests
):
    assert client.get("/security-ok/").status_code == 200
    assert Customer.objects.count() == 1
    assert len(entries(action="PERMISSION_DENIED")) == 1


@pytest.mark.urls(URLS)
def test_data_events_follow_the_rolled_back_request(
    any_db, client, audit_on, audit_middleware, atomic_requests
):
    assert client.get("/data-then-fail/").status_code == 403
    assert Contract.objects.count() == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.urls(URLS)
def test_without_the_middleware_security_events_follow_the_transaction(
    any_db, client, audit_on, atomic_requests
):
    assert client.get("/denied/").status_code == 403
    assert AuditEntry.objects.count() == 0


@pytest.mark.urls(URLS)
@pytest.mark.django_db(transaction=True)
def test_security_event_survives_under_asgi(
    async_client, audit_on, audit_middleware, atomic_requests
):
    import asyncio

    from capture_helpers import close_thread_connections

    response = asyncio.run(async_client.get("/denied/"))
    close_thread_connections()
    assert response.status_code == 403
    assert Customer.objects.count() == 0
    assert [e.action for e in entries()] == ["PERMISSION_DENIED"]

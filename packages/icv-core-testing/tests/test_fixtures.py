"""The pytest fixtures and assertion helpers, loaded through conftest.py's
``pytest_plugins = ["icv_core.testing.fixtures", ...]``."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from consumer_app.models import Contract, Invoice, Note
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import ProtectedError
from django.test import override_settings

from icv_core.audit.models import AuditEntry
from icv_core.conf import settings as icv_settings
from icv_core.middleware import get_current_user
from icv_core.testing.factories import AuditEntryFactory, UserFactory
from icv_core.testing.fixtures import AuditLog
from icv_core.testing.helpers import assert_restored, assert_soft_deleted

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)

# --------------------------------------------------------------------------
# Setting fixtures (restoring the previous value is also checked in
# test_consumer_project.py, in a project where the settings are set).
# --------------------------------------------------------------------------


def test_settings_off_by_default():
    assert icv_settings.AUDIT_ENABLED is False
    assert icv_settings.ALLOW_HARD_DELETE is False
    assert icv_settings.TRACK_CREATED_BY is False


def test_audit_enabled(audit_enabled):
    assert audit_enabled is True
    assert django_settings.ICV_CORE_AUDIT_ENABLED is True
    assert icv_settings.AUDIT_ENABLED is True


def test_allow_hard_delete(allow_hard_delete):
    assert icv_settings.ALLOW_HARD_DELETE is True


def test_track_created_by(track_created_by):
    assert icv_settings.TRACK_CREATED_BY is True


SETTING_FIXTURES = {
    "audit_enabled": "ICV_CORE_AUDIT_ENABLED",
    "allow_hard_delete": "ICV_CORE_ALLOW_HARD_DELETE",
    "track_created_by": "ICV_CORE_TRACK_CREATED_BY",
}
_ABSENT = object()


@pytest.fixture
def previous_value(request):
    """Give the setting a known previous value (or none) before the fixture
    under test runs, and check it is back once that fixture is torn down.

    Requested before the fixture under test and independent of ``settings``,
    so it is set up before it and torn down after it, whatever the test
    order.
    """
    name = SETTING_FIXTURES[request.node.callspec.params["fixture"]]
    previous = request.node.callspec.params["previous"]
    override = override_settings()
    override.enable()
    if previous is _ABSENT:
        if hasattr(django_settings, name):
            delattr(django_settings, name)
    else:
        setattr(django_settings, name, previous)
    yield name
    try:
        after = getattr(django_settings, name, _ABSENT)
        assert after is previous, f"{name} is {after!r} after the fixture"
    finally:
        override.disable()


@pytest.mark.parametrize(
    "previous", [_ABSENT, False, "a previous value"], ids=["absent", "False", "value"]
)
@pytest.mark.parametrize("fixture", sorted(SETTING_FIXTURES))
def test_setting_fixtures_restore_the_previous_value(
    previous_value, fixture, previous, request
):
    assert request.getfixturevalue(fixture) is True
    assert getattr(django_settings, previous_value) is True


@pytest.mark.django_db
def test_without_allow_hard_delete_delete_is_refused():
    invoice = Invoice.objects.create(number="INV-1")
    with pytest.raises(ProtectedError):
        invoice.delete()
    assert Invoice.all_objects.filter(pk=invoice.pk).exists()


@pytest.mark.django_db
def test_allow_hard_delete_lets_delete_remove_the_row(allow_hard_delete):
    invoice = Invoice.objects.create(number="INV-1")
    invoice.delete()
    assert not Invoice.all_objects.filter(pk=invoice.pk).exists()


# --------------------------------------------------------------------------
# acting_as / current_user
# --------------------------------------------------------------------------


@pytest.mark.django_db
def test_acting_as(acting_as):
    member = UserFactory()
    assert get_current_user() is None
    with acting_as(member):
        assert get_current_user() == member
        other = UserFactory()
        with acting_as(other):
            assert get_current_user() == other
        assert get_current_user() == member
    assert get_current_user() is None


def test_current_user(current_user):
    assert get_current_user() == current_user
    assert current_user.pk is not None


def test_current_user_is_reset_after_the_test():
    assert get_current_user() is None


def test_track_created_by_with_current_user(track_created_by, current_user):
    note = Note.objects.create(text="hello")
    assert note.created_by == current_user
    assert note.updated_by == current_user


# --------------------------------------------------------------------------
# audit_log
# --------------------------------------------------------------------------


def test_audit_log_captures_mixin_entries(audit_enabled, audit_log, acting_as):
    member = UserFactory()
    with acting_as(member):
        contract = Contract.objects.create(title="Lease", value=10)
        contract.title = "Lease v2"
        contract.save()

    assert len(audit_log) == 2
    created = audit_log.assert_logged(
        action="CREATE", event_type="DATA", target=contract
    )
    assert created.user == member
    audit_log.assert_logged(action="UPDATE", target=contract, user=member, count=1)
    audit_log.assert_logged(action=AuditEntry.Action.UPDATE)
    audit_log.assert_not_logged(action="DELETE")
    assert [e.action for e in audit_log.entries] == ["CREATE", "UPDATE"]
    assert audit_log.last.action == "UPDATE"
    assert audit_log[0].action == "CREATE"
    assert [e.action for e in audit_log] == ["CREATE", "UPDATE"]


def test_audit_log_callable_criteria_and_filter(audit_enabled, audit_log):
    contract = Contract.objects.create(title="Lease")
    audit_log.assert_logged(
        description=lambda text: "Lease" in text or str(contract.pk) in text
    )
    assert audit_log.filter(action="CREATE") == audit_log.entries
    assert audit_log.filter(action="UPDATE") == []
    audit_log.assert_not_logged(user=lambda user_id: user_id is not None)


def test_audit_log_sees_bulk_paths(audit_enabled, audit_log):
    contracts = [Contract.objects.create(title=f"C{i}") for i in range(3)]
    audit_log.clear()
    Contract.objects.filter(pk__in=[c.pk for c in contracts]).soft_delete()
    assert len(audit_log) == 3
    for contract in contracts:
        audit_log.assert_logged(action="SOFT_DELETE", target=contract, count=1)
    # bulk_create announces nothing; the entries are still seen.
    AuditEntry.objects.bulk_create(
        [AuditEntry(event_type="SYSTEM", action="CUSTOM", description="bulk")]
    )
    audit_log.assert_logged(action="CUSTOM", description="bulk", count=1)
    assert len(audit_log) == 4


def test_audit_log_with_factories_and_no_audit_switch(audit_log):
    # The log reads the table, so entries written directly count too.
    entry = AuditEntryFactory(action="LOGIN", event_type="AUTHENTICATION")
    assert audit_log.entries == [entry]


def test_audit_log_empty_when_audit_is_off(audit_log):
    Contract.objects.create(title="Lease")
    audit_log.assert_not_logged()
    assert len(audit_log) == 0
    assert audit_log.last is None


@pytest.fixture
def earlier_entry(db):
    return AuditEntryFactory(action="CREATE", event_type="DATA")


def test_entries_before_the_fixture_do_not_count(earlier_entry, audit_log):
    assert audit_log.entries == []
    AuditEntryFactory(action="LOGOUT", event_type="AUTHENTICATION")
    audit_log.assert_logged(action="LOGOUT")
    audit_log.clear()
    assert len(audit_log) == 0


def test_rolled_back_entries_do_not_count(audit_enabled, audit_log):
    with pytest.raises(RuntimeError), transaction.atomic():
        Contract.objects.create(title="doomed")
        raise RuntimeError
    audit_log.assert_not_logged()


@time_machine.travel(NOW, tick=False)
def test_order_follows_writes_under_a_frozen_clock(audit_enabled, audit_log):
    # Same created_at for all: the signal order decides.
    for title in "abcdefgh":
        Contract.objects.create(title=title)
    titles = [e.metadata["fields"]["title"] for e in audit_log]
    assert titles == list("abcdefgh")


def test_target_none_and_user_none(audit_log):
    AuditEntryFactory(action="CUSTOM", event_type="SYSTEM")
    audit_log.assert_logged(target=None, user=None)
    audit_log.assert_not_logged(target=lambda target: target is not None)


def test_assert_logged_failure_message(audit_enabled, audit_log):
    contract = Contract.objects.create(title="Lease")
    with pytest.raises(AssertionError) as excinfo:
        audit_log.assert_logged(action="DELETE", target=contract)
    message = str(excinfo.value)
    assert message.startswith(
        "No audit entry matches action='DELETE', target=<Contract: Lease>."
    )
    assert "Audit entries written during this test (1):" in message
    assert f"DATA/CREATE target=consumer_app.contract:{contract.pk}" in message


def test_assert_logged_count_message(audit_enabled, audit_log):
    Contract.objects.create(title="a")
    Contract.objects.create(title="b")
    with pytest.raises(
        AssertionError,
        match=r"Expected 1 audit entry matching action='CREATE', found 2\.",
    ):
        audit_log.assert_logged(action="CREATE", count=1)
    with pytest.raises(AssertionError, match=r"Expected 3 audit entries"):
        audit_log.assert_logged(action="CREATE", count=3)
    assert audit_log.assert_logged(action="UPDATE", count=0) is None


def test_assert_not_logged_message(audit_log):
    AuditEntryFactory(action="LOGIN", event_type="AUTHENTICATION")
    with pytest.raises(
        AssertionError, match=r"Expected no audit entry at all, found 1\."
    ):
        audit_log.assert_not_logged()
    with pytest.raises(
        AssertionError,
        match=r"Expected no audit entry matching action='LOGIN', found 1\.",
    ):
        audit_log.assert_not_logged(action="LOGIN")


def test_empty_log_message(audit_log):
    with pytest.raises(
        AssertionError, match="No audit entries were written during this test."
    ):
        audit_log.assert_logged(action="CREATE")


def test_unknown_criterion_is_a_type_error(audit_log):
    with pytest.raises(TypeError, match="unknown criterion 'actoin'"):
        audit_log.assert_logged(actoin="CREATE")


def test_audit_log_disconnects_after_the_test(db):
    from icv_core.audit.signals import audit_entry_created

    before = len(audit_entry_created.receivers)
    log = AuditLog()
    log.start()
    assert len(audit_entry_created.receivers) == before + 1
    log.stop()
    assert len(audit_entry_created.receivers) == before


# --------------------------------------------------------------------------
# assert_soft_deleted / assert_restored
# --------------------------------------------------------------------------


def test_assertions_importable_from_fixtures_module():
    from icv_core.testing import fixtures, helpers

    assert fixtures.assert_soft_deleted is helpers.assert_soft_deleted
    assert fixtures.assert_restored is helpers.assert_restored


@pytest.mark.django_db
def test_soft_delete_assertions():
    invoice = Invoice.objects.create(number="INV-1")
    assert_restored(invoice)
    invoice.soft_delete()
    fresh = assert_soft_deleted(invoice)
    assert fresh.deleted_at is not None
    invoice.restore()
    assert assert_restored(invoice).deleted_at is None


@pytest.mark.django_db
def test_assertions_read_the_database_not_the_instance():
    invoice = Invoice.objects.create(number="INV-1")
    stale = Invoice.objects.get(pk=invoice.pk)
    invoice.soft_delete()
    assert_soft_deleted(stale)  # the stale copy still says is_active=True
    with pytest.raises(AssertionError, match="to be restored"):
        assert_restored(stale)


@pytest.mark.django_db
def test_assert_soft_deleted_message():
    invoice = Invoice.objects.create(number="INV-1")
    with pytest.raises(AssertionError) as excinfo:
        assert_soft_deleted(invoice)
    assert str(excinfo.value) == (
        f"Expected Invoice pk={invoice.pk!r} to be soft-deleted (is_active=False "
        f"and deleted_at set), but the database has is_active=True, deleted_at=None."
    )


@pytest.mark.django_db
def test_assertions_on_missing_rows(allow_hard_delete):
    invoice = Invoice.objects.create(number="INV-1")
    pk = invoice.pk
    invoice.delete()
    invoice.pk = pk
    with pytest.raises(AssertionError, match="no such row .* hard-deleted"):
        assert_soft_deleted(invoice)
    with pytest.raises(AssertionError, match="never saved"):
        assert_restored(Invoice(number="unsaved", id=None))


def test_audit_enabled_covers_the_auth_handlers(audit_enabled, audit_log, client):
    member = UserFactory(password="s3cret")
    client.force_login(member)
    audit_log.assert_logged(action="LOGIN", event_type="AUTHENTICATION", user=member)
    assert not client.login(email=member.email, password="wrong")
    audit_log.assert_logged(action="LOGIN_FAILED", count=1)


def test_auth_handlers_are_silent_without_audit_enabled(audit_log, client):
    client.force_login(UserFactory())
    audit_log.assert_not_logged()

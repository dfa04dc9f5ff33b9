"""The factories against a consumer project with a custom e-mail user model."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest
import time_machine
from consumer_app.models import Invoice, Member
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from icv_core.audit.models import (
    AdminActivityLog,
    AuditArchive,
    AuditEntry,
    SystemAlert,
)
from icv_core.exceptions import ImmutableRecordError
from icv_core.testing.factories import (
    AdminActivityLogFactory,
    AuditEntryFactory,
    SystemAlertFactory,
    UserFactory,
    backdated_entries,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


def test_spec_examples_verbatim():
    # From the README, "Testing utilities":
    from icv_core.testing.factories import AuditEntryFactory, SystemAlertFactory

    entry = AuditEntryFactory(action="CREATE", event_type="DATA")
    alert = SystemAlertFactory(severity="critical", alert_type="payment")

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.action, stored.event_type) == ("CREATE", "DATA")
    assert stored.user_id is None
    assert stored.metadata == {}
    alert = SystemAlert.objects.get(pk=alert.pk)
    assert (alert.severity, alert.alert_type) == ("critical", "payment")
    assert alert.is_resolved is False
    assert alert.title and alert.message


def test_audit_entry_defaults_cycle_like_0_2():
    entries = AuditEntryFactory.create_batch(4)
    assert {e.event_type for e in entries} == {
        "SECURITY",
        "DATA",
        "SYSTEM",
        "AUTHENTICATION",
    }
    assert {e.action for e in entries} == {"CREATE", "UPDATE", "DELETE", "LOGIN"}
    assert AuditEntry.objects.count() == 4


def test_audit_entry_is_one_insert_and_nothing_else():
    with CaptureQueriesContext(connection) as queries:
        AuditEntryFactory(action="CREATE", event_type="DATA")
    assert len(queries) == 1
    assert queries[0]["sql"].lstrip().upper().startswith("INSERT")


def test_audit_entry_with_user_and_target():
    member = UserFactory()
    invoice = Invoice.objects.create(number="INV-1", total_pence=3500)
    entry = AuditEntryFactory(
        action=AuditEntry.Action.UPDATE,
        event_type=AuditEntry.EventType.DATA,
        user=member,
        target=invoice,
    )
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.user == member
    assert entry.username == member.email
    assert entry.target_content_type == ContentType.objects.get_for_model(Invoice)
    assert entry.target_object_id == str(invoice.pk)
    assert entry.target == invoice


def test_invalid_choice_is_refused_by_the_model():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        AuditEntryFactory(action="BOGUS")
    assert AuditEntry.objects.count() == 0


# --------------------------------------------------------------------------
# Backdating
# --------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_backdated_entries():
    old = backdated_entries(3, days_ago=400, event_type="SECURITY", action="LOGIN")
    assert len(old) == 3
    rows = list(AuditEntry.objects.filter(pk__in=[e.pk for e in old]))
    assert {row.created_at for row in rows} == {NOW - datetime.timedelta(days=400)}
    assert {(row.event_type, row.action) for row in rows} == {("SECURITY", "LOGIN")}


@time_machine.travel(NOW, tick=False)
def test_backdated_entries_at_an_exact_time_and_create_batch():
    at = datetime.datetime(2024, 2, 29, 8, 30, tzinfo=datetime.UTC)
    assert {e.created_at for e in backdated_entries(2, at=at)} == {at}
    batch = AuditEntryFactory.create_batch(2, created_at=at)
    assert set(
        AuditEntry.objects.filter(pk__in=[e.pk for e in batch]).values_list(
            "created_at", flat=True
        )
    ) == {at}
    assert backdated_entries(0, days_ago=1) == []
    with pytest.raises(ValueError, match="count"):
        backdated_entries(-1, days_ago=1)


def test_backdating_only_inserts_and_entries_stay_immutable():
    with CaptureQueriesContext(connection) as queries:
        (entry,) = backdated_entries(1, days_ago=30)
    assert [q["sql"].lstrip().split()[0].upper() for q in queries] == ["INSERT"]
    # No backdoor: the backdated entry is as immutable as any other.
    with pytest.raises(ImmutableRecordError):
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=NOW)
    entry.description = "changed"
    with pytest.raises(ImmutableRecordError):
        entry.save()


REPO = Path(__file__).resolve().parents[3]

# The backdate-then-archive example of docs/content/how-to/testing.md and of
# the backdated_entries docstring.
ARCHIVE_EXAMPLE = """\
old = backdated_entries(3, days_ago=400, event_type="SECURITY")
call_command("icv_core_audit_archive", "--days", "365")
"""


def test_archive_example_is_the_documented_one():
    docs = (REPO / "docs" / "content" / "how-to" / "testing.md").read_text()
    assert (
        "from django.core.management import call_command\n\n"
        "from icv_core.testing.factories import backdated_entries\n\n" + ARCHIVE_EXAMPLE
    ) in docs
    docstring = textwrap.dedent(
        backdated_entries.__doc__.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    )
    assert docstring.strip() == ARCHIVE_EXAMPLE.strip()


def test_archive_example_runs(settings, tmp_path, capsys):
    # Django 4.2 rebuilds the default storage from its DEFAULT_FILE_STORAGE
    # shim without OPTIONS when STORAGES is overridden: MEDIA_ROOT covers it.
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    recent = AuditEntryFactory()
    # The example, verbatim, with its imports.
    from django.core.management import call_command

    from icv_core.testing.factories import backdated_entries

    old = backdated_entries(3, days_ago=400, event_type="SECURITY")
    call_command("icv_core_audit_archive", "--days", "365")

    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]
    archive = AuditArchive.objects.get()
    assert archive.row_count == 3
    assert {archive.first_entry_id, archive.last_entry_id} <= {e.pk for e in old}
    assert len(list(tmp_path.rglob("*.jsonl.gz"))) == 1
    assert capsys.readouterr().out.startswith(
        'Archived 3 entries older than 365 day(s) into 1 file(s) in storage "default"'
    )


# --------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------


def test_user_factory_honours_the_custom_user_model():
    assert get_user_model() is Member
    member = UserFactory()
    assert isinstance(member, Member)
    assert Member.USERNAME_FIELD == "email"
    assert member.get_username() == member.email
    assert member.email.endswith("@example.com")
    assert not hasattr(member, "username")
    assert not member.has_usable_password()
    assert Member.objects.get(pk=member.pk).email == member.email


def test_user_factory_values_are_unique_and_overridable():
    first, second = UserFactory.create_batch(2)
    assert first.email != second.email
    member = UserFactory(email="ada@example.com", display_name="Ada", password="s3cret")
    member = Member.objects.get(pk=member.pk)
    assert member.email == "ada@example.com"
    assert member.display_name == "Ada"
    assert member.check_password("s3cret")


def test_user_factory_flags():
    assert UserFactory().is_staff is False
    staff = UserFactory(staff=True)
    assert (staff.is_staff, staff.is_superuser) == (True, False)
    boss = UserFactory(superuser=True)
    assert (boss.is_staff, boss.is_superuser) == (True, True)


def test_user_factory_build_does_not_save():
    member = UserFactory.build()
    assert member.pk is None
    assert Member.objects.count() == 0


def test_user_factory_refuses_fields_the_model_lacks_when_given_explicitly():
    with pytest.raises(TypeError):
        UserFactory(username="ada")


def test_user_factory_reads_auth_user_model_at_use():
    from django.contrib.auth.models import User

    with override_settings(AUTH_USER_MODEL="auth.User"):
        user = UserFactory.build()
    assert type(user) is User
    assert user.username.startswith("user")
    assert user.email.endswith("@example.com")
    assert type(UserFactory.build()) is Member


# --------------------------------------------------------------------------
# AdminActivityLog and SystemAlert
# --------------------------------------------------------------------------


def test_admin_activity_log_factory():
    log = AdminActivityLogFactory()
    log = AdminActivityLog.objects.get(pk=log.pk)
    assert log.admin_user.is_staff is True
    assert isinstance(log.admin_user, Member)
    assert log.action_type
    assert log.description


def test_admin_activity_log_factory_with_given_admin():
    admin = UserFactory(staff=True)
    log = AdminActivityLogFactory(admin_user=admin, action_type="ban_user")
    assert (log.admin_user, log.action_type) == (admin, "ban_user")


def test_system_alert_defaults():
    alert = SystemAlert.objects.get(pk=SystemAlertFactory().pk)
    assert (alert.alert_type, alert.severity, alert.is_resolved) == (
        "system",
        "warning",
        False,
    )
    assert alert.metadata == {}
    assert alert.resolved_by is None


@time_machine.travel(NOW, tick=False)
def test_system_alert_resolved_trait():
    alert = SystemAlert.objects.get(pk=SystemAlertFactory(resolved=True).pk)
    assert alert.is_resolved is True
    assert alert.resolved_at == NOW
    assert alert.resolved_by.is_staff is True


def test_factories_can_be_subclassed():
    class SecurityEntryFactory(AuditEntryFactory):
        event_type = "SECURITY"
        action = "LOGIN_FAILED"

    entry = SecurityEntryFactory()
    assert (entry.event_type, entry.action) == ("SECURITY", "LOGIN_FAILED")
    assert isinstance(entry, AuditEntry)


def test_user_factory_can_be_subclassed():
    class StaffFactory(UserFactory):
        class Params:
            staff = True

        display_name = "Staff"

    member = StaffFactory()
    assert isinstance(member, Member)
    assert (member.is_staff, member.display_name) == (True, "Staff")
    # Shares the sequence with UserFactory: no duplicate e-mail addresses.
    assert UserFactory().email != member.email

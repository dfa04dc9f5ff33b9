"""Fields, validation, snapshots and signals of the audit models."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from integrity_helpers import row

from icv_core.audit import signals
from icv_core.audit.models import (
    AdminActivityLog,
    AlertAlreadyResolvedError,
    AuditArchive,
    AuditEntry,
    SystemAlert,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create(username="alice")


@pytest.fixture
def received():
    """Collect the audit signals sent during the test."""
    calls: list[tuple[str, dict]] = []

    def receiver_for(name):
        def receiver(sender, **kwargs):
            calls.append((name, kwargs))

        return receiver

    pairs = [
        (signals.audit_entry_created, receiver_for("created")),
        (signals.system_alert_raised, receiver_for("raised")),
        (signals.system_alert_resolved, receiver_for("resolved")),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, weak=False)
    yield calls
    for signal, receiver in pairs:
        signal.disconnect(receiver)


# --- tables and fields -------------------------------------------------------------


def test_tables_and_index_names_are_the_02_ones():
    assert AuditEntry._meta.db_table == "icv_core_auditentry"
    assert AdminActivityLog._meta.db_table == "icv_core_adminactivitylog"
    assert SystemAlert._meta.db_table == "icv_core_systemalert"
    assert AuditArchive._meta.db_table == "icv_core_auditarchive"
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, "icv_core_auditentry"
        )
    assert constraints["icv_core_au_event_t_9ac8b5_idx"]["columns"] == [
        "event_type",
        "action",
    ]
    assert constraints["icv_core_au_user_id_c3e697_idx"]["columns"] == [
        "user_id",
        "created_at",
    ]
    assert constraints["icv_core_au_target_idx"]["columns"] == [
        "target_content_type_id",
        "target_object_id",
    ]


def test_index_names_are_what_django_would_generate():
    # An unnamed Index gets the same names, so the 0.2 names are not arbitrary.
    from django.db.models import Index

    for fields, name in (
        (["event_type", "action"], "icv_core_au_event_t_9ac8b5_idx"),
        (["user", "created_at"], "icv_core_au_user_id_c3e697_idx"),
    ):
        index = Index(fields=fields)
        index.set_name_with_model(AuditEntry)
        assert index.name == name


def test_actions_include_the_new_ones():
    assert {"LOGIN_FAILED", "SOFT_DELETE", "RESTORE"} <= set(AuditEntry.Action.values)
    assert AuditEntry.EventType.values == [
        "SECURITY",
        "DATA",
        "SYSTEM",
        "AUTHENTICATION",
    ]
    assert SystemAlert.AlertType.values == [
        "security",
        "payment",
        "content",
        "support",
        "system",
    ]


def test_created_at_defaults_to_now_and_accepts_an_explicit_value():
    before = timezone.now()
    entry = AuditEntry.objects.create(event_type="DATA", action="CREATE")
    assert before <= entry.created_at <= timezone.now()
    backdated = datetime.datetime(2020, 5, 1, tzinfo=datetime.UTC)
    old = AuditEntry.objects.create(
        event_type="DATA", action="CREATE", created_at=backdated
    )
    assert AuditEntry.objects.get(pk=old.pk).created_at == backdated


def test_str():
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    entry = AuditEntry(event_type="DATA", action="CREATE", created_at=at)
    assert str(entry) == "DATA/CREATE at 2026-01-01 00:00:00+00:00"
    alert = SystemAlert(severity="critical", title="Disk full")
    assert str(alert) == "[CRITICAL] Disk full"
    log = AdminActivityLog(admin_username="root", action_type="change", created_at=at)
    assert str(log) == "root — change at 2026-01-01 00:00:00+00:00"


def test_ordering_is_newest_first():
    first = AuditEntry.objects.create(
        event_type="DATA", action="CREATE", created_at=timezone.now()
    )
    second = AuditEntry.objects.create(
        event_type="DATA",
        action="CREATE",
        created_at=first.created_at + datetime.timedelta(seconds=1),
    )
    assert list(AuditEntry.objects.all()) == [second, first]


# --- validation on write ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"), [("event_type", "BOGUS"), ("action", "EXPORT"), ("action", "")]
)
def test_invalid_choices_are_refused_on_create(field, value):
    values = {"event_type": "DATA", "action": "CREATE", field: value}
    with pytest.raises(ValidationError) as excinfo:
        AuditEntry.objects.create(**values)
    assert field in excinfo.value.message_dict
    assert (
        f"{value!r} is not a valid AuditEntry.{field}"
        in (excinfo.value.message_dict[field][0])
    )
    assert AuditEntry.objects.count() == 0


def test_invalid_choices_are_refused_in_bulk_create():
    with pytest.raises(ValidationError):
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(event_type="DATA", action="CREATE"),
                AuditEntry(event_type="DATA", action="VIEW"),
            ]
        )
    assert AuditEntry.objects.count() == 0


def test_chain_values_cannot_be_half_set():
    with pytest.raises(ValidationError, match="together"):
        AuditEntry.objects.create(event_type="DATA", action="CREATE", sequence=5)


# --- snapshots ----------------------------------------------------------------------


def test_username_snapshot_is_taken_from_the_user(user):
    entry = AuditEntry.objects.create(event_type="DATA", action="CREATE", user=user)
    assert row(AuditEntry, entry.pk)["username"] == "alice"


def test_explicit_username_is_kept(user):
    entry = AuditEntry.objects.create(
        event_type="SECURITY", action="LOGIN_FAILED", username="typed-name"
    )
    assert row(AuditEntry, entry.pk)["username"] == "typed-name"


def test_username_snapshot_costs_no_query_with_a_loaded_user(
    user, django_assert_num_queries
):
    with django_assert_num_queries(1):
        AuditEntry.objects.create(event_type="DATA", action="CREATE", user=user)


def test_admin_username_snapshot_and_survival(user):
    log = AdminActivityLog.objects.create(
        admin_user=user, action_type="delete", description="Deleted x"
    )
    user.delete()
    stored = row(AdminActivityLog, log.pk)
    assert (stored["admin_user_id"], stored["admin_username"]) == (None, "alice")


def test_admin_log_requires_an_action_type():
    with pytest.raises(ValidationError):
        AdminActivityLog.objects.create(description="x")


def test_target_generic_relation(user):
    entry = AuditEntry.objects.create(event_type="DATA", action="UPDATE", target=user)
    loaded = AuditEntry.objects.get(pk=entry.pk)
    assert loaded.target == user
    assert loaded.target_object_id == str(user.pk)
    assert list(
        AuditEntry.objects.filter(
            target_content_type=ContentType.objects.get_for_model(user),
            target_object_id=str(user.pk),
        )
    ) == [entry]


def test_request_id_and_metadata_round_trip():
    entry = AuditEntry.objects.create(
        event_type="SYSTEM",
        action="CUSTOM",
        request_id="req-1",
        metadata={"a": [1, None, "x"]},
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.request_id, stored.metadata) == ("req-1", {"a": [1, None, "x"]})


# --- signals ------------------------------------------------------------------------


def test_audit_entry_created_is_sent_once_per_insert(received):
    entry = AuditEntry.objects.create(event_type="DATA", action="CREATE")
    assert [(name, kw["instance"]) for name, kw in received] == [("created", entry)]


# --- SystemAlert --------------------------------------------------------------------


def make_alert(**values):
    defaults = {
        "alert_type": "system",
        "severity": "warning",
        "title": "Queue backlog",
        "message": "m",
    }
    return SystemAlert.objects.create(**{**defaults, **values})


def test_alert_defaults():
    alert = make_alert()
    stored = row(SystemAlert, alert.pk)
    assert stored["occurrences"] == 1
    assert stored["is_resolved"] is False
    assert stored["fingerprint"] == ""
    assert stored["last_seen_at"] is None


@pytest.mark.parametrize(
    ("field", "value"), [("severity", "fatal"), ("alert_type", "billing")]
)
def test_alert_validates_severity_and_type(field, value):
    with pytest.raises(ValidationError) as excinfo:
        make_alert(**{field: value})
    assert field in excinfo.value.message_dict
    assert SystemAlert.objects.count() == 0


def test_alert_severity_follows_the_setting(settings):
    settings.ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS = ["low", "high"]
    assert make_alert(severity="high").severity == "high"
    with pytest.raises(ValidationError, match="low, high"):
        make_alert(severity="warning")


def test_alert_full_clean_validates_too():
    with pytest.raises(ValidationError):
        SystemAlert(
            alert_type="system", severity="nope", title="t", message="m"
        ).clean()


def test_alert_related_object(user):
    alert = make_alert(related_object=user)
    assert SystemAlert.objects.get(pk=alert.pk).related_object == user


def test_alert_raised_signal(received):
    alert = make_alert()
    assert [(name, kw["instance"]) for name, kw in received] == [("raised", alert)]


def test_resolve(user, received):
    alert = make_alert()
    received.clear()
    alert.resolve(user, notes="fixed")
    stored = SystemAlert.objects.get(pk=alert.pk)
    assert stored.is_resolved
    assert stored.resolved_by == user
    assert stored.resolution_notes == "fixed"
    assert stored.resolved_at is not None
    assert [(name, kw["instance"], kw["resolved_by"]) for name, kw in received] == [
        ("resolved", alert, user)
    ]


def test_resolving_twice_is_refused_and_keeps_the_first_resolution(user, received):
    alert = make_alert()
    alert.resolve(user, notes="first")
    received.clear()
    with pytest.raises(AlertAlreadyResolvedError, match="already resolved"):
        alert.resolve(None, notes="second")
    # A stale copy loaded before the first resolution is refused too.
    stale = SystemAlert(pk=alert.pk, is_resolved=False)
    with pytest.raises(AlertAlreadyResolvedError):
        stale.resolve(None, notes="third")
    assert SystemAlert.objects.get(pk=alert.pk).resolution_notes == "first"
    assert received == []


def test_already_resolved_is_a_value_error():
    assert issubclass(AlertAlreadyResolvedError, ValueError)


def test_open_alert_fingerprints_are_unique():
    fingerprint = SystemAlert.make_fingerprint("system", "warning", "Queue backlog")
    first = make_alert(fingerprint=fingerprint)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_alert(fingerprint=fingerprint)
    first.resolve(None)
    # Once resolved, the same alert may be raised again.
    make_alert(fingerprint=fingerprint)
    # Empty fingerprints are never deduplicated.
    make_alert()
    make_alert()
    assert SystemAlert.objects.count() == 4


def test_make_fingerprint_is_stable_and_distinguishes_targets():
    base = SystemAlert.make_fingerprint("system", "error", "t")
    assert base == SystemAlert.make_fingerprint("system", "error", "t")
    assert len(base) == 64
    assert base != SystemAlert.make_fingerprint("system", "error", "t", 3, "1")
    assert SystemAlert.make_fingerprint(
        "system", "error", "t", 3, "1"
    ) != SystemAlert.make_fingerprint("system", "error", "t", 3, "2")


# --- AuditArchive -------------------------------------------------------------------


def test_audit_archive_row():
    archive = AuditArchive.objects.create(
        storage_alias="default",
        path="icv_core_audit/archive/a.jsonl.gz",
        row_count=10,
        first_sequence=1,
        last_sequence=10,
        last_entry_hash="a" * 64,
        sha256="b" * 64,
    )
    assert str(archive) == "default:icv_core_audit/archive/a.jsonl.gz (10 rows)"
    assert archive.completed_at is None
    assert archive.first_prev_hash == ""


def test_bulk_create_announces_each_entry_and_a_raising_receiver_undoes_nothing(caplog):
    from icv_core.audit.signals import audit_entry_created

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append((instance.pk, kwargs.get("bulk")))
        raise RuntimeError("forwarder down")

    audit_entry_created.connect(receiver, dispatch_uid="test-bulk-announce")
    try:
        created = AuditEntry.objects.bulk_create(
            [AuditEntry(event_type="SYSTEM", action="CUSTOM") for _ in range(3)]
        )
    finally:
        audit_entry_created.disconnect(dispatch_uid="test-bulk-announce")
    assert seen == [(entry.pk, True) for entry in created]
    assert AuditEntry.objects.count() == 3
    ours = [r for r in caplog.records if r.name == "icv_core.audit"]
    assert [r.getMessage().split(" receiver ")[0] for r in ours] == [
        "icv_core.audit: audit_entry_created"
    ] * 3

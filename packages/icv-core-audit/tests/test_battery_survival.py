"""B4 battery: cascade and deletion survival (security research DEL-1…5).

U users each author E/U rows across ``AuditEntry`` (``log_event`` and
``AuditMixin`` saves), ``AdminActivityLog`` (through Django admin's
``LogEntry`` bridge and directly) and ``SystemAlert`` (resolved by the user),
several of them targeting model rows. Then the users are deleted (instance and
queryset deletes, so both collector paths run), the targets are hard-deleted
and the targets' content types are deleted (refused: the audit tables
reference content types with ``PROTECT``).

Every row must survive, with its username snapshot, and the only column that
may change is the user reference becoming NULL (full row dicts compared before
and after). The hash chain must still verify.

``SystemAlert`` has no username snapshot of ``resolved_by``: only the
reference becomes NULL (``resolved_at`` and the notes stay), which is what the
row comparison asserts.
"""

from __future__ import annotations

import decimal
from typing import Any

import pytest
from audit_testapp.models import Contract, Document
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import ProtectedError

from icv_core.audit import chain
from icv_core.audit.models import AdminActivityLog, AuditEntry, SystemAlert
from icv_core.audit.services import log_event, raise_alert, resolve_alert
from icv_core.middleware import acting_as

pytestmark = pytest.mark.django_db

USERS = 20

#: model -> (user reference column, username snapshot column or None)
TRACKED: dict[Any, tuple[str, str | None]] = {
    AuditEntry: ("user_id", "username"),
    AdminActivityLog: ("admin_user_id", "admin_username"),
    SystemAlert: ("resolved_by_id", None),
}


def _author_rows(user: Any) -> dict[Any, set[Any]]:
    """Write the rows one user is the author (or resolver) of."""
    made: dict[Any, set[Any]] = {model: set() for model in TRACKED}
    with acting_as(user):
        # AuditMixin saves: CREATE, UPDATE of a BaseModel; CREATE and
        # SOFT_DELETE of a soft-delete model owned by the user (owner SET_NULL).
        contract = Contract.objects.create(
            title=f"lease {user.username}", value=decimal.Decimal("10.50")
        )
        contract.title = f"lease {user.username} v2"
        contract.save()
        document = Document.objects.create(title=f"doc {user.username}", owner=user)
        document.soft_delete()
        # Django admin's LogEntry (CASCADE on its user) -> AdminActivityLog.
        if hasattr(LogEntry.objects, "log_actions"):  # Django 5.1+
            LogEntry.objects.log_actions(
                user_id=user.pk,
                queryset=[contract],
                action_flag=ADDITION,
                change_message="[]",
                single_object=True,
            )
        else:
            LogEntry.objects.log_action(
                user_id=user.pk,
                content_type_id=ContentType.objects.get_for_model(contract).pk,
                object_id=contract.pk,
                object_repr=str(contract),
                action_flag=ADDITION,
                change_message="[]",
            )
    log_event("SECURITY", "LOGIN", user=user, description="signed in")
    log_event(
        "DATA",
        "CUSTOM",
        user=user,
        target=contract,
        description="exported",
        metadata={"format": "csv", "who": user.username},
    )
    AdminActivityLog.objects.create(
        admin_user=user,
        action_type="approve_claim",
        description=f"approved {document.pk}",
        target=document,
    )
    alert = raise_alert(
        "security",
        "warning",
        f"review {user.username}",
        "check the contract",
        related_object=contract,
    )
    resolve_alert(alert, resolved_by=user, notes=f"done by {user.username}")

    made[AuditEntry] = set(
        AuditEntry.objects.filter(user=user).values_list("pk", flat=True)
    )
    made[AdminActivityLog] = set(
        AdminActivityLog.objects.filter(admin_user=user).values_list("pk", flat=True)
    )
    made[SystemAlert] = set(
        SystemAlert.objects.filter(resolved_by=user).values_list("pk", flat=True)
    )
    return made


def _rows(model: Any, pks: set[Any]) -> dict[Any, dict[str, Any]]:
    return {row["id"]: row for row in model._base_manager.filter(pk__in=pks).values()}


def test_b4_deleting_users_targets_and_content_types_keeps_every_row(
    settings: Any, battery: Any
) -> None:
    settings.ICV_CORE_AUDIT_ENABLED = True
    user_model = get_user_model()
    users = [
        user_model.objects.create_user(f"leaver{index:02d}", password="pw")
        for index in range(USERS)
    ]
    names = {user.pk: user.username for user in users}
    owned: dict[Any, set[Any]] = {model: set() for model in TRACKED}
    for user in users:
        for model, pks in _author_rows(user).items():
            # 6 audit entries, 2 admin activity rows, 1 resolved alert each.
            assert (
                len(pks) == {AuditEntry: 6, AdminActivityLog: 2, SystemAlert: 1}[model]
            ), model.__name__
            owned[model] |= pks
    total = sum(len(pks) for pks in owned.values())
    assert total == USERS * 9
    assert LogEntry.objects.count() == USERS

    if connection.vendor == "postgresql":
        # DEL-2: the immutability trigger is active during the deletes.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND "
                "tgrelid IN ('icv_core_auditentry'::regclass, "
                "'icv_core_adminactivitylog'::regclass)"
            )
            assert cursor.fetchone()[0] >= 2
    chain.seal_pending()
    assert AuditEntry.objects.unsealed().count() == 0
    head_before = chain.head()
    assert head_before is not None
    before = {model: _rows(model, pks) for model, pks in owned.items()}
    for model, (user_col, snapshot) in TRACKED.items():
        for row in before[model].values():
            assert row[user_col] in names
            if snapshot:
                assert row[snapshot] == names[row[user_col]]

    # 1. Delete the users: half one by one, half with one queryset delete.
    for user in users[: USERS // 2]:
        user.delete()
    deleted, per_model = user_model.objects.filter(
        pk__in=[user.pk for user in users[USERS // 2 :]]
    ).delete()
    assert per_model[user_model._meta.label] == USERS - USERS // 2
    assert not user_model.objects.exists()
    # Django's own admin history goes with its user (CASCADE); ours does not.
    assert LogEntry.objects.count() == 0

    # 2. Hard-delete the targets (each DELETE writes a new DATA/DELETE entry).
    contracts = list(Contract.objects.all())
    assert len(contracts) == USERS
    for contract in contracts:
        contract.delete()
    assert Document.all_objects.count() == USERS
    assert Document.all_objects.all().hard_delete()[0] == USERS
    assert AuditEntry.objects.filter(action="DELETE").count() == 2 * USERS

    # 3. Delete the targets' content types: refused (PROTECT), nothing changes.
    for model in (Contract, Document):
        content_type = ContentType.objects.get_for_model(model)
        with pytest.raises(ProtectedError), transaction.atomic():
            content_type.delete()
        assert ContentType.objects.filter(pk=content_type.pk).exists()

    # Every row survives; only the user reference became NULL.
    survived = lost_snapshots = other_changes = 0
    for model, (user_col, snapshot) in TRACKED.items():
        after = _rows(model, owned[model])
        assert set(after) == set(before[model]), model.__name__
        for pk, old in before[model].items():
            new = after[pk]
            survived += 1
            assert new[user_col] is None
            if snapshot and new[snapshot] != names[old[user_col]]:
                lost_snapshots += 1
            changed = {
                column
                for column in old
                if column != user_col and new[column] != old[column]
            }
            other_changes += len(changed)
            assert changed == set(), (model.__name__, pk, changed)
    assert (survived, lost_snapshots, other_changes) == (total, 0, 0)
    alerts = SystemAlert.objects.filter(pk__in=owned[SystemAlert])
    assert alerts.filter(is_resolved=True, resolved_at__isnull=False).count() == USERS

    # The chain (old entries plus the new DELETE entries) still verifies.
    report = chain.verify(expect_head=head_before)
    assert report.ok, report
    assert report.expected_head_checked
    assert report.sealed == 2 * USERS
    assert report.checked == AuditEntry.objects.count() == 8 * USERS
    assert AuditEntry.objects.unsealed().count() == 0
    call_command("icv_core_audit_verify", verbosity=0)

    battery(
        f"B4 survival: {USERS} users with {total} entries deleted; "
        f"{survived}/{total} entries survive; {lost_snapshots} snapshot fields lost; "
        f"{other_changes} other columns changed ({connection.vendor})"
    )

"""AuditMixin and ICV_CORE_AUDIT_AUTO_MODEL_TRACKING."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any
from unittest import mock

import pytest
from audit_testapp.models import Attachment, Contract, Customer, Document, Ticket
from capture_helpers import *  # noqa: F403
from capture_helpers import entries, kinds
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from icv_core.audit import _tracking
from icv_core.audit.models import AuditEntry
from icv_core.audit.signals import audit_entry_created

pytestmark = pytest.mark.django_db


def actions(obj: Any) -> list[str]:
    return [e.action for e in entries(target_object_id=str(obj.pk))]


# ---------------------------------------------------------------------------
# CREATE / UPDATE / DELETE
# ---------------------------------------------------------------------------


def test_create_is_logged_as_create_for_uuid_pk(audit_on, alice):
    from icv_core.middleware import acting_as

    with acting_as(alice):
        contract = Contract.objects.create(
            title="Lease", value=decimal.Decimal("10.50")
        )
    (entry,) = entries()
    assert (entry.event_type, entry.action) == ("DATA", "CREATE")
    assert (entry.user_id, entry.username) == (alice.pk, "alice")
    assert entry.target == contract
    assert entry.metadata == {"fields": {"title": "Lease", "value": "10.50"}}
    assert entry.description == f"audit_testapp.Contract {contract.pk}: create"


def test_create_with_int_pk(audit_on):
    ticket = Ticket.objects.create(subject="s")
    assert actions(ticket) == ["CREATE"]


def test_update_records_only_really_changed_fields(audit_on):
    contract = Contract.objects.create(title="Lease", value=decimal.Decimal("10.50"))
    contract.title = "Lease v2"
    contract.value = decimal.Decimal("10.5")  # same number: not a change
    contract.save()
    update = entries(action="UPDATE")[0]
    assert update.metadata == {
        "changed_fields": {"title": {"old": "Lease", "new": "Lease v2"}}
    }


def test_update_after_loading_from_the_db_uses_the_loaded_snapshot(audit_on):
    contract = Contract.objects.create(title="a", value="1.00")
    loaded = Contract.objects.get(pk=contract.pk)
    loaded.title = "b"
    loaded.save()
    loaded.title = "c"
    loaded.save()
    diffs = [e.metadata["changed_fields"] for e in entries(action="UPDATE")]
    assert diffs == [
        {"title": {"old": "a", "new": "b"}},
        {"title": {"old": "b", "new": "c"}},
    ]


def test_save_without_changes_logs_an_empty_diff(audit_on):
    contract = Contract.objects.create(title="a", value="1.00")
    contract.save()
    assert entries(action="UPDATE")[0].metadata == {"changed_fields": {}}


def test_update_fields_limit_the_diff(audit_on):
    contract = Contract.objects.create(title="a", value="1.00")
    contract.title = "b"
    contract.value = decimal.Decimal("2.00")
    contract.save(update_fields=["title"])
    assert entries(action="UPDATE")[0].metadata == {
        "changed_fields": {"title": {"old": "a", "new": "b"}}
    }
    # value was not saved: it is still a pending change on the next save.
    contract.save()
    assert entries(action="UPDATE")[1].metadata == {
        "changed_fields": {"value": {"old": "1.00", "new": "2.00"}}
    }


def test_values_are_json_native_and_lossless(audit_on, alice):
    customer = Customer.objects.create(name="ACME")
    ref = uuid.UUID("12345678-1234-5678-1234-567812345678")
    doc = Document.objects.create(
        title="d",
        customer=customer,
        owner=alice,
        signed_on=datetime.date(2026, 1, 2),
        amount=decimal.Decimal("1.2300"),
        reference=ref,
        notes={"k": [1, 2]},
    )
    create = entries(action="CREATE")[-1]
    assert create.metadata["fields"] == {
        "title": "d",
        "customer": str(customer.pk),
        "owner": alice.pk,
        "signed_on": "2026-01-02",
        "amount": "1.2300",
        "reference": "12345678-1234-5678-1234-567812345678",
        "api_token": "[masked]",
        "pin_code": "",
        "notes": {"k": [1, 2]},
        "is_active": True,
        "deleted_at": None,
    }
    doc = Document.objects.get(pk=doc.pk)
    doc.customer = None
    doc.owner = None
    doc.signed_on = None
    doc.amount = decimal.Decimal("0.0001")
    doc.reference = None
    doc.save()
    assert entries(action="UPDATE")[-1].metadata["changed_fields"] == {
        "customer": {"old": str(customer.pk), "new": None},
        "owner": {"old": alice.pk, "new": None},
        "signed_on": {"old": "2026-01-02", "new": None},
        "amount": {"old": "1.2300", "new": "0.0001"},
        "reference": {"old": "12345678-1234-5678-1234-567812345678", "new": None},
    }


def test_sensitive_fields_are_masked_completely(audit_on, settings):
    settings.ICV_CORE_AUDIT_SENSITIVE_FIELDS = ["pin_code"]
    doc = Document.objects.create(title="d", api_token="tok-SECRET-1", pin_code="1234")
    doc.api_token = "tok-SECRET-2"
    doc.pin_code = "9999"
    doc.save()
    ticket = Ticket.objects.create(subject="s", password="hunter2")
    ticket.password = "hunter3"
    ticket.save()
    assert entries(action="UPDATE")[0].metadata["changed_fields"] == {
        "api_token": {"old": "[masked]", "new": "[masked]"},
        "pin_code": {"old": "[masked]", "new": "[masked]"},
    }
    assert entries(action="UPDATE")[1].metadata["changed_fields"] == {
        "password": {"old": "[masked]", "new": "[masked]"}
    }
    everything = str(list(AuditEntry.objects.values_list("metadata", "description")))
    for canary in ("SECRET", "1234", "9999", "hunter"):
        assert canary not in everything


def test_track_field_changes_off_keeps_entries_without_values(audit_on, settings):
    settings.ICV_CORE_AUDIT_TRACK_FIELD_CHANGES = False
    contract = Contract.objects.create(title="a", value="1.00")
    contract.title = "b"
    contract.save()
    assert [(e.action, e.metadata) for e in entries()] == [
        ("CREATE", {}),
        ("UPDATE", {}),
    ]


def test_delete_is_logged_after_the_row_is_gone(audit_on):
    contract = Contract.objects.create(title="a", value="1.00")
    pk = contract.pk
    seen = []

    def receiver(sender, instance, **kwargs):
        if instance.action == "DELETE":
            seen.append(Contract.objects.filter(pk=pk).exists())

    audit_entry_created.connect(receiver, dispatch_uid="test-delete-order")
    try:
        contract.delete()
    finally:
        audit_entry_created.disconnect(dispatch_uid="test-delete-order")
    assert seen == [False]
    delete = entries(action="DELETE")[0]
    assert delete.target_object_id == str(pk)
    assert delete.metadata == {"fields": {"title": "a", "value": "1.00"}}


def test_failed_delete_writes_no_entry(audit_on):
    doc = Document.objects.create(title="d")
    with pytest.raises(ProtectedError):
        doc.delete()  # soft-delete models refuse a hard delete by default
    assert actions(doc) == ["CREATE"]


def test_hard_delete_is_logged(audit_on):
    doc = Document.objects.create(title="d")
    pk = doc.pk
    doc.hard_delete()
    assert [e.action for e in entries(target_object_id=str(pk))] == ["CREATE", "DELETE"]


def test_soft_delete_and_restore_instance(audit_on, alice):
    from icv_core.middleware import acting_as

    doc = Document.objects.create(title="d")
    with acting_as(alice):
        doc.soft_delete()
        deleted_at = doc.deleted_at
        doc.restore()
    assert actions(doc) == ["CREATE", "SOFT_DELETE", "RESTORE"]
    soft, restore = entries(action="SOFT_DELETE")[0], entries(action="RESTORE")[0]
    assert soft.user_id == restore.user_id == alice.pk
    # The diff comes from the instance: no query reads the old values.
    assert soft.metadata == {
        "deleted_at": deleted_at.isoformat(),
        "changed_fields": {
            "deleted_at": {"old": None, "new": deleted_at.isoformat()},
            "is_active": {"old": True, "new": False},
        },
    }
    assert restore.metadata == {
        "changed_fields": {
            "deleted_at": {"old": deleted_at.isoformat(), "new": None},
            "is_active": {"old": False, "new": True},
        },
    }
    # A later ordinary save is an UPDATE again.
    doc.title = "e"
    doc.save()
    assert actions(doc)[-1] == "UPDATE"


def test_stale_soft_delete_leaves_no_marker_behind(audit_on):
    """A soft delete that matched no row must not silence a later save."""
    from icv_core.models import _soft_delete

    assert _tracking._SOFT_SAVE_MARK == _soft_delete._GUARD
    doc = Document.objects.create(title="d")
    Document.objects.filter(pk=doc.pk).soft_delete()
    assert doc.soft_delete() is False  # stale: already deleted in the DB
    assert actions(doc) == ["CREATE", "SOFT_DELETE"]
    doc.is_active = True
    doc.save(update_fields=["is_active"])
    assert actions(doc) == ["CREATE", "SOFT_DELETE", "UPDATE"]


@pytest.mark.usefixtures("cost_case")
def test_queryset_soft_delete_and_restore_use_one_bulk_insert(
    audit_on, warm_content_types, django_assert_num_queries
):
    docs = [Document.objects.create(title=f"d{i}") for i in range(5)]
    received = []

    def receiver(sender, instance, **kwargs):
        received.append((instance.action, kwargs.get("bulk")))

    audit_entry_created.connect(receiver, dispatch_uid="test-bulk")
    try:
        with django_assert_num_queries(3) as captured:  # UPDATE, SELECT pks, INSERT
            Document.objects.all().soft_delete()
    finally:
        audit_entry_created.disconnect(dispatch_uid="test-bulk")
    statements = kinds([q["sql"] for q in captured.captured_queries])
    assert statements.count("INSERT") == 1
    soft = entries(action="SOFT_DELETE")
    assert sorted(e.target_object_id for e in soft) == sorted(str(d.pk) for d in docs)
    assert all(e.metadata["bulk"] is True and e.metadata["deleted_at"] for e in soft)
    assert all(
        e.metadata["changed_fields"]
        == {
            "is_active": {"old": True, "new": False},
            "deleted_at": {"old": None, "new": e.metadata["deleted_at"]},
        }
        for e in soft
    )
    assert received == [("SOFT_DELETE", True)] * 5
    Document.all_objects.all().restore()
    restored = entries(action="RESTORE")
    assert len(restored) == 5
    assert all(
        e.metadata
        == {"bulk": True, "changed_fields": {"is_active": {"old": False, "new": True}}}
        for e in restored
    )


def test_cascaded_soft_delete_is_logged_for_children(audit_on):
    doc = Document.objects.create(title="d")
    a1 = Attachment.objects.create(document=doc, name="a1")
    a2 = Attachment.objects.create(document=doc, name="a2")
    doc.soft_delete(cascade=True)
    assert actions(doc) == ["CREATE", "SOFT_DELETE"]
    assert actions(a1) == ["CREATE", "SOFT_DELETE"]
    assert actions(a2) == ["CREATE", "SOFT_DELETE"]


# ---------------------------------------------------------------------------
# Cost: exactly one INSERT, no SELECT
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cost_tally(battery_tally):
    return battery_tally(
        "B13 cost ({vendor}): {passed}/{tried} exact query-count cases hold: "
        "an audited create, update (also with unloaded FKs), delete, soft delete "
        "and restore add exactly 1 INSERT and no SELECT; a queryset soft delete "
        "or restore adds 1 bulk INSERT; disabled audit adds 0 queries and no "
        "snapshot work"
    )


@pytest.fixture
def cost_case(request, cost_tally):
    yield from cost_tally.follow(request)


@pytest.mark.usefixtures("cost_case")
def test_create_costs_exactly_one_insert(
    audit_on, warm_content_types, django_assert_num_queries
):
    with django_assert_num_queries(2) as captured:
        Contract.objects.create(title="a", value="1.00")
    assert kinds([q["sql"] for q in captured.captured_queries]) == ["INSERT", "INSERT"]
    assert "icv_core_auditentry" in captured.captured_queries[1]["sql"]


@pytest.mark.usefixtures("cost_case")
def test_update_costs_exactly_one_insert_and_no_select(
    audit_on, warm_content_types, django_assert_num_queries
):
    contract = Contract.objects.create(title="a", value="1.00")
    contract = Contract.objects.get(pk=contract.pk)
    contract.title = "b"
    with django_assert_num_queries(2) as captured:
        contract.save()
    assert kinds([q["sql"] for q in captured.captured_queries]) == ["UPDATE", "INSERT"]


@pytest.mark.usefixtures("cost_case")
def test_update_with_fk_costs_no_select(
    audit_on, warm_content_types, alice, django_assert_num_queries
):
    customer = Customer.objects.create(name="c")
    doc = Document.objects.create(title="d", customer=customer, owner=alice)
    doc = Document.objects.get(pk=doc.pk)  # related objects not loaded
    doc.title = "e"
    with django_assert_num_queries(2) as captured:
        doc.save()
    assert kinds([q["sql"] for q in captured.captured_queries]) == ["UPDATE", "INSERT"]


@pytest.mark.usefixtures("cost_case")
def test_delete_costs_exactly_one_insert(
    audit_on, warm_content_types, django_assert_num_queries
):
    contract = Contract.objects.create(title="a", value="1.00")
    with django_assert_num_queries(2) as captured:
        contract.delete()
    assert kinds([q["sql"] for q in captured.captured_queries]) == ["DELETE", "INSERT"]


@pytest.mark.usefixtures("cost_case")
def test_disabled_costs_nothing_and_takes_no_snapshot(
    settings, warm_content_types, django_assert_num_queries
):
    settings.ICV_CORE_AUDIT_ENABLED = False
    with (
        mock.patch.object(_tracking, "current_values") as values,
        mock.patch.object(_tracking, "changed_fields") as diff,
        mock.patch("icv_core.models.loaded_values") as loaded,
    ):
        with django_assert_num_queries(1):
            contract = Contract.objects.create(title="a", value="1.00")
        contract.title = "b"
        with django_assert_num_queries(1):
            contract.save()
        with django_assert_num_queries(1):
            contract.delete()
    assert (values.call_count, diff.call_count, loaded.call_count) == (0, 0, 0)
    assert AuditEntry.objects.count() == 0


def test_disabled_keeps_fast_delete_and_one_update_querysets(
    settings, warm_content_types, django_assert_num_queries
):
    """With audit off no per-model receiver is connected: nothing selects pks."""
    from django.db.models.signals import post_delete

    from icv_core.signals import post_bulk_soft_delete

    settings.ICV_CORE_AUDIT_ENABLED = False
    assert not post_delete.has_listeners(Contract)
    assert not post_bulk_soft_delete.has_listeners(Document)
    for i in range(3):
        Document.objects.create(title=f"d{i}")
        Contract.objects.create(title=f"c{i}", value="1.00")
    with django_assert_num_queries(1):  # the UPDATE only
        assert Document.objects.all().soft_delete() == 3
    with django_assert_num_queries(1):
        assert Document.all_objects.all().restore() == 3
    with django_assert_num_queries(1):  # Django's fast delete: one DELETE
        assert Contract.objects.all().delete()[0] == 3
    # Switched on again, the receivers are back and the rows are audited.
    settings.ICV_CORE_AUDIT_ENABLED = True
    assert post_delete.has_listeners(Contract)
    doc = Document.objects.get(title="d0")
    doc.soft_delete()
    assert actions(doc) == ["SOFT_DELETE"]


def test_switch_assigned_by_hand_connects_at_the_next_save(settings, monkeypatch):
    """No setting_changed signal: the next save of a mixin model connects."""
    from django.conf import settings as django_settings
    from django.db.models.signals import post_delete

    settings.ICV_CORE_AUDIT_ENABLED = False
    assert not post_delete.has_listeners(Contract)
    monkeypatch.setattr(django_settings, "ICV_CORE_AUDIT_ENABLED", True)
    contract = Contract.objects.create(title="a", value="1.00")
    assert post_delete.has_listeners(Contract)
    assert actions(contract) == ["CREATE"]
    pk = contract.pk
    contract.delete()
    assert [e.action for e in entries(target_object_id=str(pk))] == [
        "CREATE",
        "DELETE",
    ]


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def test_exclude_models(audit_on, settings):
    settings.ICV_CORE_AUDIT_EXCLUDE_MODELS = ["audit_testapp.Contract"]
    contract = Contract.objects.create(title="a", value="1.00")
    Ticket.objects.create(subject="t")
    assert actions(contract) == []
    assert [e.action for e in entries()] == ["CREATE"]


def test_auto_model_tracking_covers_base_models_without_the_mixin(audit_on, settings):
    customer = Customer.objects.create(name="before")
    assert actions(customer) == []
    settings.ICV_CORE_AUDIT_AUTO_MODEL_TRACKING = True
    customer = Customer.objects.get(pk=customer.pk)
    customer.name = "after"
    customer.save()
    other = Customer.objects.create(name="new")
    pk = other.pk
    other.delete()
    assert actions(customer) == ["UPDATE"]
    assert entries(action="UPDATE")[0].metadata == {
        "changed_fields": {"name": {"old": "before", "new": "after"}}
    }
    assert [e.action for e in entries(target_object_id=str(pk))] == ["CREATE", "DELETE"]
    settings.ICV_CORE_AUDIT_EXCLUDE_MODELS = ["audit_testapp.customer"]
    Customer.objects.create(name="excluded")
    assert AuditEntry.objects.count() == 3


def test_auto_tracking_receivers_exist_only_while_it_is_on(audit_on, settings):
    from django.db.models.signals import post_delete, post_save

    from icv_core.signals import post_bulk_soft_delete

    assert not post_save.has_listeners(Customer)
    assert not post_delete.has_listeners(Customer)
    settings.ICV_CORE_AUDIT_AUTO_MODEL_TRACKING = True
    assert post_save.has_listeners(Customer) and post_delete.has_listeners(Customer)
    settings.ICV_CORE_AUDIT_AUTO_MODEL_TRACKING = False
    # Off again: Django's fast delete and one-UPDATE bulk soft delete are back.
    assert not post_save.has_listeners(Customer)
    assert not post_delete.has_listeners(Customer)
    assert not post_bulk_soft_delete.has_listeners(Customer)
    Customer.objects.create(name="x").delete()
    assert AuditEntry.objects.count() == 0


def test_mixin_does_not_double_log_under_auto_tracking(audit_on, settings):
    settings.ICV_CORE_AUDIT_AUTO_MODEL_TRACKING = True
    contract = Contract.objects.create(title="a", value="1.00")
    assert actions(contract) == ["CREATE"]


def test_change_and_entry_roll_back_together(audit_on):
    with pytest.raises(RuntimeError), transaction.atomic():
        Contract.objects.create(title="a", value="1.00")
        raise RuntimeError
    assert Contract.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_raw_saves_are_not_logged(audit_on):
    from django.utils import timezone

    now = timezone.now()
    contract = Contract(title="fixture", value="1.00", created_at=now, updated_at=now)
    contract.save_base(raw=True)
    assert actions(contract) == []


def test_duplicate_insert_failure_writes_no_entry(audit_on):
    contract = Contract.objects.create(title="a", value="1.00")
    clone = Contract(pk=contract.pk, title="b", value="1.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save(force_insert=True)
    assert actions(contract) == ["CREATE"]


@pytest.mark.usefixtures("cost_case")
def test_instance_soft_delete_costs_one_insert(
    audit_on, warm_content_types, django_assert_num_queries
):
    doc = Document.objects.create(title="d")
    with django_assert_num_queries(2) as captured:
        doc.soft_delete()
    assert kinds([q["sql"] for q in captured.captured_queries]) == ["UPDATE", "INSERT"]
    with django_assert_num_queries(2) as captured:
        doc.restore()
    assert kinds([q["sql"] for q in captured.captured_queries]) == ["UPDATE", "INSERT"]


def test_soft_delete_save_with_other_changes_is_still_an_update(audit_on):
    doc = Document.objects.create(title="d")
    doc.title = "changed before soft delete"
    doc.soft_delete()  # saves only the soft-delete fields
    doc.save()  # the title change is still recorded
    assert actions(doc) == ["CREATE", "SOFT_DELETE", "UPDATE"]
    assert entries(action="UPDATE")[0].metadata["changed_fields"] == {
        "title": {"old": "d", "new": "changed before soft delete"}
    }


def test_soft_delete_without_field_tracking_is_not_an_update(audit_on, settings):
    settings.ICV_CORE_AUDIT_TRACK_FIELD_CHANGES = False
    doc = Document.objects.create(title="d")
    doc.soft_delete()
    doc.restore()
    assert actions(doc) == ["CREATE", "SOFT_DELETE", "RESTORE"]


@pytest.mark.urls("audit_testapp.capture_urls")
def test_tracked_save_in_a_request_carries_user_ip_and_request_id(
    client, audit_on, audit_middleware, alice
):
    client.force_login(alice)
    response = client.get(
        "/create-contract/",
        REMOTE_ADDR="198.51.100.60",
        HTTP_USER_AGENT="UA/3",
        HTTP_X_REQUEST_ID="req-contract",
    )
    (entry,) = entries(action="CREATE")
    assert entry.target_object_id == response.json()["pk"]
    assert (entry.user_id, entry.username) == (alice.pk, "alice")
    assert (entry.ip_address, entry.user_agent, entry.request_id) == (
        "198.51.100.60",
        "UA/3",
        "req-contract",
    )


def test_plain_model_snapshot_follows_unaudited_saves_and_refreshes(settings):
    """Old values of a plain (int pk) model are what is stored, not load-time."""
    settings.ICV_CORE_AUDIT_ENABLED = False
    Ticket.objects.create(subject="first")
    ticket = Ticket.objects.get()
    ticket.subject = "second"
    ticket.save()  # not audited, but the snapshot follows the write
    settings.ICV_CORE_AUDIT_ENABLED = True
    ticket.subject = "third"
    ticket.save()
    (update,) = entries(action="UPDATE")
    assert update.metadata["changed_fields"] == {
        "subject": {"old": "second", "new": "third"}
    }
    # Another process changes the row; refresh_from_db() takes its values.
    Ticket.objects.filter(pk=ticket.pk).update(subject="fourth")
    ticket.refresh_from_db()
    ticket.subject = "fifth"
    ticket.save()
    last = entries(action="UPDATE")[-1]
    assert last.metadata["changed_fields"] == {
        "subject": {"old": "fourth", "new": "fifth"}
    }


def test_soft_delete_of_a_compliance_model_is_one_entry(audit_on, alice, settings):
    """ComplianceModel adds updated_by to the soft delete's save: still no UPDATE."""
    from audit_testapp.models import Filing

    settings.ICV_CORE_TRACK_CREATED_BY = True
    from icv_core.middleware import acting_as

    with acting_as(alice):
        filing = Filing.objects.create(title="f")
        filing.soft_delete()
        filing.restore()
    assert actions(filing) == ["CREATE", "SOFT_DELETE", "RESTORE"]
    filing.refresh_from_db()
    assert filing.updated_by == alice


AUTO_FROM_SETTINGS = """
import django
django.setup()
from django.core.management import call_command
from django.db.models.signals import post_save
call_command("migrate", verbosity=0)
from audit_testapp.models import Customer
from icv_core.audit.models import AuditEntry
assert post_save.has_listeners(Customer), "auto tracking is not connected"
customer = Customer.objects.create(name="from settings")
print(list(AuditEntry.objects.values_list("action", "target_object_id")) == [
    ("CREATE", str(customer.pk))
])
"""


def test_auto_model_tracking_set_in_the_settings_module(tmp_path):
    """Not switched on by a test fixture: configured before Django starts."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    (tmp_path / "auto_settings.py").write_text(
        "from settings import *  # noqa: F403\n"
        "ICV_CORE_AUDIT_ENABLED = True\n"
        "ICV_CORE_AUDIT_AUTO_MODEL_TRACKING = True\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "auto_settings",
        "DATABASE_URL": "",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(tests)]),
    }
    result = subprocess.run(
        [sys.executable, "-c", AUTO_FROM_SETTINGS],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"

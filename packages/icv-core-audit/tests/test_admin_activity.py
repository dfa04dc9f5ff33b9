"""Admin add/change/delete through the real Django admin -> AdminActivityLog."""

from __future__ import annotations

import pytest
from audit_testapp.models import Customer
from capture_helpers import *  # noqa: F403
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from icv_core.audit.models import AdminActivityLog

pytestmark = [pytest.mark.django_db, pytest.mark.urls("audit_testapp.capture_urls")]

BASE = "/capture-admin/audit_testapp/customer/"
UA = "AdminBrowser/2.0"


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    client.admin = admin
    return client


def rows():
    return list(AdminActivityLog.objects.order_by("created_at", "pk"))


def test_add_change_delete_are_recorded(admin_client, audit_on, audit_middleware):
    admin = admin_client.admin
    meta = {"REMOTE_ADDR": "198.51.100.40", "HTTP_USER_AGENT": UA}
    response = admin_client.post(f"{BASE}add/", {"name": "ACME"}, **meta)
    assert response.status_code == 302
    customer = Customer.objects.get()
    response = admin_client.post(
        f"{BASE}{customer.pk}/change/", {"name": "ACME Ltd"}, **meta
    )
    assert response.status_code == 302
    response = admin_client.post(
        f"{BASE}{customer.pk}/delete/", {"post": "yes"}, **meta
    )
    assert response.status_code == 302
    logged = rows()
    content_type = ContentType.objects.get_for_model(Customer)
    assert [
        (
            r.action_type,
            r.admin_user_id,
            r.admin_username,
            r.target_content_type_id,
            r.target_object_id,
            r.ip_address,
            r.user_agent,
        )
        for r in logged
    ] == [
        (
            action,
            admin.pk,
            "root",
            content_type.pk,
            str(customer.pk),
            "198.51.100.40",
            UA,
        )
        for action in ("add", "change", "delete")
    ]
    added = f"Added customer \u201cCustomer object ({customer.pk})\u201d."
    assert logged[0].description == added
    assert logged[1].description.startswith("Changed customer \u201c")
    assert logged[1].description.endswith("\u201d. Changed Name.")
    assert logged[1].metadata["change_message"] == [{"changed": {"fields": ["Name"]}}]
    assert logged[2].description.startswith("Deleted customer")
    entries = list(LogEntry.objects.order_by("pk").values_list("pk", flat=True))
    assert [r.metadata["log_entry_id"] for r in logged] == entries
    assert all(len(r.metadata["request_id"]) == 32 for r in logged)


def test_bulk_delete_action_records_every_object(admin_client, audit_on):
    customers = [Customer.objects.create(name=f"c{i}") for i in range(3)]
    response = admin_client.post(
        BASE,
        {
            "action": "delete_selected",
            "_selected_action": [str(c.pk) for c in customers],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.count() == 0
    deleted = [r for r in rows() if r.action_type == "delete"]
    assert sorted(r.target_object_id for r in deleted) == sorted(
        str(c.pk) for c in customers
    )
    assert len(deleted) == LogEntry.objects.filter(action_flag=3).count() == 3


def test_without_audit_middleware_falls_back_to_the_request(admin_client, audit_on):
    admin_client.post(
        f"{BASE}add/", {"name": "x"}, REMOTE_ADDR="198.51.100.41", HTTP_USER_AGENT=UA
    )
    # No request context: the row is still written, with no IP/UA.
    (row,) = rows()
    assert (row.action_type, row.admin_user_id) == ("add", admin_client.admin.pk)


def test_disabled_writes_nothing(admin_client, settings):
    settings.ICV_CORE_AUDIT_ENABLED = False
    admin_client.post(f"{BASE}add/", {"name": "x"})
    assert Customer.objects.count() == 1
    assert AdminActivityLog.objects.count() == 0


def test_deleting_the_admin_keeps_the_activity(admin_client, audit_on):
    admin_client.post(f"{BASE}add/", {"name": "x"})
    admin = admin_client.admin
    LogEntry.objects.filter(user=admin).delete()  # LogEntry.user is CASCADE
    admin.delete()
    (row,) = rows()
    assert (row.admin_user_id, row.admin_username, row.action_type) == (
        None,
        "root",
        "add",
    )

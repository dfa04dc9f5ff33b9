from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("rest_framework")

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.test import APIClient

from icv_core.audit.models import AdminActivityLog, AuditEntry, SystemAlert

pytestmark = [pytest.mark.django_db, pytest.mark.urls("ops_api_urls")]

BASE = "/api/audit/"


def staff_with(*codenames, staff=True):
    user = get_user_model().objects.create_user(
        f"u{'-'.join(codenames) or 'none'}{staff}", password="pw", is_staff=staff
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.force_authenticate(user)
    return user, client


@pytest.fixture
def viewer():
    return staff_with("view_auditentry", "view_adminactivitylog", "view_systemalert")


def entry(**kw):
    values = {"event_type": "DATA", "action": "CREATE", **kw}
    return AuditEntry.objects.create(**values)


def alert(**kw):
    values = {
        "alert_type": "system",
        "severity": "error",
        "title": "t",
        "message": "m",
        **kw,
    }
    return SystemAlert.objects.create(**values)


def test_no_api_root():
    _, client = staff_with("view_auditentry")
    assert client.get(BASE).status_code == 404


@pytest.mark.parametrize("path", ["entries/", "admin-activity/", "alerts/"])
def test_anonymous_and_non_staff_and_staff_without_perm_are_refused(path):
    assert APIClient().get(BASE + path).status_code in (401, 403)
    _, non_staff = staff_with(
        "view_auditentry", "view_adminactivitylog", "view_systemalert", staff=False
    )
    assert non_staff.get(BASE + path).status_code == 403
    _, bare_staff = staff_with()
    assert bare_staff.get(BASE + path).status_code == 403


def test_each_endpoint_needs_its_own_model_permission():
    """A view permission on one model opens that endpoint only."""
    entry(description="e")
    alert()
    for codename, allowed in [
        ("view_auditentry", "entries/"),
        ("view_adminactivitylog", "admin-activity/"),
        ("view_systemalert", "alerts/"),
    ]:
        _, client = staff_with(codename)
        for path in ("entries/", "admin-activity/", "alerts/"):
            expected = 200 if path == allowed else 403
            assert client.get(BASE + path).status_code == expected, (codename, path)


def test_superuser_is_allowed():
    user = get_user_model().objects.create_superuser("root", "r@example.com", "pw")
    client = APIClient()
    client.force_authenticate(user)
    assert client.get(BASE + "entries/").status_code == 200


def test_entries_list_and_detail(viewer):
    user, client = viewer
    e = entry(user=user, description="hello", metadata={"k": 1})
    response = client.get(BASE + "entries/")
    assert response.status_code == 200
    assert [r["id"] for r in response.data["results"]] == [str(e.pk)]
    assert response.data["next"] is None
    detail = client.get(f"{BASE}entries/{e.pk}/").data
    assert detail["description"] == "hello"
    assert detail["metadata"] == {"k": 1}
    assert detail["username"] == user.username
    assert detail["user_ref"] == str(user.pk)
    assert detail["user"] == user.pk


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_entries_are_read_only(viewer, method):
    _, client = viewer
    e = entry()
    url = BASE + "entries/" if method == "post" else f"{BASE}entries/{e.pk}/"
    assert getattr(client, method)(url, {"description": "x"}).status_code == 405
    assert AuditEntry.objects.get().description == ""


def test_entry_filters(viewer):
    user, client = viewer
    now = timezone.now()
    ct = ContentType.objects.get_for_model(SystemAlert)
    a = entry(
        event_type="SECURITY",
        action="LOGIN_FAILED",
        created_at=now - dt.timedelta(days=3),
    )
    b = entry(user=user, target_content_type=ct, target_object_id="42")
    c = entry(action="UPDATE", request_id="req-1")

    def ids(**params):
        response = client.get(BASE + "entries/", params)
        assert response.status_code == 200, response.data
        return {r["id"] for r in response.data["results"]}

    assert ids(event_type="SECURITY") == {str(a.pk)}
    assert ids(action=["UPDATE", "LOGIN_FAILED"]) == {str(a.pk), str(c.pk)}
    assert ids(user=user.pk) == {str(b.pk)}
    assert ids(username=user.username) == {str(b.pk)}
    assert ids(target_type="icv_core_audit.systemalert", target_id="42") == {str(b.pk)}
    assert ids(since=(now - dt.timedelta(days=1)).isoformat()) == {str(b.pk), str(c.pk)}
    # A date includes that whole day.
    assert ids(until=(now - dt.timedelta(days=4)).date().isoformat()) == set()
    assert ids(until=(now - dt.timedelta(days=3)).date().isoformat()) == {str(a.pk)}
    assert ids(until=(now - dt.timedelta(days=2)).isoformat()) == {str(a.pk)}
    assert ids(request_id="req-1") == {str(c.pk)}
    for bad in (
        {"event_type": "NOPE"},
        {"since": "yesterday"},
        {"target_type": "nope"},
        {"target_type": "auth.nothing"},
        {"user": "abc"},
    ):
        assert client.get(BASE + "entries/", bad).status_code == 400, bad


def test_cursor_pagination(viewer):
    _, client = viewer
    now = timezone.now()
    for i in range(7):
        entry(description=str(i), created_at=now - dt.timedelta(minutes=i))
    seen = []
    url = BASE + "entries/?page_size=3"
    while url:
        data = client.get(url).data
        assert "count" not in data
        seen += [r["description"] for r in data["results"]]
        url = data["next"]
    assert seen == ["0", "1", "2", "3", "4", "5", "6"]


def test_list_query_count_is_constant(viewer, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, client = viewer
    ct = ContentType.objects.get_for_model(SystemAlert)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(BASE + "entries/").status_code == 200
        return len(ctx.captured_queries)

    for _ in range(3):
        entry(user=user, target_content_type=ct, target_object_id="1")
    count()  # the first request also loads the user's permissions (cached)
    few = count()
    for _ in range(30):
        entry(user=user, target_content_type=ct, target_object_id="1")
    assert count() == few


def test_admin_activity(viewer):
    user, client = viewer
    log = AdminActivityLog.objects.create(
        admin_user=user, action_type="change", description="edited"
    )
    AdminActivityLog.objects.create(
        admin_user=None, action_type="delete", description="x"
    )
    data = client.get(BASE + "admin-activity/", {"action_type": "change"}).data
    assert [r["id"] for r in data["results"]] == [str(log.pk)]
    assert data["results"][0]["admin_username"] == user.username
    data = client.get(BASE + "admin-activity/", {"user": user.pk}).data
    assert [r["id"] for r in data["results"]] == [str(log.pk)]
    assert client.delete(f"{BASE}admin-activity/{log.pk}/").status_code == 405


def test_alerts_list_filters_and_no_writes(viewer):
    _, client = viewer
    a = alert(severity="critical")
    b = alert(alert_type="security", title="other")
    b.resolve(notes="n")

    def ids(**params):
        return {r["id"] for r in client.get(BASE + "alerts/", params).data["results"]}

    assert ids(severity="critical") == {str(a.pk)}
    assert ids(alert_type="security") == {str(b.pk)}
    assert ids(is_resolved="false") == {str(a.pk)}
    assert ids(is_resolved="true") == {str(b.pk)}
    assert client.get(BASE + "alerts/", {"is_resolved": "maybe"}).status_code == 400
    assert client.post(BASE + "alerts/", {"title": "x"}).status_code == 405
    assert client.patch(f"{BASE}alerts/{a.pk}/", {"title": "x"}).status_code == 405
    assert client.delete(f"{BASE}alerts/{a.pk}/").status_code == 405
    assert SystemAlert.objects.count() == 2


def test_resolve_needs_change_permission(viewer):
    _, client = viewer
    a = alert()
    url = f"{BASE}alerts/{a.pk}/resolve/"
    assert client.post(url, {"notes": "x"}).status_code == 403
    a.refresh_from_db()
    assert not a.is_resolved

    user, client = staff_with("view_systemalert", "change_systemalert")
    response = client.post(url, {"notes": "fixed"})
    assert response.status_code == 200
    assert response.data["is_resolved"] is True
    assert response.data["resolved_by"] == user.pk
    assert response.data["resolution_notes"] == "fixed"
    a.refresh_from_db()
    assert (a.is_resolved, a.resolved_by, a.resolution_notes) == (True, user, "fixed")

    again = client.post(url, {"notes": "again"})
    assert again.status_code == 400
    assert again.data == {"detail": "Alert is already resolved."}
    a.refresh_from_db()
    assert a.resolution_notes == "fixed"


def test_resolve_accepts_02_field_name():
    user, client = staff_with("view_systemalert", "change_systemalert")
    a = alert()
    client.post(f"{BASE}alerts/{a.pk}/resolve/", {"resolution_notes": "old name"})
    a.refresh_from_db()
    assert a.resolution_notes == "old name"

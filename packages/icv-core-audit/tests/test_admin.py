from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from icv_core.audit.admin import render_changes
from icv_core.audit.models import AdminActivityLog, AuditEntry, SystemAlert

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return user


def make(n, user=None):
    for i in range(n):
        AuditEntry.objects.create(
            event_type="DATA",
            action="UPDATE",
            user=user,
            description=f"entry {i}",
            metadata={"changed_fields": {"name": {"old": "a", "new": f"<b>{i}</b>"}}},
            created_at=timezone.now() - dt.timedelta(days=i % 20),
        )


def make_logs(n, user):
    for i in range(n):
        AdminActivityLog.objects.create(
            admin_user=user, action_type="change", description=f"changed {i}"
        )


ENTRY_URLS = ["add", "delete", "history_post"]


def test_entry_admin_is_read_only_for_superusers(client, superuser):
    make(1, superuser)
    entry = AuditEntry.objects.get()
    before = AuditEntry.objects.values().get()
    add = reverse("admin:icv_core_audit_auditentry_add")
    change = reverse("admin:icv_core_audit_auditentry_change", args=[entry.pk])
    delete = reverse("admin:icv_core_audit_auditentry_delete", args=[entry.pk])
    changelist = reverse("admin:icv_core_audit_auditentry_changelist")

    assert client.get(add).status_code == 403
    assert (
        client.post(add, {"event_type": "DATA", "action": "CREATE"}).status_code == 403
    )
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.post(change, {"description": "tampered"}).status_code == 403
    # The change URL is a read-only view: no form to submit.
    response = client.get(change)
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert b'name="_continue"' not in response.content
    # The diff: old value struck out, new value escaped.
    assert (
        b"<td>name</td><td><del><code>&quot;a&quot;</code></del></td>"
        in response.content
    )
    assert b"&lt;b&gt;0&lt;/b&gt;" in response.content
    assert b"<b>0</b>" not in response.content
    # No delete action on the changelist, and posting it does nothing.
    response = client.get(changelist)
    assert response.context["action_form"] is None  # no actions at all
    client.post(
        changelist, {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert AuditEntry.objects.values().get() == before
    assert AuditEntry.objects.count() == 1


def test_activity_log_admin_is_read_only(client, superuser):
    make_logs(1, superuser)
    log = AdminActivityLog.objects.get()
    before = AdminActivityLog.objects.values().get()
    assert (
        client.get(reverse("admin:icv_core_audit_adminactivitylog_add")).status_code
        == 403
    )
    assert (
        client.get(
            reverse("admin:icv_core_audit_adminactivitylog_delete", args=[log.pk])
        ).status_code
        == 403
    )
    change = reverse("admin:icv_core_audit_adminactivitylog_change", args=[log.pk])
    assert client.post(change, {"description": "x"}).status_code == 403
    assert client.get(change).status_code == 200
    assert AdminActivityLog.objects.values().get() == before


def _changelist_queries(client, url, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("model", "maker"),
    [("auditentry", make), ("adminactivitylog", make_logs)],
)
def test_changelist_queries_do_not_grow_with_rows(
    client, superuser, model, maker, django_assert_max_num_queries
):
    url = reverse(f"admin:icv_core_audit_{model}_changelist")
    maker(5, superuser)
    few = _changelist_queries(client, url, django_assert_max_num_queries)
    maker(45, superuser)
    many = _changelist_queries(client, url, django_assert_max_num_queries)
    assert few == many


def _varied(model_name, n, offset):
    """n rows, each by its own user and aimed at a target of another type."""
    from django.contrib.auth.models import Group

    user_model = get_user_model()
    for i in range(offset, offset + n):
        user = user_model.objects.create_user(f"actor{i}")
        target = [
            user,
            Group.objects.create(name=f"g{i}"),
            SystemAlert.objects.create(
                alert_type="system", severity="info", title=f"a{i}", message="m"
            ),
        ][i % 3]
        if model_name == "auditentry":
            AuditEntry.objects.create(
                event_type="DATA",
                action="UPDATE",
                user=user,
                target=target,
                metadata={"changed_fields": {"n": {"old": i, "new": i + 1}}},
            )
        else:
            AdminActivityLog.objects.create(
                admin_user=user, action_type="change", target=target
            )


@pytest.mark.parametrize("model", ["auditentry", "adminactivitylog"])
@pytest.mark.parametrize("per_page", [10, 100])
def test_changelist_queries_are_constant_with_users_targets_and_page_size(
    client, superuser, model, per_page, monkeypatch, django_assert_max_num_queries
):
    from django.contrib import admin

    model_class = AuditEntry if model == "auditentry" else AdminActivityLog
    monkeypatch.setattr(admin.site._registry[model_class], "list_per_page", per_page)
    url = reverse(f"admin:icv_core_audit_{model}_changelist")
    _varied(model, 3, 0)
    few = _changelist_queries(client, url, django_assert_max_num_queries)
    _varied(model, 57, 3)
    many = _changelist_queries(client, url, django_assert_max_num_queries)
    response = client.get(url)
    assert len(response.context["cl"].result_list) == min(per_page, 60)
    assert few == many


def test_changelist_filters_and_search(client, superuser):
    make(3, superuser)
    AuditEntry.objects.create(
        event_type="SECURITY", action="LOGIN_FAILED", username="mallory"
    )
    url = reverse("admin:icv_core_audit_auditentry_changelist")
    response = client.get(url, {"event_type__exact": "SECURITY"})
    assert response.context["cl"].result_count == 1
    response = client.get(url, {"action__exact": "UPDATE"})
    assert response.context["cl"].result_count == 3
    response = client.get(url, {"q": "mallory"})
    assert response.context["cl"].result_count == 1
    response = client.get(url, {"user__id__exact": superuser.pk})
    assert response.context["cl"].result_count == 3


def test_overview_renders_for_empty_and_full_tables(client, superuser):
    url = reverse("admin:icv_core_audit_auditentry_overview")
    assert url == "/admin/icv_core_audit/auditentry/overview/"
    response = client.get(url)
    assert response.status_code == 200
    assert b"<svg" in response.content
    assert b"No entries" in response.content
    make(40, superuser)
    AuditEntry.objects.create(event_type="SECURITY", action="LOGIN_FAILED")
    SystemAlert.objects.create(
        alert_type="system", severity="critical", title="t", message="m"
    )
    response = client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<script" not in content.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert dict(response.context["totals"]) == {"DATA": 40, "SECURITY": 1}
    assert response.context["grand_total"] == 41
    assert dict(response.context["open_alerts"])["critical"] == 1
    assert content.count("<rect x=") >= 21  # 20 days with DATA + legend


def test_overview_needs_view_permission(client):
    user_model = get_user_model()
    staff = user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    url = reverse("admin:icv_core_audit_auditentry_overview")
    assert client.get(url).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    assert client.get(url).status_code == 200


def test_render_changes_escapes_everything():
    html = render_changes({"<x>": {"old": "<script>", "new": None}})
    assert "<script>" not in html
    assert "&lt;x&gt;" in html
    assert "&lt;script&gt;" in html
    assert render_changes(None) == "-"


# -- SystemAlert --------------------------------------------------------------


def alert(**kw):
    values = {
        "alert_type": "system",
        "severity": "error",
        "title": "t",
        "message": "m",
        **kw,
    }
    return SystemAlert.objects.create(**values)


def test_resolve_action_records_who_and_notes(client, superuser):
    a1, a2 = alert(title="one"), alert(title="two")
    url = reverse("admin:icv_core_audit_systemalert_changelist")
    response = client.post(
        url, {"action": "resolve_selected", "_selected_action": [a1.pk, a2.pk]}
    )
    assert response.status_code == 200  # the intermediate form
    assert b"Resolution notes" in response.content
    response = client.post(
        url,
        {
            "action": "resolve_selected",
            "_selected_action": [a1.pk, a2.pk],
            "apply": "1",
            "notes": "fixed upstream",
        },
    )
    assert response.status_code == 302
    for a in (a1, a2):
        a.refresh_from_db()
        assert a.is_resolved
        assert a.resolved_by == superuser
        assert a.resolution_notes == "fixed upstream"


def test_resolve_form_for_one_alert(client, superuser):
    a = alert()
    url = reverse("admin:icv_core_audit_systemalert_resolve", args=[a.pk])
    change = reverse("admin:icv_core_audit_systemalert_change", args=[a.pk])
    assert url in client.get(change).content.decode()
    assert client.get(url).status_code == 200
    response = client.post(url, {"notes": "ok"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.is_resolved, a.resolved_by, a.resolution_notes) == (True, superuser, "ok")
    # Resolving again changes nothing, and says so.
    response = client.post(url, {"notes": "again"}, follow=True)
    a.refresh_from_db()
    assert a.resolution_notes == "ok"
    # The first POST's message was not shown yet (its redirect not followed).
    assert [str(m) for m in response.context["messages"]] == [
        "Alert resolved.",
        "This alert is already resolved.",
    ]


def test_resolve_action_reports_alerts_already_resolved(client, superuser):
    done = alert(title="done")
    done.resolve(resolved_by=superuser, notes="earlier")
    fresh = alert(title="fresh")
    url = reverse("admin:icv_core_audit_systemalert_changelist")
    response = client.post(
        url,
        {
            "action": "resolve_selected",
            "_selected_action": [done.pk, fresh.pk],
            "apply": "1",
            "notes": "now",
        },
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "1 alert resolved.",
        "1 alert was already resolved and was left as it was.",
    ]
    done.refresh_from_db()
    fresh.refresh_from_db()
    assert (done.resolution_notes, fresh.resolution_notes) == ("earlier", "now")


def test_resolve_action_survives_a_concurrent_resolution(client, superuser):
    """Another process resolves an alert between the page load and the loop."""
    from icv_core.audit import admin as audit_admin

    racing = alert(title="racing")
    real = audit_admin._resolve

    def resolve_after_someone_else(request, alerts, notes):
        loaded = list(alerts)  # still open when the admin loaded them
        SystemAlert.objects.get(pk=racing.pk).resolve(notes="by the other process")
        return real(request, loaded, notes)

    url = reverse("admin:icv_core_audit_systemalert_changelist")
    audit_admin._resolve = resolve_after_someone_else
    try:
        response = client.post(
            url,
            {
                "action": "resolve_selected",
                "_selected_action": [racing.pk],
                "apply": "1",
                "notes": "mine",
            },
            follow=True,
        )
    finally:
        audit_admin._resolve = real
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "0 alerts resolved.",
        "1 alert was already resolved and was left as it was.",
    ]
    racing.refresh_from_db()
    assert racing.resolution_notes == "by the other process"


def test_unresolved_alerts_cannot_be_deleted(client, superuser):
    open_alert = alert(title="open")
    done = alert(title="done")
    done.resolve(resolved_by=superuser)
    delete = reverse("admin:icv_core_audit_systemalert_delete", args=[open_alert.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    url = reverse("admin:icv_core_audit_systemalert_changelist")
    response = client.post(
        url,
        {
            "action": "delete_selected",
            "_selected_action": [open_alert.pk, done.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 403
    assert SystemAlert.objects.count() == 2
    client.post(
        url, {"action": "delete_selected", "_selected_action": [done.pk], "post": "yes"}
    )
    assert list(SystemAlert.objects.values_list("title", flat=True)) == ["open"]


def test_alert_admin_filters_and_no_add(client, superuser):
    alert(severity="critical")
    alert(alert_type="security")
    url = reverse("admin:icv_core_audit_systemalert_changelist")
    assert client.get(url, {"severity": "critical"}).context["cl"].result_count == 1
    assert (
        client.get(url, {"alert_type__exact": "security"}).context["cl"].result_count
        == 1
    )
    assert client.get(url, {"is_resolved__exact": "0"}).context["cl"].result_count == 2
    assert (
        client.get(reverse("admin:icv_core_audit_systemalert_add")).status_code == 403
    )


def test_archive_admin_is_read_only(client, superuser):
    from icv_core.audit.models import AuditArchive

    a = AuditArchive.objects.create(
        storage_alias="default", path="p.jsonl.gz", row_count=3, sha256="0" * 64
    )
    assert (
        client.get(reverse("admin:icv_core_audit_auditarchive_changelist")).status_code
        == 200
    )
    assert (
        client.get(reverse("admin:icv_core_audit_auditarchive_add")).status_code == 403
    )
    delete = reverse("admin:icv_core_audit_auditarchive_delete", args=[a.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditArchive.objects.count() == 1

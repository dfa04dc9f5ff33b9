"""B10: sensitive-data canaries (security research SENS-1..5, AUTH-2).

Unique canary strings are seeded as passwords, tokens, API keys, secrets and
session keys through every path that reaches the audit trail (AuditMixin saves
and deletes, soft delete/restore, JSON fields, ``log_event`` metadata at any
depth, ``raise_alert`` metadata, failed and successful logins, ``@audited``
arguments/metadata/exceptions, request headers and query strings, the
``ICV_CORE_AUDIT_SENSITIVE_FIELDS`` extra names, admin activity). Then every
place the trail can be read is searched for them: the audit tables (ORM values
and raw SQL, plus ``row::text`` on PostgreSQL), Python logging at DEBUG, the
stats and archive command outputs and archive files, the REST API and the
admin HTML. Every search must find nothing.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import uuid
from typing import Any

import pytest
from audit_testapp.models import Document, Ticket
from capture_helpers import MIDDLEWARE
from django.contrib import admin
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import include, path, reverse

from icv_core.audit.decorators import audited
from icv_core.audit.models import (
    AdminActivityLog,
    AuditArchive,
    AuditEntry,
    SystemAlert,
)
from icv_core.audit.services import log_event, raise_alert

pytestmark = pytest.mark.django_db

AUDIT_TABLES = (
    AuditEntry._meta.db_table,
    AdminActivityLog._meta.db_table,
    SystemAlert._meta.db_table,
    AuditArchive._meta.db_table,
)


class Canaries:
    """Unique secrets, each a string that cannot occur by accident."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def new(self, kind: str) -> str:
        value = f"CANARY-{kind}-{uuid.uuid4().hex}"
        self.values.append(value)
        return value

    def short(self) -> str:
        """A 10-character canary for short columns (``pin_code``)."""
        value = "PIN" + uuid.uuid4().hex[:7]
        self.values.append(value)
        return value

    def add(self, value: str) -> str:
        self.values.append(value)
        return value

    def hits(self, text: str) -> int:
        return sum(text.count(value) for value in self.values)


# --- a URLconf with the admin, the API and an @audited view -------------------


@audited(event_type="SECURITY", action="CUSTOM", description="battery view")
def audited_view(request):
    return HttpResponse("ok")


class BatteryUrls:
    urlpatterns = [
        path("admin/", admin.site.urls),
        path("api/audit/", include("icv_core.audit.api.urls")),
        path("battery/audited/", audited_view),
    ]


# --- where the trail can be read ---------------------------------------------


def db_text() -> str:
    """Every column of every audit table, through the ORM and raw SQL."""
    parts: list[str] = []
    for model in (AuditEntry, AdminActivityLog, SystemAlert, AuditArchive):
        for row in model._base_manager.values():
            parts.append(json.dumps(row, default=str, ensure_ascii=False))
    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                parts.extend(
                    bytes(v).decode("utf-8", "replace")
                    if isinstance(v, bytes | memoryview)
                    else str(v)
                    for v in row
                )
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT t::text FROM {table} t")
                parts.extend(row[0] for row in cursor.fetchall())
    return "\n".join(parts)


def command(name: str, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def api_text(client: Client) -> tuple[str, int]:
    """Every list page and detail of the three API endpoints."""
    parts: list[str] = []
    calls = 0
    for endpoint, model in (
        ("entries", AuditEntry),
        ("admin-activity", AdminActivityLog),
        ("alerts", SystemAlert),
    ):
        response = client.get(
            f"/api/audit/{endpoint}/?page_size=500", HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert body["next"] is None
        assert len(body["results"]) == model._base_manager.count()
        parts.append(response.content.decode())
        calls += 1
        for pk in model._base_manager.values_list("pk", flat=True):
            detail = client.get(
                f"/api/audit/{endpoint}/{pk}/", HTTP_ACCEPT="application/json"
            )
            assert detail.status_code == 200
            parts.append(detail.content.decode())
            calls += 1
    return "\n".join(parts), calls


def admin_text(client: Client) -> tuple[str, int]:
    """Changelists and change pages of the audit models, and the overview."""
    parts: list[str] = []
    pages = 0
    for model in (AuditEntry, AdminActivityLog, SystemAlert):
        info = model._meta.app_label, model._meta.model_name
        urls = [reverse("admin:{}_{}_changelist".format(*info))]
        urls += [
            reverse("admin:{}_{}_change".format(*info), args=[pk])
            for pk in model._base_manager.values_list("pk", flat=True)
        ]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            parts.append(response.content.decode())
            pages += 1
    response = client.get(reverse("admin:icv_core_audit_auditentry_overview"))
    assert response.status_code == 200
    parts.append(response.content.decode())
    return "\n".join(parts), pages + 1


# --- the battery ---------------------------------------------------------------


def test_b10_sensitive_data_canaries(settings, caplog, tmp_path, battery):
    settings.ICV_CORE_AUDIT_ENABLED = True
    settings.ICV_CORE_AUDIT_SENSITIVE_FIELDS = ["pin_code", "session", "otp"]
    settings.ROOT_URLCONF = BatteryUrls
    middleware = list(settings.MIDDLEWARE)
    index = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    middleware.insert(index + 1, MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    settings.STORAGES = {
        **settings.STORAGES,
        "battery_archive": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "archive")},
        },
    }
    settings.ICV_CORE_AUDIT_ARCHIVE_STORAGE = "battery_archive"
    caplog.set_level(logging.DEBUG)
    canaries = Canaries()
    user_model = get_user_model()

    # A non-secret marker next to the canaries: the searches below must find
    # it, so a search that sees nothing is not mistaken for "no leak".
    control = f"CONTROL-{uuid.uuid4().hex}"

    # 1. AuditMixin saves: sensitive field names, a JSON field with sensitive
    #    keys, the extra setting; update, soft delete, restore, bulk, delete.
    ticket = Ticket.objects.create(subject="t", password=canaries.new("password"))
    ticket.password = canaries.new("password")
    ticket.save()
    Ticket(pk=ticket.pk, subject="t", password=canaries.new("password")).save()
    ticket.refresh_from_db()
    ticket.delete()
    doc = Document.objects.create(
        title="d",
        api_token=canaries.new("token"),
        pin_code=canaries.short(),
        notes={
            "password": canaries.new("password"),
            "deep": {"a": [{"client_secret": canaries.new("secret")}]},
            "X-Api-Key": canaries.new("apikey"),
        },
    )
    doc = Document.objects.get(pk=doc.pk)
    doc.api_token = canaries.new("token")
    doc.pin_code = canaries.short()
    doc.notes = {"refresh_token": canaries.new("token")}
    doc.save()
    doc.soft_delete()
    doc.restore()
    Document.objects.filter(pk=doc.pk).soft_delete()
    Document.all_objects.filter(pk=doc.pk).restore()
    Document.all_objects.get(pk=doc.pk).hard_delete()

    # 2. log_event metadata with sensitive keys at every depth (and target).
    target = Ticket.objects.create(subject="target")
    deep: dict[str, Any] = {"passwd": canaries.new("password")}
    for level in range(20):
        deep = {f"level{level}": deep, f"Access-Token-{level}": canaries.new("token")}
    log_event(
        "SECURITY",
        "CUSTOM",
        target=target,
        description="metadata canaries",
        metadata={
            "password": canaries.new("password"),
            "PASSWORD_CONFIRM": canaries.new("password"),
            "nested": {"API-Key": canaries.new("apikey"), "ok": 1},
            "list": [[{"client_secret": canaries.new("secret")}]],
            "session_key": canaries.new("session"),
            "sessionid": canaries.new("session"),
            "otp": canaries.new("otp"),
            "deep": deep,
            "note": control,
        },
    )

    # A write that fails under ICV_CORE_AUDIT_ON_FAILURE="alert" is logged
    # (with its traceback) and turned into an alert: still no canary.
    settings.ICV_CORE_AUDIT_ON_FAILURE = "alert"
    assert (
        log_event("NOT_A_TYPE", "CUSTOM", metadata={"token": canaries.new("token")})
        is None
    )
    settings.ICV_CORE_AUDIT_ON_FAILURE = "raise"

    # 3. raise_alert metadata.
    raise_alert(
        "security",
        "critical",
        "Key rotation",
        "Rotated the signing key.",
        metadata={"old_secret": canaries.new("secret"), "ctx": {"token": "x"}},
    )

    # 4. Failed logins: authenticate() without and with a request, extra
    #    credentials Django does not cleanse (otp), the admin login form.
    user_model.objects.create_user("dave", password=canaries.new("password"))
    assert authenticate(username="dave", password=canaries.new("password")) is None
    assert authenticate(username="nobody", password=canaries.new("password")) is None
    request = RequestFactory().post("/login/")
    assert (
        authenticate(
            request,
            username="dave",
            password=canaries.new("password"),
            otp=canaries.new("otp"),
        )
        is None
    )
    anonymous = Client()
    response = anonymous.post(
        reverse("admin:login"),
        {"username": "dave", "password": canaries.new("password"), "next": "/admin/"},
    )
    assert response.status_code == 200  # the form again, with an error

    # 5. A successful login (admin login form) and its session key.
    carol_password = canaries.new("password")
    user_model.objects.create_superuser("carol", "carol@example.com", carol_password)
    carol = Client()
    response = carol.post(
        reverse("admin:login"),
        {"username": "carol", "password": carol_password, "next": "/admin/"},
    )
    assert response.status_code == 302
    canaries.add(carol.session.session_key)

    # 6. @audited: canary arguments, canary metadata, a canary exception
    #    message; and a view hit with canaries in the query, headers, cookie.
    @audited("SECURITY", "CUSTOM", metadata={"api_key": canaries.new("apikey")})
    def rotate(user_id, password, *, token):
        return "rotated"

    @audited("SECURITY", "CUSTOM")
    def fail(secret):
        raise ValueError(f"bad secret {secret}")

    assert rotate(1, canaries.new("password"), token=canaries.new("token")) == "rotated"
    with pytest.raises(ValueError):
        fail(canaries.new("secret"))
    anonymous.cookies["sessionid"] = canaries.new("session")
    response = anonymous.get(
        "/battery/audited/",
        {"token": canaries.new("token"), "password": canaries.new("password")},
        HTTP_AUTHORIZATION=f"Bearer {canaries.new('token')}",
        HTTP_X_API_KEY=canaries.new("apikey"),
    )
    assert response.status_code == 200

    # 7. Admin activity: add a user and change a password through the admin.
    new_password = canaries.new("password")
    response = carol.post(
        reverse("admin:auth_user_add"),
        {
            "username": "erin",
            "usable_password": "true",
            "password1": new_password,
            "password2": new_password,
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content[:500]
    erin = user_model.objects.get(username="erin")
    changed_password = canaries.new("password")
    response = carol.post(
        reverse("admin:auth_user_password_change", args=[erin.pk]),
        {
            "usable_password": "true",
            "password1": changed_password,
            "password2": changed_password,
        },
    )
    assert response.status_code == 302, response.content[:500]

    # Every path really wrote to the trail.
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"CREATE", "UPDATE", "DELETE", "SOFT_DELETE", "RESTORE"} <= actions
    assert {"LOGIN", "LOGIN_FAILED", "CUSTOM"} <= actions
    assert AuditEntry.objects.filter(action="LOGIN_FAILED").count() == 4
    assert set(AdminActivityLog.objects.values_list("action_type", flat=True)) == {
        "add",
        "change",
    }
    assert SystemAlert.objects.count() == 2  # the rotation and the lost entry
    masked = AuditEntry.objects.filter(description="metadata canaries").get()
    assert masked.metadata["password"] == "[masked]"
    assert masked.metadata["sessionid"] == "[masked]"

    # --- search ------------------------------------------------------------
    db_hits = canaries.hits(db_text())
    assert control in db_text()

    admin_client = Client()
    admin_client.force_login(user_model.objects.get(username="carol"))
    canaries.add(admin_client.session.session_key)
    admin_html, admin_pages = admin_text(admin_client)
    admin_hits = canaries.hits(admin_html)
    assert control in admin_html
    api_json, api_calls = api_text(admin_client)
    api_hits = canaries.hits(api_json)
    assert control in api_json

    exports = [
        command("icv_core_audit_stats", "--format", "json", "--days", "30"),
        command("icv_core_audit_stats", "--days", "30"),
    ]
    total = AuditEntry.objects.count()
    exports.append(command("icv_core_audit_archive", "--days", "0"))
    assert AuditEntry.objects.count() == 0
    record = AuditArchive.objects.get()
    assert record.row_count == total
    exports.append(command("icv_core_audit_archive", "--list"))
    streamed = command("icv_core_audit_archive", "--cat", str(record.pk))
    assert len(streamed.splitlines()) == total
    exports.append(streamed)
    files = sorted(p for p in (tmp_path / "archive").rglob("*") if p.is_file())
    assert len(files) == 2  # data + manifest
    for file in files:
        raw = file.read_bytes()
        if file.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        exports.append(raw.decode("utf-8"))
    exports.append(command("icv_core_audit_archive", "--restore", str(record.pk)))
    assert AuditEntry.objects.count() == total
    export_hits = canaries.hits("\n".join(exports))
    # In the --cat stream and in the archive file itself.
    assert "\n".join(exports).count(control) == 2
    db_hits += canaries.hits(db_text())  # the restored rows

    log_text = caplog.text + "\n".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    log_hits = canaries.hits(log_text)
    assert "1 audit entry lost (NOT_A_TYPE/CUSTOM): ValidationError" in log_text

    vendor = connection.vendor
    seeded = len(set(canaries.values))
    assert seeded == len(canaries.values)
    line = (
        f"B10 canaries: {seeded} seeded; hits in DB {db_hits} / logs {log_hits} / "
        f"exports {export_hits} / API {api_hits} / admin HTML {admin_hits} "
        f"({vendor})"
    )
    battery(line)
    assert (db_hits, log_hits, export_hits, api_hits, admin_hits) == (0, 0, 0, 0, 0)
    assert admin_pages > 3 and api_calls > 3

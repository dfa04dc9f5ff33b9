"""B11: output encoding (security research UA-4, INJ-1, INJ-2).

A payload corpus (HTML/JS injection, ``javascript:`` URLs, CR/LF, ESC and ANSI
sequences, NUL, bidi controls and Unicode line separators, CSV formula
leaders, tab) is put into every text that reaches the audit trail:
descriptions, metadata values and keys, user agents (through
``AuditRequestMiddleware``), usernames (through ``log_event`` and the raw
snapshot of ``AuditEntry.objects.create(user=...)``), target reprs (admin
deletes of a model whose ``__str__`` is the payload), alert titles, messages
and metadata, event types of the fail-open path, and rows that skipped
validation (adopted 0.2/0.3 rows, raw SQL). Then every rendering is checked:
the admin (changelists, change pages, resolve page, overview chart) must show
only the escaped form, the text outputs (``icv_core_audit_stats`` table,
Python logging) must contain no raw CR/LF/ESC, and the machine outputs
(stats JSON, the archive ``--cat`` stream) must stay one record per line.
The product has no CSV (or XLSX) export, so no cell can start a formula.
"""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from audit_testapp.models import Ticket
from capture_helpers import MIDDLEWARE
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.http import JsonResponse
from django.test import Client
from django.urls import path, reverse
from django.utils.html import escape

from icv_core.audit.models import AdminActivityLog, AuditEntry, SystemAlert
from icv_core.audit.services import log_event, raise_alert

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</pre><script>alert(2)</script>",
    "javascript:alert(document.cookie)",
    "line1\r\nINJECTED: forged line",
    "sep\u2028INJECTED-LS\u2029end",
    "esc \x1b[31mRED\x1b[0m \x1b]0;title\x07",
    "\x1b[2J\x1b[H cleared",
    "nul\x00byte",
    "bidi \u202egnp.exe \u2066iso\u2069",
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tTAB leader",
]
#: Payloads that would be live markup if rendered unescaped.
HTML_PAYLOADS = [p for p in PAYLOADS if "<" in p or ">" in p]
#: Rows that skipped validation (0.2/0.3 tables, raw SQL): short enough for
#: event_type (20) and action (30).
LEGACY = [
    ("<i>ev</i>", "<b>act</b>"),
    ("\x1b[31mEV", "AC\x1b[0m"),
    ("EV\r\nINJECTED", "A\nINJECTED"),
]
#: Raw characters that must not reach a text line.
RAW_CONTROLS = ("\r", "\x1b", "\x00")
_JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def no_nul(value: str) -> str:
    # The business tables (auth_user, Ticket) refuse NUL on PostgreSQL; that
    # is not the audit trail's concern, so those vectors carry the rest.
    return value.replace("\x00", "")


def raw_control_count(text: str) -> int:
    """Raw CR/ESC/NUL, plus lines forged by a payload's line break."""
    forged = sum(
        1 for line in text.splitlines() if line.lstrip().startswith("INJECTED")
    )
    return sum(text.count(c) for c in RAW_CONTROLS) + forged


def log_view(request):
    entry = log_event("SYSTEM", "CUSTOM", description="user agent vector")
    return JsonResponse({"pk": str(entry.pk)})


battery_site = admin.AdminSite(name="battery_admin")
battery_site.register(Ticket)


class BatteryUrls:
    urlpatterns = [
        path("admin/", admin.site.urls),
        path("battery-admin/", battery_site.urls),
        path("battery/log/", log_view),
    ]


def command(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_b11_output_encoding(settings, caplog, tmp_path, monkeypatch, battery):
    settings.ICV_CORE_AUDIT_ENABLED = True
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
    # The target repr vector: a model whose __str__ is the payload.
    monkeypatch.setattr(Ticket, "__str__", lambda self: self.subject)
    for model_admin in admin.site._registry.values():
        monkeypatch.setattr(model_admin, "list_per_page", 1000)
    user_model = get_user_model()
    root = user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(root)

    for i, payload in enumerate(PAYLOADS):
        # Description and metadata (values, nested values, keys).
        log_event(
            "SYSTEM",
            "CUSTOM",
            description=payload,
            metadata={"note": payload, "nested": {"list": [payload]}, payload: i},
        )
        # User agent, through the middleware.
        response = client.get("/battery/log/", HTTP_USER_AGENT=payload)
        assert response.status_code == 200
        # Usernames: the bounded snapshot of log_event and the raw snapshot
        # that AuditEntry.objects.create(user=...) takes.
        user = user_model.objects.create_user(no_nul(f"{payload} #{i}"))
        log_event("DATA", "CUSTOM", user=user, description="username vector")
        AuditEntry.objects.create(event_type="DATA", action="CUSTOM", user=user)
        # Target repr: deleting the object in an admin writes its str() into
        # AdminActivityLog (description and metadata.object_repr), with the
        # payload as the user agent too.
        ticket = Ticket.objects.create(subject=no_nul(payload))
        response = client.post(
            f"/battery-admin/audit_testapp/ticket/{ticket.pk}/delete/",
            {"post": "yes"},
            HTTP_USER_AGENT=payload,
        )
        assert response.status_code == 302
        # Alert title, message and metadata.
        raise_alert(
            "system", "warning", payload, payload, metadata={"p": payload, payload: 1}
        )
        # The fail-open path: an invalid event type is logged and alerted.
        settings.ICV_CORE_AUDIT_ON_FAILURE = "alert"
        assert log_event(payload, "CUSTOM") is None
        settings.ICV_CORE_AUDIT_ON_FAILURE = "raise"

    # Rows that skipped validation (adopted 0.2/0.3 rows, raw SQL inserts).
    with monkeypatch.context() as patch:
        patch.setattr(AuditEntry, "_prepare_insert", lambda self: None)
        AuditEntry.objects.bulk_create(
            AuditEntry(
                event_type=event_type,
                action=action,
                username=no_nul(payload),
                description=payload,
            )
            for (event_type, action), payload in zip(LEGACY, PAYLOADS, strict=False)
        )

    x = len(PAYLOADS)
    assert AdminActivityLog.objects.count() == x
    assert SystemAlert.objects.filter(title="Audit entry could not be written").get()
    assert SystemAlert.objects.count() == x + 1
    lost = SystemAlert.objects.get(title="Audit entry could not be written")
    assert lost.occurrences == x  # identical open alerts are counted
    # NUL in an alert message is stored the same way on every backend.
    assert SystemAlert.objects.filter(message="nul\ufffdbyte").count() == 1

    # --- render --------------------------------------------------------------
    renderings: dict[str, list[str]] = {}
    for model in (AuditEntry, AdminActivityLog, SystemAlert):
        info = model._meta.app_label, model._meta.model_name
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == model.objects.count()
        renderings[f"{info[1]} changelist"] = [response.content.decode()]
        pages = []
        rows = model.objects.all()
        if model is AuditEntry:
            # The tracked Ticket rows render their metadata exactly like the
            # log_event rows already here; skipped to keep the battery fast.
            rows = rows.exclude(target_content_type__model="ticket")
        for pk in rows.values_list("pk", flat=True):
            response = client.get(
                reverse("admin:{}_{}_change".format(*info), args=[pk])
            )
            assert response.status_code == 200
            pages.append(response.content.decode())
        renderings[f"{info[1]} change pages"] = pages
    resolve = client.post(
        reverse("admin:icv_core_audit_systemalert_changelist"),
        {
            "action": "resolve_selected",
            "_selected_action": [
                str(pk) for pk in SystemAlert.objects.values_list("pk", flat=True)
            ],
        },
    )
    assert resolve.status_code == 200
    renderings["resolve page"] = [resolve.content.decode()]
    overview = client.get(reverse("admin:icv_core_audit_auditentry_overview"))
    assert overview.status_code == 200
    renderings["overview chart"] = [overview.content.decode()]
    html_names = list(renderings)

    table = command("icv_core_audit_stats", "--days", "30", "--top", "1000")
    stats_json = command(
        "icv_core_audit_stats", "--days", "30", "--top", "1000", "--format", "json"
    )
    renderings["stats table"] = [table]
    renderings["stats json"] = [stats_json]
    total = AuditEntry.objects.count()
    command("icv_core_audit_archive", "--days", "0")
    from icv_core.audit.models import AuditArchive

    stream = command(
        "icv_core_audit_archive", "--cat", str(AuditArchive.objects.get().pk)
    )
    renderings["archive stream"] = [stream]
    log_lines = [
        record.getMessage() for record in caplog.records
    ] + caplog.text.splitlines()
    renderings["logging"] = ["\n".join(log_lines)]

    # --- HTML: raw markup never, escaped form where the value is shown ------
    unescaped = 0
    for name in html_names:
        for page in renderings[name]:
            unescaped += sum(page.count(p) for p in HTML_PAYLOADS)
            unescaped += len(_JS_URL.findall(page))
            unescaped += page.count("<i>ev</i>") + page.count("<b>act</b>")
    script = "<script>alert(1)</script>"
    escaped_script = escape(script)
    for name in (
        "auditentry changelist",
        "auditentry change pages",
        "adminactivitylog change pages",
        "systemalert changelist",
        "systemalert change pages",
        "resolve page",
    ):
        assert escaped_script in "".join(renderings[name]), name
    assert all(script not in page for n in html_names for page in renderings[n])
    assert escape("<i>ev</i>") in renderings["overview chart"][0]

    # --- text: no raw CR/LF/ESC --------------------------------------------
    raw = raw_control_count(table) + raw_control_count("\n".join(log_lines))
    # Every payload reached the table (top actors) escaped, once per row kind.
    assert "\\x1b[31mRED" in table
    assert "line1\\r\\nINJECTED" in table
    assert "\u202e" not in table and "\u2028" not in table  # bidi, separators
    lost_lines = [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("icv_core.audit: 1 audit entry lost")
    ]
    assert len(lost_lines) == x
    assert "icv_core.audit: 1 audit entry lost (esc \\x1b[31mRED" in "\n".join(
        lost_lines
    )

    # --- machine outputs stay one record per line -------------------------
    data = json.loads(stats_json)
    assert data["total"] == total
    raw += raw_control_count(stats_json)
    lines = stream.split("\n")
    assert lines[-1] == ""
    assert len(lines) - 1 == total
    rows = [json.loads(line) for line in lines[:-1]]
    # Markup-only payloads are stored (and streamed) exactly.
    assert {row["description"] for row in rows} >= set(PAYLOADS[:5])
    raw += sum(stream.count(c) for c in RAW_CONTROLS)

    # --- CSV: the product has no CSV/XLSX export ---------------------------
    formula_cells = 0

    r = len(renderings)
    vendor = connection.vendor
    battery(
        f"B11 encoding: {x} payloads × {r} renderings; unescaped HTML {unescaped}; "
        f"raw CR/LF/ESC {raw}; formula cells {formula_cells} (no CSV export) "
        f"({vendor})"
    )
    assert (unescaped, raw, formula_cells) == (0, 0, 0)

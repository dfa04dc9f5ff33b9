"""Django admin for the audit trail.

- ``AuditEntry`` and ``AdminActivityLog`` are read-only for everyone, superusers
  included: no add, change or delete (views refuse, the delete action is gone).
- ``SystemAlert``: filter, resolve (action and per-alert form, recording who
  resolved it and notes); unresolved alerts cannot be deleted.
- An activity overview page (``admin:icv_core_audit_auditentry_overview``):
  entries per day by event type for the last 30 days as a server-rendered SVG
  chart, plus open alerts by severity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from icv_core.audit import _chart, _stats
from icv_core.audit.models import (
    AdminActivityLog,
    AuditArchive,
    AuditEntry,
    SystemAlert,
)

OVERVIEW_DAYS = 30


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def render_changes(changes: Any) -> str:
    """An HTML table of ``{field: {"old": ..., "new": ...}}`` (all escaped)."""
    if not changes:
        return "-"
    if not isinstance(changes, dict):
        return format_html("<pre>{}</pre>", _pretty_json(changes))
    rows = []
    for name in sorted(changes):
        change = changes[name]
        if isinstance(change, dict) and ("old" in change or "new" in change):
            old, new = change.get("old"), change.get("new")
        else:
            old, new = None, change
        rows.append((name, _pretty_json(old), _pretty_json(new)))
    return format_html(
        '<table class="icv-core-audit-diff"><thead><tr><th>{}</th><th>{}</th>'
        "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
        _("Field"),
        _("Old"),
        _("New"),
        format_html_join(
            "",
            "<tr><td>{}</td><td><del><code>{}</code></del></td>"
            "<td><ins><code>{}</code></ins></td></tr>",
            rows,
        ),
    )


def _entry_changes(entry: Any) -> Any:
    """The field diff of an entry: ``changed_fields`` (UPDATE, as written by
    the mixin), else ``fields`` (CREATE/DELETE values), else ``changes``."""
    metadata = entry.metadata if isinstance(entry.metadata, dict) else {}
    for key in ("changed_fields", "fields", "changes"):
        if metadata.get(key):
            return metadata[key]
    return None


class ReadOnlyAdminMixin:
    """No add, change or delete for anyone; viewing needs the view permission."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _target(obj: Any) -> str:
    if obj.target_content_type_id is None:
        return "-"
    # The content type comes from list_select_related: no query per row. The
    # target itself is not loaded (that would be a query per row).
    ct = obj.target_content_type
    return f"{ct.app_label}.{ct.model} #{obj.target_object_id}"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only audit entries with the field diff and the activity overview."""

    list_display = (
        "created_at",
        "event_type",
        "action",
        "actor",
        "target",
        "ip_address",
        "short_description",
    )
    list_filter = (
        "event_type",
        "action",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("target_content_type", admin.RelatedOnlyFieldListFilter),
    )
    date_hierarchy = "created_at"
    search_fields = ("description", "username", "target_object_id", "request_id")
    list_select_related = ("user", "target_content_type")
    # No actions at all, so no site-wide "delete selected" either.
    actions = None
    ordering = ("-created_at",)
    show_full_result_count = False
    change_list_template = "icv_core_audit/admin/auditentry_change_list.html"
    exclude = ("metadata",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names = [f.name for f in self.model._meta.fields if f.name != "metadata"]
        return [*names, "changes_display", "metadata_display"]

    @admin.display(description=_("actor"), ordering="username")
    def actor(self, obj: AuditEntry) -> str:
        return obj.username or (str(obj.user) if obj.user_id else "-")

    @admin.display(description=_("target"))
    def target(self, obj: AuditEntry) -> str:
        return _target(obj)

    @admin.display(description=_("description"))
    def short_description(self, obj: AuditEntry) -> str:
        text = obj.description or ""
        return text if len(text) <= 80 else text[:79] + "\u2026"

    @admin.display(description=_("changes"))
    def changes_display(self, obj: AuditEntry) -> str:
        return render_changes(_entry_changes(obj))

    @admin.display(description=_("metadata"))
    def metadata_display(self, obj: AuditEntry) -> str:
        return format_html("<pre>{}</pre>", _pretty_json(obj.metadata))

    # -- activity overview ---------------------------------------------------

    def get_urls(self) -> list[Any]:
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "overview/",
                self.admin_site.admin_view(self.overview_view),
                name="{}_{}_overview".format(*info),
            ),
            *super().get_urls(),
        ]

    def overview_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        days, series = _stats.per_day_by_event_type(OVERVIEW_DAYS)
        totals = {label: sum(counts) for label, counts in series.items()}
        context = {
            **self.admin_site.each_context(request),
            "title": _("Audit activity overview"),
            "opts": self.model._meta,
            "days": OVERVIEW_DAYS,
            "chart": _chart.stacked_bar_chart(
                days,
                series,
                title=str(_("Audit entries per day by event type (last 30 days)")),
            ),
            "totals": sorted(totals.items()),
            "grand_total": sum(totals.values()),
            "open_alerts": list(_stats.open_alerts_by_severity().items()),
            "alerts_url": reverse("admin:icv_core_audit_systemalert_changelist"),
        }
        return TemplateResponse(request, "icv_core_audit/admin/overview.html", context)


@admin.register(AdminActivityLog)
class AdminActivityLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only admin activity log."""

    list_display = ("created_at", "admin_name", "action_type", "target", "ip_address")
    list_filter = (
        "action_type",
        ("admin_user", admin.RelatedOnlyFieldListFilter),
        ("target_content_type", admin.RelatedOnlyFieldListFilter),
    )
    date_hierarchy = "created_at"
    search_fields = ("description", "action_type", "admin_username", "target_object_id")
    list_select_related = ("admin_user", "target_content_type")
    actions = None
    ordering = ("-created_at",)
    show_full_result_count = False
    exclude = ("metadata",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names = [f.name for f in self.model._meta.fields if f.name != "metadata"]
        return [*names, "metadata_display"]

    @admin.display(description=_("admin user"), ordering="admin_username")
    def admin_name(self, obj: AdminActivityLog) -> str:
        return obj.admin_username or (str(obj.admin_user) if obj.admin_user_id else "-")

    @admin.display(description=_("target"))
    def target(self, obj: AdminActivityLog) -> str:
        return _target(obj)

    @admin.display(description=_("metadata"))
    def metadata_display(self, obj: AdminActivityLog) -> str:
        return format_html("<pre>{}</pre>", _pretty_json(obj.metadata))


@admin.register(AuditArchive)
class AuditArchiveAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Archives written by ``icv_core_audit_archive`` (read-only)."""

    list_display = (
        "path",
        "storage_alias",
        "row_count",
        "first_sequence",
        "last_sequence",
        "first_created_at",
        "last_created_at",
        "completed_at",
    )
    list_filter = ("storage_alias",)
    search_fields = ("path", "sha256")
    ordering = ("-last_sequence",)
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


class ResolveAlertForm(forms.Form):
    """Optional resolution notes for the resolve action and page."""

    notes = forms.CharField(
        label=_("Resolution notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )


def _resolve(
    request: HttpRequest, alerts: Iterable[SystemAlert], notes: str
) -> tuple[int, int]:
    """Resolve the open ones of ``alerts``: (resolved, already resolved)."""
    from icv_core.audit.models import AlertAlreadyResolvedError
    from icv_core.audit.services import resolve_alert

    done = skipped = 0
    for alert in alerts:
        if alert.is_resolved:
            skipped += 1
            continue
        try:
            resolve_alert(alert, resolved_by=request.user, notes=notes)
        except AlertAlreadyResolvedError:
            # Resolved by someone else since the page was loaded.
            skipped += 1
        else:
            done += 1
    return done, skipped


def _already_resolved_message(skipped: int) -> str:
    return ngettext(
        "%(count)d alert was already resolved and was left as it was.",
        "%(count)d alerts were already resolved and were left as they were.",
        skipped,
    ) % {"count": skipped}


@admin.register(SystemAlert)
class SystemAlertAdmin(admin.ModelAdmin):
    """System alerts: filters, a resolve action and page; unresolved alerts
    cannot be deleted."""

    list_display = (
        "title",
        "alert_type",
        "severity",
        "is_resolved",
        "occurrences",
        "created_at",
        "resolved_by",
        "resolved_at",
    )
    list_filter = ("alert_type", "severity", "is_resolved")
    search_fields = ("title", "message", "fingerprint")
    list_select_related = ("resolved_by",)
    ordering = ("is_resolved", "-created_at")
    actions = ("resolve_selected",)
    change_form_template = "icv_core_audit/admin/systemalert_change_form.html"
    exclude = ("metadata",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Alerts are raised by code and resolved through the resolve form only.
        names = [f.name for f in self.model._meta.fields if f.name != "metadata"]
        return [*names, "metadata_display"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not obj.is_resolved:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        if queryset.filter(is_resolved=False).exists():
            raise PermissionDenied("Unresolved alerts cannot be deleted.")
        super().delete_queryset(request, queryset)

    @admin.display(description=_("metadata"))
    def metadata_display(self, obj: SystemAlert) -> str:
        return format_html("<pre>{}</pre>", _pretty_json(obj.metadata))

    @admin.action(description=_("Resolve selected alerts"), permissions=["change"])
    def resolve_selected(
        self, request: HttpRequest, queryset: QuerySet[SystemAlert]
    ) -> HttpResponse | None:
        if "apply" in request.POST:
            form = ResolveAlertForm(request.POST)
            if form.is_valid():
                done, skipped = _resolve(request, queryset, form.cleaned_data["notes"])
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d alert resolved.",
                        "%(count)d alerts resolved.",
                        done,
                    )
                    % {"count": done},
                    messages.SUCCESS,
                )
                if skipped:
                    self.message_user(
                        request, _already_resolved_message(skipped), messages.WARNING
                    )
                return None
        else:
            form = ResolveAlertForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Resolve alerts"),
            "opts": self.model._meta,
            "form": form,
            "alerts": queryset.filter(is_resolved=False),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "icv_core_audit/admin/resolve_alerts.html", context
        )

    def get_urls(self) -> list[Any]:
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<path:object_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="{}_{}_resolve".format(*info),
            ),
            *super().get_urls(),
        ]

    def resolve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        alert = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, alert):
            raise PermissionDenied
        change_url = reverse("admin:icv_core_audit_systemalert_change", args=[alert.pk])
        if alert.is_resolved:
            self.message_user(
                request, _("This alert is already resolved."), messages.WARNING
            )
            return HttpResponseRedirect(change_url)
        form = ResolveAlertForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            done, _skipped = _resolve(
                request,
                self.model._default_manager.filter(pk=alert.pk),
                form.cleaned_data["notes"],
            )
            if done:
                self.message_user(request, _("Alert resolved."), messages.SUCCESS)
            else:
                self.message_user(
                    request, _("This alert is already resolved."), messages.WARNING
                )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Resolve alert"),
            "opts": self.model._meta,
            "form": form,
            "alerts": [alert],
            "original": alert,
        }
        return TemplateResponse(
            request, "icv_core_audit/admin/resolve_alerts.html", context
        )

"""Admin support for soft-delete models.

    from django.contrib import admin
    from icv_core.admin import SoftDeleteAdminMixin

    @admin.register(Subscription)
    class SubscriptionAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
        list_display = ["plan", "is_active"]

The mixin shows deleted rows too, adds a "Status" filter (active / deleted /
all), the set-based actions "Soft-delete selected" and "Restore selected",
and replaces the built-in ``delete_selected`` action: unless
``ICV_CORE_ALLOW_HARD_DELETE`` is true, the admin never hard-deletes
(deleting one object from its change page soft-deletes it).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from icv_core.conf import settings
from icv_core.managers import flag_field_of

__all__ = ["IcvSoftDeleteAdmin", "SoftDeleteAdminMixin", "SoftDeleteStatusFilter"]


class SoftDeleteStatusFilter(admin.SimpleListFilter):
    """List filter: active, deleted or all rows (the default)."""

    title = _("status")
    parameter_name = "soft_delete_status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("active", _("Active")), ("deleted", _("Deleted"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value in ("active", "deleted"):
            return queryset.filter(**{flag_field_of(queryset.model): value == "active"})
        return queryset


class SoftDeleteAdminMixin:
    """ModelAdmin mixin for models built on ``SoftDeleteModel``."""

    #: Whether the admin actions and the delete view cascade to CASCADE children.
    soft_delete_cascade: bool = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        # Admin shows deleted rows too; keeps ModelAdmin ordering.
        if hasattr(queryset, "with_deleted"):
            return queryset.with_deleted()
        return queryset

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))  # type: ignore[misc]
        if SoftDeleteStatusFilter not in filters:
            filters.insert(0, SoftDeleteStatusFilter)
        return filters

    def get_actions(
        self, request: HttpRequest, action_location: Any = None
    ) -> dict[str, Any]:
        # action_location exists from Django 6.1 on; pass it only when given.
        if action_location is None:
            actions = super().get_actions(request)  # type: ignore[misc]
        else:
            actions = super().get_actions(  # type: ignore[misc]
                request, action_location=action_location
            )
        if not settings.ALLOW_HARD_DELETE:
            actions.pop("delete_selected", None)
        for name in ("soft_delete_selected", "restore_selected"):
            if name not in actions and self.has_delete_permission(request):  # type: ignore[attr-defined]
                func = getattr(type(self), name)
                actions[name] = (func, name, func.short_description)
        return actions

    @admin.action(description=_("Soft-delete selected %(verbose_name_plural)s"))
    def soft_delete_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.soft_delete(cascade=self.soft_delete_cascade)  # type: ignore[attr-defined]
        self.message_user(  # type: ignore[attr-defined]
            request,
            ngettext(
                "%(count)d row was soft-deleted.",
                "%(count)d rows were soft-deleted.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Restore selected %(verbose_name_plural)s"))
    def restore_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.restore(cascade=self.soft_delete_cascade)  # type: ignore[attr-defined]
        self.message_user(  # type: ignore[attr-defined]
            request,
            ngettext(
                "%(count)d row was restored.",
                "%(count)d rows were restored.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        if settings.ALLOW_HARD_DELETE:
            super().delete_model(request, obj)  # type: ignore[misc]
        else:
            obj.soft_delete(cascade=self.soft_delete_cascade)  # type: ignore[attr-defined]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        if settings.ALLOW_HARD_DELETE:
            super().delete_queryset(request, queryset)  # type: ignore[misc]
        else:
            queryset.soft_delete(cascade=self.soft_delete_cascade)  # type: ignore[attr-defined]


class IcvSoftDeleteAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    """A ready ModelAdmin with :class:`SoftDeleteAdminMixin` (upstream name)."""

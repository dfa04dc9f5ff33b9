from __future__ import annotations

from django.contrib import admin

from icv_core.admin import IcvSoftDeleteAdmin, SoftDeleteAdminMixin

from .models import Author, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    list_display = ["plan", "customer_email", "is_active"]


@admin.register(Author)
class AuthorAdmin(IcvSoftDeleteAdmin):
    soft_delete_cascade = True

from __future__ import annotations

from django.contrib import admin

from icv_core.admin import SoftDeleteAdminMixin

from .models import Customer, Order, OrderLine, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "price_minor", "currency", "created_at"]
    search_fields = ["name", "sku"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "created_by", "updated_by", "updated_at"]
    readonly_fields = ["created_by", "updated_by", "created_at", "updated_at"]
    search_fields = ["name", "email"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["product", "quantity", "unit_price_minor"]


@admin.register(Order)
class OrderAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    # The admin actions soft-delete and restore an order's lines with it.
    soft_delete_cascade = True
    list_display = [
        "reference",
        "customer",
        "state",
        "is_active",
        "deleted_at",
    ]
    list_select_related = ["customer"]
    search_fields = ["reference", "customer__name"]
    inlines = [OrderLineInline]


@admin.register(OrderLine)
class OrderLineAdmin(SoftDeleteAdminMixin, admin.ModelAdmin):
    search_fields = ["order__reference", "product__name"]
    list_display = ["order", "product", "quantity", "is_active", "deleted_at"]
    list_select_related = ["order", "product"]

"""The demo shop: one model per django-icv-core base class.

- ``Product(BaseModel)``: UUID primary key and timestamps.
- ``Customer(AuditMixin, ComplianceModel)``: also ``created_by``/``updated_by``
  from the logged-in user, and every change in the audit trail.
- ``Order(AuditMixin, SoftDeleteModel)``: soft delete, audited, with a
  reference that is unique among live orders only.
- ``OrderLine(AuditMixin, SoftDeleteModel)``: soft-deleted and restored with
  its order (``on_delete=CASCADE`` + ``soft_delete(cascade=True)``).
"""

from __future__ import annotations

from django.db import models

from icv_core.audit.mixins import AuditMixin
from icv_core.models import BaseModel, ComplianceModel, SoftDeleteModel


class Product(BaseModel):
    name = models.CharField(max_length=100)
    sku = models.CharField("SKU", max_length=20, unique=True)
    price_minor = models.PositiveIntegerField(
        help_text="Price in the currency's minor units."
    )
    currency = models.CharField(max_length=3, default="GBP")

    class Meta(BaseModel.Meta):
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(AuditMixin, ComplianceModel):
    name = models.CharField(max_length=100)
    email = models.EmailField()
    notes = models.TextField(blank=True)

    class Meta(ComplianceModel.Meta):
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Order(AuditMixin, SoftDeleteModel):
    class State(models.TextChoices):
        NEW = "new", "New"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"

    reference = models.CharField(max_length=20)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    currency = models.CharField(max_length=3, default="GBP")

    class Meta(SoftDeleteModel.Meta):
        constraints = [
            # Unique among live orders: a deleted order's reference can be reused.
            models.UniqueConstraint(
                fields=["reference"],
                condition=models.Q(is_active=True),
                name="shop_order_unique_live_reference",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def total_minor(self) -> int:
        return sum(line.quantity * line.unit_price_minor for line in self.lines.all())


class OrderLine(AuditMixin, SoftDeleteModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    unit_price_minor = models.PositiveIntegerField()

    class Meta(SoftDeleteModel.Meta):
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"

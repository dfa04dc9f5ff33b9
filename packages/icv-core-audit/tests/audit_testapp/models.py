"""Models of the audit test app (capture helper section first; others append)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from icv_core.audit.mixins import AuditMixin
from icv_core.models import BaseModel, ComplianceModel, SoftDeleteModel

# --- capture: AuditMixin / auto tracking ------------------------------------


class Contract(AuditMixin, BaseModel):
    title = models.CharField(max_length=255)
    value = models.DecimalField(max_digits=10, decimal_places=2)


class Customer(BaseModel):
    """A BaseModel without the mixin (auto tracking target)."""

    name = models.CharField(max_length=100)

    class Meta(BaseModel.Meta):
        app_label = "audit_testapp"


class Document(AuditMixin, SoftDeleteModel):
    """Soft-delete model with every kind of value the diff must keep."""

    title = models.CharField(max_length=100)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="documents",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_on = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    reference = models.UUIDField(null=True, blank=True)
    api_token = models.CharField(max_length=100, blank=True, default="")
    pin_code = models.CharField(max_length=10, blank=True, default="")
    notes = models.JSONField(default=dict, blank=True)

    class Meta(SoftDeleteModel.Meta):
        app_label = "audit_testapp"


class Attachment(AuditMixin, SoftDeleteModel):
    """Child of Document reached by soft-delete cascades."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="attachments"
    )
    name = models.CharField(max_length=100)

    class Meta(SoftDeleteModel.Meta):
        app_label = "audit_testapp"


class Ticket(AuditMixin, models.Model):
    """A plain int-pk model with the mixin (no BaseModel)."""

    subject = models.CharField(max_length=100)
    password = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        app_label = "audit_testapp"


class Filing(AuditMixin, SoftDeleteModel, ComplianceModel):
    """Soft delete plus created_by/updated_by (soft delete saves updated_by)."""

    title = models.CharField(max_length=100)

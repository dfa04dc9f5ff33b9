from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IcvCoreAuditConfig(AppConfig):
    """The audit app: install it to create the audit tables."""

    name = "icv_core.audit"
    label = "icv_core_audit"
    verbose_name = _("ICV Core audit")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from icv_core.audit import checks, handlers  # noqa: F401

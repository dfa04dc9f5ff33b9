"""URLs of the audit API; include them under a prefix of your choice::

    path("api/audit/", include("icv_core.audit.api.urls"))

A ``SimpleRouter`` is used on purpose: there is no API root view to expose.
"""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from icv_core.audit.api.views import (
    AdminActivityLogViewSet,
    AuditEntryViewSet,
    SystemAlertViewSet,
)

app_name = "icv_core_audit_api"

router = SimpleRouter()
router.register("entries", AuditEntryViewSet, basename="audit-entry")
router.register(
    "admin-activity", AdminActivityLogViewSet, basename="audit-admin-activity"
)
router.register("alerts", SystemAlertViewSet, basename="audit-alert")

urlpatterns = router.urls

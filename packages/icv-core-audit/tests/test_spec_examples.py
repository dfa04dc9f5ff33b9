"""The audit examples of the 0.2.0 README, run as written."""

from __future__ import annotations

import pytest
from capture_helpers import *  # noqa: F403
from capture_helpers import entries
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_(alice):
    request = RequestFactory().get("/restricted/")
    request.user = alice
    return request


def test_log_event_example(audit_on, request_):
    request = request_
    # --- README -----------------------------------------------------------
    from icv_core.audit.models import AuditEntry
    from icv_core.audit.services import log_event

    # Record a security event
    log_event(
        event_type=AuditEntry.EventType.SECURITY,
        action=AuditEntry.Action.PERMISSION_DENIED,
        user=request.user,
        description="Attempted access to restricted resource.",
        metadata={"path": request.path},
    )
    # ----------------------------------------------------------------------
    (entry,) = entries()
    assert (entry.event_type, entry.action, entry.user, entry.username) == (
        "SECURITY",
        "PERMISSION_DENIED",
        request.user,
        "alice",
    )
    assert entry.description == "Attempted access to restricted resource."
    assert entry.metadata == {"path": "/restricted/"}


def test_audit_mixin_contract_example(audit_on):
    import decimal

    # The README's model, defined verbatim in audit_testapp.models:
    #
    #     class Contract(AuditMixin, BaseModel):
    #         title = models.CharField(max_length=255)
    #         value = models.DecimalField(max_digits=10, decimal_places=2)
    from audit_testapp.models import Contract

    contract = Contract.objects.create(title="Lease", value=decimal.Decimal("100.00"))
    contract.value = decimal.Decimal("120.00")
    contract.save()
    pk = contract.pk
    contract.delete()
    rows = entries(target_object_id=str(pk))
    assert [(e.event_type, e.action) for e in rows] == [
        ("DATA", "CREATE"),
        ("DATA", "UPDATE"),
        ("DATA", "DELETE"),
    ]
    assert rows[1].metadata == {
        "changed_fields": {"value": {"old": "100.00", "new": "120.00"}}
    }


def test_audited_example(audit_on, alice):
    from audit_testapp.models import Document

    # --- README -----------------------------------------------------------
    from icv_core.audit.decorators import audited
    from icv_core.audit.models import AuditEntry

    @audited(event_type=AuditEntry.EventType.DATA, action=AuditEntry.Action.DELETE)
    def cancel_membership(user, membership):
        membership.soft_delete()

    # ----------------------------------------------------------------------
    membership = Document.objects.create(title="membership")
    cancel_membership(alice, membership)
    actions = [(e.action, e.metadata.get("outcome")) for e in entries()]
    assert actions == [("CREATE", None), ("SOFT_DELETE", None), ("DELETE", "success")]


def test_system_alert_example(request_):
    request = request_
    # --- README -----------------------------------------------------------
    from icv_core.audit.models import SystemAlert
    from icv_core.audit.services import raise_alert, resolve_alert

    alert = raise_alert(
        alert_type=SystemAlert.AlertType.PAYMENT,
        severity="error",
        title="Payment processor unreachable",
        message="Stripe API returned 503 for the last 5 minutes.",
    )

    # Later, once resolved
    resolve_alert(alert, resolved_by=request.user, notes="Stripe incident resolved.")
    # ----------------------------------------------------------------------
    stored = SystemAlert.objects.get()
    assert (stored.alert_type, stored.severity, stored.is_resolved) == (
        "payment",
        "error",
        True,
    )
    assert (stored.resolved_by, stored.resolution_notes) == (
        request.user,
        "Stripe incident resolved.",
    )

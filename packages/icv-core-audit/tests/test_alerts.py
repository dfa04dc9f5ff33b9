"""raise_alert() / resolve_alert()."""

from __future__ import annotations

import pytest
from audit_testapp.models import Contract, Ticket
from capture_helpers import *  # noqa: F403

from icv_core.audit.models import AlertAlreadyResolvedError, SystemAlert
from icv_core.audit.services import raise_alert, resolve_alert
from icv_core.audit.signals import system_alert_raised, system_alert_resolved

pytestmark = pytest.mark.django_db


@pytest.fixture
def signals_seen():
    seen: list[tuple[str, object, dict]] = []

    def raised(sender, instance, **kwargs):
        seen.append(
            ("raised", instance.pk, {k: v for k, v in kwargs.items() if k != "signal"})
        )

    def resolved(sender, instance, **kwargs):
        seen.append(("resolved", instance.pk, {"by": kwargs["resolved_by"]}))

    system_alert_raised.connect(raised, dispatch_uid="test-alerts-raised")
    system_alert_resolved.connect(resolved, dispatch_uid="test-alerts-resolved")
    yield seen
    system_alert_raised.disconnect(dispatch_uid="test-alerts-raised")
    system_alert_resolved.disconnect(dispatch_uid="test-alerts-resolved")


def test_raise_alert_creates_an_open_alert(signals_seen):
    alert = raise_alert("payment", "error", "Stripe down", "503s", metadata={"n": 5})
    stored = SystemAlert.objects.get()
    assert stored.pk == alert.pk
    assert (stored.alert_type, stored.severity, stored.title, stored.message) == (
        "payment",
        "error",
        "Stripe down",
        "503s",
    )
    assert (stored.metadata, stored.is_resolved, stored.occurrences) == (
        {"n": 5},
        False,
        1,
    )
    assert stored.last_seen_at is not None and len(stored.fingerprint) == 64
    assert signals_seen == [("raised", alert.pk, {})]


def test_not_gated_by_the_master_switch(settings):
    settings.ICV_CORE_AUDIT_ENABLED = False
    assert raise_alert("system", "info", "t", "m").pk is not None


@pytest.mark.parametrize(
    ("alert_type", "severity", "title", "message"),
    [
        (
            "bogus",
            "error",
            "t",
            "Invalid alert_type 'bogus'; expected one of: security,",
        ),
        ("payment", "fatal", "t", "Invalid severity 'fatal'; expected one of: info,"),
        ("payment", "error", "", "title is required."),
    ],
)
def test_validation(alert_type, severity, title, message):
    with pytest.raises(ValueError, match=message):
        raise_alert(alert_type, severity, title, "m")
    assert SystemAlert.objects.count() == 0


def test_custom_severity_levels(settings):
    settings.ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS = ["low", "high"]
    assert raise_alert("system", "high", "t", "m").severity == "high"
    with pytest.raises(ValueError, match="Invalid severity 'error'"):
        raise_alert("system", "error", "t", "m")


def test_identical_open_alert_counts_occurrences(signals_seen):
    first = raise_alert("payment", "error", "Stripe down", "503 #1")
    again = raise_alert("payment", "error", "Stripe down", "503 #2")
    third = raise_alert("payment", "error", "Stripe down", "503 #3")
    assert SystemAlert.objects.count() == 1
    assert first.pk == again.pk == third.pk
    assert third.occurrences == 3
    assert SystemAlert.objects.get().occurrences == 3
    assert SystemAlert.objects.get().message == "503 #1"
    assert signals_seen == [
        ("raised", first.pk, {}),
        ("raised", first.pk, {"created": False}),
        ("raised", first.pk, {"created": False}),
    ]


def test_different_alerts_are_separate_rows():
    raise_alert("payment", "error", "Stripe down", "m")
    raise_alert("payment", "critical", "Stripe down", "m")
    raise_alert("system", "error", "Stripe down", "m")
    raise_alert("payment", "error", "Other", "m")
    assert SystemAlert.objects.count() == 4


def test_resolved_alert_is_not_reused():
    alert = raise_alert("payment", "error", "Stripe down", "m")
    resolve_alert(alert, resolved_by=None)
    again = raise_alert("payment", "error", "Stripe down", "m")
    assert again.pk != alert.pk
    assert SystemAlert.objects.filter(is_resolved=False).count() == 1


def test_alert_storm_is_one_row():
    for index in range(200):
        raise_alert("security", "warning", "Brute force", f"attempt {index}")
    assert SystemAlert.objects.count() == 1
    assert SystemAlert.objects.get().occurrences == 200


def test_related_object(audit_on):
    contract = Contract.objects.create(title="c", value="1.00")
    ticket = Ticket.objects.create(subject="t")
    alert = raise_alert("content", "warning", "Check", "m", related_object=contract)
    stored = SystemAlert.objects.get(pk=alert.pk)
    assert stored.related_object == contract
    # Same title, another object: another alert.
    other = raise_alert("content", "warning", "Check", "m", related_object=ticket)
    assert other.pk != alert.pk and other.related_object == ticket
    with pytest.raises(TypeError, match="related_object must be a model instance"):
        raise_alert("content", "warning", "Check", "m", related_object="x")


def test_resolve_alert(alice, signals_seen):
    alert = raise_alert("payment", "error", "Stripe down", "m")
    returned = resolve_alert(
        alert, resolved_by=alice, notes="Stripe incident resolved."
    )
    assert returned is alert
    stored = SystemAlert.objects.get(pk=alert.pk)
    assert (stored.is_resolved, stored.resolved_by, stored.resolution_notes) == (
        True,
        alice,
        "Stripe incident resolved.",
    )
    assert stored.resolved_at is not None
    assert signals_seen[-1] == ("resolved", alert.pk, {"by": alice})


def test_resolution_notes_with_nul_and_surrogates_are_stored_cleanly(alice):
    alert = raise_alert("payment", "error", "Stripe down", "m")
    resolve_alert(alert, resolved_by=alice, notes="line\x00one \ud800 two\nthree")
    expected = "line\ufffdone \ufffd two\nthree"
    assert alert.resolution_notes == expected
    assert SystemAlert.objects.get(pk=alert.pk).resolution_notes == expected


def test_double_resolve_is_an_error_everywhere(alice):
    alert = raise_alert("payment", "error", "Stripe down", "m")
    stale = SystemAlert.objects.get(pk=alert.pk)
    resolve_alert(alert, resolved_by=alice, notes="first")
    with pytest.raises(AlertAlreadyResolvedError, match="already resolved"):
        resolve_alert(alert, resolved_by=alice, notes="second")
    # A copy loaded before the first resolve: the conditional update refuses it.
    with pytest.raises(AlertAlreadyResolvedError, match="already resolved"):
        resolve_alert(stale, resolved_by=alice, notes="third")
    with pytest.raises(AlertAlreadyResolvedError):
        stale.resolve(resolved_by=alice)
    assert issubclass(AlertAlreadyResolvedError, ValueError)
    assert SystemAlert.objects.get(pk=alert.pk).resolution_notes == "first"


def test_resolve_alert_rejects_non_alerts():
    with pytest.raises(TypeError, match="alert must be a SystemAlert"):
        resolve_alert("nope", resolved_by=None)


def test_bulk_create_validates_and_announces_each_alert(signals_seen):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="'loud' is not a valid SystemAlert"):
        SystemAlert.objects.bulk_create(
            [
                SystemAlert(
                    alert_type="system", severity="info", title="a", message="m"
                ),
                SystemAlert(
                    alert_type="system", severity="loud", title="b", message="m"
                ),
            ]
        )
    with pytest.raises(ValidationError, match="alert_type"):
        SystemAlert.objects.bulk_create(
            [SystemAlert(alert_type="nope", severity="info", title="c", message="m")]
        )
    assert SystemAlert.objects.count() == 0
    created = SystemAlert.objects.bulk_create(
        [
            SystemAlert(alert_type="system", severity="info", title="a", message="m"),
            SystemAlert(alert_type="payment", severity="error", title="b", message="m"),
        ]
    )
    assert signals_seen == [
        ("raised", created[0].pk, {"bulk": True}),
        ("raised", created[1].pk, {"bulk": True}),
    ]


def test_queryset_update_validates_severity_and_type():
    from django.core.exceptions import ValidationError

    alert = raise_alert("system", "info", "t", "m")
    with pytest.raises(ValidationError, match="'loud' is not a valid"):
        SystemAlert.objects.filter(pk=alert.pk).update(severity="loud")
    with pytest.raises(ValidationError, match="alert_type"):
        SystemAlert.objects.filter(pk=alert.pk).update(alert_type="nope")
    assert SystemAlert.objects.filter(pk=alert.pk).update(severity="critical") == 1
    alert.refresh_from_db()
    assert (alert.alert_type, alert.severity) == ("system", "critical")

"""System checks of the audit part (ids ``icv_core_audit.*``)."""

from __future__ import annotations

import pytest
from django.core import checks as django_checks

from icv_core.audit import checks
from icv_core.audit.middleware import AuditRequestMiddleware

AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
AUDIT = "icv_core.audit.middleware.AuditRequestMiddleware"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"


class MyAuditMiddleware(AuditRequestMiddleware):
    """A project's own subclass still counts as the audit middleware."""


def ids():
    return [message.id for message in checks.check_audit_configuration()]


def test_registered_with_django():
    assert (
        checks.check_audit_configuration in django_checks.registry.registry.get_checks()
    )


def test_switch_off_is_reported_as_info(settings):
    settings.ICV_CORE_AUDIT_ENABLED = False
    messages = checks.check_audit_configuration()
    assert [m.id for m in messages] == ["icv_core_audit.I001"]
    assert messages[0].level == django_checks.INFO


def test_clean_configuration_has_no_messages(settings):
    settings.ICV_CORE_AUDIT_ENABLED = True
    settings.MIDDLEWARE = [SESSION, AUTH, AUDIT]
    assert ids() == []


def test_missing_contenttypes_is_an_error(settings, monkeypatch):
    settings.ICV_CORE_AUDIT_ENABLED = True
    settings.MIDDLEWARE = [AUTH, AUDIT]
    real = checks.apps.is_installed
    monkeypatch.setattr(
        checks.apps,
        "is_installed",
        lambda name: name != "django.contrib.contenttypes" and real(name),
    )
    messages = checks.check_audit_configuration()
    assert [m.id for m in messages] == ["icv_core_audit.E001"]
    assert messages[0].level == django_checks.ERROR


def test_missing_middleware_is_a_warning_when_enabled(settings):
    settings.ICV_CORE_AUDIT_ENABLED = True
    settings.MIDDLEWARE = [SESSION, AUTH]
    messages = checks.check_audit_configuration()
    assert [m.id for m in messages] == ["icv_core_audit.W001"]
    assert messages[0].level == django_checks.WARNING


def test_missing_middleware_is_not_reported_when_disabled(settings):
    settings.ICV_CORE_AUDIT_ENABLED = False
    settings.MIDDLEWARE = [SESSION, AUTH]
    assert ids() == ["icv_core_audit.I001"]


def test_middleware_before_authentication_is_a_warning(settings):
    settings.ICV_CORE_AUDIT_ENABLED = True
    settings.MIDDLEWARE = [SESSION, AUDIT, AUTH]
    assert ids() == ["icv_core_audit.W002"]


def test_middleware_subclasses_are_recognised(settings):
    settings.ICV_CORE_AUDIT_ENABLED = True
    settings.MIDDLEWARE = [AUTH, "test_checks.MyAuditMiddleware"]
    assert ids() == []


@pytest.mark.parametrize("value", [-1, "365", 1.5, True, None])
def test_bad_retention_is_an_error(settings, value):
    settings.ICV_CORE_AUDIT_RETENTION_DAYS = value
    messages = [
        m for m in checks.check_audit_configuration() if m.id == "icv_core_audit.E002"
    ]
    assert len(messages) == 1
    assert repr(value) in messages[0].msg


@pytest.mark.parametrize("value", [0, 30, 365])
def test_good_retention_passes(settings, value):
    settings.ICV_CORE_AUDIT_RETENTION_DAYS = value
    assert "icv_core_audit.E002" not in ids()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("info", "must be a list of strings"),
        ([], "must not be empty"),
        (["info", ""], "must contain only non-empty strings"),
        (["info", 3], "must contain only non-empty strings"),
        (["x" * 21], "longer than 20 characters"),
        (["info", "info"], "must not repeat a level"),
    ],
)
def test_bad_severity_levels_are_an_error(settings, value, problem):
    settings.ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS = value
    messages = [
        m for m in checks.check_audit_configuration() if m.id == "icv_core_audit.E003"
    ]
    assert len(messages) == 1
    assert problem in messages[0].msg


def test_custom_severity_levels_pass(settings):
    settings.ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS = ("low", "high")
    assert "icv_core_audit.E003" not in ids()


def test_settings_are_read_at_check_time(settings):
    settings.ICV_CORE_AUDIT_ENABLED = True
    settings.MIDDLEWARE = [AUTH, AUDIT]
    assert ids() == []
    settings.ICV_CORE_AUDIT_ENABLED = False
    assert ids() == ["icv_core_audit.I001"]

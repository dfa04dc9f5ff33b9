"""Auth handlers: login, logout, failed login."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from capture_helpers import *  # noqa: F403
from capture_helpers import entries
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.test import RequestFactory

from icv_core.audit import services
from icv_core.audit.models import AuditEntry

pytestmark = pytest.mark.django_db
URLS = "audit_testapp.capture_urls"


def test_login_is_logged_with_ip_and_user_agent(client, audit_on, alice):
    assert client.login(username="alice", password="alice-password")
    (entry,) = entries()
    assert (entry.event_type, entry.action) == ("AUTHENTICATION", "LOGIN")
    assert (entry.user_id, entry.username) == (alice.pk, "alice")
    assert entry.description == "User alice logged in."
    assert entry.metadata == {}


@pytest.mark.urls(URLS)
def test_login_and_logout_through_views(client, audit_on, alice, audit_middleware):
    response = client.post(
        "/login/",
        {"username": "alice", "password": "alice-password"},
        REMOTE_ADDR="198.51.100.11",
        HTTP_USER_AGENT="Browser/1",
    )
    assert response.status_code == 302
    client.post("/logout/", REMOTE_ADDR="198.51.100.11", HTTP_USER_AGENT="Browser/1")
    rows = entries()
    assert [(e.action, e.user_id, e.ip_address, e.user_agent) for e in rows] == [
        ("LOGIN", alice.pk, "198.51.100.11", "Browser/1"),
        ("LOGOUT", alice.pk, "198.51.100.11", "Browser/1"),
    ]
    assert rows[1].description == "User alice logged out."
    assert rows[0].request_id != rows[1].request_id


def test_logout_without_a_user(audit_on):
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.12")
    user_logged_out.send(sender=None, request=request, user=None)
    (entry,) = entries()
    assert (entry.action, entry.user_id, entry.username) == ("LOGOUT", None, "")
    assert entry.description == "Anonymous session logged out."
    assert entry.ip_address == "198.51.100.12"


@pytest.mark.urls(URLS)
def test_failed_login_records_identifier_never_password(client, audit_on, alice):
    response = client.post(
        "/login/",
        {"username": "alice", "password": "Wrong-Canary-Pw"},
        REMOTE_ADDR="198.51.100.13",
    )
    assert response.status_code == 200
    (entry,) = entries()
    assert (entry.event_type, entry.action) == ("SECURITY", "LOGIN_FAILED")
    assert (entry.user_id, entry.username, entry.ip_address) == (
        None,
        "",
        "198.51.100.13",
    )
    assert entry.metadata == {
        "username_field": "username",
        "attempted_username": "alice",
    }
    assert entry.description == "Failed login attempt for username 'alice'."
    stored = str(list(AuditEntry.objects.values_list("description", "metadata")))
    assert "Wrong-Canary-Pw" not in stored and "*****" not in stored


def test_failed_login_without_request(audit_on):
    assert authenticate(username="nobody", password="x") is None
    (entry,) = entries()
    assert (entry.action, entry.ip_address, entry.request_id) == (
        "LOGIN_FAILED",
        None,
        "",
    )
    assert entry.metadata["attempted_username"] == "nobody"


def test_failed_login_uses_the_user_models_username_field(audit_on, monkeypatch):
    monkeypatch.setattr(get_user_model(), "USERNAME_FIELD", "email")
    user_login_failed.send(
        sender=__name__,
        credentials={"email": "eve@example.com", "password": "********************"},
        request=None,
    )
    (entry,) = entries()
    assert entry.metadata == {
        "username_field": "email",
        "attempted_username": "eve@example.com",
    }
    assert entry.description == "Failed login attempt for email 'eve@example.com'."


def test_failed_login_identifier_is_bounded_and_control_safe(audit_on):
    user_login_failed.send(
        sender=__name__, credentials={"username": "x\r\nFAKE" + "y" * 500}, request=None
    )
    attempted = entries()[0].metadata["attempted_username"]
    assert attempted.startswith("x\\r\\nFAKEyyy") and attempted.endswith("\u2026")
    assert len(attempted) == 150


def test_failed_login_without_identifier(audit_on):
    user_login_failed.send(sender=__name__, credentials={}, request=None)
    (entry,) = entries()
    assert entry.description == "Failed login attempt (no identifier)."
    assert entry.metadata == {"username_field": "username", "attempted_username": ""}


def test_master_switch_takes_effect_at_runtime(client, settings, alice):
    settings.ICV_CORE_AUDIT_ENABLED = False
    client.login(username="alice", password="alice-password")
    authenticate(username="alice", password="nope")
    client.logout()
    assert AuditEntry.objects.count() == 0
    settings.ICV_CORE_AUDIT_ENABLED = True
    client.login(username="alice", password="alice-password")
    authenticate(username="alice", password="nope")
    client.logout()
    assert [e.action for e in entries()] == ["LOGIN", "LOGIN_FAILED", "LOGOUT"]
    settings.ICV_CORE_AUDIT_ENABLED = False
    client.login(username="alice", password="alice-password")
    assert AuditEntry.objects.count() == 3


def test_audit_failure_never_breaks_login_or_logout(client, audit_on, alice, caplog):
    with (
        mock.patch.object(services, "write_entry", side_effect=RuntimeError("db down")),
        caplog.at_level(logging.ERROR, logger="icv_core.audit"),
    ):
        assert client.login(username="alice", password="alice-password")
        assert authenticate(username="alice", password="nope") is None
        client.logout()
    assert AuditEntry.objects.count() == 0
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "icv_core.audit: 1 audit entry lost (AUTHENTICATION/LOGIN): RuntimeError",
        "icv_core.audit: 1 audit entry lost (SECURITY/LOGIN_FAILED): RuntimeError",
        "icv_core.audit: 1 audit entry lost (AUTHENTICATION/LOGOUT): RuntimeError",
    ]
    # ... and each is on record as an alert (identical ones are counted).
    from icv_core.audit.models import SystemAlert

    (alert,) = SystemAlert.objects.all()
    assert (alert.title, alert.severity, alert.occurrences) == (
        "Audit entry could not be written",
        "error",
        3,
    )


def test_failed_audit_write_leaves_the_transaction_usable(audit_on, alice):
    """A failing INSERT inside the login's transaction is contained (savepoint)."""
    from django.db import transaction

    original = AuditEntry.save

    def broken_save(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise RuntimeError("after the insert")

    with transaction.atomic():
        with mock.patch.object(AuditEntry, "save", broken_save):
            authenticate(username="alice", password="nope")
        # Still usable, and the half-written entry was rolled back.
        assert get_user_model().objects.filter(pk=alice.pk).exists()
        assert AuditEntry.objects.count() == 0

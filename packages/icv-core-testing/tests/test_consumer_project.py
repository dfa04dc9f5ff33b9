"""Inner pytest sessions of a consumer project, in subprocesses.

One loads the fixtures the documented way (``pytest_plugins`` in its
``conftest.py``) and runs the README's testing examples verbatim; the other
imports the testing modules without the plugin and checks nothing changed.
Together they take about 12 s, so they are not marked slow: every cell of
the nox matrix runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent

INNER_SETTINGS = """
from settings import *  # the outer test settings: consumer_app, e-mail users

# Values the fixtures must restore afterwards (TRACK_CREATED_BY stays unset).
ICV_CORE_AUDIT_ENABLED = False
ICV_CORE_ALLOW_HARD_DELETE = False

if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # The outer session is using test_<name>; keep the inner one apart.
    DATABASES["default"]["TEST"] = {
        "NAME": "test_" + DATABASES["default"]["NAME"] + "_inner"
    }
"""

WITH_PLUGIN_CONFTEST = """
pytest_plugins = ["icv_core.testing.fixtures"]
"""

WITH_PLUGIN_TESTS = """
import pytest
from django.conf import settings


@pytest.mark.django_db
def test_readme_testing_examples():
    # In your tests
    from icv_core.testing.factories import AuditEntryFactory, SystemAlertFactory
    entry = AuditEntryFactory(action="CREATE", event_type="DATA")
    alert = SystemAlertFactory(severity="critical", alert_type="payment")

    from icv_core.audit.models import AuditEntry, SystemAlert
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.action, stored.event_type) == ("CREATE", "DATA")
    stored = SystemAlert.objects.get(pk=alert.pk)
    assert (stored.severity, stored.alert_type) == ("critical", "payment")


def test_1_fixtures_switch_settings_on(
    audit_enabled, allow_hard_delete, track_created_by
):
    assert settings.ICV_CORE_AUDIT_ENABLED is True
    assert settings.ICV_CORE_ALLOW_HARD_DELETE is True
    assert settings.ICV_CORE_TRACK_CREATED_BY is True


def test_2_previous_values_are_restored():
    assert settings.ICV_CORE_AUDIT_ENABLED is False
    assert settings.ICV_CORE_ALLOW_HARD_DELETE is False
    assert not hasattr(settings, "ICV_CORE_TRACK_CREATED_BY")


@pytest.fixture
def overridden(settings):
    settings.ICV_CORE_AUDIT_ENABLED = "set by another fixture"


def test_3_stacked_overrides(overridden, audit_enabled):
    assert settings.ICV_CORE_AUDIT_ENABLED is True


def test_4_stacked_overrides_unwound():
    assert settings.ICV_CORE_AUDIT_ENABLED is False


def test_5_documented_fixtures_together(
    audit_enabled, audit_log, current_user, track_created_by
):
    from consumer_app.models import Contract, Note
    from icv_core.testing.helpers import assert_restored, assert_soft_deleted

    contract = Contract.objects.create(title="Lease")
    audit_log.assert_logged(action="CREATE", target=contract, user=current_user)
    contract.soft_delete()
    assert_soft_deleted(contract)
    audit_log.assert_logged(action="SOFT_DELETE", target=contract)
    contract.restore()
    assert_restored(contract)
    assert len(audit_log) == 3
    assert Note.objects.create(text="x").created_by == current_user


def test_6_acting_as(acting_as, db):
    from icv_core.middleware import get_current_user
    from icv_core.testing.factories import UserFactory

    member = UserFactory()
    with acting_as(member):
        assert get_current_user() == member
    assert get_current_user() is None
"""

WITHOUT_PLUGIN_TESTS = """
import sys

import pytest


def _snapshot():
    from django.conf import settings
    from django.core.signals import setting_changed
    from django.db.models import signals as model_signals
    from icv_core import signals as core_signals
    from icv_core.audit import signals as audit_signals

    values = {
        name: repr(getattr(settings, name)) for name in dir(settings) if name.isupper()
    }
    sigs = [
        setting_changed,
        model_signals.pre_save,
        model_signals.post_save,
        model_signals.pre_delete,
        model_signals.post_delete,
        model_signals.class_prepared,
        core_signals.post_soft_delete,
        core_signals.post_bulk_soft_delete,
        audit_signals.audit_entry_created,
        audit_signals.system_alert_raised,
    ]
    return values, [len(signal.receivers) for signal in sigs]


@pytest.mark.django_db
def test_importing_the_testing_part_changes_nothing(request):
    assert "icv_core.testing.fixtures" not in sys.modules
    assert "icv_core.testing.factories" not in sys.modules
    before = _snapshot()

    import icv_core.testing.factories  # noqa: F401
    import icv_core.testing.fixtures  # noqa: F401
    import icv_core.testing.helpers  # noqa: F401

    assert _snapshot() == before
    # Without pytest_plugins the fixtures do not exist.
    for name in ("audit_enabled", "allow_hard_delete", "track_created_by",
                 "acting_as", "current_user", "audit_log"):
        with pytest.raises(pytest.FixtureLookupError):
            request.getfixturevalue(name)

    # Behaviour is the project's own: audit off, hard delete refused.
    from consumer_app.models import Contract, Invoice
    from django.db.models import ProtectedError
    from icv_core.audit.models import AuditEntry

    Contract.objects.create(title="Lease")
    assert AuditEntry.objects.count() == 0
    invoice = Invoice.objects.create(number="INV-1")
    with pytest.raises(ProtectedError):
        invoice.delete()
"""


@pytest.fixture
def consumer(pytester, monkeypatch):
    path = os.pathsep.join(
        p
        for p in [str(pytester.path), str(TESTS_DIR), os.environ.get("PYTHONPATH")]
        if p
    )
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    pytester.makepyfile(inner_settings=textwrap.dedent(INNER_SETTINGS))
    return pytester


def _run(pytester):
    return pytester.runpytest_subprocess(
        "--ds=inner_settings", "-p", "no:cacheprovider", "-q", "-p", "pytest_django"
    )


def test_consumer_project_with_the_plugin(consumer):
    consumer.makeconftest(WITH_PLUGIN_CONFTEST)
    consumer.makepyfile(test_consumer=WITH_PLUGIN_TESTS)
    result = _run(consumer)
    result.assert_outcomes(passed=7)


def test_consumer_project_without_the_plugin(consumer):
    consumer.makeconftest("")
    consumer.makepyfile(test_no_plugin=WITHOUT_PLUGIN_TESTS)
    result = _run(consumer)
    result.assert_outcomes(passed=1)


def test_import_needs_no_settings_and_touches_no_registry():
    code = textwrap.dedent(
        """
        import icv_core.testing.factories
        import icv_core.testing.fixtures
        import icv_core.testing.helpers
        from django.apps import apps
        from django.conf import settings
        assert not settings.configured, "settings were configured by an import"
        assert not apps.ready and not apps.apps_ready
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from icv_core.checks import check_settings

AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
CURRENT = "icv_core.middleware.CurrentUserMiddleware"


def ids(settings=None):
    return [message.id for message in check_settings()]


def test_defaults_are_clean():
    assert ids() == []


@pytest.mark.parametrize("value", [4, 7])
def test_valid_uuid_versions(settings, value):
    settings.ICV_CORE_UUID_VERSION = value
    assert ids() == []


@pytest.mark.parametrize("value", [1, 3, 5, "4", 7.0, True, None])
def test_e001_invalid_uuid_version(settings, value):
    settings.ICV_CORE_UUID_VERSION = value
    messages = check_settings()
    assert [m.id for m in messages] == ["icv_core.E001"]
    assert repr(value) in messages[0].hint


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ICV_CORE_ALLOW_HARD_DELETE", "yes"),
        ("ICV_CORE_TRACK_CREATED_BY", 1),
        ("ICV_CORE_DEFAULT_ORDERING", 5),
        ("ICV_CORE_DEFAULT_ORDERING", ["-created_at", 3]),
        ("ICV_CORE_AUDIT_ENABLED", "true"),
    ],
)
def test_e003_wrong_types(settings, name, value):
    setattr(settings, name, value)
    messages = [m for m in check_settings() if m.id == "icv_core.E003"]
    assert len(messages) == 1
    assert name in messages[0].msg


def test_e004_tracking_without_middleware(settings):
    settings.ICV_CORE_TRACK_CREATED_BY = True
    assert ids() == ["icv_core.E004"]
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, CURRENT]
    assert ids() == []


def test_e004_accepts_a_subclass(settings):
    settings.ICV_CORE_TRACK_CREATED_BY = True
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "models_testapp.middleware.MyCurrentUser",
    ]
    assert ids() == []


def test_e005_middleware_before_authentication(settings):
    settings.MIDDLEWARE = [CURRENT, *settings.MIDDLEWARE]
    assert ids() == ["icv_core.E005"]


def test_e006_audit_enabled_without_app(settings):
    settings.ICV_CORE_AUDIT_ENABLED = True
    assert ids() == ["icv_core.E006"]


def test_w001_hard_delete_allowed(allow_hard_delete):
    messages = check_settings()
    assert [m.id for m in messages] == ["icv_core.W001"]
    assert "soft-delete" in messages[0].hint


def test_checks_are_registered(settings):
    from django.core import checks

    settings.ICV_CORE_UUID_VERSION = 9
    assert "icv_core.E001" in [m.id for m in checks.run_checks()]


def _check(out: io.StringIO, *args: str) -> None:
    # A private stream, not pytest's capture: that one is closed before
    # Django's OutputWrapper around it is garbage-collected.
    call_command("icv_core_check", *args, stdout=out, stderr=out)


def test_command_ok():
    out = io.StringIO()
    _check(out)
    assert "configuration OK" in out.getvalue()


def test_command_reports_errors_and_exits_non_zero(settings):
    settings.ICV_CORE_UUID_VERSION = 9
    settings.ICV_CORE_TRACK_CREATED_BY = True
    stream = io.StringIO()
    with pytest.raises(CommandError) as info:
        _check(stream)
    assert info.value.returncode == 1
    out = stream.getvalue()
    assert "[ERROR] icv_core.E001: ICV_CORE_UUID_VERSION must be" in out
    assert "[ERROR] icv_core.E004" in out
    assert "HINT: It is set to 9." in out
    assert "2 issue(s) found, 2 at or above ERROR." in str(info.value)


def test_command_ignores_silenced_checks(settings):
    settings.ICV_CORE_UUID_VERSION = 9
    settings.ICV_CORE_TRACK_CREATED_BY = True
    settings.SILENCED_SYSTEM_CHECKS = ["icv_core.E001"]
    stream = io.StringIO()
    with pytest.raises(CommandError) as info:
        _check(stream)
    out = stream.getvalue()
    assert "icv_core.E001" not in out
    assert "[ERROR] icv_core.E004" in out
    assert "1 silenced issue not shown." in out
    assert "1 issue(s) found, 1 at or above ERROR." in str(info.value)
    # Every error silenced: the command succeeds, as Django's check does.
    settings.SILENCED_SYSTEM_CHECKS = ["icv_core.E001", "icv_core.E004"]
    stream = io.StringIO()
    _check(stream)
    assert stream.getvalue().splitlines() == [
        "2 silenced issues not shown.",
        "icv-core configuration OK: no issues.",
    ]


def test_command_warning_exits_zero_unless_fail_level(allow_hard_delete):
    out = io.StringIO()
    _check(out)
    assert "[WARNING] icv_core.W001" in out.getvalue()
    with pytest.raises(CommandError) as info:
        _check(io.StringIO(), "--fail-level", "WARNING")
    assert info.value.returncode == 1


def test_command_exit_code_in_a_real_process(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    (tmp_path / "bad_settings.py").write_text(
        "from settings import *\nICV_CORE_UUID_VERSION = 5\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{tests}",
        "DJANGO_SETTINGS_MODULE": "bad_settings",
    }
    bad = subprocess.run(
        [sys.executable, "-m", "django", "icv_core_check"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "icv_core.E001" in bad.stdout
    env["DJANGO_SETTINGS_MODULE"] = "settings"
    good = subprocess.run(
        [sys.executable, "-m", "django", "icv_core_check"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0, good.stdout + good.stderr


def test_command_help(capsys):
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["icv_core_check"], "icv_core_check")
    parser = command.create_parser("manage.py", "icv_core_check")
    text = parser.format_help()
    assert "--fail-level" in text and "django-icv-core configuration" in text

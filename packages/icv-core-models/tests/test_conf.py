"""The settings accessor: the spec's defaults, read at use."""

from __future__ import annotations

import pytest

from icv_core.conf import DEFAULTS, IcvSettings, settings

# The settings reference table of the published 0.2.0 README
# (spec/django-icv-core-0.2.0-README.txt, "Settings reference"), verbatim.
SPEC_TABLE = {
    "ICV_CORE_UUID_VERSION": 4,
    "ICV_CORE_SOFT_DELETE_FIELD": "is_active",
    "ICV_CORE_ALLOW_HARD_DELETE": False,
    "ICV_CORE_TRACK_CREATED_BY": False,
    "ICV_CORE_DEFAULT_ORDERING": "-created_at",
    "ICV_CORE_AUDIT_ENABLED": False,
    "ICV_CORE_AUDIT_RETENTION_DAYS": 365,
    "ICV_CORE_AUDIT_EXCLUDE_MODELS": [],
    "ICV_CORE_AUDIT_TRACK_FIELD_CHANGES": True,
    "ICV_CORE_AUDIT_CAPTURE_IP": True,
    "ICV_CORE_AUDIT_CAPTURE_USER_AGENT": True,
    "ICV_CORE_AUDIT_AUTO_MODEL_TRACKING": False,
    "ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS": ["info", "warning", "error", "critical"],
}


def test_defaults_are_the_spec_table():
    assert {f"ICV_CORE_{name}": value for name, value in DEFAULTS.items()} == SPEC_TABLE
    # Same types too (False is not 0, 4 is not "4").
    for name, value in DEFAULTS.items():
        assert type(value) is type(SPEC_TABLE[f"ICV_CORE_{name}"]), name


def test_defaults_apply_when_unset():
    for name, value in DEFAULTS.items():
        assert not settings.is_overridden(name) or name == "UUID_VERSION"
        if not settings.is_overridden(name):
            assert getattr(settings, name) == value, name


@pytest.fixture
def django_settings(settings):
    """pytest-django's settings fixture (``settings`` here is the accessor)."""
    return settings


def test_settings_are_read_at_use(django_settings):
    django_settings.ICV_CORE_AUDIT_RETENTION_DAYS = 30
    assert settings.AUDIT_RETENTION_DAYS == 30
    assert settings.is_overridden("AUDIT_RETENTION_DAYS")
    del django_settings.ICV_CORE_AUDIT_RETENTION_DAYS
    assert settings.AUDIT_RETENTION_DAYS == 365
    assert not settings.is_overridden("AUDIT_RETENTION_DAYS")


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError) as info:
        settings.NOT_A_SETTING  # noqa: B018
    assert str(info.value) == "ICV_CORE_NOT_A_SETTING is not a django-icv-core setting."
    assert not hasattr(settings, "NOT_A_SETTING")
    assert getattr(settings, "NOT_A_SETTING", "fallback") == "fallback"


def test_list_defaults_are_not_shared():
    settings.AUDIT_EXCLUDE_MODELS.append("app.Model")
    settings.AUDIT_ALERT_SEVERITY_LEVELS.clear()
    assert settings.AUDIT_EXCLUDE_MODELS == []
    assert settings.AUDIT_ALERT_SEVERITY_LEVELS == [
        "info",
        "warning",
        "error",
        "critical",
    ]
    assert DEFAULTS["AUDIT_EXCLUDE_MODELS"] == []


def test_dir_defaults_and_extend():
    assert dir(settings) == sorted(DEFAULTS)
    copy = settings.defaults
    copy["UUID_VERSION"] = 7
    assert settings.defaults["UUID_VERSION"] == 4
    assert settings.setting_name("UUID_VERSION") == "ICV_CORE_UUID_VERSION"
    extended = settings.extend({"EXTRA": 1})
    assert isinstance(extended, IcvSettings)
    assert extended.EXTRA == 1 and extended.UUID_VERSION == settings.UUID_VERSION
    with pytest.raises(AttributeError):
        settings.EXTRA  # noqa: B018

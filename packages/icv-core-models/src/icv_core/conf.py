"""Settings accessor for every ``ICV_CORE_*`` setting.

Values are read from ``django.conf.settings`` each time an attribute is
accessed, so ``override_settings`` and pytest-django's ``settings`` fixture
take effect without patching, and nothing reads settings at import time.

    from icv_core.conf import settings

    if settings.AUDIT_ENABLED:
        ...
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

PREFIX = "ICV_CORE_"
_MISSING = object()

#: Defaults of the published settings (the 0.2.0 contract), by name without
#: the ``ICV_CORE_`` prefix.
DEFAULTS: dict[str, Any] = {
    # Core
    "UUID_VERSION": 4,
    "SOFT_DELETE_FIELD": "is_active",
    "ALLOW_HARD_DELETE": False,
    "TRACK_CREATED_BY": False,
    "DEFAULT_ORDERING": "-created_at",
    # Audit (master switch and the published audit settings)
    "AUDIT_ENABLED": False,
    "AUDIT_RETENTION_DAYS": 365,
    "AUDIT_EXCLUDE_MODELS": [],
    "AUDIT_TRACK_FIELD_CHANGES": True,
    "AUDIT_CAPTURE_IP": True,
    "AUDIT_CAPTURE_USER_AGENT": True,
    "AUDIT_AUTO_MODEL_TRACKING": False,
    "AUDIT_ALERT_SEVERITY_LEVELS": ["info", "warning", "error", "critical"],
}


#: Expected types of the core settings, checked by ``icv_core.E003``:
#: name -> (types, description). UUID_VERSION and SOFT_DELETE_FIELD have
#: their own checks (E001, E002).
SETTING_TYPES: dict[str, tuple[tuple[type, ...], Any]] = {
    "ALLOW_HARD_DELETE": ((bool,), _("True or False")),
    "TRACK_CREATED_BY": ((bool,), _("True or False")),
    "DEFAULT_ORDERING": (
        (str, list, tuple, type(None)),
        _("a field name, a list of field names or None"),
    ),
    "AUDIT_ENABLED": ((bool,), _("True or False")),
}


class IcvSettings:
    """Read ``ICV_CORE_<NAME>`` from Django settings at use, with defaults."""

    if TYPE_CHECKING:
        # The published settings, typed for type checkers (values are read by
        # __getattr__ at use; the project's value wins over the default).
        UUID_VERSION: int
        SOFT_DELETE_FIELD: str
        ALLOW_HARD_DELETE: bool
        TRACK_CREATED_BY: bool
        DEFAULT_ORDERING: str | list[str] | tuple[str, ...] | None
        AUDIT_ENABLED: bool
        AUDIT_RETENTION_DAYS: int
        AUDIT_EXCLUDE_MODELS: list[str]
        AUDIT_TRACK_FIELD_CHANGES: bool
        AUDIT_CAPTURE_IP: bool
        AUDIT_CAPTURE_USER_AGENT: bool
        AUDIT_AUTO_MODEL_TRACKING: bool
        AUDIT_ALERT_SEVERITY_LEVELS: list[str]

    def __init__(self, defaults: Mapping[str, Any], prefix: str = PREFIX) -> None:
        self._defaults = dict(defaults)
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        try:
            default = self._defaults[name]
        except KeyError:
            # Lazy: settings may be probed (hasattr) before translations load.
            raise AttributeError(
                format_lazy(
                    _("{setting} is not a django-icv-core setting."),
                    setting=self._prefix + name,
                )
            ) from None
        value = getattr(django_settings, self._prefix + name, _MISSING)
        if value is _MISSING:
            # A copy, so a caller changing a list default cannot change it
            # for everybody else.
            return copy.copy(default) if isinstance(default, list | dict) else default
        return value

    def __dir__(self) -> list[str]:
        return sorted(self._defaults)

    @property
    def defaults(self) -> dict[str, Any]:
        """A copy of the defaults, keyed by name without the prefix."""
        return dict(self._defaults)

    def is_overridden(self, name: str) -> bool:
        """Whether the project sets ``ICV_CORE_<name>`` itself."""
        return hasattr(django_settings, self._prefix + name)

    def setting_name(self, name: str) -> str:
        """The full Django setting name, e.g. ``ICV_CORE_UUID_VERSION``."""
        return self._prefix + name

    def extend(self, defaults: Mapping[str, Any]) -> IcvSettings:
        """A new accessor with these defaults added (used by the other parts)."""
        return IcvSettings({**self._defaults, **defaults}, self._prefix)


settings = IcvSettings(DEFAULTS)

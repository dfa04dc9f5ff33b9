"""System checks of the audit part (registered by ``IcvCoreAuditConfig.ready``).

Stable ids (``manage.py check`` shows them; silence one with
``SILENCED_SYSTEM_CHECKS``):

``icv_core_audit.I001`` (Info)
    ``"icv_core.audit"`` is installed but ``ICV_CORE_AUDIT_ENABLED`` is False:
    the tables exist but nothing is captured.
``icv_core_audit.E001`` (Error)
    ``django.contrib.contenttypes`` is not installed; the audit models point
    at content types.
``icv_core_audit.W001`` (Warning)
    Audit is enabled but ``icv_core.audit.middleware.AuditRequestMiddleware``
    is not in ``MIDDLEWARE``: entries get no IP address, user agent or
    request id.
``icv_core_audit.W002`` (Warning)
    ``AuditRequestMiddleware`` comes before
    ``django.contrib.auth.middleware.AuthenticationMiddleware``, so it cannot
    see ``request.user``.
``icv_core_audit.E002`` (Error)
    ``ICV_CORE_AUDIT_RETENTION_DAYS`` is not a whole number of days >= 0.
``icv_core_audit.E003`` (Error)
    ``ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS`` is not a non-empty list of
    distinct, non-empty strings of at most 20 characters (the column size).

The switch-on-without-the-app case is the core check ``icv_core.E006``.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error, Info, Warning, register
from django.utils.module_loading import import_string

from icv_core.audit.conf import settings

AUDIT_MIDDLEWARE = "icv_core.audit.middleware.AuditRequestMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
SEVERITY_MAX_LENGTH = 20


def _is_subclass_path(path: str, target: str) -> bool:
    """Whether the middleware at ``path`` is (a subclass of) ``target``."""
    if path == target:
        return True
    try:
        cls = import_string(path)
        target_cls = import_string(target)
    except ImportError:
        return False
    return isinstance(cls, type) and issubclass(cls, target_cls)


def _index_of(middleware: list[str], target: str) -> int | None:
    for index, path in enumerate(middleware):
        if isinstance(path, str) and _is_subclass_path(path, target):
            return index
    return None


@register()
def check_audit_configuration(
    app_configs: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """Report inconsistent audit settings (ids documented in the module)."""
    messages: list[CheckMessage] = []
    enabled = bool(settings.AUDIT_ENABLED)

    if not enabled:
        messages.append(
            Info(
                "The audit app is installed but ICV_CORE_AUDIT_ENABLED is False: "
                "nothing is captured.",
                hint="Set ICV_CORE_AUDIT_ENABLED = True to record audit events.",
                id="icv_core_audit.I001",
            )
        )

    if not apps.is_installed("django.contrib.contenttypes"):
        messages.append(
            Error(
                "icv_core.audit needs django.contrib.contenttypes.",
                hint='Add "django.contrib.contenttypes" to INSTALLED_APPS.',
                id="icv_core_audit.E001",
            )
        )

    if enabled:
        middleware = list(getattr(django_settings, "MIDDLEWARE", None) or [])
        audit_index = _index_of(middleware, AUDIT_MIDDLEWARE)
        if audit_index is None:
            messages.append(
                Warning(
                    "ICV_CORE_AUDIT_ENABLED is True but AuditRequestMiddleware is not "
                    "in MIDDLEWARE: entries get no IP address, user agent or "
                    "request id.",
                    hint=f'Add "{AUDIT_MIDDLEWARE}" after "{AUTH_MIDDLEWARE}".',
                    id="icv_core_audit.W001",
                )
            )
        else:
            auth_index = _index_of(middleware, AUTH_MIDDLEWARE)
            if auth_index is not None and audit_index < auth_index:
                messages.append(
                    Warning(
                        "AuditRequestMiddleware comes before AuthenticationMiddleware, "
                        "so it cannot see request.user.",
                        hint=f'Move "{AUDIT_MIDDLEWARE}" after "{AUTH_MIDDLEWARE}".',
                        id="icv_core_audit.W002",
                    )
                )

    retention = settings.AUDIT_RETENTION_DAYS
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 0:
        messages.append(
            Error(
                f"ICV_CORE_AUDIT_RETENTION_DAYS must be a whole number of days >= 0, "
                f"not {retention!r}.",
                hint="For example ICV_CORE_AUDIT_RETENTION_DAYS = 365.",
                id="icv_core_audit.E002",
            )
        )

    levels = settings.AUDIT_ALERT_SEVERITY_LEVELS
    problem = _severity_levels_problem(levels)
    if problem:
        messages.append(
            Error(
                f"ICV_CORE_AUDIT_ALERT_SEVERITY_LEVELS {problem} (got {levels!r}).",
                hint='For example ["info", "warning", "error", "critical"].',
                id="icv_core_audit.E003",
            )
        )
    return messages


def _severity_levels_problem(levels: Any) -> str | None:
    if isinstance(levels, str) or not isinstance(levels, list | tuple):
        return "must be a list of strings"
    if not levels:
        return "must not be empty"
    for level in levels:
        if not isinstance(level, str) or not level.strip():
            return "must contain only non-empty strings"
        if len(level) > SEVERITY_MAX_LENGTH:
            return f"has a level longer than {SEVERITY_MAX_LENGTH} characters"
    if len(set(levels)) != len(levels):
        return "must not repeat a level"
    return None

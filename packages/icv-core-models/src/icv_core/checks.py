"""System checks of the core part.

=================  ========  ==============================================
id                 level     when
=================  ========  ==============================================
icv_core.E001      Error     ``ICV_CORE_UUID_VERSION`` is not the integer 4 or 7
icv_core.E002      Error     ``ICV_CORE_SOFT_DELETE_FIELD`` is not a usable
                             field name, or differs from the name the models
                             were built with
icv_core.E003      Error     an ``ICV_CORE_*`` setting has the wrong type
icv_core.E004      Error     ``ICV_CORE_TRACK_CREATED_BY`` without
                             ``CurrentUserMiddleware`` in ``MIDDLEWARE``
icv_core.E005      Error     ``CurrentUserMiddleware`` before
                             ``AuthenticationMiddleware``
icv_core.E006      Error     ``ICV_CORE_AUDIT_ENABLED`` without
                             ``"icv_core.audit"`` in ``INSTALLED_APPS``
icv_core.W001      Warning   ``ICV_CORE_ALLOW_HARD_DELETE`` is true
=================  ========  ==============================================
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from icv_core.conf import SETTING_TYPES, settings

__all__ = ["check_settings"]

_CURRENT_USER = "icv_core.middleware.CurrentUserMiddleware"
_AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"


def _middleware_index(middleware: list[str], target: str) -> int | None:
    """Index of ``target`` (or a subclass of it) in ``middleware``."""
    try:
        target_class = import_string(target)
    except ImportError:  # pragma: no cover - Django or this package broken
        target_class = None
    for index, path in enumerate(middleware):
        if path == target:
            return index
        try:
            candidate = import_string(path)
        except ImportError:
            continue
        if (
            target_class is not None
            and isinstance(candidate, type)
            and issubclass(candidate, target_class)
        ):
            return index
    return None


def _type_errors() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, (expected, description) in SETTING_TYPES.items():
        if not settings.is_overridden(name):
            continue
        value = getattr(settings, name)
        ok = isinstance(value, expected) and not (
            isinstance(value, bool) and bool not in expected
        )
        if ok and isinstance(value, list | tuple) and name == "DEFAULT_ORDERING":
            ok = all(isinstance(item, str) for item in value)
        if not ok:
            errors.append(
                Error(
                    gettext("%(setting)s must be %(expected)s, not %(type)s.")
                    % {
                        "setting": settings.setting_name(name),
                        "expected": description,
                        "type": type(value).__name__,
                    },
                    hint=gettext("It is set to %(value)r.") % {"value": value},
                    id="icv_core.E003",
                )
            )
    return errors


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check the ``ICV_CORE_*`` settings and the middleware order."""
    messages: list[CheckMessage] = []

    version = settings.UUID_VERSION
    if type(version) is not int or version not in (4, 7):
        messages.append(
            Error(
                gettext(
                    "ICV_CORE_UUID_VERSION must be the integer 4 (random) or 7 "
                    "(time-sorted)."
                ),
                hint=gettext("It is set to %(value)r.") % {"value": version},
                id="icv_core.E001",
            )
        )

    from icv_core.models._soft_delete import FLAG_FIELD, flag_field_problem

    flag = settings.SOFT_DELETE_FIELD
    problem = flag_field_problem(flag)
    if problem:
        messages.append(
            Error(
                gettext("ICV_CORE_SOFT_DELETE_FIELD is invalid: %(problem)s.")
                % {"problem": problem},
                hint=gettext(
                    "Soft-delete models use %(field)r instead; set a valid "
                    "field name (default 'is_active')."
                )
                % {"field": FLAG_FIELD},
                id="icv_core.E002",
            )
        )
    elif flag != FLAG_FIELD:
        messages.append(
            Error(
                gettext(
                    "ICV_CORE_SOFT_DELETE_FIELD is %(value)r but the soft-delete "
                    "models were built with %(field)r."
                )
                % {"value": flag, "field": FLAG_FIELD},
                hint=gettext(
                    "The setting is read once, when the models are defined; "
                    "set it before Django starts."
                ),
                id="icv_core.E002",
            )
        )

    messages.extend(_type_errors())

    middleware = list(getattr(django_settings, "MIDDLEWARE", None) or [])
    current_user_at = _middleware_index(middleware, _CURRENT_USER)
    if settings.TRACK_CREATED_BY and current_user_at is None:
        messages.append(
            Error(
                gettext(
                    "ICV_CORE_TRACK_CREATED_BY is true but CurrentUserMiddleware "
                    "is not in MIDDLEWARE."
                ),
                hint=gettext("Add %(middleware)r after %(authentication)r.")
                % {"middleware": _CURRENT_USER, "authentication": _AUTHENTICATION},
                id="icv_core.E004",
            )
        )
    if current_user_at is not None:
        auth_at = _middleware_index(middleware, _AUTHENTICATION)
        if auth_at is not None and auth_at > current_user_at:
            messages.append(
                Error(
                    gettext(
                        "CurrentUserMiddleware comes before AuthenticationMiddleware."
                    ),
                    hint=gettext(
                        "Move it after AuthenticationMiddleware so request.user "
                        "exists when it is read."
                    ),
                    id="icv_core.E005",
                )
            )

    if settings.AUDIT_ENABLED is True and not apps.is_installed("icv_core.audit"):
        messages.append(
            Error(
                gettext(
                    "ICV_CORE_AUDIT_ENABLED is true but 'icv_core.audit' is not in "
                    "INSTALLED_APPS."
                ),
                hint=gettext("Add 'icv_core.audit' to INSTALLED_APPS and run migrate."),
                id="icv_core.E006",
            )
        )

    if settings.ALLOW_HARD_DELETE:
        messages.append(
            Warning(
                gettext(
                    "ICV_CORE_ALLOW_HARD_DELETE is true: delete() on soft-delete "
                    "models removes rows for real."
                ),
                hint=gettext(
                    "Hard deletes bypass soft-delete protection; prefer "
                    "hard_delete() where you mean it."
                ),
                id="icv_core.W001",
            )
        )
    return messages

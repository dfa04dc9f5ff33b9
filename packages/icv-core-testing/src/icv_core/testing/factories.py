"""factory-boy factories for the django-icv-core models and for users.

    from icv_core.testing.factories import AuditEntryFactory, SystemAlertFactory

    entry = AuditEntryFactory(action="CREATE", event_type="DATA")
    alert = SystemAlertFactory(severity="critical", alert_type="payment")

Models are looked up when a factory is used, not when this module is
imported, so importing it needs no configured settings and reads none.
``UserFactory`` builds whatever ``get_user_model()`` returns at that moment
and fills its ``USERNAME_FIELD``.

Audit entries are immutable: the factories only ever insert them (the normal
``objects.create`` path). To make old entries, pass ``created_at`` at
creation, or use :func:`backdated_entries`::

    backdated_entries(5, days_ago=400)          # 5 entries, 400 days old
    AuditEntryFactory.create_batch(3, created_at=some_datetime)
"""

from __future__ import annotations

import datetime
from typing import Any

import factory
from factory.django import DjangoModelFactory, DjangoOptions

__all__ = [
    "AdminActivityLogFactory",
    "AuditEntryFactory",
    "SystemAlertFactory",
    "UserFactory",
    "backdated_entries",
]

#: Stands for ``settings.AUTH_USER_MODEL``, resolved each time a user is made.
_AUTH_USER_MODEL = "<AUTH_USER_MODEL>"


def _label(model: Any) -> Any:
    if isinstance(model, str):
        return model.lower()
    meta = getattr(model, "_meta", None)
    return meta.label_lower if meta is not None else model


class _LazyModelOptions(DjangoOptions):
    """Resolve ``Meta.model`` ("app_label.Model") at use, not at import."""

    def get_model_class(self) -> Any:
        if self.model == _AUTH_USER_MODEL:
            if self.factory is None or not getattr(self, "_contributed", False):
                return self.model
            from django.contrib.auth import get_user_model

            return get_user_model()
        if isinstance(self.model, str) and "." in self.model:
            if not getattr(self, "_contributed", False):
                # Class creation: keep the string so no app registry is
                # needed to import this module.
                return self.model
            from django.apps import apps

            return apps.get_model(self.model)
        return self.model

    def contribute_to_class(self, factory: Any, *args: Any, **kwargs: Any) -> None:
        self._contributed = False
        super().contribute_to_class(factory, *args, **kwargs)
        self._contributed = True

    def _get_counter_reference(self) -> Any:
        base = self.base_factory
        if (
            self.model is not None
            and base is not None
            and base._meta.model is not None
            and _label(self.model) == _label(base._meta.model)
        ):
            return base._meta.counter_reference
        return self


class _LazyModelFactory(DjangoModelFactory):
    _options_class = _LazyModelOptions

    class Meta:
        abstract = True


# --------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------

# Defaults dropped when the user model has no such field (a custom model may
# have no username, first_name, is_staff, ...). Values passed explicitly are
# always kept, so a typo still fails loudly.
_OPTIONAL_USER_FIELDS = frozenset(
    {"username", "email", "first_name", "last_name", "is_staff", "is_superuser"}
)


class UserFactory(_LazyModelFactory):
    """A user of ``settings.AUTH_USER_MODEL`` (resolved at use).

    The ``USERNAME_FIELD`` gets a unique value (an e-mail address when it
    is an ``EmailField``). The password is unusable unless you pass one:
    ``UserFactory(password="secret")``. ``UserFactory(staff=True)`` and
    ``UserFactory(superuser=True)`` set the flags when the model has them.
    """

    class Meta:
        model = _AUTH_USER_MODEL
        skip_postgeneration_save = True

    class Params:
        staff = False
        superuser = False

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_staff = factory.LazyAttribute(lambda o: bool(o.staff or o.superuser))
    is_superuser = factory.LazyAttribute(lambda o: bool(o.superuser))
    password = None

    @classmethod
    def _prepare(cls, model_class: Any, kwargs: dict[str, Any]) -> tuple[dict, Any]:
        from django.db.models import EmailField

        explicit = set(cls._original_params or ())
        opts = model_class._meta
        names = {f.name for f in opts.get_fields()} | {
            f.attname for f in opts.concrete_fields
        }
        username_field = model_class.USERNAME_FIELD
        if username_field not in explicit:
            field = opts.get_field(username_field)
            source = "email" if isinstance(field, EmailField) else "username"
            if source in kwargs:
                kwargs[username_field] = kwargs[source]
        for name in _OPTIONAL_USER_FIELDS - explicit:
            if name not in names:
                kwargs.pop(name, None)
        password = kwargs.pop("password", None)
        return kwargs, password

    @classmethod
    def _build(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs, password = cls._prepare(model_class, kwargs)
        user = model_class(*args, **kwargs)
        _set_password(user, password)
        return user

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        user = cls._build(model_class, *args, **kwargs)
        user.save(using=cls._meta.database)  # type: ignore[attr-defined]
        return user


def _set_password(user: Any, password: str | None) -> None:
    # An unusable password avoids a slow hash per user; pass one to log in.
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)


# --------------------------------------------------------------------------
# Audit models
# --------------------------------------------------------------------------


class AuditEntryFactory(_LazyModelFactory):
    """An :class:`~icv_core.audit.models.AuditEntry`, inserted once.

    ``event_type`` cycles through SECURITY, DATA, SYSTEM, AUTHENTICATION and
    ``action`` through CREATE, UPDATE, DELETE, LOGIN unless given. Pass
    ``target=obj`` to point the entry at a model instance, ``user=...`` for
    the acting user and ``created_at=...`` to backdate it.
    """

    class Meta:
        model = "icv_core_audit.AuditEntry"
        skip_postgeneration_save = True

    event_type = factory.Iterator(["SECURITY", "DATA", "SYSTEM", "AUTHENTICATION"])
    action = factory.Iterator(["CREATE", "UPDATE", "DELETE", "LOGIN"])
    user = None
    ip_address = factory.Faker("ipv4")
    user_agent = factory.Faker("user_agent")
    description = factory.Faker("sentence")
    metadata = factory.LazyFunction(dict)


class AdminActivityLogFactory(_LazyModelFactory):
    """An :class:`~icv_core.audit.models.AdminActivityLog` by a new staff user."""

    class Meta:
        model = "icv_core_audit.AdminActivityLog"
        skip_postgeneration_save = True

    admin_user = factory.SubFactory(UserFactory, staff=True)
    action_type = factory.Iterator(["approve_claim", "ban_user", "verify_account"])
    description = factory.Faker("sentence")
    ip_address = factory.Faker("ipv4")
    user_agent = factory.Faker("user_agent")
    metadata = factory.LazyFunction(dict)


class SystemAlertFactory(_LazyModelFactory):
    """An unresolved :class:`~icv_core.audit.models.SystemAlert`.

    Defaults: ``alert_type="system"``, ``severity="warning"``.
    ``SystemAlertFactory(resolved=True)`` makes a resolved alert (resolved
    now, by a new staff user, unless ``resolved_by``/``resolved_at`` are given).
    """

    class Meta:
        model = "icv_core_audit.SystemAlert"
        skip_postgeneration_save = True

    class Params:
        resolved = factory.Trait(
            is_resolved=True,
            resolved_by=factory.SubFactory(UserFactory, staff=True),
            resolved_at=factory.LazyFunction(lambda: _now()),
            resolution_notes=factory.Faker("sentence"),
        )

    alert_type = "system"
    severity = "warning"
    title = factory.Faker("sentence", nb_words=4)
    message = factory.Faker("paragraph")
    metadata = factory.LazyFunction(dict)
    is_resolved = False


def _now() -> datetime.datetime:
    from django.utils import timezone

    return timezone.now()


def backdated_entries(
    count: int,
    days_ago: float = 0,
    *,
    at: datetime.datetime | None = None,
    **kwargs: Any,
) -> list[Any]:
    """Create ``count`` audit entries dated ``days_ago`` days before now.

    ``at`` gives an exact timestamp instead. Other keyword arguments go to
    :class:`AuditEntryFactory`. The date is set on insert (``created_at``
    accepts an explicit value); existing entries are never updated::

        old = backdated_entries(3, days_ago=400, event_type="SECURITY")
        call_command("icv_core_audit_archive", "--days", "365")
    """
    if count < 0:
        raise ValueError("count must be zero or more.")
    created_at = at if at is not None else _now() - datetime.timedelta(days=days_ago)
    return AuditEntryFactory.create_batch(count, created_at=created_at, **kwargs)

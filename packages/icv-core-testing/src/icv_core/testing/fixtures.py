"""pytest fixtures for projects on django-icv-core.

Load them in a ``conftest.py`` (pytest-django must be installed)::

    pytest_plugins = ["icv_core.testing.fixtures"]

Fixtures:

``audit_enabled``, ``allow_hard_delete``, ``track_created_by``
    Set ``ICV_CORE_AUDIT_ENABLED`` / ``ICV_CORE_ALLOW_HARD_DELETE`` /
    ``ICV_CORE_TRACK_CREATED_BY`` to True for one test through pytest-django's
    ``settings`` fixture; the previous value (or its absence) is restored
    afterwards.
``acting_as``
    The :func:`icv_core.middleware.acting_as` context manager: ``with
    acting_as(user): ...`` makes ``user`` the current user outside a request.
``current_user``
    A user (from :class:`~icv_core.testing.factories.UserFactory`) who is
    the current user for the whole test. Needs the database.
``audit_log``
    An :class:`AuditLog` of the audit entries written during the test, with
    ``assert_logged(...)`` / ``assert_not_logged(...)``.

The soft-delete assertions ``assert_soft_deleted`` / ``assert_restored``
(from :mod:`icv_core.testing.helpers`) can be imported from here as well.

Importing this module reads no setting and imports no model: fixtures only
act when a test asks for them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

# Re-exported so ``from icv_core.testing.fixtures import assert_soft_deleted``
# works too; the helpers import no model.
from icv_core.testing.helpers import assert_restored, assert_soft_deleted

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from django.db.models import Model

__all__ = [
    "AuditLog",
    "acting_as",
    "allow_hard_delete",
    "assert_restored",
    "assert_soft_deleted",
    "audit_enabled",
    "audit_log",
    "current_user",
    "track_created_by",
]


@pytest.fixture
def audit_enabled(settings: Any) -> bool:
    """Turn ``ICV_CORE_AUDIT_ENABLED`` on for this test (restored afterwards)."""
    settings.ICV_CORE_AUDIT_ENABLED = True
    return True


@pytest.fixture
def allow_hard_delete(settings: Any) -> bool:
    """Turn ``ICV_CORE_ALLOW_HARD_DELETE`` on for this test (restored afterwards)."""
    settings.ICV_CORE_ALLOW_HARD_DELETE = True
    return True


@pytest.fixture
def track_created_by(settings: Any) -> bool:
    """Turn ``ICV_CORE_TRACK_CREATED_BY`` on for this test (restored afterwards)."""
    settings.ICV_CORE_TRACK_CREATED_BY = True
    return True


@pytest.fixture
def acting_as() -> Callable[[Any], AbstractContextManager[Any]]:
    """The ``acting_as(user)`` context manager of :mod:`icv_core.middleware`.

    ::

        def test_edit(acting_as, user):
            with acting_as(user):
                article.save()
            assert article.updated_by == user
    """
    # Imported here so loading the plugin never imports the models part.
    from icv_core.middleware import acting_as as _acting_as

    return _acting_as


@pytest.fixture
def current_user(
    db: None, acting_as: Callable[[Any], AbstractContextManager[Any]]
) -> Iterator[Any]:
    """A new user who is the current user for the whole test."""
    from icv_core.testing.factories import UserFactory

    user = UserFactory()
    with acting_as(user):
        yield user


# --------------------------------------------------------------------------
# audit_log
# --------------------------------------------------------------------------

_uid = itertools.count()


class AuditLog:
    """The audit entries written while a test runs.

    An entry counts when its row exists in the database now but did not
    when the fixture started, so entries from every write path (services,
    mixins, ``bulk_create``) are seen, and entries rolled back with a
    transaction are not. Entries announced by
    :data:`icv_core.audit.signals.audit_entry_created` come first, in the
    order they were written; others follow by ``created_at``.

    Reading :attr:`entries` (and everything built on it) runs one query.
    """

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self._baseline: set[Any] = set()
        self._announced: dict[Any, int] = {}
        self._signal: Any = None
        self._dispatch_uid = f"icv_core.testing.audit_log.{next(_uid)}"

    # -- lifecycle ---------------------------------------------------------

    @property
    def model(self) -> type[Model]:
        """The ``AuditEntry`` model."""
        from django.apps import apps

        try:
            return apps.get_model("icv_core_audit", "AuditEntry")
        except LookupError:
            raise pytest.UsageError(
                "The audit_log fixture needs 'icv_core.audit' in INSTALLED_APPS."
            ) from None

    def start(self) -> None:
        """Forget earlier entries and start listening for new ones."""
        self.clear()
        try:
            from icv_core.audit.signals import audit_entry_created
        except ImportError:  # pragma: no cover - audit part too old
            return
        self._signal = audit_entry_created
        audit_entry_created.connect(
            self._on_created, weak=False, dispatch_uid=self._dispatch_uid
        )

    def stop(self) -> None:
        """Stop listening (entries can still be read)."""
        if self._signal is not None:
            self._signal.disconnect(dispatch_uid=self._dispatch_uid)
            self._signal = None

    def clear(self) -> None:
        """Ignore every entry written so far; only later ones will count."""
        self._baseline = set(
            self.model._base_manager.using(self.using).values_list("pk", flat=True)
        )
        self._announced = {}

    def _on_created(self, sender: Any = None, **kwargs: Any) -> None:
        entry = kwargs.get("instance", kwargs.get("entry"))
        pk = getattr(entry, "pk", None)
        if pk is not None and pk not in self._announced:
            self._announced[pk] = len(self._announced)

    # -- reading -----------------------------------------------------------

    @property
    def entries(self) -> list[Any]:
        """The entries written since the fixture started (or :meth:`clear`)."""
        rows = [
            row
            for row in self.model._base_manager.using(self.using)
            .select_related("target_content_type")
            .order_by("created_at", "pk")
            if row.pk not in self._baseline
        ]
        announced = len(self._announced)
        # Stable sort: announced entries in signal order, then the rest by
        # created_at (already the query order).
        return sorted(rows, key=lambda row: self._announced.get(row.pk, announced))

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.entries)

    def __getitem__(self, index: int) -> Any:
        return self.entries[index]

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<AuditLog: {len(self)} entries>"

    @property
    def last(self) -> Any:
        """The last entry written, or None."""
        entries = self.entries
        return entries[-1] if entries else None

    def filter(self, **criteria: Any) -> list[Any]:
        """The entries matching every criterion (see :meth:`assert_logged`)."""
        checks = self._compile(criteria)
        return [entry for entry in self.entries if all(c(entry) for c in checks)]

    # -- assertions --------------------------------------------------------

    def assert_logged(self, count: int | None = None, **criteria: Any) -> Any:
        """Assert at least one entry matches (exactly ``count`` if given).

        Criteria are AuditEntry fields compared for equality
        (``action="CREATE"``, ``event_type=AuditEntry.EventType.DATA``,
        ``description=...``, ``metadata={...}``), plus:

        - ``target=obj``: the entry's target is ``obj`` (``None``: no target);
        - ``user=user``: the entry's user is ``user`` (``None``: no user);
        - any value may be a callable taking the field value and returning
          a bool, e.g. ``description=lambda d: "Invoice" in d`` (for ``user``
          and other foreign keys it receives the raw id; for ``target``, the
          target object).

        Returns the last matching entry.
        """
        matches = self.filter(**criteria)
        if count is None:
            if not matches:
                raise AssertionError(
                    f"No audit entry matches {_describe(criteria)}.\n{self._dump()}"
                )
        elif len(matches) != count:
            raise AssertionError(
                f"Expected {count} audit entr{'y' if count == 1 else 'ies'} "
                f"matching {_describe(criteria)}, found {len(matches)}.\n"
                f"{self._dump()}"
            )
        return matches[-1] if matches else None

    def assert_not_logged(self, **criteria: Any) -> None:
        """Assert no entry matches (with no criteria: nothing was logged)."""
        matches = self.filter(**criteria)
        if matches:
            what = f"matching {_describe(criteria)}" if criteria else "at all"
            raise AssertionError(
                f"Expected no audit entry {what}, found {len(matches)}.\n"
                f"{self._dump(matches)}"
            )

    # -- internals ---------------------------------------------------------

    def _compile(self, criteria: dict[str, Any]) -> list[Callable[[Any], bool]]:
        model = self.model
        fields = {f.name: f for f in model._meta.get_fields() if f.concrete}
        fields.update(
            {f.attname: f for f in model._meta.concrete_fields if f.attname != f.name}
        )
        checks: list[Callable[[Any], bool]] = []
        for key, expected in criteria.items():
            if key == "target":
                checks.append(_target_check(expected))
            elif key in fields:
                field = fields[key]
                is_relation = getattr(field, "is_relation", False) and key == field.name
                checks.append(
                    _field_check(
                        field.attname if is_relation else key, expected, is_relation
                    )
                )
            else:
                known = ", ".join(sorted({*fields, "target"}))
                raise TypeError(
                    f"audit_log: unknown criterion {key!r}; use one of: {known}."
                )
        return checks

    def _dump(self, entries: list[Any] | None = None) -> str:
        entries = self.entries if entries is None else entries
        if not entries:
            return "No audit entries were written during this test."
        lines = [f"Audit entries written during this test ({len(entries)}):"]
        lines += [f"  - {_format_entry(entry)}" for entry in entries]
        return "\n".join(lines)


def _describe(criteria: dict[str, Any]) -> str:
    if not criteria:
        return "(any)"
    return ", ".join(f"{key}={value!r}" for key, value in criteria.items())


def _pk_of(value: Any) -> Any:
    return getattr(value, "pk", value)


def _field_check(
    attname: str, expected: Any, is_relation: bool
) -> Callable[[Any], bool]:
    if callable(expected) and not hasattr(expected, "_meta"):
        return lambda entry: bool(expected(getattr(entry, attname)))
    if is_relation:
        wanted = None if expected is None else _pk_of(expected)
        return lambda entry: getattr(entry, attname) == wanted
    return lambda entry: getattr(entry, attname) == expected


def _target_check(expected: Any) -> Callable[[Any], bool]:
    if expected is None:
        return lambda entry: (
            entry.target_content_type_id is None and not entry.target_object_id
        )
    if callable(expected) and not hasattr(expected, "_meta"):
        return lambda entry: bool(expected(entry.target))

    from django.contrib.contenttypes.models import ContentType

    # Accept the concrete model's and the proxy's content type: writers may
    # record either.
    ct_ids = {
        ContentType.objects.get_for_model(expected).pk,
        ContentType.objects.get_for_model(expected, for_concrete_model=False).pk,
    }
    object_id = str(expected.pk)
    return lambda entry: (
        entry.target_content_type_id in ct_ids
        and str(entry.target_object_id) == object_id
    )


def _format_entry(entry: Any) -> str:
    parts = [f"{entry.event_type}/{entry.action}"]
    ct = entry.target_content_type
    if ct is not None:
        parts.append(f"target={ct.app_label}.{ct.model}:{entry.target_object_id}")
    if entry.user_id is not None:
        parts.append(f"user={entry.user_id}")
    if entry.description:
        parts.append(f"description={entry.description[:80]!r}")
    return " ".join(parts)


@pytest.fixture
def audit_log(db: None) -> Iterator[AuditLog]:
    """Capture the audit entries written during the test.

    ::

        def test_invoice_creation_is_audited(audit_enabled, audit_log):
            invoice = Invoice.objects.create(total=100)
            audit_log.assert_logged(action="CREATE", target=invoice)
            assert len(audit_log) == 1

    Entries written before this fixture was set up (by other fixtures
    requested earlier) do not count; call ``audit_log.clear()`` to drop
    everything written so far.
    """
    log = AuditLog()
    log.start()
    try:
        yield log
    finally:
        log.stop()

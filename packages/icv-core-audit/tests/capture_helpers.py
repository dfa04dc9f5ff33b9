"""Fixtures and helpers shared by the capture tests (import the fixtures)."""

from __future__ import annotations

from typing import Any

import pytest

from icv_core.testing.factories import UserFactory

__all__ = ["alice", "audit_middleware", "audit_on", "bob", "warm_content_types"]

MIDDLEWARE = "icv_core.audit.middleware.AuditRequestMiddleware"


@pytest.fixture
def audit_on(audit_enabled: bool) -> None:
    """The test kit's ``audit_enabled``, under the capture tests' name."""


@pytest.fixture
def audit_middleware(settings: Any) -> None:
    middleware = list(settings.MIDDLEWARE)
    index = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    middleware.insert(index + 1, MIDDLEWARE)
    settings.MIDDLEWARE = middleware


@pytest.fixture
def alice(db: None) -> Any:
    return UserFactory(
        username="alice", email="alice@example.com", password="alice-password"
    )


@pytest.fixture
def bob(db: None) -> Any:
    return UserFactory(username="bob", email="bob@example.com", password="bob-pw")


@pytest.fixture
def warm_content_types(db: None) -> None:
    """Fill the ContentType cache, as any running process has (no SELECT later)."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    for model in apps.get_app_config("audit_testapp").get_models():
        ContentType.objects.get_for_model(model)


def close_thread_connections() -> None:
    """Close connections opened by ``sync_to_async`` worker threads."""
    import asyncio
    import gc

    from asgiref.sync import sync_to_async
    from django.db import connections

    asyncio.run(sync_to_async(connections.close_all, thread_sensitive=True)())
    # Threads of finished ASGI requests are gone; their connections close
    # when collected (the test client keeps request_finished from closing them).
    gc.collect()


def entries(**filters: Any) -> list[Any]:
    from icv_core.audit.models import AuditEntry

    return list(AuditEntry.objects.filter(**filters).order_by("created_at", "pk"))


def kinds(sql_list: list[str]) -> list[str]:
    """The statement kind of each captured query (INSERT/UPDATE/SELECT/...)."""
    return [sql.split(None, 1)[0].upper() for sql in sql_list]

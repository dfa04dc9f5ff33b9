"""Build ``DATABASES`` for test settings from a ``DATABASE_URL``.

    DATABASES = databases_from_env()

With no ``DATABASE_URL`` this is an in-memory SQLite database; with
``DATABASE_URL=postgres://user:password@host:port/name`` it is PostgreSQL
(psycopg 3). Any other scheme raises ``ImproperlyConfigured``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


def database_from_url(url: str) -> dict[str, Any]:
    """Turn one database URL into a Django ``DATABASES`` entry."""
    parts = urlsplit(url)
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        raise ImproperlyConfigured(
            f"Unsupported database URL scheme {parts.scheme!r}; "
            f"use one of {sorted(_ENGINES)}."
        )
    if engine.endswith("sqlite3"):
        return {"ENGINE": engine, "NAME": unquote(parts.path.lstrip("/")) or ":memory:"}
    return {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


def databases_from_env(variable: str = "DATABASE_URL") -> dict[str, dict[str, Any]]:
    """``DATABASES`` from the environment variable, or in-memory SQLite."""
    url = os.environ.get(variable, "").strip()
    default = (
        database_from_url(url)
        if url
        else {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    )
    return {"default": default}

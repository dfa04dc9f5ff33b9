"""Settings for the benchmarks: a SQLite file, or PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import os
import tempfile

from icv_core.testing.databases import database_from_url

SECRET_KEY = "icv-core-bench-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "icv_core",
    "icv_core.audit",
    "bench_app",
]
_url = os.environ.get("BENCH_DATABASE_URL", "")
DATABASES = {
    "default": database_from_url(_url)
    if _url
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.mkdtemp(prefix="icv-bench-"), "bench.sqlite3"),
    }
}
ICV_CORE_AUDIT_ENABLED = True
ICV_CORE_UUID_VERSION = int(os.environ.get("BENCH_UUID_VERSION", "7"))

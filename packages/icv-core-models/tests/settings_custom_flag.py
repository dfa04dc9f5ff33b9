"""Settings for the ICV_CORE_SOFT_DELETE_FIELD subprocess test (own process)."""

from __future__ import annotations

SECRET_KEY = "icv-core-tests-not-secret"
USE_TZ = True
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "icv_core",
    "models_flagapp",
]
ICV_CORE_SOFT_DELETE_FIELD = "alive"

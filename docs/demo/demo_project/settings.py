"""Settings of the django-icv-core demo project.

A plain Django project: everything below that concerns django-icv-core is
marked "icv_core" and can be copied into your own settings.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# A demo only: never use this key or DEBUG = True in production.
SECRET_KEY = "django-insecure-icv-core-demo-not-for-production"
DEBUG = os.environ.get("DEMO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",  # icv_core.audit points at any model through it
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "icv_core",  # icv_core: base models, checks, admin mixin, {% load icv_core %}
    "icv_core.audit",  # icv_core: the audit trail's tables, admin and commands
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # icv_core: both after AuthenticationMiddleware.
    "icv_core.middleware.CurrentUserMiddleware",
    "icv_core.audit.middleware.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "demo_project.wsgi.application"

# The database lives in docs/demo/var/ (git-ignored). DEMO_DATABASE lets the
# browser tests use a fresh file of their own.
VAR_DIR = BASE_DIR / "var"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE", str(VAR_DIR / "demo.sqlite3")),
    }
}

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []  # the demo login is "demo"/"demo"

LANGUAGE_CODE = "en-us"
LANGUAGES = [
    ("en-us", "English (US)"),
    ("en-gb", "English (UK)"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("ja", "日本語"),
]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
MEDIA_ROOT = VAR_DIR / "media"  # where icv_core_audit_archive writes by default
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- icv_core ----------------------------------------------------------------
ICV_CORE_UUID_VERSION = 7  # time-sorted primary keys
ICV_CORE_TRACK_CREATED_BY = True  # Customer.created_by / updated_by
ICV_CORE_AUDIT_ENABLED = True  # the audit trail's master switch
ICV_CORE_AUDIT_RETENTION_DAYS = 365

"""Test settings: SQLite by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import os

from icv_core.testing.databases import databases_from_env

SECRET_KEY = "icv-core-tests-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "urls"
DATABASES = databases_from_env()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# nox -s migrations checks both UUID versions produce no migration.
ICV_CORE_UUID_VERSION = int(os.environ.get("ICV_TEST_UUID_VERSION", "4"))

AUTH_USER_MODEL = "consumer_app.Member"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "icv_core",
    "icv_core.audit",
    "consumer_app",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "icv_core.middleware.CurrentUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

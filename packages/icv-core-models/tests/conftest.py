from __future__ import annotations

import pytest

pytest_plugins = ["icv_core.testing.fixtures"]

USER_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "models_testapp.views.HeaderUserMiddleware",
    "icv_core.middleware.CurrentUserMiddleware",
]


@pytest.fixture
def user_middleware(settings):
    """MIDDLEWARE with CurrentUserMiddleware (and a header-based test login)."""
    settings.MIDDLEWARE = USER_MIDDLEWARE
    return settings.MIDDLEWARE


@pytest.fixture
def user(db, django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw")


@pytest.fixture
def other_user(db, django_user_model):
    return django_user_model.objects.create_user(username="bob", password="pw")

from __future__ import annotations

import pytest

from icv_core.testing.factories import UserFactory

pytest_plugins = ["icv_core.testing.fixtures"]


_BATTERY_LINES = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def battery(request):
    """Record a battery figure line; the lines are printed after the run."""
    lines = request.config.stash.setdefault(_BATTERY_LINES, [])
    return lines.append


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(_BATTERY_LINES, [])
    if lines:
        terminalreporter.section("battery figures")
        for line in lines:
            terminalreporter.write_line(line)


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
def user(db):
    return UserFactory(username="alice", password="pw")


@pytest.fixture
def other_user(db):
    return UserFactory(username="bob", password="pw")

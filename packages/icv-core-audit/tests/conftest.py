from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from django.db import connection

pytest_plugins = ["icv_core.testing.fixtures"]


class Tally:
    """The cases of one battery: ``with tally.case():`` counts tried and passed."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.tried = 0
        self.passed = 0

    @contextlib.contextmanager
    def case(self) -> Iterator[None]:
        self.tried += 1
        yield
        self.passed += 1

    def follow(self, request: pytest.FixtureRequest) -> Iterator[None]:
        """For a fixture: counts its test, passed when no failure was reported."""
        failed = request.session.testsfailed
        self.tried += 1
        yield
        if request.session.testsfailed == failed:
            self.passed += 1

    def __str__(self) -> str:
        return self.template.format(
            tried=self.tried, passed=self.passed, vendor=connection.vendor
        )


_BATTERY_LINES = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def battery(request) -> Callable[[object], None]:
    """Record a battery figure line (a string or a Tally), printed after the run."""
    return request.config.stash.setdefault(_BATTERY_LINES, []).append


@pytest.fixture(scope="session")
def battery_tally(battery) -> Callable[[str], Tally]:
    """The Tally for a template, printed after the run (``{tried}``, ``{passed}``).

    One per template for the session: pytest-django runs transactional tests
    after the others, so a module's fixtures can be set up more than once.
    """
    tallies: dict[str, Tally] = {}

    def make(template: str) -> Tally:
        if template not in tallies:
            tallies[template] = Tally(template)
            battery(tallies[template])
        return tallies[template]

    return make


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = [
        str(line)
        for line in config.stash.get(_BATTERY_LINES, [])
        if not isinstance(line, Tally) or line.tried
    ]
    if lines:
        terminalreporter.section("battery figures")
        for line in lines:
            terminalreporter.write_line(line)

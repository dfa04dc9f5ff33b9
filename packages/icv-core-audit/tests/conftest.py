from __future__ import annotations

import pytest

pytest_plugins = ["icv_core.testing.fixtures"]


_BATTERY_LINES = pytest.StashKey[list]()


@pytest.fixture
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

from __future__ import annotations

# The documented way to load the fixtures, plus pytester for the inner
# consumer-project runs in test_consumer_project.py.
pytest_plugins = ["icv_core.testing.fixtures", "pytester"]

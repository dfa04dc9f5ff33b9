from __future__ import annotations

pytest_plugins = ["icv_core.testing.fixtures"]

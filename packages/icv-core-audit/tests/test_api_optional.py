from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

SCRIPT = """
import sys
sys.modules["rest_framework"] = None  # as if DRF were not installed
import django
django.setup()
from django.core.management import call_command
import icv_core.audit.admin, icv_core.audit.models
import icv_core.audit.management.commands.icv_core_audit_archive
import icv_core.audit.management.commands.icv_core_audit_stats
assert "rest_framework" not in {m for m in sys.modules if sys.modules[m] is not None}
try:
    import icv_core.audit.api.urls
except ImportError:
    print("api needs drf")
print("ok")
"""


def test_the_part_works_without_drf():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["api needs drf", "ok"]

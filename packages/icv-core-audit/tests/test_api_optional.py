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
# The part itself works: checks, migrations, a logged event, the commands.
call_command("check", fail_level="ERROR")
call_command("migrate", verbosity=0)
from django.test.utils import override_settings
with override_settings(ICV_CORE_AUDIT_ENABLED=True):
    from icv_core.audit.services import log_event
    assert log_event("SYSTEM", "CUSTOM", description="no drf") is not None
import io, json
out = io.StringIO()
call_command("icv_core_audit_stats", "--format", "json", stdout=out)
assert json.loads(out.getvalue())["total"] == 1
call_command("icv_core_audit_verify", stdout=io.StringIO())
print("ok")
"""


def test_the_part_works_without_drf():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings",
        # Its own in-memory SQLite database: it migrates and writes.
        "DATABASE_URL": "",
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

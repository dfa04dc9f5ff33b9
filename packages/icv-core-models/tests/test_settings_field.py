from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from icv_core.checks import check_settings

TESTS = Path(__file__).resolve().parent


def test_custom_soft_delete_field_in_its_own_process():
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS),
        "DJANGO_SETTINGS_MODULE": "settings_custom_flag",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, str(TESTS / "_custom_flag_probe.py")],
        env=env,
        capture_output=True,
        text=True,
        cwd=TESTS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert "alive" in data["fields"] and "is_active" not in data["fields"]
    assert data["flag"] == "alive"
    assert data["alive"] is False
    assert data["visible"] == 0
    assert data["deleted"] == 1
    assert data["children_visible"] == 0
    assert data["bulk"] == 1
    assert data["children_after_restore"] == 1
    assert data["check_ids"] == []
    # The admin's status filter and QuerySet.update() use the custom name.
    assert data["filter_deleted"] == ["f-gone"]
    assert data["filter_active"] == ["f-live"]
    assert data["filter_all"] == ["f-gone", "f-live"]
    assert data["update_stamps"] is True
    assert data["update_clears"] is True
    # So does the conditional UPDATE of soft_delete() on a stale instance.
    assert data["stale_soft_delete"] == [False, False, True, True]


def test_changing_the_field_after_startup_is_error_e002(settings):
    settings.ICV_CORE_SOFT_DELETE_FIELD = "alive"
    errors = [m for m in check_settings() if m.id == "icv_core.E002"]
    assert len(errors) == 1
    assert "'alive'" in errors[0].msg and "'is_active'" in errors[0].msg


def test_invalid_field_name_is_error_e002(settings):
    for bad in ("not valid", "class", "deleted_at", 3, "_private"):
        settings.ICV_CORE_SOFT_DELETE_FIELD = bad
        ids = [m.id for m in check_settings()]
        assert "icv_core.E002" in ids, bad

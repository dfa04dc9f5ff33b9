from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import icv_core.uuid as icv_uuid
from icv_core.uuid import make_uuid, uuid7

TESTS = Path(__file__).resolve().parent


def test_make_uuid_defaults_to_version_4(settings):
    del settings.ICV_CORE_UUID_VERSION
    assert make_uuid().version == 4


def test_make_uuid_reads_the_setting_at_call_time(settings):
    settings.ICV_CORE_UUID_VERSION = 7
    assert make_uuid().version == 7
    settings.ICV_CORE_UUID_VERSION = 4
    assert make_uuid().version == 4


@pytest.mark.parametrize("bad", [1, 5, "7", 7.0, None, True])
def test_make_uuid_rejects_invalid_versions(settings, bad):
    settings.ICV_CORE_UUID_VERSION = bad
    with pytest.raises(ImproperlyConfigured, match="must be the integer 4 or 7"):
        make_uuid()


def test_uuid7_layout():
    value = uuid7()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    # The first 48 bits are the Unix time in milliseconds.
    import time

    now_ms = time.time_ns() // 1_000_000
    assert abs((value.int >> 80) - now_ms) < 5_000


def test_uuid7_strictly_increasing_in_a_tight_loop():
    ids = [uuid7() for _ in range(100_000)]
    assert all(a < b for a, b in zip(ids, ids[1:], strict=False))
    assert len(set(ids)) == 100_000
    assert all(value.version == 7 for value in ids[::1000])


def test_uuid7_string_order_matches_creation_order():
    ids = [uuid7() for _ in range(2_000)]
    assert [str(i) for i in ids] == sorted(str(i) for i in ids)


class _Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms * 1_000_000


def test_uuid7_survives_the_clock_stepping_back(monkeypatch):
    clock = _Clock(1_900_000_000_000)
    monkeypatch.setattr(icv_uuid, "_time_ns", clock)
    monkeypatch.setattr(icv_uuid, "_last_ms", 0)
    first = uuid7()
    clock.ms -= 60_000  # the wall clock jumps one minute back
    later = [uuid7() for _ in range(100)]
    assert all(first < value for value in later)
    assert all(a < b for a, b in zip(later, later[1:], strict=False))
    # The timestamp stays at the last one seen until the clock catches up.
    assert {value.int >> 80 for value in later} == {1_900_000_000_000}
    clock.ms += 120_000
    assert (uuid7().int >> 80) == 1_900_000_060_000


def test_uuid7_counter_overflow_advances_the_timestamp(monkeypatch):
    clock = _Clock(1_900_000_000_000)
    monkeypatch.setattr(icv_uuid, "_time_ns", clock)
    monkeypatch.setattr(icv_uuid, "_last_ms", 0)
    first = uuid7()
    monkeypatch.setattr(icv_uuid, "_counter", icv_uuid._COUNTER_MAX)
    after = uuid7()
    assert after > first
    assert (after.int >> 80) == 1_900_000_000_001


def test_uuid7_is_thread_safe():
    results: list[list[uuid.UUID]] = []

    def work():
        results.append([uuid7() for _ in range(5_000)])

    # Switch threads as often as possible to provoke races.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    flat = [value for chunk in results for value in chunk]
    assert len(set(flat)) == 20_000
    for chunk in results:
        assert chunk == sorted(chunk)
    # Every id has its own (timestamp, counter) pair: ids from all threads are
    # totally ordered, not only within each thread. (The standard library's
    # uuid7 advances them without a lock, which is why it is not used.)
    assert len({value.int >> 32 for value in flat}) == 20_000


def test_stdlib_uuid7_is_not_used():
    # Also on Python 3.14+, where uuid.uuid7 exists (see icv_core.uuid).
    assert icv_uuid.uuid7 is not getattr(uuid, "uuid7", None)


@pytest.mark.parametrize("version", ["4", "7"])
def test_changing_uuid_version_needs_no_migration(version):
    env = {
        "PYTHONPATH": str(TESTS),
        "DJANGO_SETTINGS_MODULE": "settings",
        "ICV_TEST_UUID_VERSION": version,
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemigrations", "--check", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        cwd=TESTS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout

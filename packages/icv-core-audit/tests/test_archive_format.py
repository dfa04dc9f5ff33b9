from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import uuid

import pytest
from django.core.files.storage import FileSystemStorage

from icv_core.audit import _archive


def _rows(n):
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(n):
        yield {
            "id": uuid.UUID(int=i + 1),
            "sequence": i + 1,
            "created_at": base + dt.timedelta(minutes=i),
            "prev_hash": f"p{i}",
            "entry_hash": f"h{i}",
            "metadata": {"n": i, "é": None},
        }


def test_write_batch_is_deterministic_and_manifest_describes_it():
    a, b = io.BytesIO(), io.BytesIO()
    m1 = _archive.write_batch(_rows(3), a, name="x.jsonl.gz")
    m2 = _archive.write_batch(_rows(3), b, name="x.jsonl.gz")
    assert a.getvalue() == b.getvalue()
    assert m1 == m2
    assert m1.row_count == 3
    assert m1.sha256 == hashlib.sha256(a.getvalue()).hexdigest()
    assert m1.first_id == str(uuid.UUID(int=1))
    assert m1.last_id == str(uuid.UUID(int=3))
    assert (m1.first_sequence, m1.last_sequence) == (1, 3)
    assert (m1.first_prev_hash, m1.last_entry_hash) == ("p0", "h2")
    assert m1.first_created_at == "2026-01-01T00:00:00+00:00"
    assert m1.last_created_at == "2026-01-01T00:02:00+00:00"
    lines = gzip.decompress(a.getvalue()).splitlines()
    assert json.loads(lines[0])["metadata"] == {"n": 0, "é": None}


def test_manifest_time_range_is_earliest_and_latest_not_first_and_last():
    rows = list(_rows(4))
    # Sealed late: the second entry in chain order is the oldest one.
    rows[1]["created_at"] = dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC)
    rows[2]["created_at"] = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    manifest = _archive.write_batch(iter(rows), io.BytesIO(), name="t.jsonl.gz")
    assert manifest.first_created_at == "2025-12-31T23:00:00+00:00"
    assert manifest.last_created_at == "2026-01-02T00:00:00+00:00"
    assert (manifest.first_id, manifest.last_id) == (
        str(uuid.UUID(int=1)),
        str(uuid.UUID(int=4)),
    )


def test_store_verify_and_detect_corruption(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    buf = _archive.spooled()
    m = _archive.write_batch(_rows(5), buf, name="p/audit.jsonl.gz")
    assert _archive.store(storage, m.name, buf, m.sha256) is True
    # Same content again: kept, not rewritten.
    assert _archive.store(storage, m.name, buf, m.sha256) is False
    _archive.store_manifest(storage, m)
    assert _archive.read_manifest(storage, m.name) == m
    _archive.verify_stored(storage, m)
    assert [r["sequence"] for r in _archive.iter_rows(storage, m.name)] == [
        1,
        2,
        3,
        4,
        5,
    ]

    path = tmp_path / "p" / "audit.jsonl.gz"
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(_archive.ArchiveError):
        _archive.verify_stored(storage, m)
    path.unlink()
    with pytest.raises(_archive.ArchiveError, match="does not exist"):
        _archive.verify_stored(storage, m)


def test_verify_detects_wrong_count_with_valid_gzip(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    buf = _archive.spooled()
    m = _archive.write_batch(_rows(2), buf, name="a.jsonl.gz")
    _archive.store(storage, m.name, buf, m.sha256)
    m.row_count = 3
    with pytest.raises(_archive.ArchiveError, match="holds 2 rows, expected 3"):
        _archive.verify_stored(storage, m)


def test_progress_line_and_duration():
    clock = iter([0.0, 10.0, 10.0]).__next__
    out = []
    p = _archive.Progress(out.append, 100, clock=clock, interval=5)
    p.advance(20)
    assert out == ["20/100 rows (20.0%), 2 rows/s, ETA 40s"]
    assert _archive.format_duration(3723) == "1h02m03s"
    assert _archive.format_duration(123) == "2m03s"

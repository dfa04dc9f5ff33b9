from __future__ import annotations

import gzip
import io
import json
import tracemalloc

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError
from ops_helpers import make_entries

from icv_core.audit import _archive
from icv_core.audit.management.commands import icv_core_audit_archive as archive_cmd
from icv_core.audit.models import AuditArchive, AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def archive_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_archive": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "archive")},
        },
    }
    settings.ICV_CORE_AUDIT_ARCHIVE_STORAGE = "audit_archive"
    settings.ICV_CORE_AUDIT_RETENTION_DAYS = 30
    return tmp_path / "archive"


def run(*args, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    call_command("icv_core_audit_archive", *args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def archived_ids():
    """Ids in every recorded archive file (with repetitions)."""
    storage = storages["audit_archive"]
    ids = []
    for record in AuditArchive.objects.order_by("first_sequence"):
        ids += [row["id"] for row in _archive.iter_rows(storage, record.path)]
    return ids


def assert_nothing_lost_or_duplicated(before_ids):
    remaining = [str(pk) for pk in AuditEntry.objects.values_list("pk", flat=True)]
    in_archives = archived_ids()
    assert len(in_archives) == len(set(in_archives)), "an entry is in two archives"
    assert not set(remaining) & set(in_archives), (
        "an entry is archived and still present"
    )
    assert sorted(remaining + in_archives) == sorted(before_ids)
    total = sum(AuditArchive.objects.values_list("row_count", flat=True))
    assert total == len(in_archives)


def all_ids():
    return [str(pk) for pk in AuditEntry.objects.values_list("pk", flat=True)]


def test_negative_or_huge_days_is_an_error():
    with pytest.raises(CommandError, match="--days must be 0 or a positive"):
        run("--days", "-1")
    with pytest.raises(CommandError, match="--days 999999999 is out of range"):
        run("--days", "999999999")


def test_bad_batch_size_and_storage_are_errors(settings):
    with pytest.raises(
        CommandError, match="batch size must be a positive integer, got 0"
    ):
        run("--batch-size", "0")
    settings.ICV_CORE_AUDIT_ARCHIVE_STORAGE = "nope"
    with pytest.raises(CommandError, match="'nope' is not a STORAGES alias"):
        run()


def test_archives_old_entries_in_batches_and_keeps_recent_ones(archive_storage):
    make_entries(25, age_days=100)
    make_entries(5, age_days=1)
    before = all_ids()

    out, err = run("--batch-size", "10", verbosity=1)

    assert AuditEntry.objects.count() == 5
    assert not AuditEntry.objects.filter(
        created_at__lt=AuditEntry.objects.order_by("created_at")[0].created_at
    ).exists()
    records = list(AuditArchive.objects.order_by("first_sequence"))
    assert [r.row_count for r in records] == [10, 10, 5]
    assert [(r.first_sequence, r.last_sequence) for r in records] == [
        (1, 10),
        (11, 20),
        (21, 25),
    ]
    assert all(r.completed_at is not None for r in records)
    assert [r.path for r in records] == [
        "icv_core_audit/archive/audit-000000000001-000000000010.jsonl.gz",
        "icv_core_audit/archive/audit-000000000011-000000000020.jsonl.gz",
        "icv_core_audit/archive/audit-000000000021-000000000025.jsonl.gz",
    ]
    assert_nothing_lost_or_duplicated(before)
    assert out.splitlines()[-1].startswith(
        "Archived 25 entries older than 30 day(s) into 3 file(s) "
        'in storage "audit_archive"'
    )
    # The manifest is stored next to each file and agrees with the database row.
    storage = storages["audit_archive"]
    for record in records:
        manifest = _archive.read_manifest(storage, record.path)
        assert manifest == archive_cmd.manifest_from_record(record) or (
            manifest.sha256 == record.sha256
            and manifest.row_count == record.row_count
            and manifest.first_sequence == record.first_sequence
            and manifest.last_entry_hash == record.last_entry_hash
        )
    first_line = json.loads(
        gzip.decompress((archive_storage / records[0].path).read_bytes()).splitlines()[
            0
        ]
    )
    assert first_line["sequence"] == 1
    assert first_line["description"] == "entry 0"
    assert set(first_line) == set(archive_cmd.entry_fields())


def test_days_zero_archives_everything():
    make_entries(7, age_days=0.01)
    out, _ = run("--days", "0", verbosity=0)
    assert out == ""
    assert AuditEntry.objects.count() == 0
    assert AuditArchive.objects.get().row_count == 7


def test_only_a_prefix_of_the_chain_is_archived():
    # An old entry sealed after a recent one stays: archiving never leaves a
    # hole in the chain.
    make_entries(3, age_days=100)
    make_entries(1, age_days=1)
    from icv_core.audit import chain

    chain.seal_pending()
    make_entries(2, age_days=100)
    run(verbosity=0)
    assert AuditEntry.objects.count() == 3
    assert AuditArchive.objects.get().row_count == 3


def test_dry_run_reports_and_changes_nothing(archive_storage):
    make_entries(12, age_days=100)
    make_entries(3, age_days=1)
    from icv_core.audit import chain

    chain.seal_pending()
    out, _ = run("--dry-run", "--batch-size", "5")
    assert out.startswith("Dry run: 12 entries older than 30 day(s) (created before ")
    assert out.rstrip().endswith(
        'would be archived in 3 file(s) to storage "audit_archive" under '
        '"icv_core_audit/archive/".'
    )
    assert AuditEntry.objects.count() == 15
    assert not AuditArchive.objects.exists()
    assert not archive_storage.exists()


def test_quiet_at_verbosity_zero_and_progress_at_two():
    make_entries(6, age_days=100)
    out, err = run("--batch-size", "2", verbosity=0)
    assert (out, err) == ("", "")
    make_entries(6, age_days=90)
    out, _ = run("--batch-size", "2", verbosity=2)
    lines = out.splitlines()
    assert lines[0].startswith("2/6 rows (33.3%), ")
    assert lines[2].startswith("6/6 rows (100.0%), ")
    assert " rows/s, ETA " in lines[0]
    assert lines[3].startswith("Archived 6 entries")


def test_nothing_to_archive_message():
    make_entries(2, age_days=1)
    out, _ = run()
    assert (
        out == "No entries older than 30 day(s) to archive "
        "(sealed 2 pending entries first).\n"
    )


class CrashError(Exception):
    pass


@pytest.fixture(scope="module")
def fault_tally(battery_tally):
    return battery_tally(
        "B9 archive faults ({vendor}): rows before = remaining + archived in "
        "{passed}/{tried} fault scenarios (crash after write, manifest, verify, "
        "mid-delete, after delete, after commit; re-run with another batch size; "
        "corrupted file); 0 lost, 0 duplicated after re-run"
    )


@pytest.fixture
def fault_case(request, fault_tally):
    yield from fault_tally.follow(request)


@pytest.mark.usefixtures("fault_case")
@pytest.mark.parametrize(
    "point",
    [
        "after_write",
        "after_manifest",
        "after_verify",
        "mid_delete",
        "after_delete",
        "after_commit",
    ],
)
def test_crash_at_each_step_loses_and_duplicates_nothing(monkeypatch, point):
    make_entries(35, age_days=100)
    before = all_ids()
    batches = {"n": 0}

    def fault(where):
        # Let the first batch complete, crash in the second one.
        if where == "after_write":
            batches["n"] += 1
        if where == point and batches["n"] == 2:
            raise CrashError(where)

    monkeypatch.setattr(archive_cmd, "_fault", fault)
    monkeypatch.setattr(archive_cmd, "DELETE_CHUNK", 4)
    with pytest.raises(CrashError):
        run("--batch-size", "10", verbosity=0)
    # Inside a batch's transaction the crash undoes the batch; after its
    # commit the batch stands.
    done = 2 if point == "after_commit" else 1
    assert AuditArchive.objects.count() == done
    assert AuditEntry.objects.count() == 35 - 10 * done
    assert_nothing_lost_or_duplicated(before)

    monkeypatch.setattr(archive_cmd, "_fault", lambda where: None)
    run("--batch-size", "10", verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert AuditArchive.objects.count() == 4
    assert_nothing_lost_or_duplicated(before)


@pytest.mark.usefixtures("fault_case")
def test_rerun_with_other_batch_size_after_crash(monkeypatch):
    make_entries(20, age_days=100)
    before = all_ids()

    def fault(where):
        if where == "after_verify":
            raise CrashError(where)

    monkeypatch.setattr(archive_cmd, "_fault", fault)
    with pytest.raises(CrashError):
        run("--batch-size", "10", verbosity=0)
    monkeypatch.setattr(archive_cmd, "_fault", lambda where: None)
    run("--batch-size", "7", verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert [r.row_count for r in AuditArchive.objects.order_by("first_sequence")] == [
        7,
        7,
        6,
    ]
    assert_nothing_lost_or_duplicated(before)


@pytest.mark.usefixtures("fault_case")
def test_corrupted_file_is_detected_before_delete_and_rewritten(
    monkeypatch, archive_storage
):
    make_entries(4, age_days=100)
    before = all_ids()

    def corrupt(where):
        if where == "after_write":
            path = next(archive_storage.rglob("*.jsonl.gz"))
            path.write_bytes(path.read_bytes()[:-5])

    monkeypatch.setattr(archive_cmd, "_fault", corrupt)
    with pytest.raises(CommandError, match="Nothing was deleted"):
        run(verbosity=0)
    assert AuditEntry.objects.count() == 4
    assert not AuditArchive.objects.exists()

    monkeypatch.setattr(archive_cmd, "_fault", lambda where: None)
    run(verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert_nothing_lost_or_duplicated(before)


def test_list_cat_and_restore():
    make_entries(5, age_days=100)
    from icv_core.audit import chain

    chain.seal_pending()
    rows_before = {
        str(e["id"]): e
        for e in AuditEntry.objects.values(
            "id", "description", "sequence", "entry_hash"
        )
    }
    run("--batch-size", "3", verbosity=0)
    records = list(AuditArchive.objects.order_by("first_sequence"))

    out, _ = run("--list")
    lines = out.splitlines()
    assert lines[0].split() == ["id", "path", "rows", "sequence", "created", "sha256"]
    assert len(lines) == 3
    assert records[0].path in lines[1] and " 3 " in lines[1]

    out, _ = run("--cat", records[1].path)
    cat_rows = [json.loads(line) for line in out.splitlines()]
    assert [r["sequence"] for r in cat_rows] == [4, 5]
    out_by_id, _ = run("--cat", str(records[1].pk))
    assert out_by_id == out

    out, _ = run("--restore", records[0].path)
    assert (
        out
        == f"Restored 3 entries from {records[0].path} (0 already present, skipped).\n"
    )
    out, _ = run("--restore", records[0].path)
    assert (
        out
        == f"Restored 0 entries from {records[0].path} (3 already present, skipped).\n"
    )
    restored = {
        str(e["id"]): e
        for e in AuditEntry.objects.values(
            "id", "description", "sequence", "entry_hash"
        )
    }
    assert len(restored) == 3
    for pk, row in restored.items():
        assert rows_before[pk] == row

    with pytest.raises(CommandError, match="No recorded archive 'missing'"):
        run("--cat", "missing")


def test_restore_refuses_a_tampered_file(archive_storage):
    make_entries(2, age_days=100)
    run(verbosity=0)
    record = AuditArchive.objects.get()
    path = archive_storage / record.path
    data = gzip.decompress(path.read_bytes()).replace(b"entry 0", b"entry X")
    path.write_bytes(gzip.compress(data))
    with pytest.raises(CommandError, match="SHA-256"):
        run("--restore", record.path)
    assert AuditEntry.objects.count() == 0


def test_rearchiving_restored_entries_reuses_the_record():
    make_entries(3, age_days=100)
    run(verbosity=0)
    record = AuditArchive.objects.get()
    run("--restore", record.path, verbosity=0)
    assert AuditEntry.objects.count() == 3
    run(verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert AuditArchive.objects.count() == 1


def test_rearchiving_restored_entries_with_another_batch_size_reuses_the_records():
    from icv_core.audit import chain

    make_entries(6, age_days=100)
    run("--batch-size", "3", verbosity=0)
    records = list(AuditArchive.objects.order_by("first_sequence"))
    assert [(r.first_sequence, r.last_sequence) for r in records] == [(1, 3), (4, 6)]
    for record in records:
        run("--restore", record.path, verbosity=0)
    assert AuditEntry.objects.count() == 6
    # A larger batch must not write a third archive holding the same entries.
    run("--batch-size", "10", verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert sorted(AuditArchive.objects.values_list("path", flat=True)) == sorted(
        r.path for r in records
    )
    assert len(archived_ids()) == len(set(archived_ids())) == 6
    assert chain.verify(archives=True).ok


def test_restored_entries_past_the_cut_off_are_refused_not_split():
    make_entries(2, age_days=100)
    make_entries(2, age_days=1)
    run("--days", "0", verbosity=0)
    record = AuditArchive.objects.get()
    assert (record.first_sequence, record.last_sequence) == (1, 4)
    run("--restore", record.path, verbosity=0)
    # Only the two old entries are past a 30-day cut-off: the archive they
    # came back from cannot be split, so nothing moves.
    with pytest.raises(CommandError, match="not all older than the cut-off"):
        run("--days", "30", verbosity=0)
    assert AuditEntry.objects.count() == 4
    assert AuditArchive.objects.count() == 1
    run("--days", "0", verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert AuditArchive.objects.count() == 1


def _peak_archiving(n):
    from icv_core.audit import chain

    make_entries(n, age_days=100, batch=10000)
    # Sealing has its own batching; measure the archive command's own memory.
    chain.seal_pending()
    tracemalloc.start()
    try:
        run("--batch-size", "2000", verbosity=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert AuditEntry.objects.count() == 0
    assert sum(AuditArchive.objects.values_list("row_count", flat=True)) == n
    return peak


@pytest.mark.slow
def test_memory_stays_flat_as_the_table_grows():
    small = _peak_archiving(50_000)
    AuditArchive.objects.all().delete()
    large = _peak_archiving(200_000)
    # Four times the rows may not need noticeably more memory.
    assert large < small * 1.25 + 2 * 1024 * 1024, (small, large)


def test_chain_still_verifies_after_archiving_and_manifest_has_boundaries():
    from icv_core.audit import chain

    make_entries(12, age_days=100)
    make_entries(4, age_days=1)
    chain.seal_pending()
    boundary = AuditEntry.objects.get(sequence=10)
    first = AuditEntry.objects.get(sequence=1)
    run("--batch-size", "5", verbosity=0)
    records = list(AuditArchive.objects.order_by("first_sequence"))
    assert [r.row_count for r in records] == [5, 5, 2]
    assert records[0].first_prev_hash == first.prev_hash
    assert records[1].last_entry_hash == boundary.entry_hash
    # Consecutive archives link up.
    for older, newer in zip(records, records[1:], strict=False):
        assert older.last_sequence + 1 == newer.first_sequence
        assert older.last_entry_hash == newer.first_prev_hash
    report = chain.verify()
    assert report.ok, report.first_break
    assert report.start_from_archive
    assert report.checked == 4


def _archived_chain(batch_size="5"):
    from icv_core.audit import chain

    make_entries(12, age_days=100)
    make_entries(3, age_days=1)
    chain.seal_pending()
    kept_head = chain.head()
    run("--batch-size", batch_size, verbosity=0)
    return kept_head


def verify(*args):
    out = io.StringIO()
    call_command("icv_core_audit_verify", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_verify_archives_rehashes_every_archived_entry(tmp_path):
    from icv_core.audit import chain

    _archived_chain()
    report = chain.verify(archives=True)
    assert report.ok, report.first_break
    assert (report.archives_checked, report.archived_entries_checked) == (3, 12)
    assert report.checked == 3
    out = verify("--archives")
    assert "Archives intact: 3 archives, 12 archived entries checked." in out
    assert "Audit chain intact: 3 entries checked" in out
    # Without --archives the archive records are trusted, and it says so.
    assert "run with --archives" in verify()


def test_verify_archives_checks_a_kept_head_inside_an_archive(tmp_path):
    from icv_core.audit import chain

    make_entries(6, age_days=100)
    chain.seal_pending()
    kept = chain.head()
    make_entries(2, age_days=100)
    run("--batch-size", "4", verbosity=0)
    assert chain.verify(expect_head=kept).notes[0].startswith("The kept head")
    report = chain.verify(expect_head=kept, archives=True)
    assert report.ok and report.expected_head_checked
    forged = chain.ChainHead(kept.sequence, "f" * 64)
    report = chain.verify(expect_head=forged, archives=True)
    assert report.first_break.kind == "head_mismatch"


@pytest.mark.parametrize(
    "tamper, kind",
    [
        ("missing_file", "archive_missing"),
        ("flipped_byte", "archive_checksum"),
        ("forged_file", "archive_hash_mismatch"),
        ("removed_record", "archive_gap"),
        ("relinked_record", "archive_link_mismatch"),
        ("shortened_record", "archive_boundary"),
    ],
)
def test_verify_archives_detects_tampering(archive_storage, tamper, kind):
    from icv_core.audit import chain

    _archived_chain()
    records = list(AuditArchive.objects.order_by("first_sequence"))
    middle = records[1]
    path = archive_storage / middle.path
    if tamper == "missing_file":
        path.unlink()
    elif tamper == "flipped_byte":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    elif tamper == "forged_file":
        # A consistent file and record with one archived entry changed.
        lines = [
            json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()
        ]
        lines[2]["description"] = "nothing to see"
        raw = gzip.compress(
            b"".join(_archive.dumps_line(row) for row in lines), mtime=0
        )
        path.write_bytes(raw)
        import hashlib

        AuditArchive.objects.filter(pk=middle.pk).update(
            sha256=hashlib.sha256(raw).hexdigest()
        )
    elif tamper == "removed_record":
        AuditArchive.objects.filter(pk=middle.pk).delete()
    elif tamper == "relinked_record":
        AuditArchive.objects.filter(pk=middle.pk).update(first_prev_hash="e" * 64)
    elif tamper == "shortened_record":
        AuditArchive.objects.filter(pk=middle.pk).update(
            last_sequence=middle.last_sequence - 1
        )
    # The table walk alone trusts the records (except where the newest moved).
    report = chain.verify(archives=True)
    assert not report.ok
    assert report.first_break.kind == kind, report.first_break
    with pytest.raises(CommandError) as excinfo:
        verify("--archives")
    assert excinfo.value.returncode == 1
    assert f"BROKEN ({kind})" in str(excinfo.value)


def test_forged_archive_record_replacing_live_rows_is_detected():
    """Delete the oldest live rows and record a fake archive covering them."""
    from django.db import transaction

    from icv_core.audit import chain
    from icv_core.audit.models import _bypass_immutability

    make_entries(8, age_days=1)
    chain.seal_pending()
    fourth = AuditEntry.objects.get(sequence=4)
    with transaction.atomic(), _bypass_immutability():
        AuditEntry.objects.filter(sequence__lte=4)._raw_delete("default")
    AuditArchive.objects.create(
        storage_alias="audit_archive",
        path="forged.jsonl.gz",
        row_count=4,
        first_sequence=1,
        last_sequence=4,
        first_prev_hash=chain.GENESIS_HASH,
        last_entry_hash=fourth.entry_hash,
        sha256="0" * 64,
    )
    assert chain.verify().ok  # the records alone are trusted
    report = chain.verify(archives=True)
    assert report.first_break.kind == "archive_missing"


def test_any_storage_backend_and_the_prefix_setting(settings):
    """In-memory storage (no file system) with a custom prefix."""
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_memory": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    settings.ICV_CORE_AUDIT_ARCHIVE_STORAGE = "audit_memory"
    settings.ICV_CORE_AUDIT_ARCHIVE_PREFIX = "vault/audit/"
    make_entries(5, age_days=100)
    before = all_ids()
    run("--batch-size", "3", verbosity=0)
    records = list(AuditArchive.objects.order_by("first_sequence"))
    assert [r.storage_alias for r in records] == ["audit_memory"] * 2
    assert all(r.path.startswith("vault/audit/") for r in records)
    storage = storages["audit_memory"]
    for record in records:
        assert storage.exists(record.path)
        assert storage.exists(_archive.manifest_name(record.path))
    ids = []
    for record in records:
        ids += [row["id"] for row in _archive.iter_rows(storage, record.path)]
    assert sorted(ids) == sorted(before)
    from icv_core.audit import chain

    assert chain.verify(archives=True).ok


def test_negative_retention_setting_is_an_error(settings):
    settings.ICV_CORE_AUDIT_RETENTION_DAYS = -5
    make_entries(2, age_days=100)
    with pytest.raises(CommandError, match="RETENTION_DAYS"):
        run()
    assert AuditEntry.objects.count() == 2


def test_rearchiving_restored_entries_checks_the_archives_own_storage(
    settings, tmp_path
):
    make_entries(3, age_days=100)
    run(verbosity=0)
    record = AuditArchive.objects.get()
    run("--restore", record.path, verbosity=0)
    # New archives now go elsewhere; the restored entries go back to theirs.
    settings.STORAGES = {
        **settings.STORAGES,
        "elsewhere": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "elsewhere")},
        },
    }
    settings.ICV_CORE_AUDIT_ARCHIVE_STORAGE = "elsewhere"
    run(verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert list(AuditArchive.objects.values_list("storage_alias", flat=True)) == [
        "audit_archive"
    ]
    assert not (tmp_path / "elsewhere").exists()


def test_verify_archives_reports_an_unconfigured_storage(settings):
    from icv_core.audit import chain

    make_entries(3, age_days=100)
    run(verbosity=0)
    settings.STORAGES = {
        k: v for k, v in settings.STORAGES.items() if k != "audit_archive"
    }
    report = chain.verify(archives=True)
    assert report.first_break.kind == "archive_missing"
    assert "'audit_archive'" in report.first_break.message

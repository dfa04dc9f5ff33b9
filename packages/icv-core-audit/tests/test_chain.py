"""The hash chain: sealing, verification, tampering, archive boundary, commands."""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from integrity_helpers import BASE_TIME, make_entries, pk_param, tamper

from icv_core.audit import chain
from icv_core.audit.models import AuditArchive, AuditEntry, _bypass_immutability

pytestmark = pytest.mark.django_db

TABLE = "icv_core_auditentry"


def brk(report: chain.VerifyReport) -> chain.ChainBreak:
    assert report.first_break is not None, "expected a break"
    return report.first_break


def hd(report: chain.VerifyReport) -> chain.ChainHead:
    assert report.head is not None, "expected a head"
    return report.head


def sealed_rows() -> list[dict]:
    return list(
        AuditEntry.objects.filter(sequence__isnull=False)
        .order_by("sequence")
        .values("id", "sequence", "prev_hash", "entry_hash", "description")
    )


# --- canonical serialisation ----------------------------------------------


def test_canonical_bytes_are_sorted_compact_utf8_json():
    entry_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    values = {
        "id": entry_id,
        "created_at": datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
        "event_type": "DATA",
        "action": "CREATE",
        "username": "zoë",
        "ip_address": "10.0.0.1",
        "user_agent": "UA",
        "request_id": "r1",
        "target_content_type_id": None,
        "target_object_id": None,
        "description": "d",
        "metadata": {"b": 1, "a": [None, 1.5]},
        "user_id": None,  # not hashed: it may become NULL
        "user_ref": "42",
    }
    data = chain.canonical_bytes(values, 7, "ab" * 32)
    assert (
        data
        == (
            '{"action":"CREATE","created_at":"2026-01-02T03:04:05.000006+00:00",'
            '"description":"d","event_type":"DATA",'
            '"id":"12345678-1234-5678-1234-567812345678","ip_address":"10.0.0.1",'
            '"metadata":{"a":[null,1.5],"b":1},"prev_hash":"' + "ab" * 32 + '",'
            '"request_id":"r1","sequence":7,"target_object_id":null,"target_type":null,'
            '"user_agent":"UA","user_ref":"42","username":"zoë","v":2}'
        ).encode()
    )
    assert (
        chain.compute_entry_hash(values, 7, "ab" * 32)
        == hashlib.sha256(data).hexdigest()
    )


def test_canonical_bytes_name_the_content_type_not_its_id():
    user = get_user_model().objects.create(username="t")
    entry = AuditEntry.objects.create(event_type="DATA", action="CREATE", target=user)
    values = AuditEntry.objects.filter(pk=entry.pk).values(*chain.CHAIN_FIELDS).get()
    assert b'"target_type":"auth.user"' in chain.canonical_bytes(
        values, 1, chain.GENESIS_HASH
    )
    assert f'"target_object_id":"{user.pk}"'.encode() in chain.canonical_bytes(
        values, 1, chain.GENESIS_HASH
    )


# --- sealing ----------------------------------------------------------------


def test_entries_are_written_unsealed():
    (entry,) = make_entries(1)
    entry.refresh_from_db()
    assert (entry.sequence, entry.prev_hash, entry.entry_hash) == (None, None, None)
    assert not entry.is_sealed
    assert chain.head() is None


def test_seal_pending_links_entries_in_created_at_order():
    late, early = (
        AuditEntry.objects.create(
            event_type="DATA", action="CREATE", created_at=BASE_TIME + delta
        )
        for delta in (datetime.timedelta(hours=1), datetime.timedelta(0))
    )
    assert chain.seal_pending() == 2
    rows = sealed_rows()
    assert [r["id"] for r in rows] == [early.pk, late.pk]
    assert [r["sequence"] for r in rows] == [1, 2]
    assert rows[0]["prev_hash"] == chain.GENESIS_HASH
    assert rows[1]["prev_hash"] == rows[0]["entry_hash"]
    assert chain.head() == chain.ChainHead(2, rows[1]["entry_hash"], str(late.pk))
    assert chain.seal_pending() == 0


def test_seal_pending_continues_the_chain_in_batches():
    make_entries(5)
    assert chain.seal_pending(batch_size=2) == 5
    make_entries(3, start=BASE_TIME + datetime.timedelta(days=1))
    assert chain.seal_pending(batch_size=2, limit=2) == 2
    assert AuditEntry.objects.unsealed().count() == 1
    assert chain.seal_pending() == 1
    rows = sealed_rows()
    assert [r["sequence"] for r in rows] == list(range(1, 9))
    for before, after in zip(rows, rows[1:], strict=False):
        assert after["prev_hash"] == before["entry_hash"]
    assert chain.verify().ok


def test_seal_pending_rejects_a_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        chain.seal_pending(batch_size=0)


def test_seal_costs_a_constant_number_of_queries(django_assert_num_queries):
    make_entries(10)
    # Per batch: savepoint, lock, head (entry + archive), select, one
    # executemany UPDATE, release. The short second batch ends the loop.
    with django_assert_num_queries(14):
        assert chain.seal_pending(batch_size=6) == 10


# --- verification -------------------------------------------------------------


def test_verify_intact_chain():
    entries = make_entries(4)
    report = chain.verify()
    assert report.ok
    assert report.sealed == 4
    assert report.checked == 4
    assert report.first_break is None
    assert hd(report).sequence == 4
    assert hd(report).entry_id == str(entries[-1].pk)


def test_verify_empty_table():
    report = chain.verify()
    assert report.ok
    assert report.checked == 0
    assert report.head is None


def test_verify_streams_with_a_constant_number_of_queries(django_assert_num_queries):
    make_entries(3)
    chain.seal_pending()
    with django_assert_num_queries(4) as small:
        assert chain.verify(seal=False, chunk_size=2).checked == 3
    make_entries(30, start=BASE_TIME + datetime.timedelta(days=1))
    chain.seal_pending()
    with django_assert_num_queries(len(small.captured_queries)):
        assert chain.verify(seal=False, chunk_size=2).checked == 33


def test_verify_seals_first_and_reports_unsealed_when_asked_not_to():
    make_entries(2)
    report = chain.verify(seal=False)
    assert report.ok
    assert (report.checked, report.unsealed) == (0, 2)


def test_user_deletion_keeps_the_chain_intact():
    user = get_user_model().objects.create(username="alice")
    make_entries(2, user=user)
    chain.seal_pending()
    user.delete()
    assert list(AuditEntry.objects.values_list("user_id", "username")) == [
        (None, "alice"),
        (None, "alice"),
    ]
    assert chain.verify().ok


# --- tampering: each case is detected -----------------------------------------------


@pytest.fixture(scope="module")
def tamper_tally(battery_tally):
    return battery_tally(
        "B12 tamper evidence ({vendor}): {passed}/{tried} mutations detected "
        "(flipped byte, metadata, timestamp, re-attributed user, deleted rows, "
        "swapped rows and contents, truncated and rewritten tail); a truncated "
        "tail passes without "
        "a kept head and is detected with one (asserted)"
    )


@pytest.fixture
def tampering(request, tamper_tally):
    yield from tamper_tally.follow(request)


@pytest.mark.usefixtures("tampering")
def test_flipped_byte_in_description_is_detected():
    entries = make_entries(5)
    chain.seal_pending()
    victim = entries[2]
    assert (
        tamper(
            f"UPDATE {TABLE} SET description = %s WHERE id = %s",
            ["entry 3", pk_param(AuditEntry, victim.pk)],
        )
        == 1
    )
    report = chain.verify()
    assert not report.ok
    assert brk(report).kind == "hash_mismatch"
    assert brk(report).entry_id == str(victim.pk)
    assert brk(report).sequence == 3
    assert report.checked == 2


@pytest.mark.usefixtures("tampering")
def test_entry_pointed_at_another_user_is_detected():
    user_model = get_user_model()
    alice = user_model.objects.create(username="alice")
    mallory = user_model.objects.create(username="mallory")
    entries = make_entries(3, user=alice)
    assert {e.user_ref for e in entries} == {str(alice.pk)}
    chain.seal_pending()
    victim = entries[1]
    tamper(
        f"UPDATE {TABLE} SET user_id = %s WHERE id = %s",
        [mallory.pk, pk_param(AuditEntry, victim.pk)],
    )
    report = chain.verify()
    assert brk(report).kind == "user_mismatch"
    assert (brk(report).sequence, brk(report).entry_id) == (2, str(victim.pk))
    # The allowed change (the user deleted: NULL) still verifies.
    alice.delete()
    tamper(
        f"UPDATE {TABLE} SET user_id = NULL WHERE id = %s",
        [pk_param(AuditEntry, victim.pk)],
    )
    assert chain.verify().ok
    # Rewriting the hashed reference as well breaks the hash instead.
    tamper(
        f"UPDATE {TABLE} SET user_id = %s, user_ref = %s WHERE id = %s",
        [mallory.pk, str(mallory.pk), pk_param(AuditEntry, victim.pk)],
    )
    assert brk(chain.verify()).kind == "hash_mismatch"


@pytest.mark.usefixtures("tampering")
def test_changed_metadata_is_detected():
    entries = make_entries(3)
    chain.seal_pending()
    tamper(
        f"UPDATE {TABLE} SET metadata = %s WHERE id = %s",
        ['{"n": 100}', pk_param(AuditEntry, entries[0].pk)],
    )
    report = chain.verify()
    assert (brk(report).kind, brk(report).sequence) == (
        "hash_mismatch",
        1,
    )


@pytest.mark.usefixtures("tampering")
def test_changed_created_at_is_detected():
    entries = make_entries(3)
    chain.seal_pending()
    field = AuditEntry._meta.get_field("created_at")
    backdated = field.get_db_prep_value(
        BASE_TIME - datetime.timedelta(days=9), connection
    )
    tamper(
        f"UPDATE {TABLE} SET created_at = %s WHERE id = %s",
        [backdated, pk_param(AuditEntry, entries[1].pk)],
    )
    report = chain.verify()
    assert brk(report).kind == "hash_mismatch"
    assert brk(report).entry_id == str(entries[1].pk)


@pytest.mark.usefixtures("tampering")
def test_deleted_row_is_detected():
    entries = make_entries(5)
    chain.seal_pending()
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [pk_param(AuditEntry, entries[2].pk)])
    report = chain.verify()
    assert not report.ok
    assert brk(report).kind == "gap"
    assert brk(report).sequence == 4
    assert brk(report).entry_id == str(entries[3].pk)
    assert "3..3 are missing" in brk(report).message


@pytest.mark.usefixtures("tampering")
def test_deleted_first_row_is_detected():
    entries = make_entries(3)
    chain.seal_pending()
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [pk_param(AuditEntry, entries[0].pk)])
    report = chain.verify()
    assert brk(report).kind == "missing_start"
    assert brk(report).entry_id == str(entries[1].pk)


@pytest.mark.usefixtures("tampering")
def test_swapped_rows_are_detected():
    entries = make_entries(4)
    chain.seal_pending()
    a, b = entries[1], entries[2]
    # Swap the two rows' positions in the chain (sequence and chain values).
    values = {
        r["id"]: r
        for r in AuditEntry.objects.filter(pk__in=[a.pk, b.pk]).values(
            "id", "sequence", "prev_hash", "entry_hash"
        )
    }
    tamper(
        f"UPDATE {TABLE} SET sequence = -sequence WHERE id IN (%s, %s)",
        [pk_param(AuditEntry, a.pk), pk_param(AuditEntry, b.pk)],
    )
    for mine, theirs in ((a, b), (b, a)):
        other = values[theirs.pk]
        tamper(
            f"UPDATE {TABLE} SET sequence = %s, prev_hash = %s, entry_hash = %s "
            f"WHERE id = %s",
            [
                other["sequence"],
                other["prev_hash"],
                other["entry_hash"],
                pk_param(AuditEntry, mine.pk),
            ],
        )
    report = chain.verify()
    assert not report.ok
    assert brk(report).sequence == 2
    assert brk(report).entry_id == str(b.pk)


@pytest.mark.usefixtures("tampering")
def test_swapped_contents_are_detected():
    entries = make_entries(3)
    chain.seal_pending()
    tamper(
        f"UPDATE {TABLE} SET description = CASE WHEN id = %s THEN 'entry 1' "
        f"ELSE 'entry 0' END WHERE id IN (%s, %s)",
        [
            pk_param(AuditEntry, entries[0].pk),
            pk_param(AuditEntry, entries[0].pk),
            pk_param(AuditEntry, entries[1].pk),
        ],
    )
    report = chain.verify()
    assert (brk(report).kind, brk(report).sequence) == (
        "hash_mismatch",
        1,
    )


@pytest.mark.usefixtures("tampering")
def test_truncated_tail_is_detected_against_a_kept_head():
    entries = make_entries(5)
    kept = hd(chain.verify())
    for entry in entries[3:]:
        tamper(f"DELETE FROM {TABLE} WHERE id = %s", [pk_param(AuditEntry, entry.pk)])
    # Without the kept head a clean truncation is invisible...
    assert chain.verify().ok
    # ...with it, it is not.
    report = chain.verify(expect_head=kept)
    assert not report.ok
    assert brk(report).kind == "truncated"
    assert brk(report).sequence == 4
    assert "2 entries were removed" in brk(report).message


@pytest.mark.usefixtures("tampering")
def test_rewritten_tail_is_detected_against_a_kept_head():
    make_entries(3)
    kept = hd(chain.verify())
    forged = chain.ChainHead(kept.sequence, "f" * 64)
    report = chain.verify(expect_head=forged.to_dict())
    assert brk(report).kind == "head_mismatch"
    assert brk(report).sequence == 3


def test_a_growing_chain_still_matches_an_older_kept_head():
    make_entries(3)
    kept = hd(chain.verify())
    make_entries(2, start=BASE_TIME + datetime.timedelta(days=1))
    report = chain.verify(expect_head=kept)
    assert report.ok
    assert report.expected_head_checked
    assert hd(report).sequence == 5


# --- archive boundary ------------------------------------------------------------


def archive_first(count: int) -> AuditArchive:
    """Simulate the archive command: record the boundary, then delete the rows."""
    rows = sealed_rows()[:count]
    archive = AuditArchive.objects.create(
        storage_alias="default",
        path="test.jsonl.gz",
        row_count=count,
        first_sequence=rows[0]["sequence"],
        last_sequence=rows[-1]["sequence"],
        first_prev_hash=rows[0]["prev_hash"],
        last_entry_hash=rows[-1]["entry_hash"],
        first_entry_id=rows[0]["id"],
        last_entry_id=rows[-1]["id"],
        sha256="0" * 64,
    )
    with transaction.atomic(), _bypass_immutability():
        AuditEntry.objects.filter(pk__in=[r["id"] for r in rows]).delete()
    return archive


def test_verify_starts_after_the_newest_archive_boundary():
    make_entries(6)
    chain.seal_pending()
    archive_first(4)
    report = chain.verify()
    assert report.ok
    assert report.start_from_archive
    assert (report.start_sequence, report.checked) == (5, 2)


def test_verify_skips_archived_rows_not_yet_deleted():
    make_entries(4)
    chain.seal_pending()
    rows = sealed_rows()
    AuditArchive.objects.create(
        storage_alias="default",
        path="p",
        row_count=2,
        last_sequence=2,
        last_entry_hash=rows[1]["entry_hash"],
        sha256="0" * 64,
    )
    report = chain.verify()
    assert report.ok
    assert (report.archived_in_table, report.checked) == (2, 2)


def test_gap_after_the_archive_boundary_is_detected():
    entries = make_entries(6)
    chain.seal_pending()
    archive_first(2)
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [pk_param(AuditEntry, entries[2].pk)])
    report = chain.verify()
    assert brk(report).kind == "missing_start"
    assert "3..3" in brk(report).message


def test_sealing_continues_from_the_archive_when_the_table_is_empty():
    make_entries(3)
    chain.seal_pending()
    archive = archive_first(3)
    assert AuditEntry.objects.count() == 0
    assert chain.head() == chain.ChainHead(
        3, archive.last_entry_hash, str(archive.last_entry_id)
    )
    (entry,) = make_entries(1, start=BASE_TIME + datetime.timedelta(days=2))
    report = chain.verify()
    assert report.ok
    entry.refresh_from_db()
    assert (entry.sequence, entry.prev_hash) == (4, archive.last_entry_hash)


# --- head files -------------------------------------------------------------------


def test_head_round_trips_through_a_file(tmp_path):
    head = chain.ChainHead(12, "a" * 64, "x")
    path = tmp_path / "head.json"
    head.dump(path)
    assert json.loads(path.read_text())["format"] == "icv-core-audit-head/1"
    assert chain.ChainHead.load(path) == head


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"sequence": "1", "entry_hash": "a" * 64},
        {"sequence": 1, "entry_hash": "a"},
        [],
    ],
)
def test_malformed_heads_are_rejected(data):
    with pytest.raises(ValueError):
        chain.ChainHead.from_dict(data)


# --- commands ---------------------------------------------------------------------


def _command(*args, **options):
    """Run a command into its own stream (a per-test capture stream, once
    closed, makes the command's OutputWrapper warn when collected later)."""
    import io

    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_seal_command():
    make_entries(3)
    out = _command("icv_core_audit_seal")
    assert out.startswith("Sealed 3 entries; head at sequence 3 (")
    assert _command("icv_core_audit_seal", verbosity=0) == ""


def test_seal_command_rejects_a_bad_batch_size():
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("icv_core_audit_seal", batch_size=0)


def test_verify_command_reports_an_intact_chain():
    make_entries(2)
    out = _command("icv_core_audit_verify")
    assert "Sealed 2 pending entries." in out
    assert "Audit chain intact: 2 entries checked; head at sequence 2" in out


def test_verify_command_is_quiet_at_verbosity_0():
    make_entries(2)
    assert _command("icv_core_audit_verify", verbosity=0) == ""


def test_verify_command_fails_with_status_1_on_a_break():
    entries = make_entries(3)
    chain.seal_pending()
    tamper(
        f"UPDATE {TABLE} SET description = 'x' WHERE id = %s",
        [pk_param(AuditEntry, entries[1].pk)],
    )
    with pytest.raises(CommandError) as excinfo:
        call_command("icv_core_audit_verify", verbosity=0)
    assert excinfo.value.returncode == 1
    assert str(excinfo.value) == (
        f"Audit chain BROKEN (hash_mismatch) after 1 good entries: Entry "
        f"{entries[1].pk} (sequence 2) was changed after it was sealed (hash mismatch)."
    )


def test_verify_command_exports_and_checks_a_head(tmp_path):
    entries = make_entries(4)
    head_file = tmp_path / "head.json"
    out = _command("icv_core_audit_verify", export_head=str(head_file))
    assert f"Head written to {head_file}." in out
    assert json.loads(head_file.read_text())["sequence"] == 4
    out = _command("icv_core_audit_verify", expect_head=str(head_file))
    assert "Matches the kept head at sequence 4." in out
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [pk_param(AuditEntry, entries[3].pk)])
    with pytest.raises(CommandError, match=r"BROKEN \(truncated\)") as excinfo:
        call_command("icv_core_audit_verify", expect_head=str(head_file))
    assert excinfo.value.returncode == 1


def test_verify_command_rejects_an_unreadable_head(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(CommandError, match="Cannot read --expect-head"):
        call_command("icv_core_audit_verify", expect_head=str(bad))
    with pytest.raises(CommandError, match="Cannot read --expect-head"):
        call_command(
            "icv_core_audit_verify", expect_head=str(tmp_path / "missing.json")
        )


def test_verify_command_cannot_export_an_empty_chain(tmp_path):
    with pytest.raises(CommandError, match="no head to export"):
        call_command("icv_core_audit_verify", export_head=str(tmp_path / "h.json"))


# --- concurrency (PostgreSQL: real concurrent sessions) ---------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent sessions"
)


def _in_thread(target, *args):
    """Run ``target`` in a thread with its own connection; return its errors."""
    errors: list[BaseException] = []

    def run():
        try:
            target(*args)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_build_one_valid_chain():
    def write(n):
        for index in range(n):
            AuditEntry.objects.create(
                event_type="DATA", action="CREATE", description=f"w{index}"
            )

    def seal():
        for _ in range(5):
            chain.seal_pending(batch_size=7)

    started = [_in_thread(write, 25) for _ in range(4)]
    started += [_in_thread(seal) for _ in range(3)]
    for thread, errors in started:
        thread.join(60)
        assert not thread.is_alive()
        assert errors == []
    chain.seal_pending()
    sequences = list(
        AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, 101))
    report = chain.verify()
    assert report.ok
    assert report.checked == 100


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_writers_are_not_blocked_while_a_seal_holds_the_lock():
    make_entries(2)
    with transaction.atomic():
        chain._take_seal_lock("default")
        thread, errors = _in_thread(
            lambda: AuditEntry.objects.create(event_type="DATA", action="CREATE")
        )
        thread.join(30)
        assert not thread.is_alive()
        assert errors == []
    assert AuditEntry.objects.count() == 3


def test_verify_command_no_seal_reports_pending_entries():
    make_entries(2)
    out = _command("icv_core_audit_verify", no_seal=True)
    assert "The audit chain is empty; nothing to verify." in out
    assert "2 entries are not sealed yet." in out
    assert AuditEntry.objects.unsealed().count() == 2


def _verify_peak(n):
    import tracemalloc

    from ops_helpers import make_entries as bulk_entries

    bulk_entries(n, age_days=10)
    chain.seal_pending()
    chain.verify(seal=False, chunk_size=500)  # warm caches (content types, ...)
    tracemalloc.start()
    try:
        report = chain.verify(seal=False, chunk_size=500)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok and report.checked == AuditEntry.objects.count()
    return peak


def test_verify_memory_stays_flat_as_the_chain_grows():
    small = _verify_peak(1500)
    large = _verify_peak(4500)  # 6,000 entries now: four times the first run
    assert large < small * 1.25 + 256 * 1024, (small, large)


def test_kept_head_at_the_archive_boundary_is_checked(tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_archive": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "archive")},
        },
    }
    settings.ICV_CORE_AUDIT_ARCHIVE_STORAGE = "audit_archive"
    make_entries(6)
    chain.seal_pending()
    kept = chain.head()  # sequence 6: everything below is archived next
    import io

    call_command("icv_core_audit_archive", "--days", "0", stdout=io.StringIO())
    assert AuditEntry.objects.count() == 0
    report = chain.verify(expect_head=kept)
    assert report.ok and report.expected_head_checked
    assert report.start_from_archive
    forged = chain.ChainHead(kept.sequence, "a" * 64)
    report = chain.verify(expect_head=forged)
    assert report.first_break.kind == "head_mismatch"
    assert report.first_break.sequence == kept.sequence
    # A head beyond the archive and the (empty) table: truncated.
    report = chain.verify(expect_head=chain.ChainHead(kept.sequence + 2, "b" * 64))
    assert report.first_break.kind == "truncated"


def test_verify_output_counts_one_entry_in_the_singular():
    import io

    make_entries(1)
    out = io.StringIO()
    call_command("icv_core_audit_verify", stdout=out)
    assert "Sealed 1 pending entry.\n" in out.getvalue()
